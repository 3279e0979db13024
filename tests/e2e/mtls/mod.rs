//! mTLS against a real Envoy whose `trusted_ca` is broader than the pinned
//! list: Envoy trusts the pinned root *and* an unpinned one, so every client
//! here completes the handshake and the trust decision is the filter's.
//! Each test issues the client certificates with exactly the defect it is
//! about; the CAs are shared. Each test runs its own Envoy, so they run in
//! parallel.

mod allow_lists;
mod path_checks;
mod requirements;
mod trust;
mod valid_clients;
mod validity;
mod xfcc;

use onerecord_tls_policy_testkit as support;
use openssl::asn1::Asn1Time;
use openssl::x509::X509;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::OnceLock;
use support::bootstrap::EnvoySpec;
use support::client::TlsClient;
use support::fixture::TestPki;
use support::http::{Request, Response};
use support::onerecord::assert_allowed;
use support::pki::{CertSpec, Issued, KeyKind, issue};
use support::policies::{pinned_client_ca, with};
use support::stack::Stack;
use support::upstream::Echo;

// --- PKI -------------------------------------------------------------------

/// The client-side CAs every test shares: the shared PKI's, and an
/// intermediate of this suite's own.
struct Cas {
    /// The pinned root (EC P-256).
    root: &'static Issued,
    /// Under `root`; RSA, so RSA signatures appear on paths too.
    intermediate: &'static Issued,
    /// A root Envoy trusts that is on no pinned list.
    other_root: &'static Issued,
}

fn cas() -> Cas {
    static INTERMEDIATE: OnceLock<Issued> = OnceLock::new();
    let shared = TestPki::shared();
    let intermediate = INTERMEDIATE.get_or_init(|| {
        issue(
            &CertSpec::ca("ONE Record Pinned Intermediate CA").key(KeyKind::Rsa(2048)),
            &shared.client_ca,
        )
    });
    Cas {
        root: &shared.client_ca,
        intermediate,
        other_root: &shared.other_root,
    }
}

fn uri(name: &str) -> String {
    format!("https://1r.example.com/logistics-agents/{name}")
}

/// A valid client certificate for `name` issued by `issuer`.
fn client_cert(name: &str, issuer: &Issued) -> Issued {
    issue(&CertSpec::client(name), issuer)
}

/// RFC 4514 subject of a `CertSpec::client(name)` certificate (CN, then O; last RDN first).
fn client_subject(name: &str) -> String {
    format!("O=Example Airline,CN={name}")
}

fn not_after_unix(cert: &X509) -> u64 {
    let epoch = Asn1Time::from_unix(0).expect("epoch");
    let diff = epoch.diff(cert.not_after()).expect("notAfter");
    let seconds = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    u64::try_from(seconds).expect("notAfter after 1970")
}

// --- stacks and clients

/// mTLS required everywhere, the root pinned and available to complete
/// chains; `extra` adds or replaces fields.
fn policy(extra: Value) -> Value {
    with(
        with(pinned_client_ca(), json!({ "mtls": "required" })),
        extra,
    )
}

/// Envoy validates clients against both roots, pinned or not.
fn spec(config: Value) -> EnvoySpec {
    EnvoySpec::new(&config).client_ca_pem(&TestPki::shared().envoy_trust())
}

fn start(config: Value) -> Stack {
    Stack::start_spec(spec(config))
}

/// A client presenting `leaf`, then exactly `chain`.
fn presenting(s: &Stack, leaf: &Issued, chain: &[&Issued]) -> TlsClient {
    s.client().cert(leaf).chain(chain)
}

/// One request on a fresh connection; `Err` when the handshake or the
/// exchange fails (with TLS 1.3 a refused client certificate shows only
/// when the client first reads).
fn try_get(client: &TlsClient, addr: SocketAddr, path: &str) -> Result<Response, String> {
    let mut conn = client.connect(addr)?;
    conn.send(&Request::get(path)).map_err(|e| e.to_string())
}

/// The client completed the handshake and got an answer: the verdict, if
/// any, is the filter's.
fn get_through_envoy(client: &TlsClient, addr: SocketAddr, path: &str) -> Response {
    try_get(client, addr, path)
        .unwrap_or_else(|e| panic!("Envoy refused a client the test needs it to accept: {e}"))
}

/// The request reached the backend as `leaf`, anchored at `anchor`.
fn assert_verified(resp: &Response, leaf: &Issued, anchor: &Issued) -> Echo {
    let echo = assert_allowed(resp);
    let context = format!("upstream headers: {:#?}", echo.headers);
    assert_eq!(echo.get("x-onerecord-mtls"), Some("verified"), "{context}");
    assert_eq!(
        echo.get("x-onerecord-client-sha256"),
        Some(leaf.sha256_hex().as_str()),
        "{context}"
    );
    assert_eq!(
        echo.get("x-onerecord-trust-anchor-sha256"),
        Some(anchor.sha256_hex().as_str()),
        "{context}"
    );
    assert_eq!(echo.get("x-onerecord-policy"), None, "{context}");
    echo
}

/// The request reached the backend with no client identity.
fn assert_unverified(resp: &Response) -> Echo {
    let echo = assert_allowed(resp);
    let context = format!("upstream headers: {:#?}", echo.headers);
    assert_eq!(echo.get("x-onerecord-mtls"), Some("none"), "{context}");
    for name in [
        "x-onerecord-client-sha256",
        "x-onerecord-client-subject",
        "x-onerecord-client-uri-san",
        "x-onerecord-trust-anchor-sha256",
    ] {
        assert_eq!(echo.get(name), None, "{context}");
    }
    echo
}
