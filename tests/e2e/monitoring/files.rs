//! The rules and the dashboard on the host: what an operator relies on
//! without running them (severities, runbook text, test cases for each
//! alert; every panel querying the templated Prometheus data source).

use super::promql::{Expect, uses};
use super::{DASHBOARD, RULE_TESTS, RULES, dashboard, each_panel, each_rule, queries, read, rules};
use onerecord_tls_policy_demo::MONITORING_FILES;
use onerecord_tls_policy_testkit::repo_root;
use onerecord_tls_policy_testkit::tempdir::TempDir;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

fn alerts(rules: &Value) -> Vec<&Value> {
    each_rule(rules)
        .into_iter()
        .filter(|rule| rule.get("alert").is_some())
        .collect()
}

#[test]
fn every_alert_has_a_severity_a_summary_a_description_and_a_runbook() {
    let rules = rules();
    let alerts = alerts(&rules);
    assert!(alerts.len() >= 10, "{RULES}: {} alerts", alerts.len());
    let mut names = BTreeSet::new();
    for alert in alerts {
        let name = alert["alert"].as_str().expect("alert name");
        assert!(names.insert(name), "{name} defined twice");
        let severity = alert["labels"]["severity"].as_str();
        assert!(
            matches!(severity, Some("critical" | "warning")),
            "{name}: severity {severity:?}"
        );
        for annotation in ["summary", "description", "runbook"] {
            let text = alert["annotations"][annotation].as_str().unwrap_or("");
            assert!(text.len() > 20, "{name}: annotation {annotation} {text:?}");
        }
    }
    // Each recorded series is named level:metric:operations.
    for rule in each_rule(&rules) {
        if let Some(record) = rule["record"].as_str() {
            assert_eq!(record.split(':').count(), 3, "{record}");
        }
    }
}

/// Alert name to (cases where it fires, cases where it stays quiet).
fn cases() -> BTreeMap<String, (usize, usize)> {
    let mut cases: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for file in RULE_TESTS {
        let tests: Value = serde_norway::from_str(&read(file)).expect("test YAML");
        assert_eq!(tests["rule_files"], json!([RULES]), "{file}");
        for test in tests["tests"].as_array().expect("tests") {
            for case in test["alert_rule_test"].as_array().into_iter().flatten() {
                let name = case["alertname"].as_str().expect("alertname").to_string();
                let fires = case["exp_alerts"].as_array().is_some_and(|a| !a.is_empty());
                let entry = cases.entry(name).or_default();
                if fires {
                    entry.0 += 1;
                } else {
                    entry.1 += 1;
                }
            }
        }
    }
    cases
}

#[test]
fn every_alert_has_promtool_cases_where_it_fires_and_where_it_stays_quiet() {
    let rules = rules();
    let cases = cases();
    let names: BTreeSet<String> = alerts(&rules)
        .iter()
        .map(|a| a["alert"].as_str().expect("name").to_string())
        .collect();
    for name in &names {
        let (fires, quiet) = cases.get(name).copied().unwrap_or_default();
        assert!(
            fires > 0 && quiet > 0,
            "{name}: {fires} cases that fire, {quiet} quiet"
        );
    }
    let unknown: Vec<&String> = cases.keys().filter(|n| !names.contains(*n)).collect();
    assert!(
        unknown.is_empty(),
        "tests of alerts not in {RULES}: {unknown:?}"
    );
}

#[test]
fn the_annotations_are_where_make_monitoring_test_strips_them() {
    // The Makefile drops `    annotations:` blocks (4 spaces in) before
    // promtool's unit tests; one elsewhere would make them compare text.
    let text = read(RULES);
    let at_four = text.lines().filter(|l| *l == "    annotations:").count();
    let anywhere = text
        .lines()
        .filter(|l| l.trim_start().starts_with("annotations:"))
        .count();
    assert_eq!(at_four, anywhere);
    assert_eq!(at_four, alerts(&rules()).len());
}

const BUILTIN_PANELS: [&str; 4] = ["row", "timeseries", "stat", "table"];

#[test]
fn every_dashboard_panel_queries_the_templated_prometheus_data_source() {
    let dashboard = dashboard();
    let source = json!({ "type": "prometheus", "uid": "${datasource}" });
    let variables = dashboard["templating"]["list"].as_array().expect("list");
    let datasource = variables
        .iter()
        .find(|v| v["name"] == "datasource")
        .expect("a datasource variable");
    assert_eq!(
        (&datasource["type"], &datasource["query"]),
        (&json!("datasource"), &json!("prometheus"))
    );
    for variable in variables.iter().filter(|v| v["type"] == "query") {
        assert_eq!(variable["datasource"], source, "{}", variable["name"]);
    }
    // Importable anywhere: no inputs to fill in, no plugin to install.
    assert_eq!(dashboard["__inputs"], json!([]));
    for required in dashboard["__requires"].as_array().expect("__requires") {
        let ok = match required["type"].as_str() {
            Some("panel") => BUILTIN_PANELS.contains(&required["id"].as_str().unwrap_or("")),
            Some("grafana") => true,
            Some("datasource") => required["id"] == "prometheus",
            _ => false,
        };
        assert!(ok, "{DASHBOARD} requires {required}");
    }

    let mut ids = BTreeSet::new();
    let panels = each_panel(&dashboard);
    assert!(panels.len() > 10, "{} panels", panels.len());
    for panel in panels {
        let title = panel["title"].as_str().expect("title");
        let kind = panel["type"].as_str().expect("type");
        assert!(BUILTIN_PANELS.contains(&kind), "{title}: panel type {kind}");
        assert!(
            ids.insert(panel["id"].as_u64().expect("id")),
            "{title}: id taken"
        );
        let pos = &panel["gridPos"];
        let (x, w) = (pos["x"].as_u64().expect("x"), pos["w"].as_u64().expect("w"));
        assert!(x + w <= 24 && pos["h"].as_u64() > Some(0), "{title}: {pos}");
        if kind == "row" {
            continue;
        }
        assert!(
            panel["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{title}: description"
        );
        assert_eq!(panel["datasource"], source, "{title}");
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title}: no query");
        for target in targets {
            assert_eq!(target["datasource"], source, "{title}");
            let expr = target["expr"].as_str().unwrap_or("");
            // Each metric it reads is narrowed to the chosen Envoys.
            let used = uses(expr);
            assert!(!used.is_empty(), "{title}: {expr:?} reads no metric");
            for u in used {
                assert!(
                    u.labels
                        .contains(&("instance".to_string(), Expect::Present)),
                    "{title}: {} without $instance",
                    u.metric
                );
            }
        }
    }
}

#[test]
fn every_query_in_the_kit_reads_a_metric() {
    for (what, query) in queries() {
        if !query.contains(':') {
            assert!(!uses(&query).is_empty(), "{what}: {query:?}");
        }
    }
}

/// Grafana's variables, as a query sees them once Grafana replaced them.
fn as_grafana_sends(query: &str) -> String {
    query
        .replace("$__rate_interval", "2m")
        .replace("$__range", "6h")
        .replace("$instance", ".*")
}

#[test]
fn every_dashboard_query_is_valid_promql() {
    // promtool parses them as recording rules. `make test` provides it
    // (`make promtool`, exported as $PROMTOOL); CI must have it.
    let promtool = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    let Ok(version) = Command::new(&promtool).arg("--version").output() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "promtool is missing on CI"
        );
        eprintln!("SKIPPED: no promtool to parse the dashboard's queries (make promtool)");
        return;
    };
    assert!(version.status.success());
    let dashboard = dashboard();
    let rules: Vec<Value> = each_panel(&dashboard)
        .into_iter()
        .flat_map(|panel| panel["targets"].as_array().into_iter().flatten())
        .enumerate()
        .map(|(n, target)| {
            let expr = target["expr"].as_str().expect("expr");
            json!({ "record": format!("dashboard:query_{n}:expr"), "expr": as_grafana_sends(expr) })
        })
        .collect();
    let dir = TempDir::new("dashboard-queries");
    let file = dir.write(
        "queries.rules.json",
        json!({ "groups": [{ "name": "dashboard", "rules": rules }] }).to_string(),
    );
    let out = Command::new(&promtool)
        .args(["check", "rules"])
        .arg(&file)
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The README's "Monitoring" section.
fn readme_section() -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let start = readme
        .find("\n## Monitoring\n")
        .expect("a Monitoring section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_string()
}

#[test]
fn the_readme_lists_every_alert_with_its_severity_and_the_demo_points_at_the_kit() {
    let section = readme_section();
    // | `Name` | severity | ...
    let listed: BTreeMap<String, String> = section
        .lines()
        .filter_map(|line| {
            let mut cells = line.strip_prefix("| `")?.split(" | ");
            let name = cells.next()?.strip_suffix('`')?;
            let severity = cells.next()?;
            name.starts_with("OneRecord")
                .then(|| (name.to_string(), severity.to_string()))
        })
        .collect();
    let rules = rules();
    let defined: BTreeMap<String, String> = alerts(&rules)
        .iter()
        .map(|a| {
            (
                a["alert"].as_str().expect("name").to_string(),
                a["labels"]["severity"]
                    .as_str()
                    .expect("severity")
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(listed, defined);
    for record in each_rule(&rules)
        .iter()
        .filter_map(|r| r["record"].as_str())
    {
        let short = record.trim_start_matches("onerecord_tls_policy");
        assert!(
            section.contains(&format!("`{short}`")) || section.contains(&format!("`{record}`")),
            "{record}"
        );
    }
    for (_, file) in MONITORING_FILES {
        assert!(repo_root().join(file).is_file(), "{file}");
        let name = file.trim_start_matches("deploy/monitoring/");
        assert!([RULES, DASHBOARD].contains(&name), "{file}");
        assert!(section.contains(&format!("`{name}`")), "README: {name}");
    }
}
