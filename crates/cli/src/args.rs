//! The command line: subcommands, options and their help text.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const EXIT_STATUS: &str = "\
Exit status:
  0  success (explain: the request is allowed)
  1  explain: the request is denied, in enforce or audit mode
  2  usage error, unreadable input or invalid configuration";

#[derive(Debug, Parser)]
#[command(
    name = "onerecord-tls-policy",
    version,
    about = "Operator tool for the ONE Record TLS policy filter: fingerprints, configuration \
             checks, and the filter's verdict for a given client",
    after_help = EXIT_STATUS
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the SHA-256 fingerprint of each certificate in a file, as
    /// `trusted_ca_sha256`, `revoked_sha256` and `allowed_clients.sha256` want it.
    #[command(after_help = EXIT_STATUS)]
    Fingerprint(FingerprintArgs),
    /// Validate a plugin configuration exactly as the filter does when Envoy loads it.
    #[command(after_help = EXIT_STATUS)]
    CheckConfig(CheckConfigArgs),
    /// Show the filter's decision for a request with the given TLS facts.
    ///
    /// Builds the facts Envoy would hand the filter for a client presenting
    /// --chain (its leaf as `connection.peer_certificate` with its SHA-256, and
    /// an `x-forwarded-client-cert` header with Hash, Cert, Chain, Subject, URI
    /// and DNS as Envoy writes them), runs the filter's own decision code and
    /// prints the verdict. Envoy's own handshake validation against its
    /// `trusted_ca` is not simulated.
    ///
    /// Exit status 0 means allowed; a deny exits 1, and so does an audit-deny
    /// (audit mode forwards the request, but the verdict is still a deny).
    #[command(after_help = EXIT_STATUS)]
    Explain(ExplainArgs),
    /// Run x509-limbo path-validation cases through the filter's decision code.
    ///
    /// Each case's trusted certificates are pinned (and given as
    /// `ca_certificates_pem`), its untrusted intermediates follow the leaf as
    /// the presented chain, and the filter decides at the case's validation
    /// time. Prints pass / wrong accept / wrong reject / skipped per namespace,
    /// and each mismatch with the reason. Exit status 1 when there is one.
    #[command(after_help = EXIT_STATUS)]
    Limbo(LimboArgs),
}

#[derive(Debug, Args)]
pub struct FingerprintArgs {
    /// PEM file with one or more certificates (a single DER certificate works too).
    pub file: PathBuf,
    /// Print `AB:CD:…` as `openssl x509 -fingerprint -sha256` does (the filter accepts both).
    #[arg(long)]
    pub colons: bool,
}

#[derive(Debug, Args)]
pub struct CheckConfigArgs {
    /// The plugin configuration: the JSON given to the filter in Envoy's
    /// `configuration` StringValue.
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The plugin configuration (JSON).
    #[arg(long, value_name = "CONFIG.json")]
    pub config: PathBuf,
    /// The certificate chain the client presents, leaf first (PEM). Without it
    /// the request carries no client certificate.
    #[arg(long, value_name = "CHAIN.pem")]
    pub chain: Option<PathBuf>,
    /// The request path (`:path`, a query string is allowed).
    #[arg(long, default_value = "/")]
    pub path: String,
    /// The request method.
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// The TLS version Envoy reports (`TLSv1`, `TLSv1.1`, `TLSv1.2`, `TLSv1.3`).
    #[arg(long, value_name = "VERSION", default_value = "TLSv1.3")]
    pub tls_version: String,
    /// The request arrives over plaintext (no TLS at all).
    #[arg(long, conflicts_with_all = ["tls_version", "chain"])]
    pub plaintext: bool,
    /// The route's `filter_metadata.onerecord_tls_policy.mtls` value, if the
    /// route sets one (`required` or `optional`; anything else denies).
    #[arg(long, value_name = "VALUE")]
    pub route_mtls: Option<String>,
    /// The time of the request, RFC 3339 (`2030-01-01T00:00:00Z`,
    /// `2030-01-01T02:00:00+02:00`). Default: now.
    #[arg(long, value_name = "RFC3339", value_parser = onerecord_tls_policy_core::rfc3339::parse_rfc3339)]
    pub at: Option<u64>,
    /// The verified token payload (JSON), as Envoy's `jwt_authn` would keep
    /// it in dynamic metadata. Without it the request has no token.
    #[arg(long, value_name = "PAYLOAD.json")]
    pub token_payload: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// A CRL to apply (PEM `X509 CRL` blocks or DER), as the filter applies
    /// a CRL its sources fetch; repeatable.
    #[arg(long = "crl", value_name = "CRL")]
    pub crls: Vec<PathBuf>,
    /// A stored OCSP response (DER), checked as the filter checks a
    /// responder's answer for the client's certificates (repeatable).
    #[arg(long = "ocsp-response", value_name = "FILE")]
    pub ocsp_responses: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LimboArgs {
    /// limbo JSON files (`limbo.json`, or a client-role file such as `limbo-clientauth.json`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Read SERVER cases as client-certificate questions (a file whose roles
    /// were exchanged); implied for files whose name contains `clientauth`.
    #[arg(long)]
    pub client_role: bool,
    /// List skipped cases with why.
    #[arg(long)]
    pub verbose: bool,
    /// The configuration's `x509_profile` for every case.
    #[arg(long, value_name = "PROFILE", default_value = "strict", value_parser = ["strict", "compatible"])]
    pub x509_profile: String,
}
