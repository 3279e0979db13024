//! Where mTLS is required (globally, by rule, by route metadata) and what
//! satisfies it.

use onerecord_tls_policy_testkit as support;
use serde_json::json;
use support::bootstrap::EnvoySpec;
use support::http::Request;
use support::onerecord::{assert_allowed, assert_annotated, assert_denied, deny_reason};
use support::policies::{DELEGATION, OBJECT, delegations_policy, pinned_client_ca, with};
use support::stack::Stack;

#[test]
fn global_mtls_required_denies_a_client_without_certificate() {
    let ca = Stack::client_ca_sha256();
    let s = Stack::start(json!({ "mtls": "required", "trusted_ca_sha256": [ca] }));
    assert_denied(
        &s.client().get(s.tls(), OBJECT),
        "client_certificate_required",
        OBJECT,
    );
    let resp = s.h2().get(OBJECT);
    assert_eq!(resp.version, "HTTP/2");
    assert_denied(&resp, "client_certificate_required", OBJECT);
    assert_eq!(s.upstream.count(), 0);
}

#[test]
fn rule_requires_mtls_only_under_its_prefix() {
    let s = Stack::start(delegations_policy());
    assert_denied(
        &s.client().get(s.tls(), DELEGATION),
        "client_certificate_required",
        DELEGATION,
    );
    assert_denied(
        &s.client().get(s.tls(), "/access-delegations"),
        "client_certificate_required",
        "/access-delegations",
    );
    let echo = assert_allowed(&s.client().get(s.tls(), OBJECT));
    assert_eq!(echo.get("x-onerecord-mtls"), Some("none"));
    assert_eq!(s.upstream.count(), 1);
}

#[test]
fn rule_cannot_be_bypassed_by_path_spelling() {
    let s = Stack::start(delegations_policy());
    for path in [
        "//access-delegations/delegation-1",
        "/access-delegations//delegation-1",
        "/logistics-objects/../access-delegations/delegation-1",
        "/./access-delegations/delegation-1",
        "/access-delegations/delegation-1?via=query",
        "/access%2Ddelegations/delegation-1",
        "/%61ccess-delegations/delegation-1",
    ] {
        let resp = s.client().get(s.tls(), path);
        assert_eq!(
            resp.status,
            403,
            "{path} reached the backend: {}",
            resp.text()
        );
        assert_eq!(
            deny_reason(&resp),
            Some("client_certificate_required"),
            "{path}"
        );
    }
    // Envoy itself rejects a fragment in the request target.
    let resp = s
        .client()
        .get(s.tls(), "/access-delegations/delegation-1#fragment");
    assert_eq!(resp.status, 400, "{resp:?}");
    assert_eq!(s.upstream.count(), 0, "seen: {:#?}", s.upstream.seen());
}

#[test]
fn rule_with_methods_applies_only_to_those_methods() {
    let ca = Stack::client_ca_sha256();
    let s = Stack::start(json!({
        "trusted_ca_sha256": [ca],
        "rules": [{ "name": "object-writes", "path_prefix": "/logistics-objects", "methods": ["post"], "mtls": "required" }]
    }));
    let resp = s.client().send(s.tls(), &Request::post(OBJECT, b"{}"));
    assert_denied(&resp, "client_certificate_required", OBJECT);
    assert_allowed(&s.client().get(s.tls(), OBJECT));
}

#[test]
fn forged_xfcc_does_not_satisfy_required_mtls() {
    let s = Stack::start(delegations_policy());
    // What Envoy would have set for the genuine client, sent by a client without a certificate.
    let pem: String = s
        .pki
        .client
        .pem()
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    let xfcc = format!(
        "Hash={};Cert=\"{pem}\";Subject=\"CN=airline-1\"",
        s.pki.client.sha256_hex()
    );
    let req = Request::get(DELEGATION).header("x-forwarded-client-cert", &xfcc);
    assert_denied(
        &s.client().send(s.tls(), &req),
        "client_certificate_required",
        DELEGATION,
    );
    assert_eq!(s.upstream.count(), 0);
}

#[test]
fn route_metadata_requires_mtls() {
    let ca = Stack::client_ca_sha256();
    let spec = EnvoySpec::new(&json!({ "trusted_ca_sha256": [ca] }))
        .route_mtls("/action-requests", json!("required"));
    let s = Stack::start_spec(spec);
    let path = "/action-requests/request-1";
    assert_denied(
        &s.client().get(s.tls(), path),
        "client_certificate_required",
        path,
    );
    assert_denied(&s.h2().get(path), "client_certificate_required", path);
    assert_annotated(
        &assert_allowed(&s.client().get(s.tls(), OBJECT)),
        "TLSv1.3",
        "none",
    );
}

#[test]
fn invalid_route_metadata_fails_closed() {
    let spec = EnvoySpec::new(&json!({})).route_mtls("/action-requests", json!("sometimes"));
    let s = Stack::start_spec(spec);
    let path = "/action-requests/request-1";
    assert_denied(
        &s.client().get(s.tls(), path),
        "route_metadata_invalid",
        path,
    );
    assert_eq!(s.upstream.count(), 0);
}

#[test]
fn verified_client_certificate_passes_a_required_rule() {
    // The client sends only its leaf, as most do; the anchor comes from the config.
    let config = with(delegations_policy(), pinned_client_ca());
    let s = Stack::start(config);
    let client = s.client().cert(&s.pki.client);
    let echo = assert_allowed(&client.get(s.tls(), DELEGATION));
    assert_eq!(
        echo.get("x-onerecord-mtls"),
        Some("verified"),
        "{:#?}",
        echo.headers
    );
    assert_eq!(
        echo.get("x-onerecord-client-sha256"),
        Some(s.pki.client.sha256_hex().as_str())
    );
    assert_eq!(
        echo.get("x-onerecord-trust-anchor-sha256"),
        Some(Stack::client_ca_sha256().as_str())
    );
    assert_eq!(echo.get("x-onerecord-policy"), None);

    // Outside the rule the certificate is still verified and reported, over HTTP/2 too.
    let resp = s
        .h2()
        .client_cert(&s.files.client_cert, &s.files.client_key)
        .get(OBJECT);
    assert_eq!(resp.version, "HTTP/2");
    let echo = assert_allowed(&resp);
    assert_eq!(
        echo.get("x-onerecord-mtls"),
        Some("verified"),
        "{:#?}",
        echo.headers
    );
    assert_eq!(
        echo.get("x-onerecord-client-sha256"),
        Some(s.pki.client.sha256_hex().as_str())
    );
}

#[test]
fn client_presenting_its_pinned_ca_is_verified_without_a_ca_bundle() {
    let s = Stack::start(delegations_policy());
    let client = s.client().cert(&s.pki.client).chain(&[&s.pki.client_ca]);
    let echo = assert_allowed(&client.get(s.tls(), DELEGATION));
    assert_eq!(
        echo.get("x-onerecord-mtls"),
        Some("verified"),
        "{:#?}",
        echo.headers
    );
    assert_eq!(
        echo.get("x-onerecord-trust-anchor-sha256"),
        Some(Stack::client_ca_sha256().as_str())
    );
}

#[test]
fn leaf_alone_without_a_ca_bundle_is_untrusted() {
    // Nothing pinned is available to anchor at: the chain cannot be verified.
    let s = Stack::start(delegations_policy());
    let resp = s.client().cert(&s.pki.client).get(s.tls(), DELEGATION);
    assert_denied(&resp, "untrusted_ca", DELEGATION);
}
