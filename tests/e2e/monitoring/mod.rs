//! The operators' kit in `deploy/monitoring`: the Prometheus rules and the
//! Grafana dashboard. `files` checks their shape on the host (every alert
//! has a severity, its annotations and promtool cases that fire and stay
//! quiet; every dashboard panel a query on the templated data source);
//! `scrape` checks every metric and label they query against a real
//! Envoy's `/stats/prometheus`. The queries are read out of the files.

mod files;
mod promql;
mod scrape;

use onerecord_tls_policy_testkit::repo_root;
use serde_json::Value;
use std::path::PathBuf;

fn kit(file: &str) -> PathBuf {
    repo_root().join("deploy/monitoring").join(file)
}

fn read(file: &str) -> String {
    let path = kit(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const RULES: &str = "onerecord-tls-policy.rules.yaml";
const RULE_TESTS: [&str; 2] = [
    "onerecord-tls-policy.rules.test.yaml",
    "onerecord-tls-policy.rules.weekly.test.yaml",
];
const DASHBOARD: &str = "onerecord-tls-policy.dashboard.json";

fn rules() -> Value {
    serde_norway::from_str(&read(RULES)).expect("rules YAML")
}

fn dashboard() -> Value {
    serde_json::from_str(&read(DASHBOARD)).expect("dashboard JSON")
}

/// Every rule of every group.
fn each_rule(rules: &Value) -> Vec<&Value> {
    rules["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|group| group["rules"].as_array().expect("rules").iter())
        .collect()
}

/// Every panel, those inside collapsed rows too.
fn each_panel(dashboard: &Value) -> Vec<&Value> {
    let mut panels = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        panels.push(panel);
        if let Some(inner) = panel["panels"].as_array() {
            panels.extend(inner);
        }
    }
    panels
}

/// Where a query comes from, and the query.
type Query = (String, String);

/// The rules' expressions and the dashboard's queries (panel targets and
/// templating variables).
fn queries() -> Vec<Query> {
    let rules = rules();
    let mut queries: Vec<Query> = each_rule(&rules)
        .into_iter()
        .map(|rule| {
            let name = rule["alert"].as_str().or(rule["record"].as_str());
            (
                format!("rule {}", name.expect("rule name")),
                rule["expr"].as_str().expect("expr").to_string(),
            )
        })
        .collect();
    let dashboard = dashboard();
    for panel in each_panel(&dashboard) {
        for target in panel["targets"].as_array().into_iter().flatten() {
            queries.push((
                format!("panel {:?}", panel["title"]),
                target["expr"].as_str().expect("target expr").to_string(),
            ));
        }
    }
    for variable in dashboard["templating"]["list"].as_array().expect("list") {
        if let Some(query) = variable["query"]["query"].as_str() {
            queries.push((
                format!("variable {:?}", variable["name"]),
                query.to_string(),
            ));
        }
    }
    queries
}
