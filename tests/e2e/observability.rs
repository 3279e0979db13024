//! The filter's reports through a real Envoy: counters on
//! `/stats/prometheus` with the labels the documented `stats_tags` make,
//! the decision in the access log, and configuration loads and failures
//! across a hot reload.

use onerecord_tls_policy_testkit as support;

use onerecord_tls_policy::filter::access_log::FILTER_STATE_KEY;
use onerecord_tls_policy::filter::metrics::{STATS_TAGS, chain_failures};
use onerecord_tls_policy::reason::Reason;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::bootstrap::EnvoySpec;
use support::client::plain_send;
use support::envoy::Envoy;
use support::http::Request;
use support::onerecord::{assert_allowed, assert_denied};
use support::policies::{DELEGATION, OBJECT, delegations_policy, with};
use support::stack::Stack;
use support::tempdir::TempDir;

/// The `stats_config` envoy/envoy.yaml documents (a unit test keeps them equal).
fn stats_config() -> Value {
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

/// Every sample belongs to one of the six families: the tags took every
/// label segment out of the names.
fn assert_families(samples: &BTreeMap<Series, u64>) {
    let families = [
        "allowed_total",
        "denied_total",
        "audit_denied_total",
        "chain_verifications_total",
        "config_loads_total",
        "config_failures_total",
    ]
    .map(|family| format!("onerecord_tls_policy_{family}"));
    for (name, labels) in samples.keys() {
        assert!(families.contains(name), "untagged series {name} {labels:?}");
    }
}

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
    // allowed + denied per reason, for "-" and access-delegations; chain
    // verifications by result; 2 config counters.
    assert_eq!(
        samples.len(),
        2 * (1 + Reason::ALL.len()) + (1 + chain_failures().count()) + 2
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

#[test]
fn the_access_log_prints_the_decision() {
    let logs = TempDir::new("access-log");
    let log = logs.join("access.json");
    let format = json!({
        "path": "%REQ(:PATH)%",
        "status": "%RESPONSE_CODE%",
        "onerecord": format!("%FILTER_STATE({FILTER_STATE_KEY}:PLAIN)%"),
    });
    let spec = EnvoySpec::new(&delegations_policy()).access_log(&log, format);
    let s = Stack::start_spec(spec);
    let client = s.client().cert(&s.pki.client).chain(&[&s.pki.client_ca]);
    assert_allowed(&client.get(s.tls(), DELEGATION));
    assert_denied(
        &plain_send(s.plain(), &Request::get(OBJECT)),
        "tls_required",
        OBJECT,
    );
    let client_sha256 = s.pki.client.sha256_hex();
    let anchor_sha256 = Stack::client_ca_sha256();
    // Envoy flushes access logs every 10 s, and on exit.
    let Stack { envoy, .. } = s;
    envoy.stop();

    let text = std::fs::read_to_string(&log).expect("access log written");
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let entry = |path: &str| -> &Value {
        let mut found = lines.iter().filter(|l| l["path"] == path);
        let entry = found
            .next()
            .unwrap_or_else(|| panic!("no entry for {path}: {text}"));
        assert!(found.next().is_none(), "{path} logged twice: {text}");
        entry
    };
    let allowed = entry(DELEGATION);
    assert_eq!(allowed["status"], 200);
    assert_eq!(
        allowed["onerecord"],
        format!(
            "decision=allow;reason=-;rule=access-delegations;client_sha256={client_sha256};anchor_sha256={anchor_sha256}"
        )
    );
    let denied = entry(OBJECT);
    assert_eq!(denied["status"], 403);
    assert_eq!(
        denied["onerecord"],
        "decision=deny;reason=tls_required;rule=-;client_sha256=-;anchor_sha256=-"
    );
}

/// Allowed requests log at debug. The filter asks Envoy's level before it
/// builds a line, so the line appears exactly when an operator turns the
/// wasm logger to debug at run time, from the next request on.
#[test]
fn allows_are_logged_once_envoy_logs_wasm_at_debug() {
    const ALLOW_LINE: &str = "onerecord-tls-policy: allow rule=access-delegations";
    let s = Stack::start_spec(EnvoySpec::new(&delegations_policy()));
    let client = s.client().cert(&s.pki.client).chain(&[&s.pki.client_ca]);
    let denied_line = |path: &str| {
        format!("onerecord-tls-policy: deny reason=tls_required rule=- tls=- path={path}")
    };

    assert_allowed(&client.get(s.tls(), DELEGATION));
    let plain = |path: &str| plain_send(s.plain(), &Request::get(path));
    assert_denied(
        &plain("/logistics-objects/at-info"),
        "tls_required",
        "/logistics-objects/at-info",
    );
    wait_for_log(&s.envoy, &denied_line("/logistics-objects/at-info"));
    assert!(
        !s.envoy.log().contains(ALLOW_LINE),
        "at info no allow is logged:\n{}",
        s.envoy.log_tail(20)
    );

    let changed = s.envoy.admin_post("/logging?wasm=debug");
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_allowed(&client.get(s.tls(), DELEGATION));
    wait_for_log(&s.envoy, ALLOW_LINE);

    let changed = s.envoy.admin_post("/logging?wasm=info");
    assert_eq!(changed.status, 200, "{}", changed.text());
    let before = s.envoy.log().matches(ALLOW_LINE).count();
    assert_allowed(&client.get(s.tls(), DELEGATION));
    assert_denied(
        &plain("/logistics-objects/back-at-info"),
        "tls_required",
        "/logistics-objects/back-at-info",
    );
    // The deny after the allow is written, so the allow would be too.
    wait_for_log(&s.envoy, &denied_line("/logistics-objects/back-at-info"));
    assert_eq!(
        s.envoy.log().matches(ALLOW_LINE).count(),
        before,
        "back at info"
    );
}

fn wait_for_log(envoy: &Envoy, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !envoy.log().contains(text) {
        assert!(
            Instant::now() < deadline,
            "no log line with {text:?}:\n{}",
            envoy.log_tail(30)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

// --- reload over file-based LDS ---------------------------------------------

/// Envoy whose TLS listener comes from `lds.json`, so that a test can push
/// new plugin configurations into a running Envoy.
struct Reloadable {
    envoy: Envoy,
    lds: PathBuf,
    listener: Value,
    version: u32,
}

impl Reloadable {
    fn start(plugin_config: &Value) -> Reloadable {
        let dir = TempDir::new("reload");
        let spec = EnvoySpec::new(plugin_config).stats_config(stats_config());
        let rendered = Stack::bootstrap_file(&dir, "static.json", spec);
        let mut bootstrap: Value =
            serde_json::from_str(&std::fs::read_to_string(rendered).expect("bootstrap"))
                .expect("bootstrap JSON");
        let listener = bootstrap["static_resources"]["listeners"]
            .take()
            .as_array()
            .and_then(|all| all.iter().find(|l| l["name"] == "tls").cloned())
            .expect("a tls listener");
        bootstrap["static_resources"]["listeners"] = json!([]);
        let lds = dir.join("lds.json");
        bootstrap["node"] = json!({ "id": "observability", "cluster": "observability" });
        bootstrap["dynamic_resources"] = json!({ "lds_config": {
            "resource_api_version": "V3",
            "path_config_source": { "path": lds, "watched_directory": { "path": dir.path() } }
        }});
        write_lds(&lds, &listener, 1);
        let config = dir.write(
            "bootstrap.json",
            serde_json::to_string_pretty(&bootstrap).expect("bootstrap JSON"),
        );
        let envoy = Envoy::start_file(dir, &config)
            .unwrap_or_else(|exited| panic!("Envoy exited ({}):\n{}", exited.status, exited.log));
        Reloadable {
            envoy,
            lds,
            listener,
            version: 1,
        }
    }

    /// Replaces the listener's plugin configuration.
    fn push(&mut self, plugin_config: &str) {
        self.version += 1;
        self.listener["filter_chains"][0]["filters"][0]["typed_config"]["http_filters"][0]["typed_config"]
            ["config"]["configuration"]["value"] = json!(plugin_config);
        write_lds(&self.lds, &self.listener, self.version);
    }

    /// Polls `/stats/prometheus` until `done` holds.
    fn wait_for(
        &self,
        what: &str,
        done: impl Fn(&BTreeMap<Series, u64>) -> bool,
    ) -> BTreeMap<Series, u64> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let samples = samples(&self.envoy);
            if done(&samples) {
                return samples;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; samples: {:#?}\nlog:\n{}",
                non_zero(&samples),
                self.envoy.log_tail(30)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Envoy reloads a file-based xDS source when a file is moved into its
/// watched directory, so write aside and rename.
fn write_lds(lds: &Path, listener: &Value, version: u32) {
    let mut resource = listener.clone();
    resource["@type"] = json!("type.googleapis.com/envoy.config.listener.v3.Listener");
    let response = json!({ "version_info": version.to_string(), "resources": [resource] });
    let staged = lds.with_extension("staged");
    std::fs::write(&staged, response.to_string()).expect("write LDS");
    std::fs::rename(&staged, lds).expect("move LDS into place");
}

fn count(samples: &BTreeMap<Series, u64>, name: &str) -> Option<u64> {
    samples.get(&series(name, &[])).copied()
}

#[test]
fn reloads_count_loads_and_refusals_and_define_the_new_rules() {
    let mut envoy = Reloadable::start(&delegations_policy());
    let samples = envoy.wait_for("the first load", |s| {
        count(s, "config_loads_total") == Some(1)
    });
    assert_eq!(count(&samples, "config_failures_total"), Some(0));

    // Envoy refuses the listener; the running configuration stays.
    envoy.push(r#"{"mode":"block"}"#);
    let samples = envoy.wait_for("the refusal", |s| {
        count(s, "config_failures_total") == Some(1)
    });
    assert_eq!(count(&samples, "config_loads_total"), Some(1));

    let renamed = delegations_policy()
        .to_string()
        .replace("access-delegations", "delegations-v2");
    envoy.push(&renamed);
    let samples = envoy.wait_for("the second load", |s| {
        count(s, "config_loads_total") == Some(2)
    });
    assert_eq!(count(&samples, "config_failures_total"), Some(1));
    assert_eq!(
        samples.get(&series("allowed_total", &[("rule", "delegations-v2")])),
        Some(&0),
        "the new configuration defines its rule's counters"
    );
}
