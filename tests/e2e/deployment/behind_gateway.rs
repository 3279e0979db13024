//! Behind a gateway: `envoy/envoy-behind-gateway.yaml` (the module by URL,
//! pinned) and the Istio sidecar placement agree with the filter's own
//! configuration check, with the gateway that writes the headers the
//! filter believes, and with each other.

use super::{
    assert_hardened, connection_managers, document_of_kind, documents, envoy_dir, jwt_issuers,
};
use onerecord_tls_policy::config::{Config, ForwardClientCert};
use serde_json::Value;

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The plugin configurations of every wasm filter in `value`, with the
/// `vm_config` each runs in.
fn wasm_filters<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            if map.get("@type").and_then(Value::as_str)
                == Some("type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm")
            {
                out.push(&value["config"]);
            }
            map.values().for_each(|v| wasm_filters(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| wasm_filters(v, out)),
        _ => {}
    }
}

#[test]
fn envoy_behind_a_gateway_trusts_only_the_gateway_and_pins_the_module() {
    let bootstrap = documents(&envoy_dir().join("envoy-behind-gateway.yaml")).remove(0);
    let mut managers = Vec::new();
    connection_managers(&bootstrap, &mut managers);
    assert_eq!(managers.len(), 1);
    let hcm = managers[0];
    assert_hardened(hcm, "envoy/envoy-behind-gateway.yaml");

    let mut filters = Vec::new();
    wasm_filters(&bootstrap, &mut filters);
    assert_eq!(filters.len(), 1);
    let config = filters[0];
    assert_eq!(config["failure_policy"], "FAIL_CLOSED");
    let text = config["configuration"]["value"]
        .as_str()
        .expect("a configuration");
    let policy = Config::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let proxies = policy.trusted_proxies.expect("trusted_proxies");
    assert!(!proxies.uri_san.is_empty() || !proxies.sha256.is_empty());
    assert_eq!(
        hcm["forward_client_cert_details"],
        proxies.forward_client_cert.as_str(),
        "trusted_proxies.forward_client_cert is this Envoy's forwarding"
    );
    assert_ne!(hcm["forward_client_cert_details"], "SANITIZE_SET");

    // The gateway authenticates at the handshake.
    let listener = &bootstrap["static_resources"]["listeners"][0];
    let tls = &listener["filter_chains"][0]["transport_socket"]["typed_config"];
    assert_eq!(tls["require_client_certificate"], true);

    // The module by URL: an HTTP cluster that exists, a digest, retries.
    let remote = &config["vm_config"]["code"]["remote"];
    assert!(config["vm_config"]["code"]["local"].is_null());
    let cluster = remote["http_uri"]["cluster"].as_str().expect("a cluster");
    let clusters = bootstrap["static_resources"]["clusters"]
        .as_array()
        .expect("clusters");
    assert!(clusters.iter().any(|c| c["name"] == cluster), "{cluster}");
    assert!(
        remote["http_uri"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with(".wasm"))
    );
    assert!(remote["sha256"].is_string());
    assert!(
        remote["retry_policy"]["num_retries"]
            .as_u64()
            .is_some_and(|n| n > 0)
    );
}

#[test]
fn the_istio_sidecar_placement_trusts_the_gateway_that_sets_its_headers() {
    let istio = envoy_dir().join("istio");
    let path = istio.join("sidecar-wasm-plugin.yaml");
    let sidecar = document_of_kind(&path, "WasmPlugin");
    let gateway_plugin = document_of_kind(&istio.join("wasm-plugin.yaml"), "WasmPlugin");
    let spec = &sidecar["spec"];
    let selector = &spec["selector"]["matchLabels"];
    assert_ne!(*selector, gateway_plugin["spec"]["selector"]["matchLabels"]);
    assert_eq!(spec["match"][0]["mode"], "SERVER");
    // After the sidecar's jwt_authn (RequestAuthentication), as on the gateway.
    assert_eq!(spec["phase"], "AUTHZ");
    assert_eq!(spec["failStrategy"], "FAIL_CLOSE");
    assert!(
        spec["sha256"].as_str().is_some_and(is_sha256_hex),
        "the module is pinned"
    );

    let json = serde_json::to_string(&spec["pluginConfig"]).expect("JSON");
    let policy = Config::parse(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let proxies = policy.trusted_proxies.clone().expect("trusted_proxies");
    // Istio's sidecars forward XFCC with APPEND_FORWARD.
    assert_eq!(
        proxies.forward_client_cert,
        ForwardClientCert::AppendForward
    );
    // The trusted peer is the gateway's service account, in its namespace.
    let namespace = gateway_plugin["metadata"]["namespace"].as_str().unwrap();
    let prefix = format!("spiffe://cluster.local/ns/{namespace}/sa/");
    assert!(
        !proxies.uri_san.is_empty() && proxies.uri_san.iter().all(|u| u.starts_with(&prefix)),
        "{:?}",
        proxies.uri_san
    );
    // The same policy as on the gateway, plus whom to believe.
    let on_gateway = serde_json::to_string(&gateway_plugin["spec"]["pluginConfig"]).unwrap();
    let mut same = policy.clone();
    same.trusted_proxies = None;
    assert_eq!(same, Config::parse(on_gateway.as_bytes()).unwrap());

    // The token the rules bind is verified on the sidecar too, for the
    // issuer the plugin reads the payload under.
    let authn = document_of_kind(&path, "RequestAuthentication");
    assert_eq!(authn["spec"]["selector"], spec["selector"]);
    assert_eq!(
        authn["metadata"]["namespace"],
        sidecar["metadata"]["namespace"]
    );
    assert_eq!(jwt_issuers(&authn), [policy.token_metadata.key.as_str()]);

    let strict = document_of_kind(&path, "PeerAuthentication");
    assert_eq!(strict["spec"]["mtls"]["mode"], "STRICT");
    assert_eq!(strict["spec"]["selector"]["matchLabels"], *selector);
    assert_eq!(
        strict["metadata"]["namespace"],
        sidecar["metadata"]["namespace"]
    );

    // The gateway's route sets the header the filter reads, over any copy.
    let route = document_of_kind(&path, "VirtualService");
    let gateway = document_of_kind(&istio.join("gateway-xfcc.yaml"), "Gateway");
    let gateway_name = format!(
        "{}/{}",
        gateway["metadata"]["namespace"].as_str().unwrap(),
        gateway["metadata"]["name"].as_str().unwrap()
    );
    assert_eq!(route["spec"]["gateways"][0], gateway_name.as_str());
    let headers = &route["spec"]["http"][0]["headers"]["request"];
    let header = proxies.tls_version_header.as_str();
    assert_eq!(headers["set"][header], "%DOWNSTREAM_TLS_VERSION%");
    assert!(
        headers["remove"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h == header)
    );
}
