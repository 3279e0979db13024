//! The proxy-wasm glue: read the facts the policy asks for from the host,
//! have the policy decide and plan, apply the plan and report it. Host
//! access goes through [`Host`], so this is tested natively with the in-memory test host;
//! the wasm build plugs in the real hostcalls (`wasm` module).

pub mod access_log;
pub mod crl_fetch;
mod facts;
mod forged;
pub mod header_map;
pub mod metrics;
pub mod ocsp_ask;
mod plugin;
pub mod properties;
mod request;
mod trailers;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use crate::effects::{Outcome, Rendered};
pub use facts::{Gathered, XFCC_HEADER, gather_facts};
pub use plugin::{Forwarded, Headers, Plugin, configure};
pub use request::{Action, on_request_headers};

use header_map::HeaderMap;

/// A hostcall that returned a status other than OK / not found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostError(pub String);

/// The host operations the filter uses, and nothing more.
pub trait Host {
    /// A property by path (`["connection", "tls_version"]`); `None` when absent.
    fn property(&self, path: &[&str]) -> Result<Option<Vec<u8>>, HostError>;
    /// All request headers, in one read (names lowercase, as Envoy keeps them).
    fn request_headers(&self) -> Result<HeaderMap, HostError>;
    /// Removes every value of the header `name`, given byte for byte as
    /// the map holds it (not necessarily UTF-8).
    fn remove_request_header(&mut self, name: &[u8]) -> Result<(), HostError>;
    /// Sets a request header, replacing any value it had.
    fn set_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError>;
    /// All request trailers, in one read (asked only when the request has them).
    fn request_trailers(&self) -> Result<HeaderMap, HostError>;
    /// Removes every value of the trailer `name`, byte for byte.
    fn remove_request_trailer(&mut self, name: &[u8]) -> Result<(), HostError>;
    /// Ends the request with a local reply.
    fn send_response(
        &mut self,
        status: u32,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), HostError>;
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> Result<u64, HostError>;
    /// Defines a counter and returns its id (Envoy names it `wasmcustom.<name>`).
    fn define_counter(&mut self, name: &str) -> Result<u32, HostError>;
    /// Adds one to a counter defined earlier.
    fn increment_counter(&mut self, id: u32) -> Result<(), HostError>;
    /// Sets a property of this stream (Envoy: filter state `wasm.<name>`).
    fn set_property(&mut self, name: &str, value: &[u8]) -> Result<(), HostError>;
    /// Marks `key` in the data all VMs of this Envoy share; `true` when no
    /// VM had marked it before.
    fn claim_shared(&mut self, key: &str) -> Result<bool, HostError>;
    /// Sends an HTTP request through the Envoy cluster `cluster` (headers
    /// include `:method`, `:path`, `:authority`); the token names its
    /// response, which the root context receives.
    fn dispatch_http_call(
        &mut self,
        cluster: &str,
        headers: &[(&str, &str)],
        timeout_ms: u64,
    ) -> Result<u32, HostError>;
    /// A shared-data value with its compare-and-swap token; `None` when unset.
    fn shared_data(&self, key: &str) -> Result<Option<(Vec<u8>, u32)>, HostError>;
    /// Sets a shared-data value if its token is still `cas` (0: whatever it
    /// is); `false` when another VM changed it first.
    fn set_shared_data(&mut self, key: &str, value: &[u8], cas: u32) -> Result<bool, HostError>;
    /// Defines a gauge and returns its id.
    fn define_gauge(&mut self, name: &str) -> Result<u32, HostError>;
    /// Sets a gauge defined earlier.
    fn set_gauge(&mut self, id: u32, value: u64) -> Result<(), HostError>;
    /// As [`Host::dispatch_http_call`], with a request body (an OCSP POST);
    /// the response goes to the context that dispatched it.
    fn dispatch_http_post(
        &mut self,
        cluster: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        timeout_ms: u64,
    ) -> Result<u32, HostError>;
    /// Lets a request paused at its headers go on.
    fn resume_request(&mut self) -> Result<(), HostError>;
}

#[cfg(test)]
pub(crate) use crate::test_host as mock;

#[cfg(test)]
mod access_log_tests;
#[cfg(test)]
mod annotation_format_tests;
#[cfg(test)]
mod fast_path_tests;
#[cfg(test)]
mod front_proxy_tests;
#[cfg(test)]
mod test_client;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod token_tests;
