//! Validity periods: expired and not yet valid leaves, a certificate
//! expiring on a keep-alive connection, and what Envoy refuses itself.

use super::{
    assert_verified, cas, get_through_envoy, not_after_unix, policy, presenting, spec, start,
    try_get,
};
use onerecord_tls_policy_testkit as support;
use serde_json::json;
use std::time::{Duration, Instant};
use support::onerecord::assert_denied;
use support::pki::{CertSpec, issue};
use support::policies::DELEGATION;
use support::stack::Stack;
use support::unix_now;

#[test]
fn expired_and_not_yet_valid_leaves_envoy_accepts_are_denied() {
    let envoy = spec(policy(json!({ "clock_skew_seconds": 0 }))).allow_expired_certificate();
    let s = Stack::start_spec(envoy);
    let root = cas().root;

    // Half a minute out: within the default skew, outside a zero one.
    let expired = issue(&CertSpec::client("expired").validity(-3600, -30), root);
    let resp = get_through_envoy(&presenting(&s, &expired, &[]), s.tls(), DELEGATION);
    assert_denied(&resp, "certificate_expired", DELEGATION);

    let early = issue(&CertSpec::client("early").validity(30, 3600), root);
    let resp = get_through_envoy(&presenting(&s, &early, &[]), s.tls(), DELEGATION);
    assert_denied(&resp, "certificate_not_yet_valid", DELEGATION);
    assert_eq!(s.upstream.count(), 0);
}

#[test]
fn certificate_expiring_on_a_keep_alive_connection_is_denied_there() {
    const LIFETIME: i64 = 5;
    let s = start(policy(json!({ "clock_skew_seconds": 0 })));
    // Issued once Envoy is up, so its few seconds are not spent waiting for it.
    let leaf = issue(
        &CertSpec::client("short-lived").validity(-3600, LIFETIME),
        cas().root,
    );
    let not_after = not_after_unix(&leaf.cert);
    let client = presenting(&s, &leaf, &[]);

    let mut conn = client.open(s.tls());
    assert_verified(&conn.get(DELEGATION), &leaf, cas().root);

    // Envoy checked the validity at the handshake only; the filter checks it
    // on every request. Poll the same connection until it flips.
    let deadline = Instant::now() + Duration::from_secs(LIFETIME as u64 + 15);
    let denied = loop {
        let resp = conn.get(DELEGATION);
        if resp.status != 200 {
            break resp;
        }
        assert!(
            unix_now() <= not_after + 5,
            "still allowed 5 s after notAfter ({not_after})"
        );
        assert!(Instant::now() < deadline, "never denied");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        unix_now() > not_after,
        "denied before notAfter ({not_after}): {denied:#?}"
    );
    assert_denied(&denied, "certificate_expired", DELEGATION);

    // A new connection with the same certificate is Envoy's to refuse.
    let fresh = try_get(&client, s.tls(), DELEGATION);
    assert!(
        fresh.is_err(),
        "Envoy accepted an expired certificate: {fresh:?}"
    );
}

/// What Envoy's own validation refuses at the handshake, which is why the
/// tests above relax it: certificates outside their validity period (both
/// directions; `allow_expired_certificate` lifts both) and leaves whose EKU
/// lacks clientAuth (Envoy verifies for the TLS client purpose).
#[test]
fn envoy_refuses_out_of_period_and_server_only_certificates_at_the_handshake() {
    let s = start(policy(json!({})));
    let root = cas().root;
    for cert_spec in [
        CertSpec::client("expired").validity(-7200, -3600),
        CertSpec::client("early").validity(3600, 7200),
        CertSpec::client("server-only").eku(Some(vec!["serverAuth"])),
    ] {
        let leaf = issue(&cert_spec, root);
        let outcome = try_get(&presenting(&s, &leaf, &[]), s.tls(), DELEGATION);
        assert!(
            outcome.is_err(),
            "Envoy accepted {}: {outcome:?}",
            cert_spec.common_name
        );
    }
    assert_eq!(s.upstream.count(), 0);
}
