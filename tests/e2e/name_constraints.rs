//! Name-constrained sub-CAs under the pinned root, against a real Envoy: a
//! sub-CA limited to its ONE Record URI host, and one limited to a subject
//! tree (directoryName), each with a conforming client, which reaches the
//! upstream with its identity, and a violating one, refused with
//! `name_constraint_violation` before anything is forwarded. webpki alone
//! refuses both conforming clients.
//!
//! Envoy accepts any chain here (`ACCEPT_UNTRUSTED`), so that the verdict
//! on each is the filter's, not the handshake's.

use onerecord_tls_policy_testkit as support;

use serde_json::json;
use std::sync::OnceLock;
use support::bootstrap::EnvoySpec;
use support::fixture::TestPki;
use support::name_constraints::{Subtrees, directory_name};
use support::onerecord::{assert_allowed, assert_denied};
use support::pki::{CertSpec, Issued, issue};
use support::policies::{DELEGATION, delegations_rule, pinned_client_ca, with};
use support::stack::Stack;

struct Pki {
    uri_ca: Issued,
    uri_ok: Issued,
    uri_outside: Issued,
    dn_ca: Issued,
    dn_ok: Issued,
    dn_outside: Issued,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let root = &TestPki::shared().client_ca;
        let uri_ca = issue(
            &CertSpec::ca("Airline URI Sub CA")
                .extension("nameConstraints", "critical,permitted;URI:.example.com"),
            root,
        );
        let dn_ca = issue(
            &CertSpec::ca("Airline Subject Sub CA").extension(
                "nameConstraints",
                &directory_name(Subtrees::Permitted, &[("CN", "agent-1")]),
            ),
            root,
        );
        let outside_uri = CertSpec::client("agent-2")
            .uri_sans(&["https://1r.example.org/logistics-agents/agent-2"]);
        Pki {
            uri_ok: issue(&CertSpec::client("agent-1"), &uri_ca),
            uri_outside: issue(&outside_uri, &uri_ca),
            dn_ok: issue(&CertSpec::client("agent-1"), &dn_ca),
            dn_outside: issue(&CertSpec::client("rogue-1"), &dn_ca),
            uri_ca,
            dn_ca,
        }
    })
}

fn start() -> Stack {
    let policy = with(pinned_client_ca(), json!({ "rules": [delegations_rule()] }));
    Stack::start_spec(EnvoySpec::new(&policy).accept_untrusted_client_certs())
}

/// Forwarded with the client's identity, as the upstream recorded it.
fn accepted(s: &Stack, leaf: &Issued, ca: &Issued) {
    let before = s.upstream.count();
    let resp = s.client().cert(leaf).chain(&[ca]).get(s.tls(), DELEGATION);
    let echo = assert_allowed(&resp);
    assert_eq!(s.upstream.count(), before + 1);
    assert_eq!(echo.get("x-onerecord-mtls"), Some("verified"));
    assert_eq!(
        echo.get("x-onerecord-client-sha256"),
        Some(leaf.sha256_hex().as_str())
    );
}

/// Refused by the filter, nothing forwarded.
fn refused(s: &Stack, leaf: &Issued, ca: &Issued) {
    let before = s.upstream.count();
    let resp = s.client().cert(leaf).chain(&[ca]).get(s.tls(), DELEGATION);
    assert_denied(&resp, "name_constraint_violation", DELEGATION);
    assert_eq!(
        s.upstream.count(),
        before,
        "a refused request reached the upstream"
    );
}

/// A conforming client of `ca` is forwarded, a violating one refused.
fn admits_only_its_own(ca: &Issued, conforming: &Issued, violating: &Issued) {
    let s = start();
    accepted(&s, conforming, ca);
    refused(&s, violating, ca);
}

#[test]
fn a_uri_constrained_sub_ca_admits_only_its_hosts() {
    let p = pki();
    admits_only_its_own(&p.uri_ca, &p.uri_ok, &p.uri_outside);
}

#[test]
fn a_subject_constrained_sub_ca_admits_only_its_subject_tree() {
    let p = pki();
    admits_only_its_own(&p.dn_ca, &p.dn_ok, &p.dn_outside);
}
