//! Profiling aid for `make bench-profile`: makes the hostcalls the
//! onerecord_tls_policy filter makes per request on its warm allow path, with
//! the same property paths, header names and value sizes, and nothing else.
//! The plugin configuration names the steps to run, comma-separated and in
//! the filter's order, so Envoy's CPU per request can be attributed step by
//! step. Built from this crate so the no-op filter's own code stays bare.

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel, MetricType};
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(ProbeRoot { steps: Rc::new(Steps::default()) })
    });
}}

#[derive(Default)]
struct Steps {
    /// `:path` and `:method`.
    headers: bool,
    /// The route's `onerecord_tls_policy.mtls` metadata.
    route: bool,
    /// `connection.tls_version`, `.mtls`, `.sha256_peer_certificate_digest`,
    /// `.peer_certificate_valid` and the clock.
    connection: bool,
    /// `connection.peer_certificate` (a PEM).
    peer_certificate: bool,
    /// The `x-forwarded-client-cert` header (certificate and chain).
    xfcc: bool,
    /// All request headers in one call, as the filter lists them to strip forgeries.
    pairs: bool,
    /// Six annotation headers set, as on a verified request.
    annotate: bool,
    /// One counter increment.
    count: Option<u32>,
    /// The access-log property.
    state: bool,
    /// A debug-level log line that Envoy, at info, throws away.
    log: bool,
}

struct ProbeRoot {
    steps: Rc<Steps>,
}

impl Context for ProbeRoot {}

impl RootContext for ProbeRoot {
    fn on_configure(&mut self, _size: usize) -> bool {
        let text = self
            .get_plugin_configuration()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let mut steps = Steps::default();
        for step in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match step {
                "headers" => steps.headers = true,
                "route" => steps.route = true,
                "connection" => steps.connection = true,
                "peer_certificate" => steps.peer_certificate = true,
                "xfcc" => steps.xfcc = true,
                "pairs" => steps.pairs = true,
                "annotate" => steps.annotate = true,
                "count" => {
                    steps.count =
                        hostcalls::define_metric(MetricType::Counter, "probe.allowed").ok()
                }
                "state" => steps.state = true,
                "log" => steps.log = true,
                _ => return false,
            }
        }
        self.steps = Rc::new(steps);
        true
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(Probe {
            steps: Rc::clone(&self.steps),
        }))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct Probe {
    steps: Rc<Steps>,
}

impl Context for Probe {}

const SHA256_HEX: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";

impl HttpContext for Probe {
    fn on_http_request_headers(&mut self, _num_headers: usize, _end_of_stream: bool) -> Action {
        let s = &*self.steps;
        // Results are kept alive to the end, as the filter keeps its facts.
        let mut read: Vec<Option<Vec<u8>>> = Vec::new();
        if s.headers {
            read.push(header(":path"));
            read.push(header(":method"));
        }
        if s.route {
            read.push(property(&[
                "xds",
                "route_metadata",
                "filter_metadata",
                "onerecord_tls_policy",
                "mtls",
            ]));
        }
        if s.connection {
            read.push(property(&["connection", "tls_version"]));
            read.push(hostcalls::get_current_time().ok().map(|_| Vec::new()));
            read.push(property(&["connection", "mtls"]));
            read.push(property(&["connection", "sha256_peer_certificate_digest"]));
        }
        if s.peer_certificate {
            read.push(property(&["connection", "peer_certificate"]));
        }
        if s.connection {
            read.push(property(&["connection", "peer_certificate_valid"]));
        }
        if s.xfcc {
            read.push(header("x-forwarded-client-cert"));
        }
        if s.pairs {
            let names = hostcalls::get_map(proxy_wasm::types::MapType::HttpRequestHeaders)
                .map(|pairs| pairs.len())
                .unwrap_or(0);
            read.push(Some(vec![names as u8]));
        }
        if s.annotate {
            for (name, value) in [
                ("x-onerecord-tls-version", "TLSv1.3"),
                ("x-onerecord-mtls", "verified"),
                ("x-onerecord-client-sha256", SHA256_HEX),
                (
                    "x-onerecord-client-subject",
                    "CN=forwarder-42,O=Example Airline",
                ),
                (
                    "x-onerecord-client-uri-san",
                    "https://1r.example.com/logistics-agents/forwarder-42",
                ),
                ("x-onerecord-trust-anchor-sha256", SHA256_HEX),
            ] {
                let _ = hostcalls::set_map_value(
                    proxy_wasm::types::MapType::HttpRequestHeaders,
                    name,
                    Some(value),
                );
            }
        }
        if let Some(id) = s.count {
            let _ = hostcalls::increment_metric(id, 1);
        }
        if s.state {
            let value = format!(
                "decision=allow;reason=-;rule=-;client_sha256={SHA256_HEX};anchor_sha256={SHA256_HEX}"
            );
            let _ = hostcalls::set_property(vec!["onerecord_tls_policy"], Some(value.as_bytes()));
        }
        if s.log {
            let line = format!(
                "onerecord-tls-policy: allow rule=- tls=TLSv1.3 client={SHA256_HEX} path=/direct"
            );
            let _ = hostcalls::log(LogLevel::Debug, &line);
        }
        drop(read);
        Action::Continue
    }
}

fn header(name: &str) -> Option<Vec<u8>> {
    hostcalls::get_map_value_bytes(proxy_wasm::types::MapType::HttpRequestHeaders, name)
        .ok()
        .flatten()
}

fn property(path: &[&str]) -> Option<Vec<u8>> {
    hostcalls::get_property(path.to_vec()).ok().flatten()
}
