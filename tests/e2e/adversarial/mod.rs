//! Hostile input against a real Envoy: forged XFCC and annotation headers,
//! client-written XFCC prefixes under APPEND_FORWARD, oversized chains and
//! headers, and certificates that abuse the rules for CAs. Every case states
//! the exact deny reason, checks that a denied request never reached the
//! upstream, and ends by checking that Envoy's wasm VM neither failed nor
//! was replaced (`support::vm`).
//!
//! Where Envoy's own handshake refuses a client first, the test asserts that
//! refusal (which `ssl.*` counter moved, no HTTP request seen) and checks the
//! filter's own verdict through `Policy::decide`, with the facts Envoy would
//! report for that chain (`xfcc::envoy_format::peer_facts`).
//!
//! Covered in the `mtls` suite and not repeated here: a pinned CA appended to a
//! foreign chain (`decoy_pinned_ca_appended_to_a_foreign_chain_is_untrusted`)
//! and an intermediate copying a pinned subject with another key
//! (`forged_intermediate_with_the_pinned_subject_is_denied`).

mod annotations;
mod ca_rules;
mod chain_length;
mod forged_xfcc;
mod offline;
mod request_size;
mod san_grammar;
mod target;
mod unreported;
mod xfcc_prefixes;

use onerecord_tls_policy_testkit as support;

use annotations::{Annotations, airline, identity, no_identity};
use offline::{Offline, facts_for};
use onerecord_tls_policy::xfcc::envoy_format::element;
use serde_json::{Value, json};
use std::net::SocketAddr;
use support::bootstrap::EnvoySpec;
use support::client::TlsClient;
use support::fixture::TestPki;
use support::forged::forged;
use support::http::{Request, Response};
use support::pki::Issued;
use support::policies::{delegations_rule, pinned_client_ca, with};
use target::Target;

/// The shared PKI: `client_ca` is the pinned root (its key usage,
/// keyCertSign and cRLSign, is a CA's only), `client` the airline,
/// `forwarder` a second pinned client, `outsider` a client of `other_root`
/// (which Envoy trusts and nothing pins).
fn pki() -> &'static TestPki {
    TestPki::shared()
}

/// mTLS optional by default, required under `/access-delegations` (a rule)
/// and `/action-requests` (route metadata, see `spec`); the root pinned and
/// available to complete chains. `extra` adds or replaces fields.
fn policy(extra: Value) -> Value {
    let pinned = with(pinned_client_ca(), json!({ "rules": [delegations_rule()] }));
    with(pinned, extra)
}

/// Envoy trusts the pinned and the unpinned root, and requires mTLS on
/// `/action-requests` through route metadata.
fn spec(config: &Value) -> EnvoySpec {
    EnvoySpec::new(config)
        .client_ca_pem(&TestPki::shared().envoy_trust())
        .route_mtls("/action-requests", json!("required"))
}

/// One request on a fresh connection; `Err` when the handshake or the
/// exchange fails (with TLS 1.3 a refused client certificate shows only
/// when the client first reads).
fn try_get(client: &TlsClient, addr: SocketAddr, path: &str) -> Result<Response, String> {
    let mut conn = client.connect(addr)?;
    conn.send(&forged(Request::get(path)))
        .map_err(|e| e.to_string())
}

fn get(client: &TlsClient, addr: SocketAddr, path: &str) -> Response {
    try_get(client, addr, path)
        .unwrap_or_else(|e| panic!("Envoy refused a client the test needs it to accept: {e}"))
}

/// An XFCC element exactly as Envoy writes it for a client presenting `leaf`.
fn xfcc_of(leaf: &Issued) -> String {
    element(&leaf.der(), &[leaf.der()])
}
