//! Configuration loads and refusals across a hot reload of the listener
//! (file-based LDS), and the new rules taking effect.

use super::{Series, non_zero, samples, series, stats_config};
use onerecord_tls_policy_testkit as support;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::bootstrap::EnvoySpec;
use support::envoy::Envoy;
use support::policies::delegations_policy;
use support::stack::Stack;
use support::tempdir::TempDir;

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
