//! The eight filter configurations and their Envoy bootstraps. Each starts
//! from the end-to-end harness's bootstrap (same TLS context, XFCC settings
//! and path normalisation as the tests), keeps only its TLS listener, and
//! swaps in this configuration's HTTP filters and the benchmark routes.

use crate::support::bootstrap::{self, EnvoySpec, Files, TLS};
use crate::support::jwt;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::Path;

/// Path prefixes of the three routes every configuration has.
pub const DIRECT: &str = "/direct";
pub const PROXIED: &str = "/proxied";
/// To the harness's echo backend, for the correctness check only.
pub const ECHO: &str = "/echo";

/// Principals the RBAC configuration admits: the client's URI SAN prefix.
pub const CLIENT_URI_PREFIX: &str = "https://1r.example.com/";

/// The one header the lean profile (H) annotates with: an RFC 8941
/// dictionary of the facts, under the default annotation prefix.
pub const FACTS_HEADER: &str = "x-onerecord-facts";

/// The header the Lua configuration adds.
pub const LUA_HEADER: &str = "x-bench-tls";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    NoFilter,
    NoopWasm,
    Rbac,
    Lua,
    Plugin,
    /// The plugin binding the token that `jwt_authn` verified in front of it.
    TokenBound,
    /// The plugin with OCSP in hard mode, the client's good answer cached.
    OcspHard,
    /// The plugin in the lean profile: no access-log property, the facts
    /// as one dictionary header.
    Lean,
    /// The hostcall probe running the first `n` steps of [`LADDER`].
    Probe(usize),
}

/// The hostcall probe's steps (benches/noop-filter/examples/hostcall_probe.rs),
/// in the order the plugin makes those calls on its warm allow path (a later
/// request on a keep-alive connection: handshake facts remembered by
/// connection id, verdict cached).
pub const LADDER: [(&str, &str); 7] = [
    (
        "pairs",
        "all request headers in one read (`get_header_map_pairs`)",
    ),
    ("route", "route metadata property"),
    ("connection", "clock, `connection.id`"),
    ("loglevel", "log level asked (debug line not built)"),
    ("annotate", "6 annotation headers set"),
    ("count", "counter increment"),
    ("state", "access-log property set"),
];

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::NoFilter,
        Kind::NoopWasm,
        Kind::Rbac,
        Kind::Lua,
        Kind::Plugin,
        Kind::TokenBound,
        Kind::OcspHard,
        Kind::Lean,
    ];

    /// A, B, the probe after each step, and the plugin: `make bench-profile`.
    pub fn ladder() -> Vec<Kind> {
        let mut kinds = vec![Kind::NoFilter, Kind::NoopWasm];
        kinds.extend((1..=LADDER.len()).map(Kind::Probe));
        kinds.push(Kind::Plugin);
        kinds
    }

    pub fn key(self) -> String {
        match self {
            Kind::NoFilter => "A".into(),
            Kind::NoopWasm => "B".into(),
            Kind::Rbac => "C".into(),
            Kind::Lua => "D".into(),
            Kind::Plugin => "E".into(),
            Kind::TokenBound => "F".into(),
            Kind::OcspHard => "G".into(),
            Kind::Lean => "H".into(),
            Kind::Probe(n) => format!("P{n}"),
        }
    }

    pub fn label(self) -> String {
        match self {
            Kind::NoFilter => "no filter (ceiling)".into(),
            Kind::NoopWasm => "no-op wasm filter".into(),
            Kind::Rbac => "RBAC, authenticated principal".into(),
            Kind::Lua => "Lua, TLS version + peer digest header".into(),
            Kind::Plugin => "onerecord_tls_policy (mTLS required, pinned)".into(),
            Kind::TokenBound => "jwt_authn + onerecord_tls_policy, token bound".into(),
            Kind::OcspHard => "onerecord_tls_policy, OCSP hard (answer cached)".into(),
            Kind::Lean => "onerecord_tls_policy, lean profile".into(),
            Kind::Probe(n) => format!("probe: + {}", LADDER[n - 1].1),
        }
    }
}

/// What the bootstraps point at.
pub struct Inputs<'a> {
    pub files: Files,
    pub noop_wasm: &'a Path,
    pub probe_wasm: &'a Path,
    /// The pinned client root, as fingerprint and PEM.
    pub client_root_sha256: String,
    pub client_root_pem: String,
    pub lean_upstream: SocketAddr,
    pub echo_upstream: SocketAddr,
    /// The JWKS `jwt_authn` verifies the driver's token against (F).
    pub token_issuer: &'a jwt::TokenIssuer,
    /// The OCSP responder the client's AIA names (G's cluster `ocsp`).
    pub ocsp_responder: Value,
}

/// The plugin's configuration: mTLS required everywhere, the client root
/// pinned and supplied as PEM (clients send leaf + intermediate, as usual).
pub fn plugin_config(inputs: &Inputs) -> Value {
    json!({
        "mtls": "required",
        "trusted_ca_sha256": [inputs.client_root_sha256],
        "ca_certificates_pem": inputs.client_root_pem,
    })
}

/// E's configuration with the token required and bound on every path (F).
pub fn token_bound_config(inputs: &Inputs) -> Value {
    let mut config = plugin_config(inputs);
    config["token_binding"] = json!("required");
    config["require_cnf"] = json!(true);
    config
}

/// E's configuration with the leaf's OCSP status required (G): after the
/// first request, every one is decided from the cached good answer.
pub fn ocsp_config(inputs: &Inputs) -> Value {
    let mut config = plugin_config(inputs);
    config["ocsp"] = json!({ "mode": "hard", "cluster": "ocsp", "timeout_ms": 2000 });
    config
}

/// E's configuration in the lean profile (H): the same checks, without the
/// access-log property, the facts in one `x-onerecord-facts` header.
pub fn lean_config(inputs: &Inputs) -> Value {
    let mut config = plugin_config(inputs);
    config["access_log_filter_state"] = json!(false);
    config["annotation_format"] = json!("dictionary");
    config
}

pub fn bootstrap(kind: Kind, inputs: &Inputs) -> Value {
    let config = match kind {
        Kind::TokenBound => token_bound_config(inputs),
        Kind::OcspHard => ocsp_config(inputs),
        Kind::Lean => lean_config(inputs),
        _ => plugin_config(inputs),
    };
    let spec = EnvoySpec::new(&config);
    let mut bootstrap = bootstrap::render(&spec, &inputs.files, inputs.lean_upstream);
    let resources = &mut bootstrap["static_resources"];
    if let Some(listeners) = resources["listeners"].as_array_mut() {
        listeners.retain(|l| l["name"] == TLS);
    }
    let manager = &mut resources["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"];
    manager["route_config"]["virtual_hosts"][0]["routes"] = routes();
    let router = manager["http_filters"]
        .as_array()
        .and_then(|filters| filters.last().cloned())
        .expect("the harness's filter chain ends with the router");
    let mut filters = http_filters(kind, &spec, inputs);
    filters.push(router);
    manager["http_filters"] = Value::Array(filters);
    let clusters = resources["clusters"].as_array_mut().expect("clusters");
    // Envoy's default circuit breakers (1,024 pending and active requests per
    // cluster) would answer 503 to some of the many-connections runs' 2,048
    // concurrent requests: the benchmark measures the filter, not the
    // breaker. The connections stay at the default 1,024 per Envoy, which
    // keeps the lean upstream (in the driver) within its open-file limit
    // while every configuration's Envoy holds its pool.
    for cluster in clusters.iter_mut().filter(|c| c["name"] == "upstream") {
        cluster["circuit_breakers"] = json!({ "thresholds": [{
            "max_connections": 1024, "max_pending_requests": 1_000_000,
            "max_requests": 1_000_000
        }]});
    }
    clusters.push(cluster("echo", inputs.echo_upstream));
    if kind == Kind::OcspHard {
        resources["clusters"]
            .as_array_mut()
            .expect("clusters")
            .push(inputs.ocsp_responder.clone());
    }
    bootstrap
}

fn routes() -> Value {
    json!([
        { "match": { "prefix": DIRECT },
          "direct_response": { "status": 200, "body": { "inline_string": "ok" } } },
        { "match": { "prefix": PROXIED }, "route": { "cluster": "upstream" } },
        { "match": { "prefix": ECHO }, "route": { "cluster": "echo" } },
    ])
}

fn cluster(name: &str, addr: SocketAddr) -> Value {
    json!({
        "name": name,
        "type": "STATIC",
        "connect_timeout": "5s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": { "socket_address": {
                "address": addr.ip().to_string(), "port_value": addr.port()
            }}}}]}]
        }
    })
}

fn http_filters(kind: Kind, spec: &EnvoySpec, inputs: &Inputs) -> Vec<Value> {
    match kind {
        Kind::NoFilter => vec![],
        Kind::NoopWasm => {
            let mut filter = bootstrap::wasm_filter(&EnvoySpec::raw(""), inputs.noop_wasm);
            filter["typed_config"]["config"]["name"] = json!("noop");
            vec![filter]
        }
        Kind::Rbac => vec![json!({
            "name": "envoy.filters.http.rbac",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC",
                "rules": {
                    "action": "ALLOW",
                    "policies": { "onerecord-clients": {
                        "permissions": [{ "any": true }],
                        "principals": [{ "authenticated": {
                            "principal_name": { "prefix": CLIENT_URI_PREFIX }
                        }}]
                    }}
                }
            }
        })],
        Kind::Lua => vec![json!({
            "name": "envoy.filters.http.lua",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
                "default_source_code": { "inline_string": lua_source() }
            }
        })],
        Kind::Plugin | Kind::OcspHard | Kind::Lean => {
            vec![bootstrap::wasm_filter(spec, &inputs.files.wasm)]
        }
        // A request without a token passes `jwt_authn`; the plugin refuses it.
        Kind::TokenBound => vec![
            jwt::jwt_authn_filter(inputs.token_issuer, "allow_missing"),
            bootstrap::wasm_filter(spec, &inputs.files.wasm),
        ],
        Kind::Probe(n) => {
            let steps: Vec<&str> = LADDER[..n].iter().map(|(step, _)| *step).collect();
            let probe = EnvoySpec::raw(&steps.join(","));
            let mut filter = bootstrap::wasm_filter(&probe, inputs.probe_wasm);
            filter["typed_config"]["config"]["name"] = json!("probe");
            vec![filter]
        }
    }
}

/// Reads what the plugin's cheapest checks read, through Envoy's Lua API.
fn lua_source() -> String {
    format!(
        r#"
function envoy_on_request(handle)
  local ssl = handle:streamInfo():downstreamSslConnection()
  if ssl ~= nil then
    handle:headers():add("{LUA_HEADER}", ssl:tlsVersion() .. " " .. ssl:sha256PeerCertificateDigest())
  end
end
"#
    )
}
