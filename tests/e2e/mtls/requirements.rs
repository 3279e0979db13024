//! Where mTLS is required (rules, route metadata) and what audit mode
//! lets through.

use super::{
    assert_unverified, assert_verified, cas, client_cert, get_through_envoy, policy, presenting,
    spec, start,
};
use onerecord_tls_policy_testkit as support;
use serde_json::json;
use support::onerecord::{assert_allowed, assert_denied};
use support::policies::{ACTION, DELEGATION, OBJECT};
use support::stack::Stack;

#[test]
fn rule_and_route_metadata_require_mtls_where_the_default_is_optional() {
    let config = policy(json!({
        "mtls": "optional",
        "rules": [{ "name": "access-delegations", "path_prefix": "/access-delegations", "mtls": "required" }]
    }));
    let s = Stack::start_spec(spec(config).route_mtls("/action-requests", json!("required")));
    let root = cas().root;
    let valid = client_cert("airline-1", root);
    let untrusted = client_cert("outsider", cas().other_root);

    for path in [DELEGATION, ACTION] {
        let resp = get_through_envoy(&s.client(), s.tls(), path);
        assert_denied(&resp, "client_certificate_required", path);
        let resp = get_through_envoy(&presenting(&s, &untrusted, &[]), s.tls(), path);
        assert_denied(&resp, "untrusted_ca", path);
        assert_verified(
            &get_through_envoy(&presenting(&s, &valid, &[]), s.tls(), path),
            &valid,
            root,
        );
    }

    // Where mTLS is optional an unverifiable certificate is ignored, not trusted.
    assert_unverified(&get_through_envoy(&s.client(), s.tls(), OBJECT));
    assert_unverified(&get_through_envoy(
        &presenting(&s, &untrusted, &[]),
        s.tls(),
        OBJECT,
    ));
    assert_verified(
        &get_through_envoy(&presenting(&s, &valid, &[]), s.tls(), OBJECT),
        &valid,
        root,
    );
}

#[test]
fn audit_mode_passes_an_untrusted_client_with_the_verdict() {
    let s = start(policy(json!({ "mode": "audit" })));
    let untrusted = client_cert("outsider", cas().other_root);
    let resp = get_through_envoy(&presenting(&s, &untrusted, &[]), s.tls(), DELEGATION);
    let echo = assert_allowed(&resp);
    assert_eq!(
        echo.get("x-onerecord-policy"),
        Some("audit-deny; reason=untrusted_ca"),
        "{:#?}",
        echo.headers
    );
    assert_eq!(echo.get("x-onerecord-mtls"), Some("none"));
    assert_eq!(echo.get("x-onerecord-client-sha256"), None);
}
