//! The end-to-end suites, one test binary with a module per suite. Most run
//! a real Envoy (`$ENVOY`) with the filter (`$ONERECORD_WASM`), both
//! exported by the Makefile; the fixtures they share (one PKI, request
//! paths, plugin configurations, the forged annotations) are in the test
//! kit. `cargo test --test e2e -- <suite>::` runs one suite; a suite too
//! long for one file is a directory, a module per section.
//!
//! - `mtls`, `tls_enforcement`: the transport rules, client certificates
//!   and TLS versions, with the trust decision the filter's.
//! - `adversarial`, `forged_annotations`, `path_forms`, `bypass_review`,
//!   `verification_cost`: hostile clients, forged headers, path spellings
//!   and chains built to be expensive.
//! - `dictionary_annotations`: `annotation_format: "dictionary"`, one
//!   header the backend parses, and no forgery of it.
//! - `two_tier`: behind a trusted gateway, an edge Envoy in front of the filter's.
//! - `name_constraints`: name-constrained sub-CAs (URI host, subject tree).
//! - `observability`, `reload`: counters, access log, configuration changes.
//! - `monitoring`: the Prometheus rules and Grafana dashboard in
//!   `deploy/monitoring`, their queries against a real scrape.
//! - `token_binding`: the ONE Record token bound to the client certificate,
//!   behind Envoy's own `jwt_authn`.
//! - `demo`, `deployment`: the `make run` demo and the kit in `envoy/`.
//! - `remote_module`: the module fetched by URL with a pinned SHA-256.
//! - `fuzz_regressions`: inputs the fuzzers found, on the public API.
//! - `harness`: the test kit itself.
//! - `soak`: `#[ignore]`d; `make soak` runs it.
// Test code: it may unwrap and panic (the workspace lints are for the shipped crates).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod adversarial;
mod bypass_review;
mod demo;
mod deployment;
mod dictionary_annotations;
mod forged_annotations;
mod fuzz_regressions;
mod harness;
mod monitoring;
mod mtls;
mod name_constraints;
mod observability;
mod ocsp;
mod path_forms;
mod reload;
mod remote_module;
mod revocation;
mod soak;
mod tls_enforcement;
mod token_binding;
mod two_tier;
mod verification_cost;
