//! The in-memory host: Envoy's side of the [`Host`](crate::filter::Host)
//! trait for the unit tests, the fuzzers and the hostcall counter. It serves
//! properties and headers, can fail any hostcall, and records what the
//! filter did: every read, removal, reply, counter and stream property, and
//! per hostcall the calls and the bytes crossing the wasm boundary each way.
//! Compiled for tests and with the `test-host` feature only.

mod host;
pub mod hostcalls;
mod serving;
#[cfg(test)]
mod tests;

pub use hostcalls::{Hostcalls, Tally, property_call};
pub use serving::representable;

use crate::filter::properties::{self, TLS_VERSION};
use std::cell::RefCell;
use std::collections::HashMap;

/// A local reply the filter sent: status, headers, body.
pub type SentReply = (u32, Vec<(String, String)>, Vec<u8>);
/// An HTTP call the filter dispatched: token, cluster, headers.
pub type HttpCall = (u32, String, Vec<(String, String)>);

#[derive(Default)]
pub struct MockHost {
    /// Properties by dotted path (`connection.tls_version`).
    pub properties: HashMap<String, Vec<u8>>,
    /// Properties whose hostcall fails.
    pub failing_properties: Vec<String>,
    pub headers: Vec<(String, String)>,
    /// Headers whose names are not UTF-8, served after `headers`.
    pub raw_headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The request trailers.
    pub trailers: Vec<(Vec<u8>, Vec<u8>)>,
    pub fail_trailer_reads: bool,
    pub fail_trailer_writes: bool,
    /// Removals answer OK and remove nothing (a host that changed the name).
    pub ignore_removals: bool,
    /// Every removal asked for, in order: `("header" | "trailer", name)`.
    pub removals: Vec<(&'static str, Vec<u8>)>,
    /// The last local reply.
    pub sent: Option<SentReply>,
    pub now: u64,
    pub fail_header_writes: bool,
    pub fail_header_reads: bool,
    /// Defined counters, `(name, value)`; a counter's id is its index.
    pub counters: Vec<(String, u64)>,
    /// Every increment, by counter id, in order.
    pub increments: Vec<u32>,
    /// `define_counter` and `increment_counter` fail.
    pub fail_metrics: bool,
    /// What `set_property` was given, by name.
    pub set_properties: HashMap<String, Vec<u8>>,
    pub fail_set_property: bool,
    /// Keys `claim_shared` marked (shared data, as across Envoy's VMs).
    pub shared: Vec<String>,
    /// Shared data by key: value and compare-and-swap token.
    pub shared_values: HashMap<String, (Vec<u8>, u32)>,
    /// Every HTTP call dispatched: `(token, cluster, headers)`.
    pub http_calls: Vec<HttpCall>,
    /// `dispatch_http_call` fails.
    pub fail_http_calls: bool,
    /// The body of each HTTP call that had one, by token.
    pub http_bodies: Vec<(u32, Vec<u8>)>,
    /// How many times a paused request was resumed.
    pub resumed: u32,
    /// Defined gauges, `(name, value)`; a gauge's id is its index.
    pub gauges: Vec<(String, u64)>,
    /// Every read, in order: property paths (dotted), `headers` for the map.
    pub reads: RefCell<Vec<String>>,
    /// Every hostcall as the wasm module would make it, with its bytes.
    pub hostcalls: Hostcalls,
    /// For timing the filter's own code: the host records nothing and
    /// accepts header writes without applying them (Envoy's side of a call
    /// is not the filter's work).
    pub timing: bool,
}

impl MockHost {
    pub fn tls(version: &str) -> Self {
        let mut host = MockHost {
            now: 1_800_000_000,
            ..MockHost::default()
        };
        host.set_property(&properties::dotted(TLS_VERSION), version.as_bytes());
        host.headers
            .push((":path".into(), "/logistics-objects/1".into()));
        host.headers.push((":method".into(), "GET".into()));
        host
    }

    pub fn plaintext() -> Self {
        let mut host = MockHost {
            now: 1_800_000_000,
            ..MockHost::default()
        };
        host.headers.push((":path".into(), "/".into()));
        host.headers.push((":method".into(), "GET".into()));
        host
    }

    pub fn set_property(&mut self, dotted: &str, value: &[u8]) {
        self.properties.insert(dotted.to_string(), value.to_vec());
    }

    /// A gauge's value by name; `None` when it was never defined.
    pub fn gauge(&self, name: &str) -> Option<u64> {
        self.gauges
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| *value)
    }

    /// A counter's value by name; `None` when it was never defined.
    pub fn counter(&self, name: &str) -> Option<u64> {
        self.counters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| *value)
    }

    /// The names of the counters incremented, in order.
    pub fn incremented(&self) -> Vec<&str> {
        self.increments
            .iter()
            .filter_map(|&id| self.counters.get(usize::try_from(id).ok()?))
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// How many times `what` (a dotted property, `headers`, `trailers`) was read.
    pub fn read_count(&self, what: &str) -> usize {
        self.reads.borrow().iter().filter(|r| *r == what).count()
    }

    /// The deny reason of a 403 the filter sent; `None` when it sent none.
    pub fn deny_reason(&self) -> Option<&str> {
        let (status, headers, _) = self.sent.as_ref()?;
        assert_eq!(*status, 403, "a deny is a 403");
        headers
            .iter()
            .find(|(name, _)| name.ends_with("deny-reason"))
            .map(|(_, value)| value.as_str())
    }

    pub fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}
