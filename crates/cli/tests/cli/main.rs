//! The operator CLI (`crates/cli`), run as a built binary
//! against generated PKIs: fingerprints, configuration checks, and `explain`,
//! whose verdict must be the one `Policy::decide` gives for the same facts.

// Test code: it may unwrap and panic (the workspace lints are for the shipped crates).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod check_config;
mod crl;
mod decide_parity;
mod explain;
mod explain_output;
mod explain_rules;
mod fingerprint;
mod limbo;
mod ocsp;
mod token_binding;

use onerecord_tls_policy_testkit::pinned::{Pki, pki_with_leaf};
use onerecord_tls_policy_testkit::pki::{CertSpec, Issued, pem_bundle};
use onerecord_tls_policy_testkit::tempdir::TempDir;
use openssl::hash::MessageDigest;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_onerecord-tls-policy");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(BIN).args(args).output().unwrap();
    Run {
        code: status.code().expect("exit code"),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The unit tests' pinned PKI (root → intermediate → client-1, and a
/// foreign root with its client), the leaf with a DNS SAN too.
fn pki() -> Pki {
    pki_with_leaf(CertSpec::client("client-1").dns_sans(&["client-1.example.com"]))
}

/// A configuration pinning `root`, requiring mTLS under `/access-delegations`.
fn config_pinning(root: &Issued, extra: &str) -> String {
    format!(
        r#"{{"trusted_ca_sha256":["{}"],"rules":[{{"name":"access-delegations","path_prefix":"/access-delegations","mtls":"required"}}]{extra}}}"#,
        root.sha256_hex()
    )
}

/// `openssl x509 -fingerprint -sha256`, from the openssl crate's digest.
fn openssl_fingerprint(cert: &Issued) -> String {
    let digest = cert.cert.digest(MessageDigest::sha256()).unwrap();
    digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `openssl x509 -fingerprint` output normalised to the config's form.
fn normalised(openssl: &str) -> String {
    openssl.replace(':', "").to_lowercase()
}

/// Files for one PKI: the configuration and chains, in a scratch directory.
struct Setup {
    dir: TempDir,
    config: PathBuf,
}

impl Setup {
    fn new(config: &str) -> Setup {
        let dir = TempDir::new("cli");
        let config = dir.write("config.json", config);
        Setup { dir, config }
    }

    fn chain(&self, name: &str, certs: &[&Issued]) -> PathBuf {
        self.dir.write(name, pem_bundle(certs))
    }

    fn explain(&self, chain: Option<&Path>, extra: &[&str]) -> Run {
        let mut args = vec!["explain", "--config", p(&self.config)];
        if let Some(chain) = chain {
            args.extend(["--chain", p(chain)]);
        }
        args.extend(extra);
        run(&args)
    }
}
