//! The hostcall tally: per proxy-wasm call (property reads by path), how
//! many calls and how many bytes the host handed the wasm module and the
//! module handed the host, as `make bench-profile` reports them.

use crate::filter::properties::{self, Path};
use std::cell::RefCell;
use std::collections::BTreeMap;

/// One hostcall's calls and bytes each way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub calls: u64,
    /// Bytes the host hands the wasm module.
    pub to_wasm: u64,
    /// Bytes the module hands the host.
    pub to_host: u64,
}

impl Tally {
    pub fn add(&mut self, other: Tally) {
        self.calls += other.calls;
        self.to_wasm += other.to_wasm;
        self.to_host += other.to_host;
    }
}

/// Tallies by hostcall name, in name order.
#[derive(Debug, Default)]
pub struct Hostcalls(RefCell<BTreeMap<String, Tally>>);

/// The tally's name of reading `path`: `proxy_get_property connection.id`.
pub fn property_call(path: Path) -> String {
    format!("proxy_get_property {}", properties::dotted(path))
}

impl Hostcalls {
    /// Counts one call of `call` with the bytes it moved.
    pub fn record(&self, call: &str, to_wasm: usize, to_host: usize) {
        let mut tallies = self.0.borrow_mut();
        tallies.entry(call.to_string()).or_default().add(Tally {
            calls: 1,
            to_wasm: to_wasm as u64,
            to_host: to_host as u64,
        });
    }

    /// Every hostcall counted so far.
    pub fn tallies(&self) -> BTreeMap<String, Tally> {
        self.0.borrow().clone()
    }

    /// How many times `call` was made.
    pub fn calls(&self, call: &str) -> u64 {
        self.0.borrow().get(call).map_or(0, |t| t.calls)
    }

    pub fn clear(&self) {
        self.0.borrow_mut().clear();
    }
}

/// The proxy-wasm calls behind the [`Host`](crate::filter::Host) methods
/// (trailers go through the same header-map calls as headers).
pub const GET_HEADER_MAP_PAIRS: &str = "proxy_get_header_map_pairs";
pub const REMOVE_HEADER_MAP_VALUE: &str = "proxy_remove_header_map_value";
pub const REPLACE_HEADER_MAP_VALUE: &str = "proxy_replace_header_map_value";
pub const SEND_LOCAL_RESPONSE: &str = "proxy_send_local_response";
pub const GET_CURRENT_TIME: &str = "proxy_get_current_time_nanoseconds";
pub const DEFINE_METRIC: &str = "proxy_define_metric";
pub const INCREMENT_METRIC: &str = "proxy_increment_metric";
pub const SET_PROPERTY: &str = "proxy_set_property";
pub const GET_SHARED_DATA: &str = "proxy_get_shared_data";
pub const SET_SHARED_DATA: &str = "proxy_set_shared_data";
pub const DISPATCH_HTTP_CALL: &str = "proxy_http_call";
pub const RECORD_METRIC: &str = "proxy_record_metric";
