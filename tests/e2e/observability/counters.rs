//! The counters on `/stats/prometheus`, under the labels `stats_tags`
//! make: every request under its reason and rule, audit mode too.

use super::{Series, assert_families, non_zero, samples, series, stats_config};
use onerecord_tls_policy::filter::metrics::chain_failures;
use onerecord_tls_policy::reason::Reason;
use onerecord_tls_policy_testkit as support;
use serde_json::json;
use std::collections::BTreeMap;
use support::bootstrap::EnvoySpec;
use support::client::plain_send;
use support::http::Request;
use support::onerecord::{assert_allowed, assert_denied};
use support::policies::{DELEGATION, OBJECT, delegations_policy, with};
use support::stack::Stack;

#[test]
fn prometheus_counts_every_request_under_its_reason_and_rule() {
    let s = Stack::start_spec(EnvoySpec::new(&delegations_policy()).stats_config(stats_config()));
    for _ in 0..2 {
        assert_allowed(&s.client().get(s.tls(), OBJECT));
    }
    for _ in 0..3 {
        assert_denied(
            &plain_send(s.plain(), &Request::get(OBJECT)),
            "tls_required",
            OBJECT,
        );
    }
    assert_denied(
        &s.client().get(s.tls(), DELEGATION),
        "client_certificate_required",
        DELEGATION,
    );

    let samples = samples(&s.envoy);
    assert_families(&samples);
    let expected: BTreeMap<Series, u64> = [
        (series("allowed_total", &[("rule", "-")]), 2),
        (
            series("denied_total", &[("reason", "tls_required"), ("rule", "-")]),
            3,
        ),
        (
            series(
                "denied_total",
                &[
                    ("reason", "client_certificate_required"),
                    ("rule", "access-delegations"),
                ],
            ),
            1,
        ),
        (series("config_loads_total", &[]), 1),
    ]
    .into();
    assert_eq!(non_zero(&samples), expected);

    // Everything the configuration can count exists from the start, at zero.
    for zero in [
        series("config_failures_total", &[]),
        series("allowed_total", &[("rule", "access-delegations")]),
        series(
            "denied_total",
            &[("reason", "untrusted_ca"), ("rule", "access-delegations")],
        ),
    ] {
        assert_eq!(samples.get(&zero), Some(&0), "{zero:?}");
    }
    // allowed, the two expiry counters and denied per reason, for "-" and
    // access-delegations; chain verifications by result; 2 config counters;
    // the verdict cache's evictions.
    assert_eq!(
        samples.len(),
        2 * (3 + Reason::ALL.len()) + (1 + chain_failures().count()) + 2 + 1
    );
}

#[test]
fn audit_mode_counts_what_enforce_would_have_denied() {
    let config = with(delegations_policy(), json!({ "mode": "audit" }));
    let s = Stack::start_spec(EnvoySpec::new(&config).stats_config(stats_config()));
    assert_allowed(&plain_send(s.plain(), &Request::get(OBJECT)));
    assert_allowed(&s.client().get(s.tls(), DELEGATION));
    assert_allowed(&s.client().get(s.tls(), OBJECT));

    let samples = samples(&s.envoy);
    assert_families(&samples);
    let expected: BTreeMap<Series, u64> = [
        (series("allowed_total", &[("rule", "-")]), 1),
        (
            series(
                "audit_denied_total",
                &[("reason", "tls_required"), ("rule", "-")],
            ),
            1,
        ),
        (
            series(
                "audit_denied_total",
                &[
                    ("reason", "client_certificate_required"),
                    ("rule", "access-delegations"),
                ],
            ),
            1,
        ),
        (series("config_loads_total", &[]), 1),
    ]
    .into();
    assert_eq!(non_zero(&samples), expected);
}
