//! Renders the Envoy bootstrap for one test: three listeners (TLS 1.2+,
//! plaintext, legacy TLS 1.0+) sharing one HTTP chain with the filter.
//! Built as JSON, which Envoy reads as YAML, so quoting is never an issue.

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Listener names, also the keys Envoy's admin `/listeners` reports.
pub const TLS: &str = "tls";
pub const PLAIN: &str = "plain";
pub const LEGACY: &str = "legacy";

/// Suites BoringSSL offers for TLS 1.0/1.1 (CBC with SHA-1 MACs), plus
/// modern ones so the legacy listener also takes TLS 1.2.
pub const LEGACY_CIPHERS: &[&str] = &[
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-RSA-AES256-SHA",
    "AES128-SHA",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
];

/// What a test varies.
#[derive(Clone, Debug)]
pub struct EnvoySpec {
    /// Passed to the plugin verbatim (so it may be broken on purpose).
    pub plugin_config: String,
    /// Routes before the catch-all, in order.
    pub routes: Vec<RouteSpec>,
    /// PEM bundle Envoy validates client certificates against; `None` means
    /// the test PKI's client CA.
    pub client_ca_pem: Option<String>,
    /// Let clients with untrusted certificates finish the handshake, so the
    /// filter (not Envoy) is what rejects them.
    pub accept_untrusted_client_certs: bool,
    pub tls_minimum_protocol_version: String,
    /// `allow_expired_certificate` in the validation context: Envoy then
    /// accepts client certificates outside their validity period.
    pub allow_expired_certificate: bool,
    /// `set_current_client_cert_details.chain`: whether XFCC carries the
    /// chain the client presented (`Chain=`).
    pub xfcc_chain: bool,
    /// The bootstrap's `stats_config`, verbatim (e.g. `stats_tags`).
    pub stats_config: Option<Value>,
    /// A JSON-lines file access log on every listener.
    pub access_log: Option<AccessLogSpec>,
    /// `forward_client_cert_details`: `SANITIZE_SET` unless a test asks for
    /// `APPEND_FORWARD`, which keeps a client-sent XFCC and appends Envoy's element.
    pub forward_client_cert_details: String,
    /// How the HTTP connection manager reads paths and header names.
    pub hcm: HcmSettings,
    /// Request trailers over HTTP/1.1, from the client and to the upstream
    /// (`http_protocol_options.enable_trailers` on both sides; HTTP/2 always
    /// carries them).
    pub trailers: bool,
}

/// The path and header-name settings of the HTTP connection manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HcmSettings {
    /// As `envoy/envoy.yaml` had them before the hardened settings:
    /// `normalize_path` and `merge_slashes` on, Envoy's defaults otherwise.
    Normalizing,
    /// A bare connection manager: `normalize_path` and `merge_slashes` off,
    /// escaped slashes forwarded unchanged and names with `_` allowed (Envoy's defaults).
    Bare,
    /// `Normalizing` plus `path_with_escaped_slashes_action: UNESCAPE_AND_REDIRECT`
    /// and `headers_with_underscores_action: REJECT_REQUEST`, as `envoy/envoy.yaml` sets them.
    Hardened,
}

#[derive(Clone, Debug)]
pub struct AccessLogSpec {
    pub path: PathBuf,
    /// `log_format.json_format`, verbatim.
    pub json_format: Value,
}

#[derive(Clone, Debug)]
pub struct RouteSpec {
    pub prefix: String,
    /// `filter_metadata.onerecord_tls_policy.mtls`, verbatim.
    pub mtls: Option<Value>,
    /// `route.prefix_rewrite`: the upstream gets the path with `prefix` replaced.
    pub prefix_rewrite: Option<String>,
}

impl EnvoySpec {
    pub fn new(plugin_config: &Value) -> EnvoySpec {
        EnvoySpec::raw(&plugin_config.to_string())
    }

    pub fn raw(plugin_config: &str) -> EnvoySpec {
        EnvoySpec {
            plugin_config: plugin_config.to_string(),
            routes: Vec::new(),
            client_ca_pem: None,
            accept_untrusted_client_certs: false,
            tls_minimum_protocol_version: "TLSv1_2".to_string(),
            allow_expired_certificate: false,
            xfcc_chain: true,
            stats_config: None,
            access_log: None,
            forward_client_cert_details: "SANITIZE_SET".to_string(),
            hcm: HcmSettings::Normalizing,
            trailers: false,
        }
    }

    pub fn hcm(mut self, hcm: HcmSettings) -> EnvoySpec {
        self.hcm = hcm;
        self
    }

    /// Accepts HTTP/1.1 request trailers and forwards them to the upstream.
    pub fn trailers(mut self) -> EnvoySpec {
        self.trailers = true;
        self
    }

    /// Adds a route for `prefix` that rewrites it to `rewrite`, with route
    /// metadata `mtls` when given.
    pub fn route_rewrite(mut self, prefix: &str, rewrite: &str, mtls: Option<Value>) -> EnvoySpec {
        self.routes.push(RouteSpec {
            prefix: prefix.to_string(),
            mtls,
            prefix_rewrite: Some(rewrite.to_string()),
        });
        self
    }

    /// `forward_client_cert_details: APPEND_FORWARD`: a client-sent XFCC is
    /// kept and Envoy appends its own element for a client certificate.
    pub fn xfcc_append_forward(mut self) -> EnvoySpec {
        self.forward_client_cert_details = "APPEND_FORWARD".to_string();
        self
    }

    pub fn stats_config(mut self, stats_config: Value) -> EnvoySpec {
        self.stats_config = Some(stats_config);
        self
    }

    /// Logs every request as one JSON line to `path`.
    pub fn access_log(mut self, path: &Path, json_format: Value) -> EnvoySpec {
        self.access_log = Some(AccessLogSpec {
            path: path.to_path_buf(),
            json_format,
        });
        self
    }

    /// Adds a route for `prefix` whose metadata sets `mtls` to `value`.
    pub fn route_mtls(mut self, prefix: &str, value: Value) -> EnvoySpec {
        self.routes.push(RouteSpec {
            prefix: prefix.to_string(),
            mtls: Some(value),
            prefix_rewrite: None,
        });
        self
    }

    pub fn accept_untrusted_client_certs(mut self) -> EnvoySpec {
        self.accept_untrusted_client_certs = true;
        self
    }

    pub fn client_ca_pem(mut self, pem: &str) -> EnvoySpec {
        self.client_ca_pem = Some(pem.to_string());
        self
    }

    pub fn allow_expired_certificate(mut self) -> EnvoySpec {
        self.allow_expired_certificate = true;
        self
    }

    /// XFCC without `Chain=`: Envoy forwards only the leaf (and its names).
    pub fn xfcc_without_chain(mut self) -> EnvoySpec {
        self.xfcc_chain = false;
        self
    }
}

/// Files the bootstrap points at.
#[derive(Clone, Debug)]
pub struct Files {
    pub wasm: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub legacy_cert: PathBuf,
    pub legacy_key: PathBuf,
    pub client_ca: PathBuf,
}

pub fn render(spec: &EnvoySpec, files: &Files, upstream: SocketAddr) -> Value {
    let modern = tls_context(
        spec,
        &files.server_cert,
        &files.server_key,
        &spec.tls_minimum_protocol_version,
        &[],
        &files.client_ca,
    );
    let legacy = tls_context(
        spec,
        &files.legacy_cert,
        &files.legacy_key,
        "TLSv1_0",
        LEGACY_CIPHERS,
        &files.client_ca,
    );
    let mut bootstrap = json!({
        "admin": { "address": address("127.0.0.1", 0) },
        "static_resources": {
            "listeners": [
                listener(TLS, spec, files, Some(modern)),
                listener(PLAIN, spec, files, None),
                listener(LEGACY, spec, files, Some(legacy)),
            ],
            "clusters": [cluster(spec, upstream)]
        }
    });
    if let Some(stats_config) = &spec.stats_config {
        bootstrap["stats_config"] = stats_config.clone();
    }
    bootstrap
}

fn cluster(spec: &EnvoySpec, upstream: SocketAddr) -> Value {
    let mut cluster = json!({
        "name": "upstream",
        "type": "STATIC",
        "connect_timeout": "5s",
        "load_assignment": {
            "cluster_name": "upstream",
            "endpoints": [{ "lb_endpoints": [{ "endpoint": {
                "address": address(&upstream.ip().to_string(), upstream.port())
            }}]}]
        }
    });
    if spec.trailers {
        cluster["typed_extension_protocol_options"] = json!({
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": { "http_protocol_options": { "enable_trailers": true } }
            }
        });
    }
    cluster
}

fn address(ip: &str, port: u16) -> Value {
    json!({ "socket_address": { "address": ip, "port_value": port } })
}

fn listener(name: &str, spec: &EnvoySpec, files: &Files, tls: Option<Value>) -> Value {
    let mut chain = json!({ "filters": [http_connection_manager(name, spec, files)] });
    if let Some(tls) = tls {
        chain["transport_socket"] = json!({
            "name": "envoy.transport_sockets.tls",
            "typed_config": tls,
        });
    }
    json!({ "name": name, "address": address("127.0.0.1", 0), "filter_chains": [chain] })
}

fn tls_context(
    spec: &EnvoySpec,
    cert: &Path,
    key: &Path,
    min: &str,
    ciphers: &[&str],
    client_ca: &Path,
) -> Value {
    let mut params = json!({ "tls_minimum_protocol_version": min });
    if !ciphers.is_empty() {
        params["cipher_suites"] = json!(ciphers);
    }
    let mut validation = json!({ "trusted_ca": { "filename": client_ca } });
    if spec.accept_untrusted_client_certs {
        validation["trust_chain_verification"] = json!("ACCEPT_UNTRUSTED");
    }
    if spec.allow_expired_certificate {
        validation["allow_expired_certificate"] = json!(true);
    }
    json!({
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
        "require_client_certificate": false,
        "common_tls_context": {
            "tls_params": params,
            "alpn_protocols": ["h2", "http/1.1"],
            "tls_certificates": [{
                "certificate_chain": { "filename": cert },
                "private_key": { "filename": key },
            }],
            "validation_context": validation,
        }
    })
}

fn http_connection_manager(name: &str, spec: &EnvoySpec, files: &Files) -> Value {
    let mut routes: Vec<Value> = spec
        .routes
        .iter()
        .map(|r| {
            let mut route =
                json!({ "match": { "prefix": r.prefix }, "route": { "cluster": "upstream" } });
            if let Some(rewrite) = &r.prefix_rewrite {
                route["route"]["prefix_rewrite"] = json!(rewrite);
            }
            if let Some(mtls) = &r.mtls {
                route["metadata"] =
                    json!({ "filter_metadata": { "onerecord_tls_policy": { "mtls": mtls } } });
            }
            route
        })
        .collect();
    routes.push(json!({ "match": { "prefix": "/" }, "route": { "cluster": "upstream" } }));
    let mut manager = json!({
        "name": "envoy.filters.network.http_connection_manager",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
            "stat_prefix": name,
            "codec_type": "AUTO",
            "normalize_path": spec.hcm != HcmSettings::Bare,
            "merge_slashes": spec.hcm != HcmSettings::Bare,
            "forward_client_cert_details": spec.forward_client_cert_details,
            "set_current_client_cert_details": { "cert": true, "chain": spec.xfcc_chain, "subject": true, "uri": true, "dns": true },
            "route_config": {
                "name": "onerecord",
                "virtual_hosts": [{ "name": "all", "domains": ["*"], "routes": routes }]
            },
            "http_filters": [wasm_filter(spec, &files.wasm), router()],
        }
    });
    let config = &mut manager["typed_config"];
    if spec.hcm == HcmSettings::Hardened {
        config["path_with_escaped_slashes_action"] = json!("UNESCAPE_AND_REDIRECT");
        config["common_http_protocol_options"] =
            json!({ "headers_with_underscores_action": "REJECT_REQUEST" });
    }
    if spec.trailers {
        config["http_protocol_options"] = json!({ "enable_trailers": true });
    }
    if let Some(log) = &spec.access_log {
        manager["typed_config"]["access_log"] = json!([{
            "name": "envoy.access_loggers.file",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                "path": log.path,
                "log_format": { "json_format": log.json_format },
            }
        }]);
    }
    manager
}

/// The filter under test. FAIL_CLOSED: if the VM cannot run, Envoy answers
/// 503 instead of passing requests through unchecked.
pub fn wasm_filter(spec: &EnvoySpec, wasm: &Path) -> Value {
    json!({
        "name": "envoy.filters.http.wasm",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm",
            "config": {
                "name": "onerecord_tls_policy",
                "failure_policy": "FAIL_CLOSED",
                "vm_config": {
                    "runtime": "envoy.wasm.runtime.v8",
                    "code": { "local": { "filename": wasm } },
                },
                "configuration": {
                    "@type": "type.googleapis.com/google.protobuf.StringValue",
                    "value": spec.plugin_config,
                }
            }
        }
    })
}

fn router() -> Value {
    json!({
        "name": "envoy.filters.http.router",
        "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" }
    })
}
