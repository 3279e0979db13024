//! Starting and stopping the demo: the PKI, the backend and Envoy.

use super::{DemoFiles, DemoPki, Derivation, HTTP, Ports, derive_config, revocation};
use crate::backend;
use onerecord_tls_policy_testkit::crl_server::CrlServer;
use onerecord_tls_policy_testkit::envoy::{self, Envoy, Exited};
use onerecord_tls_policy_testkit::http::Response;
use onerecord_tls_policy_testkit::tempdir::TempDir;
use onerecord_tls_policy_testkit::upstream::Upstream;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::time::Duration;

/// Why the demo could not start.
#[derive(Debug)]
pub enum StartError {
    PortsBusy(Vec<u16>),
    Backend(SocketAddr, std::io::Error),
    CrlServer(SocketAddr, std::io::Error),
    Config(String),
    Envoy(Exited),
    /// The filter did not get the demo CA's first CRL in time.
    Crl(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::PortsBusy(ports) => {
                let list: Vec<String> = ports.iter().map(u16::to_string).collect();
                write!(
                    f,
                    "port(s) {} on 127.0.0.1 already in use (an earlier demo still \
                     running? `ss -ltnp` shows who listens). Free them, or use free ports \
                     instead: `make run DEMO_ARGS=--any-ports`.",
                    list.join(", ")
                )
            }
            StartError::Backend(addr, e) => {
                write!(f, "cannot start the demo backend on {addr}: {e}")
            }
            StartError::CrlServer(addr, e) => {
                write!(f, "cannot start the demo CRL server on {addr}: {e}")
            }
            StartError::Crl(e) => write!(f, "{e}"),
            StartError::Config(e) => write!(f, "cannot derive the demo configuration: {e}"),
            StartError::Envoy(exited) => write!(
                f,
                "Envoy exited during start ({}); log tail:\n{}",
                exited.status,
                envoy::tail(&exited.log, 30)
            ),
        }
    }
}

/// How long the filter may take to put the first CRL in force.
const CRL_IN_FORCE_WITHIN: Duration = Duration::from_secs(15);

/// A running demo: Envoy with the filter, in front of the ONE Record backend.
pub struct Demo {
    // First, so it is dropped first: Envoy stops before its backend.
    pub(super) envoy: Envoy,
    backend: Upstream,
    pub(super) crl: CrlServer,
    pub(super) pki: DemoPki,
    pub files: DemoFiles,
    pub pinned_sha256: String,
    pub client_sha256: String,
    pub dir: PathBuf,
    pub config: PathBuf,
}

impl Demo {
    /// Generates the PKI into `dir`, starts the backend and Envoy, and
    /// returns once Envoy serves on every listener.
    pub fn start(ports: Ports, dir: TempDir) -> Result<Demo, StartError> {
        let busy = ports.busy();
        if !busy.is_empty() {
            return Err(StartError::PortsBusy(busy));
        }
        let pki = DemoPki::generate();
        let files = pki.write(dir.path());
        let backend_addr = SocketAddr::from(([127, 0, 0, 1], ports.backend));
        let backend = Upstream::serve(backend_addr, Arc::new(backend::answer))
            .map_err(|e| StartError::Backend(backend_addr, e))?;
        let crl_addr = SocketAddr::from(([127, 0, 0, 1], ports.crl));
        let crl = CrlServer::start_on(crl_addr).map_err(|e| StartError::CrlServer(crl_addr, e))?;
        crl.serve(&revocation::initial_crl(&pki.intermediate).der);
        let example_path = onerecord_tls_policy_testkit::repo_root().join("envoy/envoy.yaml");
        let example = std::fs::read_to_string(&example_path)
            .map_err(|e| StartError::Config(format!("read {}: {e}", example_path.display())))?;
        let pinned_sha256 = pki.root.sha256_hex();
        let derived = derive_config(
            &example,
            &Derivation {
                dir: dir.path(),
                wasm: &envoy::wasm(),
                ports,
                backend: backend.addr(),
                pinned_sha256: &pinned_sha256,
                pinned_pem: &pki.root.pem(),
                jwks: &pki.token_issuer.jwks().to_string(),
                crl_server: crl.addr(),
                crl_signer_pem: &pki.intermediate.pem(),
            },
        )
        .map_err(StartError::Config)?;
        let config = dir.write("envoy.yaml", derived);
        let dir_path = dir.path().to_path_buf();
        let envoy = Envoy::start_file(dir, &config).map_err(StartError::Envoy)?;
        let demo = Demo {
            envoy,
            backend,
            crl,
            client_sha256: pki.client.sha256_hex(),
            pki,
            files,
            pinned_sha256,
            dir: dir_path,
            config,
        };
        demo.wait_for_initial_crl(CRL_IN_FORCE_WITHIN)
            .map_err(StartError::Crl)?;
        Ok(demo)
    }

    /// `https://localhost:<port><path>` of a listener (`http://` for plaintext).
    pub fn url(&self, listener: &str, path: &str) -> String {
        let scheme = if listener == HTTP { "http" } else { "https" };
        let port = self.envoy.listener(listener).port();
        format!("{scheme}://localhost:{port}{path}")
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.envoy.admin_addr().port())
    }

    pub fn admin_get(&self, path: &str) -> Response {
        self.envoy.admin_get(path)
    }

    pub fn backend_addr(&self) -> SocketAddr {
        self.backend.addr()
    }

    pub fn envoy_pid(&self) -> u32 {
        self.envoy.pid()
    }

    pub fn envoy_log(&self) -> PathBuf {
        self.dir.join("envoy.log")
    }

    pub fn envoy_log_tail(&self, lines: usize) -> String {
        self.envoy.log_tail(lines)
    }

    /// Envoy's exit status, if it stopped by itself.
    pub fn envoy_exited(&mut self) -> Option<ExitStatus> {
        self.envoy.exited()
    }

    pub fn crl_addr(&self) -> SocketAddr {
        self.crl.addr()
    }

    /// Stops Envoy, then the backend and the CRL server.
    pub fn stop(self) -> Option<ExitStatus> {
        let Demo {
            envoy,
            backend,
            crl,
            ..
        } = self;
        let status = envoy.stop();
        drop(backend);
        drop(crl);
        status
    }
}

/// A path as the user would type it: relative to the current directory
/// when it is inside it.
pub fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// `1.40.0` from `envoy --version`.
pub fn envoy_version() -> Option<String> {
    let out = Command::new(envoy::binary())
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split("version:")
        .nth(1)?
        .split('/')
        .nth(1)
        .map(|v| v.trim().to_string())
}
