//! The demo, shared by `make run` (main.rs) and tests/demo.rs: a demo PKI, the
//! ONE Record backend, Envoy on a configuration derived from envoy/envoy.yaml,
//! and a self-check that runs every curl command the demo prints and compares
//! the answer with what the policy must do.
//!
//! [`ports`] and [`pki`] are the demo's addresses and certificates,
//! [`derive`] its Envoy configuration, [`demo`] the running demo, [`cases`]
//! what it shows and checks, [`curl`] how a case is run, and [`revocation`]
//! the CRL served on the backend side and the step that revokes a client.

mod cases;
mod curl;
mod demo;
mod derive;
mod pki;
mod ports;
mod revocation;

pub use cases::{Case, Checked, Expect, Fact};
pub use curl::{Outcome, run_curl};
pub use demo::{Demo, StartError, envoy_version, shown};
pub use derive::{Derivation, derive_config};
pub use pki::{DEMO_AGENT, DemoFiles, DemoPki, OTHER_AGENT, REVOCABLE_CLIENT};
pub use ports::Ports;
pub use revocation::{CRL_PATH, CRL_REFRESH_SECONDS, Revocation};

/// Listeners of envoy/envoy.yaml, and the two the demo adds.
pub const HTTPS: &str = "onerecord_https";
pub const HTTP: &str = "onerecord_http";
pub const AUDIT: &str = "demo_audit";
pub const LEGACY_TLS: &str = "demo_legacy_tls";
const BACKEND_CLUSTER: &str = "onerecord_backend";
/// envoy/envoy.yaml's cluster for CRL distribution points.
const CRL_CLUSTER: &str = "crl_distribution";

const WASM_FILTER: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const TLS_CONTEXT: &str =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
/// envoy/envoy.yaml is written for a container with its files under here.
const EXAMPLE_ROOT: &str = "/etc/envoy/";
const EXAMPLE_WASM: &str = "/etc/envoy/onerecord_tls_policy.wasm";
/// BoringSSL's TLS 1.0/1.1 suites (CBC, SHA-1 MAC, RSA), plus TLS 1.2 ones.
const LEGACY_CIPHERS: &[&str] = &[
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-RSA-AES256-SHA",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
];
/// OpenSSL 3 refuses TLS 1.1 at its default security level.
const CURL_TLS11: &[&str] = &[
    "--tlsv1.1",
    "--tls-max",
    "1.1",
    "--ciphers",
    "DEFAULT@SECLEVEL=0",
];

pub const TLS_VERSION: &str = "x-onerecord-tls-version";
pub const MTLS: &str = "x-onerecord-mtls";
pub const CLIENT_SHA256: &str = "x-onerecord-client-sha256";
pub const CLIENT_SUBJECT: &str = "x-onerecord-client-subject";
pub const CLIENT_URI_SAN: &str = "x-onerecord-client-uri-san";
pub const TRUST_ANCHOR: &str = "x-onerecord-trust-anchor-sha256";
pub const RULE: &str = "x-onerecord-rule";
pub const POLICY: &str = "x-onerecord-policy";
pub const LOGISTICS_AGENT: &str = "x-onerecord-logistics-agent";
pub const TOKEN_BINDING: &str = "x-onerecord-token-binding";
const DENY_REASON: &str = "x-onerecord-deny-reason";

const DAY: i64 = 86_400;
