//! CRLs seen through `decide`: every request is checked against the CRLs in
//! force, remembered verdicts included, and a status that cannot be known
//! is a deny of its own.

use super::cache_tests::{on_connection, peer, reason, request, without_certificate};
use super::test_fixture::{Remembering, now, pki, pki_with_leaf};
use super::*;
use crate::revocation::Offered;
use onerecord_tls_policy_testkit::crl::{Crl, CrlSpec};
use onerecord_tls_policy_testkit::pinned::Pki;
use onerecord_tls_policy_testkit::pki::{CertSpec, Issued, issue};

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// Pins `k.root`, configures root and intermediate, and `extra`.
fn config_json(k: &Pki, extra: &str) -> String {
    format!(
        r#"{{"trusted_ca_sha256":["{}"],"mtls":"required","ca_certificates_pem":{}{extra}}}"#,
        k.root.sha256_hex(),
        json_string(&format!("{}{}", k.root.pem(), k.inter.pem())),
    )
}

fn with_crls(k: &Pki, crls: &[&Crl], extra: &str) -> Result<Policy, ConfigError> {
    let pem: String = crls.iter().map(|c| c.pem()).collect();
    let extra = format!(r#","crls_pem":{}{extra}"#, json_string(&pem));
    Config::parse(config_json(k, &extra).as_bytes()).map(Policy::new)
}

const ONE_SOURCE: &str =
    r#","crl_sources":[{"cluster":"crl","path":"/inter.crl","refresh_seconds":5}]"#;

fn with_source(k: &Pki, extra: &str) -> Remembering {
    let json = format!(
        r#"{{"trusted_ca_sha256":["{}"],"mtls":"required"{ONE_SOURCE}{extra}}}"#,
        k.root.sha256_hex()
    );
    Remembering::new(Policy::new(Config::parse(json.as_bytes()).unwrap()))
}

fn full(k: &Pki) -> super::test_fixture::Peer {
    on_connection(7, peer(&[&k.leaf, &k.inter, &k.root]))
}

use crate::config::{Config, ConfigError};

#[test]
fn a_configured_crl_revokes_the_leaf_and_the_root_s_crl_the_intermediate() {
    let k = pki();
    let by_inter = CrlSpec::default().revoke(&k.leaf).sign(&k.inter);
    let p = with_crls(&k, &[&by_inter], "").unwrap();
    let f = request(peer(&[&k.leaf, &k.inter, &k.root]), now());
    assert_eq!(p.decide(&f).deny_reason(), Some(Reason::CertificateRevoked));

    let by_root = CrlSpec::default().revoke(&k.inter).sign(&k.root);
    let p = with_crls(&k, &[&by_root], "").unwrap();
    assert_eq!(p.decide(&f).deny_reason(), Some(Reason::CertificateRevoked));

    // Another certificate of the same issuer is not listed.
    let other = issue(&CertSpec::client("client-2"), &k.inter);
    let p = with_crls(&k, &[&by_inter, &CrlSpec::default().sign(&k.root)], "").unwrap();
    let f = request(peer(&[&other, &k.inter, &k.root]), now());
    assert_eq!(p.decide(&f).deny_reason(), None);
}

#[test]
fn a_configured_crl_that_does_not_verify_is_a_configuration_error() {
    let k = pki();
    let forged = CrlSpec::default().sign_as(&k.inter, &k.other_root);
    let e = with_crls(&k, &[&CrlSpec::default().sign(&k.root), &forged], "").unwrap_err();
    assert_eq!(e.field, "crls_pem");
    assert!(
        e.message
            .starts_with("CRL 1 (O=Test PKI,CN=Pinned Intermediate)"),
        "{}",
        e.message
    );
    // Issued by a CA that is not configured.
    let e = with_crls(&k, &[&CrlSpec::default().sign(&k.other_root)], "").unwrap_err();
    assert!(
        e.message.contains("CRL 0 (O=Test PKI,CN=Other Root)"),
        "{}",
        e.message
    );
    assert!(e.message.contains("ca_certificates_pem"), "{}", e.message);
}

#[test]
fn serials_match_as_integers() {
    // 0xff01: DER writes it 00 ff 01 (positive).
    let k = pki_with_leaf(CertSpec::client("high-bit").serial_hex("FF01"));
    let f = request(peer(&[&k.leaf, &k.inter, &k.root]), now());
    let decide = |serial: Vec<u8>| {
        let crl = CrlSpec::default()
            .revoke_serial(serial, Some(4))
            .sign(&k.inter);
        with_crls(&k, &[&crl], "").map(|p| p.decide(&f).deny_reason())
    };
    assert_eq!(
        decide(vec![0x00, 0xff, 0x01]),
        Ok(Some(Reason::CertificateRevoked))
    );
    // ff 01 is the negative integer -255: another serial.
    assert_eq!(decide(vec![0xff, 0x01]), Ok(None));
    assert_eq!(decide(vec![0xff, 0x01, 0x00]), Ok(None));
    // A redundant leading zero encodes the same integer.
    assert_eq!(
        decide(vec![0x00, 0x00, 0xff, 0x01]),
        Ok(Some(Reason::CertificateRevoked))
    );
}

#[test]
fn a_crl_arriving_later_denies_a_remembered_connection_and_cached_client() {
    let k = pki();
    let mut p = with_source(&k, "");
    // Nothing delivered yet: the status cannot be known.
    assert_eq!(
        reason(&mut p, full(&k), now()),
        Some(Reason::RevocationStatusUnknown)
    );
    let empty = CrlSpec::default().sign(&k.inter);
    // The intermediate was seen on a verified path: its CRL is accepted.
    assert!(matches!(
        p.state.revocation.offer(0, &empty.der),
        Offered::Applied(..)
    ));
    assert_eq!(reason(&mut p, full(&k), now()), None);
    assert_eq!(reason(&mut p, without_certificate(full(&k)), now()), None);
    let hits = p.verdict_cache_stats().connection_hits;

    let listing = CrlSpec::default()
        .number(Some(2))
        .revoke(&k.leaf)
        .sign(&k.inter);
    assert!(matches!(
        p.state.revocation.offer(0, &listing.der),
        Offered::Applied(..)
    ));
    assert_eq!(
        reason(&mut p, without_certificate(full(&k)), now()),
        Some(Reason::CertificateRevoked),
        "the connection's remembered verdict is checked too"
    );
    assert!(p.verdict_cache_stats().connection_hits > hits);
    // A new connection of the same client (a hit by content) as well.
    let elsewhere = on_connection(8, peer(&[&k.leaf, &k.inter, &k.root]));
    assert_eq!(
        reason(&mut p, elsewhere, now()),
        Some(Reason::CertificateRevoked)
    );
}

#[test]
fn a_rejected_crl_keeps_the_last_good_one() {
    let k = pki();
    let mut p = with_source(&k, "");
    assert_eq!(
        reason(&mut p, full(&k), now()),
        Some(Reason::RevocationStatusUnknown)
    );
    let good = CrlSpec::default()
        .number(Some(5))
        .revoke(&k.leaf)
        .sign(&k.inter);
    assert!(matches!(
        p.state.revocation.offer(0, &good.der),
        Offered::Applied(..)
    ));
    assert_eq!(p.state.revocation.offer(0, &good.der), Offered::Unchanged);

    let older = CrlSpec::default()
        .times(-3600, Some(86_400))
        .number(Some(4))
        .sign(&k.inter);
    assert_eq!(p.state.revocation.offer(0, &older.der).result(), "older");
    let forged = CrlSpec::default()
        .number(Some(6))
        .sign_as(&k.inter, &k.other_root);
    assert_eq!(
        p.state.revocation.offer(0, &forged.der).result(),
        "bad_signature"
    );
    assert_eq!(
        p.state
            .revocation
            .offer(0, b"<html>not found</html>")
            .result(),
        "parse_error"
    );
    assert_eq!(
        reason(&mut p, full(&k), now()),
        Some(Reason::CertificateRevoked)
    );
}

#[test]
fn a_crl_past_next_update_and_the_grace_is_status_unknown() {
    let k = pki();
    let mut p = with_source(&k, r#","crl_grace_seconds":600"#);
    let expired = CrlSpec::default().times(-7200, Some(-300)).sign(&k.inter);
    assert_eq!(
        reason(&mut p, full(&k), now()),
        Some(Reason::RevocationStatusUnknown)
    );
    assert!(matches!(
        p.state.revocation.offer(0, &expired.der),
        Offered::Applied(..)
    ));
    assert_eq!(reason(&mut p, full(&k), now()), None, "within the grace");
    assert_eq!(
        reason(&mut p, without_certificate(full(&k)), now() + 400),
        Some(Reason::RevocationStatusUnknown)
    );
}

#[test]
fn audit_mode_reports_an_unknown_status() {
    let k = pki();
    let mut p = with_source(&k, r#","mode":"audit""#);
    let d = p.decide(&request(full(&k), now()));
    assert_eq!(d.deny_reason(), Some(Reason::RevocationStatusUnknown));
    assert!(!d.rejects());
}

#[test]
fn issuers_without_a_crl_are_not_checked_once_every_source_delivered() {
    let k = pki();
    let mut p = with_source(&k, "");
    // The root's CRL covers the intermediate; the intermediate has none.
    let root_crl = CrlSpec::default().sign(&k.root);
    assert_eq!(
        reason(&mut p, full(&k), now()),
        Some(Reason::RevocationStatusUnknown)
    );
    assert!(matches!(
        p.state.revocation.offer(0, &root_crl.der),
        Offered::Applied(..)
    ));
    assert_eq!(reason(&mut p, full(&k), now()), None);
    // A CRL by a CA nobody knows is refused.
    let stranger: Issued =
        onerecord_tls_policy_testkit::pki::self_signed(&CertSpec::ca("Stranger"));
    let theirs = CrlSpec::default().sign(&stranger);
    assert_eq!(
        p.state.revocation.offer(0, &theirs.der).result(),
        "bad_signature"
    );
}
