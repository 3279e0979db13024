//! onerecord-tls-policy: an Envoy (proxy-wasm) filter that enforces the
//! transport-security rules of the IATA ONE Record API specification.
//!
//! Data moves one way: host → [`facts`] → [`policy::decide`] → effects.
//! Everything except `filter::wasm` is plain Rust and tested natively.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod config;
pub mod facts;
pub mod filter;
pub mod fingerprint;
mod lru;
pub mod policy;
pub mod reason;
pub mod response;
pub mod trust;
pub mod xfcc;

/// The test PKI generator the end-to-end tests use, shared with unit tests.
#[cfg(test)]
#[path = "../tests/support/pki.rs"]
pub(crate) mod test_pki;
