//! The deployment kit in envoy/: docker compose, the Istio resources and the
//! OCI Dockerfile parse, agree with envoy/envoy.yaml and the Makefile, and
//! the WasmPlugin's pluginConfig passes the filter's own configuration check.
//! (envoy/validate.sh runs `envoy --mode validate` on envoy.yaml, the Envoy
//! configuration docker-compose.yaml runs.) `behind_gateway`: the placements
//! behind a gateway, Envoy's and Istio's sidecar.

mod behind_gateway;

use onerecord_tls_policy::config::Config;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn envoy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("envoy")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every YAML document in `path`, as JSON values.
fn documents(path: &Path) -> Vec<Value> {
    serde_norway::Deserializer::from_str(&read(path))
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .filter(|doc| !doc.is_null())
        .collect()
}

fn document_of_kind(path: &Path, kind: &str) -> Value {
    documents(path)
        .into_iter()
        .find(|doc| doc["kind"] == kind)
        .unwrap_or_else(|| panic!("{} has no {kind}", path.display()))
}

/// `NAME ?= value` or `NAME := value` in the Makefile.
fn makefile_var(name: &str) -> String {
    let makefile = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("Makefile"));
    makefile
        .lines()
        .filter_map(|line| line.strip_prefix(name))
        .find_map(|rest| {
            let rest = rest.trim_start();
            rest.strip_prefix("?=")
                .or_else(|| rest.strip_prefix(":="))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("Makefile does not set {name}"))
}

fn strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The plugin configuration of the (first) wasm filter in envoy/envoy.yaml.
fn envoy_yaml_plugin_config() -> String {
    let config = documents(&envoy_dir().join("envoy.yaml")).remove(0);
    let mut found = None;
    find_wasm_config(&config, &mut found);
    found.expect("envoy/envoy.yaml has a wasm filter with a configuration")
}

fn find_wasm_config(value: &Value, found: &mut Option<String>) {
    match value {
        Value::Object(map) => {
            if map.get("@type").and_then(Value::as_str)
                == Some("type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm")
                && let Some(text) = value["config"]["configuration"]["value"].as_str()
            {
                found.get_or_insert_with(|| text.to_string());
            }
            map.values().for_each(|v| find_wasm_config(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| find_wasm_config(v, found)),
        _ => {}
    }
}

#[test]
fn every_yaml_file_of_the_kit_parses() {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [envoy_dir(), envoy_dir().join("istio")] {
        for entry in std::fs::read_dir(&dir).expect("list envoy/") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    for name in [
        "docker-compose.yaml",
        "istio/wasm-plugin.yaml",
        "istio/gateway-xfcc.yaml",
        "istio/sidecar-wasm-plugin.yaml",
        "envoy-behind-gateway.yaml",
    ] {
        assert!(
            files.contains(&envoy_dir().join(name)),
            "envoy/{name} is missing"
        );
    }
    for path in &files {
        let docs = documents(path);
        assert!(!docs.is_empty(), "{} holds no document", path.display());
        for doc in &docs {
            assert!(doc.is_object(), "{}: {doc}", path.display());
            if path.parent() == Some(&envoy_dir().join("istio")) {
                for key in ["apiVersion", "kind"] {
                    assert!(doc[key].is_string(), "{} lacks {key}", path.display());
                }
                assert!(doc["metadata"]["name"].is_string(), "{}", path.display());
            }
        }
    }
}

#[test]
fn wasm_plugin_config_passes_the_filters_own_check() {
    let path = envoy_dir().join("istio/wasm-plugin.yaml");
    let plugin = document_of_kind(&path, "WasmPlugin");
    assert_eq!(plugin["apiVersion"], "extensions.istio.io/v1alpha1");
    let spec = &plugin["spec"];
    // After Istio's authentication: token binding reads its verified payload.
    assert_eq!(spec["phase"], "AUTHZ");
    assert_eq!(spec["failStrategy"], "FAIL_CLOSE");
    assert_eq!(spec["type"], "HTTP");
    assert_eq!(spec["selector"]["matchLabels"]["istio"], "ingressgateway");
    assert!(
        spec["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("oci://")),
        "{}",
        spec["url"]
    );
    assert!(
        read(&path).contains("# url: file://"),
        "the file:// alternative is shown"
    );

    // Istio hands pluginConfig to the filter as JSON (a StringValue).
    let json = serde_json::to_string(&spec["pluginConfig"]).expect("JSON");
    let config = Config::parse(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let example = Config::parse(envoy_yaml_plugin_config().as_bytes()).expect("envoy.yaml");
    assert_eq!(
        config, example,
        "envoy/istio/wasm-plugin.yaml's pluginConfig and envoy/envoy.yaml's configuration \
         describe the same policy"
    );

    // The check is real: a typo there is an error naming the field.
    let mut broken = spec["pluginConfig"].clone();
    broken["rules"][0]["mtls"] = "yes".into();
    let err = Config::parse(broken.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.field, "rules[0].mtls");
}

#[test]
fn istio_gateway_forwards_the_client_chain_and_asks_for_client_certificates() {
    let path = envoy_dir().join("istio/gateway-xfcc.yaml");
    let selector = &document_of_kind(&envoy_dir().join("istio/wasm-plugin.yaml"), "WasmPlugin")["spec"]
        ["selector"]["matchLabels"];

    let filter = document_of_kind(&path, "EnvoyFilter");
    assert_eq!(&filter["spec"]["workloadSelector"]["labels"], selector);
    let patches = filter["spec"]["configPatches"]
        .as_array()
        .expect("configPatches");
    let hcm = patches
        .iter()
        .find(|p| {
            p["match"]["listener"]["filterChain"]["filter"]["name"]
                == "envoy.filters.network.http_connection_manager"
        })
        .expect("a patch of the HTTP connection manager");
    assert_eq!(hcm["applyTo"], "NETWORK_FILTER");
    assert_eq!(hcm["match"]["context"], "GATEWAY");
    assert_eq!(hcm["patch"]["operation"], "MERGE");
    let typed = &hcm["patch"]["value"]["typed_config"];
    assert_eq!(
        typed["@type"],
        "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
    );
    assert_eq!(typed["forward_client_cert_details"], "SANITIZE_SET");
    for detail in ["cert", "chain", "subject", "uri", "dns"] {
        assert_eq!(
            typed["set_current_client_cert_details"][detail], true,
            "{detail}"
        );
    }

    let gateway = document_of_kind(&path, "Gateway");
    assert_eq!(gateway["spec"]["selector"], *selector);
    let servers = gateway["spec"]["servers"].as_array().expect("servers");
    assert!(!servers.is_empty());
    for server in servers {
        let tls = &server["tls"];
        assert!(
            tls["mode"] == "OPTIONAL_MUTUAL" || tls["mode"] == "MUTUAL",
            "{server}"
        );
        assert!(
            tls["minProtocolVersion"] == "TLSV1_2" || tls["minProtocolVersion"] == "TLSV1_3",
            "{server}"
        );
        assert!(tls["credentialName"].is_string(), "{server}");
    }
}

/// Every HTTP connection manager's `typed_config` in `value`.
fn connection_managers<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    const HCM: &str = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
    match value {
        Value::Object(map) => {
            if map.get("@type").and_then(Value::as_str) == Some(HCM) {
                out.push(value);
            }
            map.values().for_each(|v| connection_managers(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| connection_managers(v, out)),
        _ => {}
    }
}

/// The path and header-name settings no path or header form may get around.
fn assert_hardened(hcm: &Value, file: &str) {
    assert_eq!(hcm["normalize_path"], true, "{file}");
    assert_eq!(hcm["merge_slashes"], true, "{file}");
    assert_eq!(
        hcm["path_with_escaped_slashes_action"], "UNESCAPE_AND_REDIRECT",
        "{file}"
    );
    assert_eq!(
        hcm["common_http_protocol_options"]["headers_with_underscores_action"], "REJECT_REQUEST",
        "{file}"
    );
}

#[test]
fn envoy_yaml_and_the_istio_gateway_normalise_paths_and_refuse_underscores() {
    let example = documents(&envoy_dir().join("envoy.yaml")).remove(0);
    let mut managers = Vec::new();
    connection_managers(&example, &mut managers);
    assert!(
        !managers.is_empty(),
        "envoy.yaml has no HTTP connection manager"
    );
    for hcm in managers {
        assert_hardened(hcm, "envoy/envoy.yaml");
    }
    let gateway = documents(&envoy_dir().join("istio/gateway-xfcc.yaml"));
    let mut patched = Vec::new();
    gateway
        .iter()
        .for_each(|doc| connection_managers(doc, &mut patched));
    assert_eq!(
        patched.len(),
        1,
        "one patch of the gateway's connection managers"
    );
    assert_hardened(patched[0], "envoy/istio/gateway-xfcc.yaml");
}

#[test]
fn docker_compose_runs_envoy_yaml_on_the_pinned_envoy() {
    let compose = documents(&envoy_dir().join("docker-compose.yaml")).remove(0);
    let envoy = &compose["services"]["envoy"];
    assert_eq!(
        envoy["image"],
        format!("envoyproxy/envoy:v{}", makefile_var("ENVOY_VERSION"))
    );
    assert_eq!(
        envoy["command"],
        serde_json::json!(["envoy", "-c", "/etc/envoy/envoy.yaml"])
    );

    // (source, target) of every bind mount. Split from the right: a source
    // such as ${ONERECORD_CERTS:-./certs} has a colon of its own.
    let mounts: Vec<(String, String)> = envoy["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .map(|v| {
            let v = v.as_str().expect("short volume syntax");
            let v = v.strip_suffix(":ro").unwrap_or(v);
            let (source, target) = v.rsplit_once(':').expect("source:target");
            (source.to_string(), target.to_string())
        })
        .collect();
    let mounted = |target: &str| mounts.iter().find(|(_, t)| t == target).map(|(s, _)| s);
    assert_eq!(
        mounted("/etc/envoy/envoy.yaml").map(String::as_str),
        Some("./envoy.yaml")
    );
    assert_eq!(
        mounted("/etc/envoy/onerecord_tls_policy.wasm"),
        Some(&format!(
            "../target/{}/release/onerecord_tls_policy.wasm",
            makefile_var("WASM_TARGET")
        ))
    );

    // Every file envoy.yaml names under /etc/envoy/ is mounted.
    let example = documents(&envoy_dir().join("envoy.yaml")).remove(0);
    let mut paths = Vec::new();
    strings(&example, &mut paths);
    let container_paths: Vec<&str> = paths
        .into_iter()
        .filter(|s| s.starts_with("/etc/envoy/"))
        .collect();
    assert!(!container_paths.is_empty());
    for path in container_paths {
        assert!(
            mounts
                .iter()
                .any(|(_, t)| path == t || path.starts_with(&format!("{t}/"))),
            "envoy.yaml reads {path}, which docker-compose.yaml does not mount"
        );
    }

    // envoy.yaml's public listeners are published; the admin API stays inside.
    let published: Vec<&str> = envoy["ports"]
        .as_array()
        .expect("ports")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for listener in example["static_resources"]["listeners"]
        .as_array()
        .expect("listeners")
    {
        let port = &listener["address"]["socket_address"]["port_value"];
        let mapping = format!("{port}:{port}");
        assert!(
            published.contains(&mapping.as_str()),
            "{mapping} not published"
        );
    }

    // envoy.yaml sends requests to 127.0.0.1:<port>: the placeholder server
    // shares Envoy's network namespace and listens on that port.
    let backend = example["static_resources"]["clusters"]
        .as_array()
        .expect("clusters")
        .iter()
        .find(|c| c["name"] == "onerecord_backend")
        .expect("onerecord_backend cluster");
    let socket = &backend["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
        ["socket_address"];
    assert_eq!(socket["address"], "127.0.0.1");
    let server = &compose["services"]["onerecord-server"];
    assert_eq!(server["network_mode"], "service:envoy");
    let command: Vec<&str> = server["command"]
        .as_array()
        .expect("command")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        command.contains(&socket["port_value"].to_string().as_str()),
        "the placeholder server listens on {}: {command:?}",
        socket["port_value"]
    );
}

#[test]
fn oci_dockerfile_is_one_layer_holding_plugin_wasm() {
    let instructions: Vec<String> = read(&envoy_dir().join("Dockerfile"))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    // Istio reads plugin.wasm from the image's last layer: one COPY, nothing else.
    assert_eq!(
        instructions,
        [
            "FROM scratch",
            "COPY onerecord_tls_policy.wasm /plugin.wasm"
        ]
    );
    let ignore: Vec<String> = read(&envoy_dir().join("Dockerfile.dockerignore"))
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    assert_eq!(ignore, ["*", "!onerecord_tls_policy.wasm"]);
}

/// The `typed_config` of every HTTP filter named `name` in `value`, in order.
fn http_filters_named<'a>(value: &'a Value, name: &str, out: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            if map.get("name").and_then(Value::as_str) == Some(name) {
                out.push(&value["typed_config"]);
            }
            map.values().for_each(|v| http_filters_named(v, name, out));
        }
        Value::Array(items) => items.iter().for_each(|v| http_filters_named(v, name, out)),
        _ => {}
    }
}

#[test]
fn the_token_the_filter_binds_is_verified_in_front_of_it() {
    let example = Config::parse(envoy_yaml_plugin_config().as_bytes()).expect("envoy.yaml");
    assert!(example.binds_any_token(), "envoy.yaml shows token binding");
    let metadata = &example.token_metadata;

    // envoy.yaml: jwt_authn before the filter, keeping the payload where
    // the filter reads it.
    let yaml = documents(&envoy_dir().join("envoy.yaml")).remove(0);
    let managers = {
        let mut out = Vec::new();
        connection_managers(&yaml, &mut out);
        out
    };
    assert!(!managers.is_empty());
    for hcm in managers {
        let names: Vec<&str> = hcm["http_filters"]
            .as_array()
            .expect("http_filters")
            .iter()
            .filter_map(|f| f["name"].as_str())
            .collect();
        let jwt = names.iter().position(|n| *n == metadata.filter);
        let wasm = names.iter().position(|n| *n == "envoy.filters.http.wasm");
        assert!(jwt.is_some() && jwt < wasm, "{names:?}");
    }
    let mut jwt = Vec::new();
    http_filters_named(&yaml, &metadata.filter, &mut jwt);
    let providers = jwt[0]["providers"].as_object().expect("providers");
    assert!(!providers.is_empty());
    for provider in providers.values() {
        assert_eq!(provider["payload_in_metadata"], metadata.key.as_str());
        let jwks: Value = serde_json::from_str(
            provider["local_jwks"]["inline_string"]
                .as_str()
                .expect("JWKS"),
        )
        .expect("the inline JWKS is JSON");
        assert!(!jwks["keys"].as_array().expect("keys").is_empty());
    }

    // The Istio kit: RequestAuthentication on the plugin's gateway, for the
    // issuer the plugin reads the payload under (Istio's key).
    let path = envoy_dir().join("istio/wasm-plugin.yaml");
    let plugin = document_of_kind(&path, "WasmPlugin");
    let authn = document_of_kind(&path, "RequestAuthentication");
    assert_eq!(authn["apiVersion"], "security.istio.io/v1");
    assert_eq!(authn["spec"]["selector"], plugin["spec"]["selector"]);
    assert_eq!(jwt_issuers(&authn), [metadata.key.as_str()]);
    assert_eq!(metadata.filter, "envoy.filters.http.jwt_authn");
}

/// The issuers an Istio `RequestAuthentication` verifies tokens of.
fn jwt_issuers(authn: &Value) -> Vec<&str> {
    authn["spec"]["jwtRules"]
        .as_array()
        .expect("jwtRules")
        .iter()
        .filter_map(|r| r["issuer"].as_str())
        .collect()
}
