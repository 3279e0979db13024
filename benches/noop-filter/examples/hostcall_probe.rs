//! Profiling aid for `make bench-profile`: makes the hostcalls the
//! onerecord_tls_policy filter makes per request on its warm allow path (a
//! later request on a keep-alive connection, verdict cached), with the same
//! property paths, header names and value sizes, and nothing else.
//! The plugin configuration names the steps to run, comma-separated and in
//! the filter's order, so Envoy's CPU per request can be attributed step by
//! step. Built from this crate so the no-op filter's own code stays bare.

use proxy_wasm::hostcalls;
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, MetricType};
use std::rc::Rc;

proxy_wasm::main! {{
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> {
        Box::new(ProbeRoot { steps: Rc::new(Steps::default()) })
    });
}}

#[derive(Default)]
struct Steps {
    /// All request headers (`:path`, `:method`, the XFCC header and the
    /// rest) in one call, kept as the one buffer the filter parses in place.
    pairs: bool,
    /// The route's `onerecord_tls_policy.mtls` metadata.
    route: bool,
    /// The clock and `connection.id`: on a keep-alive connection the filter
    /// remembers the handshake facts (TLS version, client certificate digest
    /// and validity) by connection id, and the verdict by certificate, so a
    /// later request reads neither them nor the certificate again.
    connection: bool,
    /// Envoy's log level, which the filter's logger asks before building the
    /// debug line of an allowed request (at Envoy's info level it builds and
    /// sends nothing).
    loglevel: bool,
    /// Six annotation headers set, as on a verified request.
    annotate: bool,
    /// One counter increment.
    count: Option<u32>,
    /// The access-log property.
    state: bool,
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
                "pairs" => steps.pairs = true,
                "route" => steps.route = true,
                "connection" => steps.connection = true,
                "loglevel" => steps.loglevel = true,
                "annotate" => steps.annotate = true,
                "count" => {
                    steps.count =
                        hostcalls::define_metric(MetricType::Counter, "probe.allowed").ok()
                }
                "state" => steps.state = true,
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
        if s.pairs {
            read.push(header_map());
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
            read.push(hostcalls::get_current_time().ok().map(|_| Vec::new()));
            read.push(property(&["connection", "id"]));
        }
        if s.loglevel {
            let level = hostcalls::get_log_level().ok().map(|l| l as u8);
            read.push(level.map(|l| vec![l]));
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
                "decision=allow;reason=-;rule=-;client_sha256={SHA256_HEX};anchor_sha256={SHA256_HEX};not_after=2030-01-01T00:00:00Z"
            );
            let _ = hostcalls::set_property(vec!["onerecord_tls_policy"], Some(value.as_bytes()));
        }
        drop(read);
        Action::Continue
    }
}

#[link(wasm_import_module = "env")]
unsafe extern "C" {
    fn proxy_get_header_map_pairs(
        map_type: u32,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> u32;
}

/// The request header map as the filter reads it: the host's serialised
/// buffer, not decoded into owned pairs (the SDK's `get_map` would allocate
/// two strings per header, which the filter does not).
fn header_map() -> Option<Vec<u8>> {
    const MAP_REQUEST_HEADERS: u32 = 0;
    const STATUS_OK: u32 = 0;
    let mut data: *mut u8 = std::ptr::null_mut();
    let mut size: usize = 0;
    // SAFETY: the host writes a pointer and a size to live locals; the
    // buffer it returns comes from this module's `proxy_on_memory_allocate`
    // (the SDK's: a boxed slice of exactly `size` bytes), so this module owns
    // it, and takes it back as the SDK's own `get_map` does.
    unsafe {
        match proxy_get_header_map_pairs(MAP_REQUEST_HEADERS, &mut data, &mut size) {
            STATUS_OK if !data.is_null() => Some(Vec::from_raw_parts(data, size, size)),
            _ => None,
        }
    }
}

fn property(path: &[&str]) -> Option<Vec<u8>> {
    hostcalls::get_property(path.to_vec()).ok().flatten()
}
