//! Certificates Envoy never reports: garbage and mismatched leaves, decided
//! offline through `Policy::decide`.

use onerecord_tls_policy_testkit as support;

use super::{Offline, facts_for, pki, policy, xfcc_of};
use onerecord_tls_policy::facts::PeerFacts;
use onerecord_tls_policy::reason::Reason;
use onerecord_tls_policy::xfcc::envoy_format::{pem, url_encode_pem};
use serde_json::json;
use support::pki::pem_bundle;
use support::policies::DELEGATION;

/// Certificate bytes Envoy cannot produce: it writes `Cert=`, `Chain=` and
/// `connection.peer_certificate` itself, from the DER of a handshake it
/// completed. Only crafted facts reach this code, so it is tested here.
#[test]
fn garbage_certificates_never_verify() {
    let p = pki();
    let offline = Offline::new(&policy(json!({})));
    let block = |der: &[u8]| pem(der);
    let airline_der = p.client.der();
    let mut trailing = airline_der.clone();
    trailing.extend_from_slice(&[0, 0]);
    let not_a_certificate = [0x30, 0x03, 0x02, 0x01, 0x00];
    let garbage: Vec<(&str, String, Vec<u8>)> = vec![
        ("text", "not a certificate".into(), b"x".to_vec()),
        (
            "bad base64",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".into(),
            b"x".to_vec(),
        ),
        (
            "a key block",
            block(&airline_der).replace("CERTIFICATE", "PRIVATE KEY"),
            airline_der.clone(),
        ),
        (
            "truncated DER",
            block(&airline_der[..airline_der.len() / 2]),
            airline_der[..airline_der.len() / 2].to_vec(),
        ),
        ("trailing bytes", block(&trailing), trailing.clone()),
        (
            "a SEQUENCE, not a certificate",
            block(&not_a_certificate),
            not_a_certificate.to_vec(),
        ),
        (
            "two certificates",
            pem_bundle(&[&p.client, &p.forwarder]),
            airline_der.clone(),
        ),
        (
            "an unterminated block",
            block(&airline_der).replace("-----END CERTIFICATE-----\n", ""),
            airline_der.clone(),
        ),
    ];
    for (what, text, der) in &garbage {
        let digest = onerecord_tls_policy::fingerprint::Fingerprint::of_der(der).to_hex();
        // As `connection.peer_certificate` (Envoy 1.40).
        let peer = PeerFacts {
            sha256_digest: Some(digest.clone()),
            certificate_pem: Some(text.clone()),
            xfcc: None,
        };
        offline.assert_refused(&peer, Reason::CertificateInvalid, what);
        // As XFCC `Cert=` (Envoy 1.36 has no peer_certificate).
        let peer = PeerFacts {
            sha256_digest: Some(digest),
            certificate_pem: None,
            xfcc: Some(format!("Cert=\"{}\"", url_encode_pem(text))),
        };
        offline.assert_refused(&peer, Reason::CertificateInvalid, what);
        // As XFCC `Chain=`, after a genuine leaf (where two certificates are
        // a chain like any other).
        if *what == "two certificates" {
            continue;
        }
        let mut peer = facts_for(&[&p.client]);
        peer.xfcc = Some(format!(
            "Hash={};Cert=\"{}\";Chain=\"{}\"",
            p.client.sha256_hex(),
            url_encode_pem(&p.client.pem()),
            url_encode_pem(text)
        ));
        offline.assert_refused(&peer, Reason::CertificateInvalid, what);
    }
    // An XFCC header that does not parse leaves no chain to verify with.
    let mut peer = facts_for(&[&p.client]);
    peer.xfcc = Some("Hash=\"".into());
    offline.assert_refused(&peer, Reason::PeerChainUnavailable, "unparseable XFCC");
}

#[test]
fn a_leaf_other_than_the_handshakes_is_certificate_mismatch() {
    let p = pki();
    let offline = Offline::new(&policy(json!({})));
    let forwarder_digest = p.forwarder.sha256_hex();

    // The PEM says airline, the handshake digest says forwarder.
    let mut peer = facts_for(&[&p.client]);
    peer.sha256_digest = Some(forwarder_digest.clone());
    offline.assert_refused(&peer, Reason::CertificateMismatch, "digest");

    // The XFCC element (`Hash=`) describes another certificate.
    let mut peer = facts_for(&[&p.client]);
    peer.xfcc = Some(xfcc_of(&p.forwarder));
    offline.assert_refused(&peer, Reason::CertificateMismatch, "XFCC Hash");

    // Envoy 1.36: the leaf comes from XFCC `Cert=` only.
    let mut peer = facts_for(&[&p.forwarder]);
    peer.certificate_pem = None;
    peer.sha256_digest = Some(p.client.sha256_hex());
    offline.assert_refused(&peer, Reason::CertificateMismatch, "XFCC Cert");

    // A digest that is no digest at all.
    let mut peer = facts_for(&[&p.client]);
    peer.sha256_digest = Some("zz".repeat(32));
    offline.assert_refused(&peer, Reason::CertificateMismatch, "malformed digest");

    // After a verification was cached, the same bytes with another digest.
    let genuine = facts_for(&[&p.client]);
    assert!(
        offline
            .decide(DELEGATION, Some(genuine.clone()))
            .client
            .is_some()
    );
    let mut peer = genuine.clone();
    peer.sha256_digest = Some(forwarder_digest);
    offline.assert_refused(
        &peer,
        Reason::CertificateMismatch,
        "digest after a cached verification",
    );
    assert!(offline.decide(DELEGATION, Some(genuine)).client.is_some());

    // No digest: the connection facts are incomplete.
    let mut peer = facts_for(&[&p.client]);
    peer.sha256_digest = None;
    let decision = offline.decide(DELEGATION, Some(peer));
    assert_eq!(
        decision.deny_reason(),
        Some(Reason::ConnectionFactsUnavailable)
    );
}
