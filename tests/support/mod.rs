//! End-to-end harness: a generated PKI, an echo upstream, a real Envoy
//! running the filter, and clients that control TLS precisely.
//!
//! Test files include it with `mod support;`; `examples/demo/main.rs` includes it
//! by path. Envoy comes from `$ENVOY` and the filter from `$ONERECORD_WASM`
//! (both exported by the Makefile); `ENVOY_LOG_LEVEL=debug` makes Envoy's
//! log, kept with the test directory when a test fails, more verbose.
//! Not every user touches every helper, hence `dead_code`.
#![allow(dead_code)]

pub mod bootstrap;
pub mod client;
pub mod curl;
pub mod envoy;
pub mod fixture;
pub mod h2;
pub mod http;
pub mod onerecord;
pub mod pki;
pub mod process;
pub mod resuming;
pub mod stack;
pub mod tempdir;
pub mod upstream;
pub mod vm;
