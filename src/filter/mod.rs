//! The proxy-wasm glue: read facts from the host, ask the policy, apply the
//! decision. Host access goes through [`Host`], so this is tested natively
//! with a mock; the wasm build plugs in the real hostcalls (`wasm` module).

mod facts;
pub mod header_map;
mod request;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use facts::gather_facts;
pub use request::{Action, on_request_headers};

/// A hostcall that returned a status other than OK / not found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostError(pub String);

/// The host operations the filter uses, and nothing more.
pub trait Host {
    /// A property by path (`["connection", "tls_version"]`); `None` when absent.
    fn property(&self, path: &[&str]) -> Result<Option<Vec<u8>>, HostError>;
    /// A request header's value; `None` when absent.
    fn request_header(&self, name: &str) -> Result<Option<String>, HostError>;
    /// The names of all request headers (lowercase, as Envoy keeps them).
    fn request_header_names(&self) -> Result<Vec<String>, HostError>;
    fn remove_request_header(&mut self, name: &str) -> Result<(), HostError>;
    /// Sets a request header, replacing any value it had.
    fn set_request_header(&mut self, name: &str, value: &str) -> Result<(), HostError>;
    /// Ends the request with a local reply.
    fn send_response(
        &mut self,
        status: u32,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), HostError>;
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> Result<u64, HostError>;
}

#[cfg(test)]
pub(crate) mod mock;

#[cfg(test)]
mod tests;
