//! End-to-end harness: a generated PKI, an echo upstream, a real Envoy
//! running the filter, and clients that control TLS precisely.
//!
//! What the suites share lives here once: the PKI (`fixture::TestPki`, one
//! per test binary), request paths and plugin configurations (`policies`),
//! the forged annotations (`forged`), `unix_now`, and the unit tests'
//! pinned PKI (`pinned`).
//!
//! The end-to-end suites, the CLI's tests, the demo, the fuzzers' seeds and
//! the benchmarks depend on it. Envoy comes from `$ENVOY` and the filter from `$ONERECORD_WASM`
//! (both exported by the Makefile); `ENVOY_LOG_LEVEL=debug` makes Envoy's
//! log, kept with the test directory when a test fails, more verbose.

pub mod bootstrap;
pub mod client;
pub mod crl;
pub mod crl_server;
pub mod curl;
pub mod envoy;
pub mod file_server;
pub mod fixture;
pub mod forged;
pub mod h2;
pub mod http;
pub mod jwt;
pub mod name_constraints;
pub mod ocsp;
pub mod ocsp_responder;
pub mod onerecord;
pub mod pinned;
pub mod pki;
pub mod policies;
pub mod process;
pub mod resuming;
pub mod stack;
pub mod tempdir;
pub mod two_tier;
pub mod upstream;
pub mod vm;

/// The repository's top directory (where `envoy/` and `target/` are).
/// Resolved, so that paths shown to people read `.cache/demo/...`.
pub fn repo_root() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::fs::canonicalize(&root).unwrap_or(root)
}

/// Seconds since the Unix epoch, from this machine's clock.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}
