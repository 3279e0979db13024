//! Allow-lists of clients, globally and per rule.

use super::{assert_verified, cas, client_cert, get_through_envoy, policy, presenting, start, uri};
use onerecord_tls_policy_testkit as support;
use serde_json::json;
use support::onerecord::assert_denied;
use support::policies::{DELEGATION, OBJECT};

#[test]
fn allowed_clients_globally_and_per_rule() {
    let root = cas().root;
    let airline = client_cert("airline-1", root);
    let forwarder = client_cert("forwarder-1", root);
    // Globally only the airline; under the rule only the forwarder (a rule's
    // list replaces the global one).
    let s = start(policy(json!({
        "mtls": "optional",
        "allowed_clients": { "uri_san": [uri("airline-1")] },
        "rules": [{
            "name": "access-delegations",
            "path_prefix": "/access-delegations",
            "allowed_clients": { "sha256": [forwarder.sha256_hex()] }
        }]
    })));
    let as_airline = presenting(&s, &airline, &[]);
    let as_forwarder = presenting(&s, &forwarder, &[]);

    assert_verified(
        &get_through_envoy(&as_airline, s.tls(), OBJECT),
        &airline,
        root,
    );
    let resp = get_through_envoy(&as_forwarder, s.tls(), OBJECT);
    assert_denied(&resp, "client_not_allowed", OBJECT);

    let echo = assert_verified(
        &get_through_envoy(&as_forwarder, s.tls(), DELEGATION),
        &forwarder,
        root,
    );
    assert_eq!(echo.get("x-onerecord-rule"), Some("access-delegations"));
    let resp = get_through_envoy(&as_airline, s.tls(), DELEGATION);
    assert_denied(&resp, "client_not_allowed", DELEGATION);

    // The list makes a certificate required.
    assert_denied(
        &get_through_envoy(&s.client(), s.tls(), OBJECT),
        "client_certificate_required",
        OBJECT,
    );
}
