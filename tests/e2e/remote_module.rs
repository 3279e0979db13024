//! The filter loaded by URL with a pinned digest (`vm_config.code.remote`),
//! as `envoy/envoy-behind-gateway.yaml` shows it: served from a local HTTP server,
//! the right SHA-256 loads and enforces; a wrong one is refused, Envoy says
//! so, and (the filter failing closed) nothing reaches the backend.

use onerecord_tls_policy::fingerprint::Fingerprint;
use onerecord_tls_policy_testkit as support;
use serde_json::{Value, json};
use support::bootstrap::EnvoySpec;
use support::envoy;
use support::file_server;
use support::onerecord::{assert_allowed, assert_annotated, assert_denied};
use support::policies::{DELEGATION, OBJECT, delegations_policy};
use support::stack::Stack;
use support::upstream::Upstream;

const MODULE_PATH: &str = "/modules/onerecord_tls_policy.wasm";

fn module() -> Vec<u8> {
    std::fs::read(envoy::wasm()).expect("read the built module")
}

/// Every wasm filter of `bootstrap` loads the module from `server` by URL,
/// pinned to `sha256`.
fn load_remotely(bootstrap: &mut Value, server: &Upstream, sha256: &str) {
    let url = format!("http://{}{MODULE_PATH}", server.addr());
    for listener in bootstrap["static_resources"]["listeners"]
        .as_array_mut()
        .unwrap()
    {
        let manager = &mut listener["filter_chains"][0]["filters"][0]["typed_config"];
        for filter in manager["http_filters"].as_array_mut().unwrap() {
            if filter["name"] != "envoy.filters.http.wasm" {
                continue;
            }
            filter["typed_config"]["config"]["vm_config"]["code"] = json!({
                "remote": {
                    "http_uri": { "uri": url, "cluster": "module_server", "timeout": "10s" },
                    "sha256": sha256,
                    "retry_policy": { "num_retries": 3 },
                }
            });
        }
    }
    let addr = server.addr();
    bootstrap["static_resources"]["clusters"]
        .as_array_mut()
        .unwrap()
        .push(json!({
            "name": "module_server",
            "type": "STATIC",
            "connect_timeout": "5s",
            "load_assignment": {
                "cluster_name": "module_server",
                "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": {
                    "socket_address": { "address": addr.ip().to_string(), "port_value": addr.port() }
                }}}]}]
            }
        }));
}

#[test]
fn the_pinned_digest_loads_the_module_and_it_enforces() {
    let bytes = module();
    let sha256 = Fingerprint::of_der(&bytes).to_hex();
    let server = file_server::serve(MODULE_PATH, bytes);
    let s = Stack::start_edited(EnvoySpec::new(&delegations_policy()), |bootstrap, _| {
        load_remotely(bootstrap, &server, &sha256)
    });
    assert!(server.count() >= 1, "Envoy fetched the module");
    assert!(server.seen().iter().all(|r| r.path == MODULE_PATH));

    let resp = s.client().get(s.tls(), OBJECT);
    assert_annotated(&assert_allowed(&resp), "TLSv1.3", "none");
    let resp = s.client().get(s.tls(), DELEGATION);
    assert_denied(&resp, "client_certificate_required", DELEGATION);
    assert_eq!(s.upstream.count(), 1);
}

#[test]
fn a_wrong_digest_is_refused_and_envoy_says_so() {
    let bytes = module();
    let mut wrong = Fingerprint::of_der(&bytes).0;
    wrong[0] ^= 0xff;
    let wrong = Fingerprint(wrong).to_hex();
    let server = file_server::serve(MODULE_PATH, bytes);
    let s = Stack::start_edited(EnvoySpec::new(&delegations_policy()), |bootstrap, _| {
        load_remotely(bootstrap, &server, &wrong)
    });
    assert!(server.count() >= 1, "Envoy fetched the module");
    // Envoy fetched it, refused the bytes for the digest, and retried
    // (`retry_policy`) until it gave up on the plugin.
    let log = s.envoy.log();
    for said in [
        "Retry limit exceeded for fetching data from remote data source",
        "Plugin onerecord_tls_policy failed to load",
    ] {
        assert!(
            log.contains(said),
            "Envoy says {said:?}; log:\n{}",
            envoy::tail(&log, 40)
        );
    }
    assert!(server.count() > 1, "fetched again on each retry");

    // Without its module the filter fails closed: nothing is forwarded.
    let resp = s.client().get(s.tls(), OBJECT);
    assert_eq!(resp.status, 503, "{resp:#?}");
    assert_eq!(s.upstream.count(), 0);
}
