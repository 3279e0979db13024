//! Every metric the rules and the dashboard query, with the labels and
//! label values they rely on, on a real Envoy's `/stats/prometheus`: the
//! project's `stats_config` tags, a CRL source, allowed and denied
//! requests; and an Envoy in audit mode for the audit counters.

use super::promql::{Expect, Use, uses};
use super::queries;
use crate::observability::stats_config;
use crate::revocation::eventually;
use onerecord_tls_policy_testkit as support;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use support::bootstrap::EnvoySpec;
use support::client::plain_send;
use support::crl::CrlSpec;
use support::crl_server::CrlServer;
use support::fixture::TestPki;
use support::http::Request;
use support::onerecord::{assert_allowed, assert_denied};
use support::policies::{DELEGATION, OBJECT, delegations_policy, pinned_client_ca, with};
use support::stack::Stack;

/// Labels Prometheus adds to every series it scrapes.
const TARGET_LABELS: [&str; 2] = ["instance", "job"];

/// Metric name to the label sets of its series.
type Scrape = BTreeMap<String, Vec<BTreeMap<String, String>>>;

/// `name{a="x",b="y"} 3` lines; Envoy's label values hold no `,` or `"`.
fn scrape(stack: &Stack, into: &mut Scrape) {
    let text = stack.envoy.admin_get("/stats/prometheus").text();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let series = line.rsplit_once(' ').map_or(line, |(s, _)| s);
        let (name, labels) = series.split_once('{').unwrap_or((series, "}"));
        let labels = labels
            .trim_end_matches('}')
            .split(',')
            .filter_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                Some((k.to_string(), v.trim_matches('"').to_string()))
            })
            .collect();
        into.entry(name.to_string()).or_default().push(labels);
    }
}

/// What `used` expects of the scrape and does not find there.
fn missing(scrape: &Scrape, used: &Use) -> Vec<String> {
    let Some(series) = scrape.get(&used.metric) else {
        return vec![format!("no metric {}", used.metric)];
    };
    used.labels
        .iter()
        .filter(|(label, _)| !TARGET_LABELS.contains(&label.as_str()))
        .filter(|(label, expect)| {
            !series.iter().any(|labels| match expect {
                Expect::Present => labels.contains_key(label),
                Expect::Value(value) => labels.get(label) == Some(value),
            })
        })
        .map(|(label, expect)| format!("{} without {label} {expect:?}", used.metric))
        .collect()
}

/// Enforce mode, mTLS under `/access-delegations`, one CRL source, OCSP
/// in soft mode (the test client names no responder: a counted pass).
fn enforcing(server: &CrlServer) -> Stack {
    let policy = with(
        delegations_policy(),
        json!({
            "ca_certificates_pem": pinned_client_ca()["ca_certificates_pem"],
            "crl_sources": [{ "cluster": "crl", "path": "/root.crl", "refresh_seconds": 1 }],
            "ocsp": { "mode": "soft", "cluster": "ocsp", "timeout_ms": 1000 },
        }),
    );
    let clusters = [server.cluster("crl"), server.cluster("ocsp")];
    let spec = EnvoySpec::new(&policy).stats_config(stats_config());
    Stack::start_edited(spec, move |bootstrap, _| {
        bootstrap["static_resources"]["clusters"]
            .as_array_mut()
            .expect("clusters")
            .extend(clusters);
    })
}

#[test]
fn every_metric_the_rules_and_the_dashboard_query_is_on_a_real_scrape() {
    let pki = TestPki::shared();
    let server = CrlServer::start();
    server.serve(&CrlSpec::default().number(Some(1)).sign(&pki.client_ca).der);
    let s = enforcing(&server);
    let ok = "wasmcustom.onerecord_tls_policy.crl_fetches_total.source.0.result.ok: ";
    let fetched = || {
        let text = s.envoy.admin_get("/stats").text();
        text.lines()
            .filter_map(|l| l.strip_prefix(ok)?.trim().parse::<u64>().ok())
            .any(|n| n > 0)
    };
    assert!(eventually(Duration::from_secs(10), fetched), "CRL fetched");
    assert_allowed(&s.client().get(s.tls(), OBJECT));
    assert_allowed(&s.client().cert(&pki.client).get(s.tls(), DELEGATION));
    let denied = [
        (
            plain_send(s.plain(), &Request::get(OBJECT)),
            "tls_required",
            OBJECT,
        ),
        (
            s.client().get(s.tls(), DELEGATION),
            "client_certificate_required",
            DELEGATION,
        ),
    ];
    for (resp, reason, path) in denied {
        assert_denied(&resp, reason, path);
    }
    let mut all = Scrape::new();
    scrape(&s, &mut all);

    let audit = Stack::start_spec(
        EnvoySpec::new(&with(delegations_policy(), json!({ "mode": "audit" })))
            .stats_config(stats_config()),
    );
    assert_allowed(&audit.client().get(audit.tls(), DELEGATION));
    scrape(&audit, &mut all);

    let mut problems = BTreeSet::new();
    let mut checked = BTreeSet::new();
    for (what, query) in queries() {
        for used in uses(&query) {
            checked.insert(used.metric.clone());
            for problem in missing(&all, &used) {
                problems.insert(format!("{what}: {problem}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "queried but not on /stats/prometheus:\n{}",
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
    // The parse found the kit's metrics: the filter's and Envoy's own.
    for expected in [
        "onerecord_tls_policy_denied_total",
        "onerecord_tls_policy_crl_seconds_until_next_update",
        "envoy_wasm_envoy_wasm_runtime_v8_active",
    ] {
        assert!(
            checked.contains(expected),
            "{expected} not queried: {checked:?}"
        );
    }
}

#[test]
fn a_metric_or_label_value_not_exported_is_reported() {
    let mut scrape = Scrape::new();
    scrape.insert(
        "onerecord_tls_policy_denied_total".into(),
        vec![[("reason".to_string(), "tls_required".to_string())].into()],
    );
    let problems = |query: &str| {
        uses(query)
            .iter()
            .flat_map(|u| missing(&scrape, u))
            .collect::<Vec<_>>()
    };
    assert!(
        problems(r#"onerecord_tls_policy_denied_total{reason="tls_required",instance=~"$i"}"#)
            .is_empty()
    );
    assert_eq!(problems("onerecord_tls_policy_denied_totl").len(), 1);
    assert_eq!(
        problems(r#"onerecord_tls_policy_denied_total{reason="tls_requird"}"#).len(),
        1
    );
    assert_eq!(
        problems("sum by (rule) (onerecord_tls_policy_denied_total)").len(),
        1
    );
}
