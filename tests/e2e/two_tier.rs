//! Behind a trusted gateway, with two real Envoys: the edge terminates the
//! client's mTLS and forwards over mTLS with its own certificate; the
//! inner Envoy runs the filter, trusting the edge by its SPIFFE ID, with
//! `APPEND_FORWARD` or `FORWARD_ONLY`. Clients here reach the edge over one
//! pooled edge-to-inner connection, so every request is judged on its own
//! client. Assertions are on what the recording upstream received.

use onerecord_tls_policy::xfcc::envoy_format;
use onerecord_tls_policy_testkit as support;
use openssl::ssl::SslVersion;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::OnceLock;
use support::client::TlsClient;
use support::fixture::TestPki;
use support::http::{Request, Response};
use support::onerecord::{assert_allowed, assert_denied};
use support::pki::{CertSpec, Issued, KeyKind, issue};
use support::policies::DELEGATION;
use support::two_tier::{TLS_VERSION_HEADER, TwoTier, TwoTierSpec};

const MODES: [&str; 2] = ["APPEND_FORWARD", "FORWARD_ONLY"];

/// The client certificates, each with the defect its case is about.
struct Clients {
    intermediate: Issued,
    good: Issued,
    revoked: Issued,
    expired: Issued,
    forged_intermediate: Issued,
    under_forged: Issued,
    decoy: Issued,
}

fn clients() -> &'static Clients {
    static CLIENTS: OnceLock<Clients> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        let pki = TestPki::shared();
        let intermediate = issue(
            &CertSpec::ca("Two-Tier Pinned Intermediate CA").key(KeyKind::Rsa(2048)),
            &pki.client_ca,
        );
        // Same subject as the pinned intermediate, another key, under the
        // unpinned root.
        let forged_intermediate = issue(
            &CertSpec::ca("Two-Tier Pinned Intermediate CA").key(KeyKind::Rsa(2048)),
            &pki.other_root,
        );
        Clients {
            good: issue(&CertSpec::client("airline-via-edge"), &intermediate),
            revoked: issue(&CertSpec::client("revoked-via-edge"), &intermediate),
            expired: issue(
                &CertSpec::client("expired-via-edge").validity(-7200, -3600),
                &intermediate,
            ),
            under_forged: issue(&CertSpec::client("forger"), &forged_intermediate),
            decoy: issue(&CertSpec::client("decoy"), &pki.other_root),
            forged_intermediate,
            intermediate,
        }
    })
}

/// mTLS required; the root and the intermediate pinned and given.
fn policy() -> Value {
    let pki = TestPki::shared();
    let c = clients();
    json!({
        "mtls": "required",
        "trusted_ca_sha256": [pki.client_ca.sha256_hex(), c.intermediate.sha256_hex()],
        "ca_certificates_pem": format!("{}{}", pki.client_ca.pem(), c.intermediate.pem()),
        "revoked_sha256": [c.revoked.sha256_hex()],
    })
}

/// The XFCC element an Envoy writes about `leaf` presenting `chain`.
fn xfcc_element(leaf: &Issued, chain: &[&Issued]) -> String {
    let ders: Vec<Vec<u8>> = chain.iter().map(|c| c.der()).collect();
    envoy_format::element(&leaf.der(), &ders)
}

fn get(client: &TlsClient, addr: SocketAddr, req: &Request) -> Response {
    let mut conn = client
        .connect(addr)
        .unwrap_or_else(|e| panic!("the edge refused a client the test needs: {e}"));
    conn.send(req).expect("an answer")
}

/// The inner Envoy's count of requests whose facts the edge reported.
fn proxied_requests(tiers: &TwoTier) -> u64 {
    let name = "wasmcustom.onerecord_tls_policy.trusted_proxy_requests_total";
    let text = tiers
        .inner
        .envoy
        .admin_get(&format!("/stats?filter=^{name}$"))
        .text();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text:?}"))
}

fn presenting(tiers: &TwoTier, leaf: &Issued, chain: &[&Issued]) -> TlsClient {
    tiers.client().cert(leaf).chain(chain)
}

#[test]
fn a_good_client_through_the_edge_is_verified_and_annotated() {
    let c = clients();
    for mode in MODES {
        let tiers = TwoTier::start(TwoTierSpec::new(policy(), mode));
        let client = presenting(&tiers, &c.good, &[&c.intermediate]);
        // A client-sent TLS version is replaced by the edge's.
        let req = Request::get(DELEGATION).header(TLS_VERSION_HEADER, "TLSv1.3-forged");
        let resp = get(&client, tiers.edge_addr(), &req);
        let echo = assert_allowed(&resp);
        let context = format!("{mode}: {:#?}", echo.headers);
        assert_eq!(echo.get("x-onerecord-mtls"), Some("verified"), "{context}");
        assert_eq!(
            echo.get("x-onerecord-client-sha256"),
            Some(c.good.sha256_hex().as_str()),
            "{context}"
        );
        assert_eq!(
            echo.get("x-onerecord-trust-anchor-sha256"),
            Some(c.intermediate.sha256_hex().as_str()),
            "{context}"
        );
        assert_eq!(
            echo.get("x-onerecord-tls-version"),
            Some("TLSv1.3"),
            "{context}"
        );
        assert_eq!(tiers.inner.upstream.count(), 1, "{context}");
    }
}

#[test]
fn defective_clients_through_the_edge_get_their_reasons() {
    let c = clients();
    for mode in MODES {
        let tiers = TwoTier::start(TwoTierSpec::new(policy(), mode));
        let root = &TestPki::shared().client_ca;
        let cases: [(&Issued, Vec<&Issued>, &str); 5] = [
            (&c.decoy, vec![root], "untrusted_ca"),
            (
                &c.under_forged,
                vec![&c.forged_intermediate],
                "certificate_invalid",
            ),
            (&c.decoy, vec![], "untrusted_ca"),
            (&c.expired, vec![&c.intermediate], "certificate_expired"),
            (&c.revoked, vec![&c.intermediate], "certificate_revoked"),
        ];
        for (leaf, chain, reason) in cases {
            let client = presenting(&tiers, leaf, &chain);
            let resp = get(&client, tiers.edge_addr(), &Request::get(DELEGATION));
            assert_denied(&resp, reason, DELEGATION);
        }
        // Between denials, on the same pooled connection, a good client.
        let client = presenting(&tiers, &c.good, &[&c.intermediate]);
        assert_allowed(&get(&client, tiers.edge_addr(), &Request::get(DELEGATION)));
        let seen = tiers.inner.upstream.seen();
        assert_eq!(seen.len(), 1, "{mode}: only the good client: {seen:#?}");
        // And a client without a certificate.
        let resp = get(
            &tiers.client(),
            tiers.edge_addr(),
            &Request::get(DELEGATION),
        );
        assert_denied(&resp, "client_certificate_required", DELEGATION);
    }
}

#[test]
fn a_client_at_the_inner_envoy_is_judged_as_itself() {
    let c = clients();
    let pki = TestPki::shared();
    let tiers = TwoTier::start(TwoTierSpec::new(policy(), "APPEND_FORWARD"));
    // It claims, by XFCC and TLS-version header, to be the good client
    // reported by the edge.
    let claimed = xfcc_element(&c.good, &[&c.good, &c.intermediate]);
    let forged = |req: Request| {
        req.header("x-forwarded-client-cert", &claimed)
            .header(TLS_VERSION_HEADER, "TLSv1.3")
    };
    let itself = presenting(&tiers, &pki.client, &[]);
    let resp = get(
        &itself,
        tiers.inner.tls(),
        &forged(Request::get(DELEGATION)),
    );
    let echo = assert_allowed(&resp);
    assert_eq!(
        echo.get("x-onerecord-client-sha256"),
        Some(pki.client.sha256_hex().as_str()),
        "its own identity, not the claimed one: {:#?}",
        echo.headers
    );

    // Without a certificate of its own the claim proves nothing.
    let anonymous = tiers.client();
    let resp = get(
        &anonymous,
        tiers.inner.tls(),
        &forged(Request::get(DELEGATION)),
    );
    assert_denied(&resp, "client_certificate_required", DELEGATION);
    // Nor does a TLS 1.1 connection become TLS 1.3 by header.
    let legacy = anonymous.version(SslVersion::TLS1_1);
    let resp = get(
        &legacy,
        tiers.inner.legacy(),
        &forged(Request::get(DELEGATION)),
    );
    assert_denied(&resp, "tls_version_too_low", DELEGATION);
    assert_eq!(tiers.inner.upstream.count(), 1);
    assert_eq!(proxied_requests(&tiers), 0, "none came through the edge");
}

#[test]
fn a_tls_1_1_client_at_an_edge_that_allows_it_is_refused_by_version() {
    let c = clients();
    let tiers = TwoTier::start(TwoTierSpec::new(policy(), "APPEND_FORWARD").legacy_edge());
    let client = presenting(&tiers, &c.good, &[&c.intermediate]).version(SslVersion::TLS1_1);
    let resp = get(&client, tiers.edge_addr(), &Request::get(DELEGATION));
    assert_denied(&resp, "tls_version_too_low", DELEGATION);
    // TLS 1.2 at the same edge passes, with its version.
    let client = presenting(&tiers, &c.good, &[&c.intermediate]).version(SslVersion::TLS1_2);
    let echo = assert_allowed(&get(&client, tiers.edge_addr(), &Request::get(DELEGATION)));
    assert_eq!(echo.get("x-onerecord-tls-version"), Some("TLSv1.2"));
    assert_eq!(tiers.inner.upstream.count(), 1);
}
