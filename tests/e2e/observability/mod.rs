//! The filter's reports through a real Envoy: counters on
//! `/stats/prometheus` with the labels the documented `stats_tags` make,
//! the decision in the access log, and configuration loads and failures
//! across a hot reload.

pub(crate) mod access_log;
mod counters;
mod listener_update;

use onerecord_tls_policy::filter::metrics::STATS_TAGS;
use onerecord_tls_policy_testkit as support;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use support::envoy::Envoy;

/// The `stats_config` envoy/envoy.yaml documents (a unit test keeps them equal).
pub(crate) fn stats_config() -> Value {
    let tags: Vec<Value> = STATS_TAGS
        .iter()
        .map(|(name, regex)| json!({ "tag_name": name, "regex": regex }))
        .collect();
    json!({ "stats_tags": tags })
}

/// One Prometheus sample: metric name and its labels.
type Series = (String, BTreeMap<String, String>);

/// Every `onerecord_tls_policy_*` sample on `/stats/prometheus`.
fn samples(envoy: &Envoy) -> BTreeMap<Series, u64> {
    let text = envoy.admin_get("/stats/prometheus").text();
    text.lines()
        .filter(|line| line.starts_with("onerecord_tls_policy_"))
        .map(|line| parse_sample(line).unwrap_or_else(|| panic!("unparsable sample {line:?}")))
        .collect()
}

/// `name{a="x",b="y"} 3`. Label values here never hold `,` or `"`.
fn parse_sample(line: &str) -> Option<(Series, u64)> {
    let (series, value) = line.rsplit_once(' ')?;
    let (name, labels) = series.split_once('{')?;
    let labels = labels
        .strip_suffix('}')?
        .split(',')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, quoted) = pair.split_once('=')?;
            let value = quoted.strip_prefix('"')?.strip_suffix('"')?;
            Some((key.to_string(), value.to_string()))
        })
        .collect::<Option<BTreeMap<_, _>>>()?;
    Some(((name.to_string(), labels), value.parse().ok()?))
}

fn series(name: &str, labels: &[(&str, &str)]) -> Series {
    let labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (format!("onerecord_tls_policy_{name}"), labels)
}

fn non_zero(samples: &BTreeMap<Series, u64>) -> BTreeMap<Series, u64> {
    samples
        .iter()
        .filter(|(_, value)| **value > 0)
        .map(|(series, value)| (series.clone(), *value))
        .collect()
}

/// Every sample belongs to one of the families: the tags took every label
/// segment out of the names.
fn assert_families(samples: &BTreeMap<Series, u64>) {
    let families = [
        "allowed_total",
        "denied_total",
        "audit_denied_total",
        "chain_verifications_total",
        "config_loads_total",
        "config_failures_total",
        "expiring_clients_total",
        "expiring_crls_total",
        "crl_fetches_total",
        "crl_seconds_since_this_update",
        "crl_seconds_until_next_update",
        "verdict_cache_evictions_total",
    ]
    .map(|family| format!("onerecord_tls_policy_{family}"));
    for (name, labels) in samples.keys() {
        assert!(families.contains(name), "untagged series {name} {labels:?}");
    }
}
