//! What Envoy forwards as XFCC: without the chain, and claims a client
//! writes itself.

use super::{
    assert_verified, cas, client_cert, get_through_envoy, policy, presenting, spec, start,
};
use onerecord_tls_policy_testkit as support;
use serde_json::json;
use support::http::Request;
use support::onerecord::assert_denied;
use support::pki::Issued;
use support::policies::DELEGATION;
use support::stack::Stack;

#[test]
fn xfcc_without_chain_leaves_an_intermediate_issued_leaf_unverifiable() {
    let s = Stack::start_spec(spec(policy(json!({}))).xfcc_without_chain());
    let root = cas().root;
    let inter = cas().intermediate;
    let leaf = client_cert("airline-1", inter);
    let resp = get_through_envoy(&presenting(&s, &leaf, &[inter]), s.tls(), DELEGATION);
    assert_denied(&resp, "peer_chain_unavailable", DELEGATION);

    // A leaf issued by a configured CA needs no chain.
    let direct = client_cert("airline-2", root);
    let resp = get_through_envoy(&presenting(&s, &direct, &[]), s.tls(), DELEGATION);
    assert_verified(&resp, &direct, root);
}

/// An XFCC element as Envoy would set it for a client presenting `leaf` alone.
fn xfcc_claiming(leaf: &Issued) -> String {
    let pem: String = leaf.pem().bytes().map(|b| format!("%{b:02X}")).collect();
    format!("Hash={};Cert=\"{pem}\";Chain=\"{pem}\"", leaf.sha256_hex())
}

#[test]
fn client_sent_xfcc_cannot_claim_another_certificate() {
    let root = cas().root;
    let airline = client_cert("airline-1", root);
    let forwarder = client_cert("forwarder-1", root);
    let s = start(policy(
        json!({ "allowed_clients": { "sha256": [forwarder.sha256_hex()] } }),
    ));

    // The airline, claiming to be the allowed forwarder, is still the airline.
    let req =
        Request::get(DELEGATION).header("x-forwarded-client-cert", &xfcc_claiming(&forwarder));
    let mut conn = presenting(&s, &airline, &[]).open(s.tls());
    let resp = conn.send(&req).expect("response");
    assert_denied(&resp, "client_not_allowed", DELEGATION);

    // The forwarder, claiming to be the airline, is still the forwarder.
    let req = Request::get(DELEGATION).header("x-forwarded-client-cert", &xfcc_claiming(&airline));
    let mut conn = presenting(&s, &forwarder, &[]).open(s.tls());
    let echo = assert_verified(&conn.send(&req).expect("response"), &forwarder, root);
    let xfcc = echo.all("x-forwarded-client-cert");
    assert_eq!(xfcc.len(), 1, "{xfcc:?}");
    assert!(
        xfcc[0].contains(&format!("Hash={};", forwarder.sha256_hex()))
            && !xfcc[0].contains(&airline.sha256_hex()),
        "Envoy did not replace the client's XFCC: {xfcc:?}"
    );

    // An untrusted client claiming a pinned certificate gains nothing either.
    let outsider = client_cert("outsider", cas().other_root);
    let req =
        Request::get(DELEGATION).header("x-forwarded-client-cert", &xfcc_claiming(&forwarder));
    let mut conn = presenting(&s, &outsider, &[]).open(s.tls());
    assert_denied(
        &conn.send(&req).expect("response"),
        "untrusted_ca",
        DELEGATION,
    );
}
