//! Chains built to make chain verification expensive, against a real Envoy:
//! a leaf of a CA Envoy trusts but the policy does not pin, followed by
//! self-issued copies of that CA's subject (each with its own key and no key
//! identifiers, so none is ruled out for free) and one certificate of that
//! subject issued under the pinned root's name by another key.
//!
//! Each connection's chain is verified once: the
//! `chain_verifications_total` counter moves by one per connection, not per
//! request, whatever the route, and a new connection presenting the same
//! bytes is decided by what was remembered. A required route denies with
//! the exact reason, an optional one forwards with `x-onerecord-mtls: none`
//! and no identity, as the upstream recorded. A good client on the same
//! Envoy is unaffected.

use onerecord_tls_policy_testkit as support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use support::bootstrap::EnvoySpec;
use support::client::Connection;
use support::envoy::Envoy;
use support::fixture::{CLIENT_CA_NAME, OTHER_ROOT_NAME, TestPki};
use support::onerecord::{assert_allowed, assert_denied};
use support::pki::{CertSpec, Issued, issue, self_signed};
use support::policies::{DELEGATION, OBJECT, delegations_rule, pinned_client_ca, with};
use support::stack::Stack;
use support::vm::{self, VmHealth};

/// The pinned root's and the unpinned root's names (the shared PKI's).
const PINNED: &str = CLIENT_CA_NAME;
const TRUSTED: &str = OTHER_ROOT_NAME;

/// The shared PKI's roots and clients, and the certificates a forger crafts.
struct Pki {
    airline: &'static Issued,
    /// Issued by the unpinned root: Envoy accepts it, the policy does not.
    outsider: &'static Issued,
    copies: Vec<Issued>,
    /// `TRUSTED`'s subject under the pinned root's name, by another key.
    bridge: Issued,
}

fn bare(name: &str) -> CertSpec {
    CertSpec::ca(name).without_key_identifiers()
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let shared = TestPki::shared();
        let fake_root = self_signed(&bare(PINNED));
        Pki {
            airline: &shared.client,
            outsider: &shared.outsider,
            copies: (0..6).map(|_| self_signed(&bare(TRUSTED))).collect(),
            bridge: issue(&bare(TRUSTED), &fake_root),
        }
    })
}

/// `copies` copies and the bridge, in the order a forger would send them.
fn crafted(copies: usize) -> Vec<&'static Issued> {
    let pki = pki();
    let mut chain: Vec<&Issued> = pki.copies.iter().take(copies).collect();
    chain.push(&pki.bridge);
    chain
}

/// mTLS optional by default and required under `/access-delegations`; up
/// to 8 certificates on a path, so both crafted chains are within it.
fn policy() -> Value {
    let extra = json!({ "max_chain_length": 8, "rules": [delegations_rule()] });
    with(pinned_client_ca(), extra)
}

fn spec() -> EnvoySpec {
    EnvoySpec::new(&policy()).client_ca_pem(&TestPki::shared().envoy_trust())
}

/// `onerecord_tls_policy.chain_verifications_total.result.<result>`.
fn verifications(envoy: &Envoy, result: &str) -> u64 {
    let name = format!(".onerecord_tls_policy.chain_verifications_total.result.{result}");
    vm::sum_suffix(&vm::counters(envoy), &name)
}

fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(name, value)| (format!("x-onerecord-{name}"), vec![value.to_string()]))
        .collect()
}

/// `requests` requests on one connection, alternating the required and the
/// optional route: denied with `reason` (never reaching the upstream), and
/// forwarded with no client identity.
fn alternate(s: &Stack, conn: &mut Connection, reason: &str, requests: usize) {
    let none = annotations(&[("tls-version", "TLSv1.3"), ("mtls", "none")]);
    for i in 0..requests {
        let before = s.upstream.count();
        if i % 2 == 0 {
            assert_denied(&conn.get(DELEGATION), reason, DELEGATION);
            assert_eq!(
                s.upstream.count(),
                before,
                "a denied request reached the upstream"
            );
        } else {
            let echo = assert_allowed(&conn.get(OBJECT));
            assert_eq!(s.upstream.count(), before + 1);
            assert_eq!(echo.path(), OBJECT);
            assert_eq!(
                echo.with_prefix("x-onerecord-"),
                none,
                "what the upstream got"
            );
        }
    }
}

/// Ten requests on one connection presenting `chain` after `leaf`: one
/// verification ending in `reason`; a second connection with the same
/// bytes: none.
fn once_per_connection(s: &Stack, leaf: &Issued, chain: &[&Issued], reason: &str) {
    let client = s.client().cert(leaf).chain(chain);
    let before = verifications(&s.envoy, reason);
    let mut conn = client.open(s.tls());
    alternate(s, &mut conn, reason, 10);
    assert_eq!(
        verifications(&s.envoy, reason),
        before + 1,
        "one verification for the connection's ten requests"
    );
    let mut again = client.open(s.tls());
    alternate(s, &mut again, reason, 4);
    assert_eq!(
        verifications(&s.envoy, reason),
        before + 1,
        "a new connection with the same chain is decided by its content"
    );
}

/// A good client's ten requests on one connection: one verification.
fn good_client_unaffected(s: &Stack) {
    let before = verifications(&s.envoy, "verified");
    let mut conn = s.client().cert(pki().airline).open(s.tls());
    for _ in 0..10 {
        let echo = assert_allowed(&conn.get(DELEGATION));
        assert_eq!(echo.get("x-onerecord-mtls"), Some("verified"));
        assert_eq!(
            echo.get("x-onerecord-client-sha256"),
            Some(pki().airline.sha256_hex().as_str())
        );
    }
    assert_eq!(verifications(&s.envoy, "verified"), before + 1);
}

fn start(spec: EnvoySpec) -> (Stack, VmHealth) {
    let s = Stack::start_spec(spec);
    assert_allowed(&s.client().get(s.tls(), OBJECT));
    let vm = VmHealth::read(&s.envoy);
    (s, vm)
}

#[test]
fn crafted_chains_are_verified_once_per_connection() {
    let (s, vm) = start(spec());
    let outsider = pki().outsider;
    // Three copies: webpki's search ends at the bridge's bad signature under
    // the pinned root, the one signature computed.
    once_per_connection(&s, outsider, &crafted(3), "certificate_invalid");
    // Six copies have more orderings than the search may try.
    once_per_connection(&s, outsider, &crafted(6), "verification_budget_exceeded");
    good_client_unaffected(&s);
    vm::assert_vm_intact(&s.envoy, &vm);
}

#[test]
fn accepting_untrusted_chains_needs_no_credential_and_costs_the_same() {
    // With ACCEPT_UNTRUSTED Envoy takes any chain: the forger needs no
    // certificate from anyone and makes its own leaf under the copied name.
    let (s, vm) = start(spec().accept_untrusted_client_certs());
    let forger_ca = self_signed(&CertSpec::ca(TRUSTED));
    let leaf = issue(&CertSpec::client("forger-1"), &forger_ca);
    once_per_connection(&s, &leaf, &crafted(6), "verification_budget_exceeded");
    once_per_connection(&s, &leaf, &crafted(3), "certificate_invalid");
    good_client_unaffected(&s);
    vm::assert_vm_intact(&s.envoy, &vm);
}
