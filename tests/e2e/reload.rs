//! Changing the plugin configuration of a running Envoy. The filter's
//! configuration comes through ECDS (the HTTP filter's `config_discovery`)
//! from a file: Envoy keeps the listener and its connections and builds
//! each request's filter chain from the configuration it has at that
//! moment, so the next request on an open connection runs under the new
//! one. (A listener update through LDS would drain the open connections
//! instead; the `observability` suite reloads that way.)

use onerecord_tls_policy_testkit as support;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use support::bootstrap::{EnvoySpec, wasm_filter};
use support::client::{Connection, TlsClient};
use support::fixture::TestPki;
use support::http::Response;
use support::onerecord::{assert_allowed, assert_denied};
use support::pki::Issued;
use support::policies::{DELEGATION, pinned_client_ca, with};
use support::stack::Stack;
use support::vm::{self, VmHealth};

const FILTER: &str = "onerecord_tls_policy";
const WASM_TYPE: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";

/// The shared PKI: `client_ca` is the pinned root, `client` the client
/// whose certificate gets revoked, `forwarder` one that stays in good standing.
fn pki() -> &'static TestPki {
    TestPki::shared()
}

/// mTLS required, the root pinned, `revoked` refused.
fn policy(revoked: &[&Issued]) -> Value {
    let revoked: Vec<String> = revoked.iter().map(|c| c.sha256_hex()).collect();
    let required = with(pinned_client_ca(), json!({ "mtls": "required" }));
    with(required, json!({ "revoked_sha256": revoked }))
}

/// A stack whose plugin configuration is read from `<test dir>/ecds/filter.json`.
struct Reloadable {
    s: Stack,
    dir: PathBuf,
    version: u32,
}

impl Reloadable {
    fn start(plugin_config: &Value) -> Reloadable {
        let spec = EnvoySpec::new(plugin_config).client_ca_pem(&pki().client_ca.pem());
        let mut ecds_dir = None;
        let s = Stack::start_edited(spec.clone(), |bootstrap, dir| {
            let ecds = dir.join("ecds");
            std::fs::create_dir_all(&ecds).expect("ECDS directory");
            write_resource(&ecds, &wasm_filter(&spec, &support::envoy::wasm()), 1);
            // xDS subscriptions need a node identity.
            bootstrap["node"] = json!({ "id": "reload-test", "cluster": "reload-test" });
            let discovered = json!({
                "name": FILTER,
                "config_discovery": {
                    "config_source": {
                        "resource_api_version": "V3",
                        "path_config_source": {
                            "path": ecds.join("filter.json"),
                            "watched_directory": { "path": ecds },
                        },
                    },
                    "type_urls": [WASM_TYPE],
                },
            });
            let listeners = bootstrap["static_resources"]["listeners"]
                .as_array_mut()
                .expect("listeners");
            for listener in listeners {
                let manager = &mut listener["filter_chains"][0]["filters"][0]["typed_config"];
                assert_eq!(
                    manager["http_filters"][0]["name"],
                    "envoy.filters.http.wasm"
                );
                manager["http_filters"][0] = discovered.clone();
            }
            ecds_dir = Some(ecds);
        });
        let r = Reloadable {
            s,
            dir: ecds_dir.expect("edited"),
            version: 1,
        };
        r.wait_for("the first configuration", |sub| sub.accepted == 1);
        r
    }

    /// Offers `plugin_config` (verbatim) as the next configuration.
    fn push(&mut self, plugin_config: &str) {
        self.version += 1;
        let spec = EnvoySpec::raw(plugin_config);
        write_resource(
            &self.dir,
            &wasm_filter(&spec, &support::envoy::wasm()),
            self.version,
        );
    }

    fn subscription(&self) -> Subscription {
        Subscription::read(&self.s)
    }

    fn wait_for(&self, what: &str, done: impl Fn(&Subscription) -> bool) -> Subscription {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let sub = self.subscription();
            if done(&sub) {
                return sub;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {sub:?}; log:\n{}",
                self.s.envoy.log_tail(20)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Polls fresh connections of `client` until one gets `status`: Envoy
    /// counts an accepted update on its main thread and hands it to the
    /// worker just after.
    fn wait_until_serving(&self, client: &TlsClient, status: u16) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let resp = client.get(self.s.tls(), DELEGATION);
            if resp.status == status {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the worker never applied the update: {resp:#?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn client(&self, leaf: &Issued) -> TlsClient {
        self.s.client().cert(leaf)
    }
}

/// The ECDS file: one `TypedExtensionConfig` named like the filter, holding
/// the Wasm filter's `typed_config`. Envoy reloads a file-based source when
/// a file is moved into its watched directory, so write aside and rename.
fn write_resource(dir: &Path, filter: &Value, version: u32) {
    let resource = json!({
        "@type": "type.googleapis.com/envoy.config.core.v3.TypedExtensionConfig",
        "name": FILTER,
        "typed_config": filter["typed_config"],
    });
    let response = json!({ "version_info": version.to_string(), "resources": [resource] });
    let staged = dir.join("filter.staged");
    std::fs::write(&staged, response.to_string()).expect("write ECDS resource");
    std::fs::rename(&staged, dir.join("filter.json")).expect("move ECDS resource into place");
}

/// Envoy's view of the filter's ECDS subscription.
#[derive(Debug)]
struct Subscription {
    /// `update_success`: configurations applied, the first included.
    accepted: u64,
    /// `update_rejected`: configurations refused.
    rejected: u64,
    /// `version_text`: the version of the configuration in use.
    version: String,
}

impl Subscription {
    fn read(s: &Stack) -> Subscription {
        let prefix = format!("extension_config_discovery.http_filter.{FILTER}.");
        let text = s.envoy.admin_get("/stats").text();
        let stat = |name: &str| -> String {
            let key = format!("{prefix}{name}: ");
            text.lines()
                .find_map(|line| line.strip_prefix(&key))
                .unwrap_or_else(|| panic!("no {prefix}{name} in /stats"))
                .trim_matches('"')
                .to_string()
        };
        let number = |name: &str| stat(name).parse::<u64>().expect("a counter");
        Subscription {
            accepted: number("update_success"),
            rejected: number("update_rejected"),
            version: stat("version_text"),
        }
    }
}

fn get(conn: &mut Connection) -> Response {
    conn.send(&support::http::Request::get(DELEGATION))
        .unwrap_or_else(|e| panic!("the open connection failed: {e}"))
}

fn assert_verified_as(resp: &Response, leaf: &Issued) {
    let echo = assert_allowed(resp);
    assert_eq!(echo.get("x-onerecord-mtls"), Some("verified"));
    assert_eq!(
        echo.get("x-onerecord-client-sha256"),
        Some(leaf.sha256_hex().as_str())
    );
}

/// The plugin's own count of configurations it refused.
fn config_failures(s: &Stack) -> u64 {
    let name = format!("wasmcustom.{FILTER}.config_failures_total");
    *vm::counters(&s.envoy)
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} in /stats"))
}

/// No request failed in the VM: no trap logged, no 5xx answered.
fn assert_no_request_failed(r: &Reloadable) {
    let log = r.s.envoy.log();
    let traps: Vec<&str> = log
        .lines()
        .filter(|l| {
            (l.contains("Function: proxy_") && l.contains("failed")) || l.contains("panicked")
        })
        .collect();
    assert!(traps.is_empty(), "the VM trapped: {traps:#?}");
    assert_eq!(VmHealth::read(&r.s.envoy).responses_5xx, 0);
}

#[test]
fn revocation_applies_to_the_next_request_on_an_open_connection() {
    let p = pki();
    let mut r = Reloadable::start(&policy(&[]));
    let mut conn = r.client(&p.client).open(r.s.tls());
    assert_verified_as(&get(&mut conn), &p.client);

    r.push(&policy(&[&p.client]).to_string());
    r.wait_for("the revocation", |sub| {
        sub.accepted == 2 && sub.version == "2"
    });
    r.wait_until_serving(&r.client(&p.client), 403);

    // The same TLS connection, opened under the old configuration: the
    // handshake is not repeated, the verdict is.
    let forwarded = r.s.upstream.count();
    assert_denied(&get(&mut conn), "certificate_revoked", DELEGATION);
    assert_denied(&get(&mut conn), "certificate_revoked", DELEGATION);
    assert_eq!(
        r.s.upstream.count(),
        forwarded,
        "a denied request reached the upstream"
    );
    // Other clients are unaffected.
    let mut other = r.client(&p.forwarder).open(r.s.tls());
    assert_verified_as(&get(&mut other), &p.forwarder);

    // Lifting the revocation applies on the same connection just as well.
    r.push(&policy(&[]).to_string());
    r.wait_for("the lifted revocation", |sub| {
        sub.accepted == 3 && sub.version == "3"
    });
    r.wait_until_serving(&r.client(&p.client), 200);
    assert_verified_as(&get(&mut conn), &p.client);
    assert_no_request_failed(&r);
}

#[test]
fn a_rejected_configuration_leaves_the_previous_one_serving() {
    let p = pki();
    let mut r = Reloadable::start(&policy(&[&p.client]));
    let mut revoked = r.client(&p.client).open(r.s.tls());
    let mut good = r.client(&p.forwarder).open(r.s.tls());
    assert_denied(&get(&mut revoked), "certificate_revoked", DELEGATION);
    assert_verified_as(&get(&mut good), &p.forwarder);
    assert_eq!(config_failures(&r.s), 0);

    // Configurations the plugin refuses: its own log line names the field,
    // the plugin fails to start, and Envoy rejects the update as a whole.
    let refused = [
        (r#"{"mode":"block"}"#, "`mode`"),
        (r#"{"mtls":"required"}"#, "`trusted_ca_sha256`"),
        ("not json", "not valid JSON"),
    ];
    for (n, (config, named)) in refused.iter().enumerate() {
        let n = n as u64 + 1;
        r.push(config);
        let sub = r.wait_for("the rejection", |sub| sub.rejected == n);
        assert_eq!((sub.accepted, sub.version.as_str()), (1, "1"), "{config}");
        assert_eq!(config_failures(&r.s), n, "{config}");
        let log = r.s.envoy.log();
        let complaints: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("invalid plugin configuration"))
            .collect();
        assert!(
            complaints.len() as u64 == n && complaints.last().is_some_and(|l| l.contains(named)),
            "no new plugin log line naming {named}: {complaints:#?}"
        );
        assert_eq!(
            log.matches("config update rejected: Unable to create Wasm plugin onerecord_tls_policy")
                .count() as u64,
            n,
            "Envoy's rejection:\n{}",
            r.s.envoy.log_tail(20)
        );

        // The previous configuration still decides, on open and new connections.
        assert_denied(&get(&mut revoked), "certificate_revoked", DELEGATION);
        assert_verified_as(&get(&mut good), &p.forwarder);
        let resp = r.client(&p.client).get(r.s.tls(), DELEGATION);
        assert_denied(&resp, "certificate_revoked", DELEGATION);
    }

    // A later good configuration is taken as usual.
    r.push(&policy(&[]).to_string());
    r.wait_for("the good configuration", |sub| {
        sub.accepted == 2 && sub.version == "5"
    });
    r.wait_until_serving(&r.client(&p.client), 200);
    assert_verified_as(&get(&mut revoked), &p.client);
    assert_no_request_failed(&r);
}
