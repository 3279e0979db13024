//! What one run measured, and Envoy's own request counts around it.

use crate::report::Sample;
use onerecord_tls_policy_testkit as support;
use support::bootstrap::TLS;
use support::envoy::Envoy;

#[derive(Clone, Copy)]
pub(crate) struct Measured {
    pub(super) sample: Sample,
    /// This process's CPU per request: the backends, when proxied.
    pub(super) upstream_cpu_us_per_req: f64,
    /// Failures oha saw (connection errors, non-200, requests cut at the deadline).
    pub(super) client_errors: u64,
}

/// Envoy's own count of requests on the benchmark listener.
pub(super) struct Completed {
    pub(super) all: u64,
    pub(super) ok: u64,
    /// Connections accepted, and how many of them spoke HTTP/2.
    pub(super) connections: u64,
    pub(super) http2_connections: u64,
}

impl Completed {
    pub(super) fn read(envoy: &Envoy) -> Completed {
        let counters = support::vm::counters(envoy);
        let get = |name: &str| {
            counters
                .get(&format!("http.{TLS}.{name}"))
                .copied()
                .unwrap_or(0)
        };
        Completed {
            all: get("downstream_rq_completed"),
            ok: get("downstream_rq_2xx"),
            connections: get("downstream_cx_total"),
            http2_connections: get("downstream_cx_http2_total"),
        }
    }
}
