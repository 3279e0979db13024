//! envoy/envoy.yaml made runnable on this machine (see [`derive_config`]).

use super::{
    AUDIT, BACKEND_CLUSTER, CRL_CLUSTER, CRL_PATH, CRL_REFRESH_SECONDS, EXAMPLE_ROOT, EXAMPLE_WASM,
    HTTP, HTTPS, LEGACY_CIPHERS, LEGACY_TLS, Ports, TLS_CONTEXT, WASM_FILTER,
};
use onerecord_tls_policy_core::config::Config;
use serde_json::{Map, Value, json};
use std::net::SocketAddr;
use std::path::Path;

/// What `derive_config` fills into envoy/envoy.yaml.
pub struct Derivation<'a> {
    /// Stands in for `/etc/envoy/`.
    pub dir: &'a Path,
    pub wasm: &'a Path,
    pub ports: Ports,
    pub backend: SocketAddr,
    pub pinned_sha256: &'a str,
    /// Completes the clients' chains (they send leaf + intermediate).
    pub pinned_pem: &'a str,
    /// The demo token issuer's keys, for every `jwt_authn` provider.
    pub jwks: &'a str,
    /// The demo CA's CRL server, fetched through `crl_distribution`.
    pub crl_server: SocketAddr,
    /// The CA that signs that CRL (known before its first client connects).
    pub crl_signer_pem: &'a str,
}

/// envoy/envoy.yaml made runnable here. The changes are structural, so
/// additions to the example (stats, access logs) carry over untouched:
/// `/etc/envoy/` paths point into `dir`, file access logs too; listeners,
/// admin and backend use loopback and `ports`; the demo root CA is pinned;
/// Envoy accepts expired client certificates on the HTTPS listener so the
/// filter is what refuses them; and two demo-only copies of that listener are
/// added, one in audit mode and one that accepts TLS 1.0/1.1 handshakes;
/// `jwt_authn` verifies the demo issuer's tokens; `crl_distribution` points
/// at the demo CA's CRL server, fetched every few seconds (`crl_sources`).
pub fn derive_config(example: &str, d: &Derivation) -> Result<String, String> {
    let mut config: Value = serde_norway::from_str(example)
        .map_err(|e| format!("envoy/envoy.yaml does not parse: {e}"))?;

    visit_strings(&mut config, &|s| relocate(s, d));
    let access_log = d.dir.join("access.log");
    visit_objects(&mut config, &mut |object| {
        let is_file_log = object
            .get("@type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with(".FileAccessLog"));
        let path = object
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("/dev/");
        if is_file_log && !path.starts_with("/dev/") && !Path::new(path).starts_with(d.dir) {
            object.insert("path".into(), json!(access_log));
        }
    });

    visit_objects(&mut config, &mut |object| {
        if let Some(local) = object.get_mut("local_jwks").and_then(Value::as_object_mut) {
            local.insert("inline_string".into(), json!(d.jwks));
        }
    });

    let admin = config
        .pointer_mut("/admin/address/socket_address")
        .ok_or("envoy/envoy.yaml has no admin.address.socket_address")?;
    *admin = json!({ "address": "127.0.0.1", "port_value": d.ports.admin });

    let mut pins = 0;
    visit_wasm_configs(&mut config, &mut |_, plugin| {
        plugin.insert("trusted_ca_sha256".into(), json!([d.pinned_sha256]));
        plugin.insert(
            "ca_certificates_pem".into(),
            json!(format!("{}{}", d.pinned_pem, d.crl_signer_pem)),
        );
        plugin.insert(
            "crl_sources".into(),
            json!([{
                "cluster": CRL_CLUSTER,
                "path": CRL_PATH,
                "refresh_seconds": CRL_REFRESH_SECONDS
            }]),
        );
        pins += 1;
    })?;
    if pins == 0 {
        return Err("envoy/envoy.yaml has no envoy.filters.http.wasm filter".into());
    }

    let listeners = config
        .pointer_mut("/static_resources/listeners")
        .and_then(Value::as_array_mut)
        .ok_or("envoy/envoy.yaml has no static_resources.listeners")?;
    for name in [HTTPS, HTTP] {
        if !listeners.iter().any(|l| l["name"] == name) {
            return Err(format!(
                "envoy/envoy.yaml has no listener {name:?}; update examples/demo/setup.rs"
            ));
        }
    }
    let https = listeners
        .iter_mut()
        .find(|l| l["name"] == HTTPS)
        .ok_or("unreachable: HTTPS listener checked above")?;
    let mut contexts = 0;
    visit_objects(https, &mut |object| {
        if object.get("@type").and_then(Value::as_str) == Some(TLS_CONTEXT) {
            let validation = object
                .get_mut("common_tls_context")
                .and_then(|c| c.get_mut("validation_context"))
                .and_then(Value::as_object_mut);
            if let Some(validation) = validation {
                validation.insert("allow_expired_certificate".into(), json!(true));
                contexts += 1;
            }
        }
    });
    if contexts == 0 {
        return Err(format!(
            "listener {HTTPS:?} has no DownstreamTlsContext with a validation_context"
        ));
    }

    let mut audit = https.clone();
    audit["name"] = json!(AUDIT);
    visit_wasm_configs(&mut audit, &mut |filter, plugin| {
        plugin.insert("mode".into(), json!("audit"));
        if let Some(name) = filter.get_mut("name") {
            *name = json!(format!("{}_audit", name.as_str().unwrap_or_default()));
        }
    })?;
    let mut legacy = https.clone();
    legacy["name"] = json!(LEGACY_TLS);
    visit_objects(&mut legacy, &mut |object| {
        if object.get("@type").and_then(Value::as_str) != Some(TLS_CONTEXT) {
            return;
        }
        let common = object
            .entry("common_tls_context")
            .or_insert_with(|| json!({}));
        let params = &mut common["tls_params"];
        params["tls_minimum_protocol_version"] = json!("TLSv1_0");
        params["cipher_suites"] = json!(LEGACY_CIPHERS);
    });
    listeners.push(audit);
    listeners.push(legacy);
    for listener in listeners.iter_mut() {
        let port = listener["name"]
            .as_str()
            .and_then(|name| d.ports.listener(name))
            .unwrap_or(0);
        listener["address"] =
            json!({ "socket_address": { "address": "127.0.0.1", "port_value": port } });
    }

    point_cluster(&mut config, BACKEND_CLUSTER, d.backend)?;
    point_cluster(&mut config, CRL_CLUSTER, d.crl_server)?;

    // Refuse here, with the filter's own message, what Envoy would refuse.
    let mut invalid = Vec::new();
    visit_wasm_configs(&mut config, &mut |_, plugin| {
        if let Err(e) = Config::parse(Value::Object(plugin.clone()).to_string().as_bytes()) {
            invalid.push(e.to_string());
        }
    })?;
    if let Some(e) = invalid.first() {
        return Err(e.clone());
    }

    let yaml = serde_norway::to_string(&config).map_err(|e| e.to_string())?;
    Ok(format!(
        "# Derived from envoy/envoy.yaml by examples/demo (see derive_config):\n\
         # local paths and ports, the demo root CA pinned, the demo issuing CA's\n\
         # CRL fetched from the demo CRL server, and the demo-only listeners\n\
         # {AUDIT} and {LEGACY_TLS}.\n{yaml}"
    ))
}

/// Points the cluster `name` at `addr` alone (a STATIC address, no DNS).
fn point_cluster(config: &mut Value, name: &str, addr: SocketAddr) -> Result<(), String> {
    let cluster = config
        .pointer_mut("/static_resources/clusters")
        .and_then(Value::as_array_mut)
        .and_then(|clusters| clusters.iter_mut().find(|c| c["name"] == name))
        .and_then(Value::as_object_mut)
        .ok_or(format!("envoy/envoy.yaml has no cluster {name:?}"))?;
    cluster.insert("type".into(), json!("STATIC"));
    cluster.remove("dns_lookup_family");
    visit_objects_in(cluster, &mut |object| {
        if let Some(socket) = object.get_mut("socket_address") {
            *socket = json!({ "address": addr.ip().to_string(), "port_value": addr.port() });
        }
    });
    Ok(())
}

/// `/etc/envoy/...` → the same file under `dir`; the wasm → the built one.
fn relocate(text: &str, d: &Derivation) -> Option<String> {
    if text == EXAMPLE_WASM {
        return Some(d.wasm.display().to_string());
    }
    let rest = text.strip_prefix(EXAMPLE_ROOT)?;
    Some(d.dir.join(rest).display().to_string())
}

fn visit_strings(value: &mut Value, f: &dyn Fn(&str) -> Option<String>) {
    match value {
        Value::String(text) => {
            if let Some(new) = f(text) {
                *text = new;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| visit_strings(v, f)),
        Value::Object(map) => map.values_mut().for_each(|v| visit_strings(v, f)),
        _ => {}
    }
}

fn visit_objects(value: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| visit_objects(v, f)),
        Value::Object(map) => visit_objects_in(map, f),
        _ => {}
    }
}

fn visit_objects_in(map: &mut Map<String, Value>, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    f(map);
    map.values_mut().for_each(|v| visit_objects(v, f));
}

/// Edits a wasm filter's `config` and its plugin configuration (the JSON).
type WasmConfigEdit<'a> = dyn FnMut(&mut Map<String, Value>, &mut Map<String, Value>) + 'a;

/// Calls `f(plugin config, plugin JSON)` for every wasm HTTP filter under
/// `value` and writes the JSON back as the filter's StringValue.
fn visit_wasm_configs(value: &mut Value, f: &mut WasmConfigEdit) -> Result<(), String> {
    let mut result = Ok(());
    visit_objects(value, &mut |object| {
        if result.is_err() || object.get("@type").and_then(Value::as_str) != Some(WASM_FILTER) {
            return;
        }
        let Some(plugin) = object.get_mut("config").and_then(Value::as_object_mut) else {
            result = Err("a wasm filter has no config".to_string());
            return;
        };
        let text = plugin
            .get("configuration")
            .and_then(|c| c.get("value"))
            .and_then(Value::as_str)
            .unwrap_or("{}");
        let mut json = match serde_json::from_str::<Map<String, Value>>(text) {
            Ok(json) => json,
            Err(e) => {
                result = Err(format!(
                    "the plugin configuration is not a JSON object: {e}"
                ));
                return;
            }
        };
        f(plugin, &mut json);
        let text = serde_json::to_string_pretty(&json).unwrap_or_default();
        plugin.insert(
            "configuration".into(),
            json!({ "@type": "type.googleapis.com/google.protobuf.StringValue", "value": text }),
        );
    });
    result
}
