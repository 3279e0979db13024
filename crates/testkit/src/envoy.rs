//! Runs a real Envoy: finds the binary and the wasm, starts Envoy in its
//! own process group, waits until it serves, and stops it on drop.

use super::client::try_connect_plain;
use super::http::{Request, Response};
use super::process::Group;
use super::tempdir::TempDir;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Wasm compilation under parallel tests on a small machine takes a while.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The Envoy binary: `$ENVOY`, else the one `make envoy` fetches.
pub fn binary() -> PathBuf {
    locate(
        "ENVOY",
        ".cache/envoy-1.40.0/envoy/_bin/envoy",
        "Envoy binary",
    )
}

/// The filter: `$ONERECORD_WASM`, else the one `make build` writes.
pub fn wasm() -> PathBuf {
    locate(
        "ONERECORD_WASM",
        "target/wasm32-wasip1/release/onerecord_tls_policy.wasm",
        "filter wasm",
    )
}

fn locate(var: &str, default: &str, what: &str) -> PathBuf {
    let path = match std::env::var_os(var) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => crate::repo_root().join(default),
    };
    assert!(
        path.is_file(),
        "{what} not found at {} (set {var}, or run `make test`)",
        path.display()
    );
    path
}

/// An Envoy that exited by itself.
#[derive(Debug)]
pub struct Exited {
    pub status: ExitStatus,
    pub log: String,
}

pub struct Envoy {
    group: Group,
    log_path: PathBuf,
    admin: SocketAddr,
    listeners: BTreeMap<String, SocketAddr>,
    // Dropped after the process is gone, and kept if the test is failing.
    dir: TempDir,
}

impl Envoy {
    /// Writes `bootstrap` into `dir` and starts Envoy on it. Returns once the
    /// admin API reports LIVE and every listener is bound, or `Err` if Envoy
    /// exits first.
    pub fn start(dir: TempDir, bootstrap: &Value) -> Result<Envoy, Exited> {
        let config = dir.write(
            "bootstrap.yaml",
            serde_json::to_string_pretty(bootstrap).expect("bootstrap JSON"),
        );
        Envoy::start_file(dir, &config)
    }

    /// Starts Envoy on an existing bootstrap file; otherwise as `start`.
    pub fn start_file(dir: TempDir, config: &Path) -> Result<Envoy, Exited> {
        let mut envoy = Envoy::spawn(dir, config);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = envoy.group.try_wait() {
                return Err(Exited {
                    status,
                    log: envoy.log(),
                });
            }
            if envoy.poll_ready() {
                return Ok(envoy);
            }
            assert!(
                Instant::now() < deadline,
                "Envoy not ready after {START_TIMEOUT:?}; log:\n{}",
                envoy.log_tail(40)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts Envoy on a configuration it must refuse, and returns how it
    /// exited. Panics if Envoy comes up instead.
    pub fn start_expecting_exit(dir: TempDir, bootstrap: &Value) -> Exited {
        match Envoy::start(dir, bootstrap) {
            Err(exited) => exited,
            Ok(envoy) => panic!(
                "Envoy accepted the configuration and serves; log:\n{}",
                envoy.log_tail(40)
            ),
        }
    }

    fn spawn(dir: TempDir, config: &Path) -> Envoy {
        // A reused directory may hold the address of an earlier run.
        let _ = std::fs::remove_file(dir.join("admin-address"));
        let log_path = dir.join("envoy.log");
        let log = File::create(&log_path).expect("create envoy.log");
        let mut command = Command::new(binary());
        command
            .arg("-c")
            .arg(config)
            // Several Envoys run at once; no shared-memory hot restart between them.
            .arg("--disable-hot-restart")
            .args(["--concurrency", "1"])
            .args([
                "--log-level",
                &std::env::var("ENVOY_LOG_LEVEL").unwrap_or_else(|_| "info".into()),
            ])
            .arg("--admin-address-path")
            .arg(dir.join("admin-address"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log);
        let group = Group::spawn(command)
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary().display()));
        let unbound: SocketAddr = ([127, 0, 0, 1], 0).into();
        Envoy {
            group,
            log_path,
            admin: unbound,
            listeners: BTreeMap::new(),
            dir,
        }
    }

    /// One readiness probe: admin address known, `/ready` says LIVE, and
    /// `/listeners` lists every listener with its bound port.
    fn poll_ready(&mut self) -> bool {
        let Ok(text) = std::fs::read_to_string(self.dir.join("admin-address")) else {
            return false;
        };
        let Ok(admin) = text.trim().parse::<SocketAddr>() else {
            return false;
        };
        self.admin = admin;
        let Some(ready) = self.try_admin_get("/ready") else {
            return false;
        };
        if ready.status != 200 || ready.text().trim() != "LIVE" {
            return false;
        }
        let Some(listeners) = self.try_admin_get("/listeners?format=json") else {
            return false;
        };
        let Ok(listeners) = serde_json::from_slice::<Value>(&listeners.body) else {
            return false;
        };
        let mut bound = BTreeMap::new();
        for status in listeners["listener_statuses"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let socket = &status["local_address"]["socket_address"];
            let (Some(name), Some(ip), Some(port)) = (
                status["name"].as_str(),
                socket["address"].as_str(),
                socket["port_value"].as_u64(),
            ) else {
                return false;
            };
            let Ok(addr) = format!("{ip}:{port}").parse::<SocketAddr>() else {
                return false;
            };
            if port == 0 {
                return false;
            }
            bound.insert(name.to_string(), addr);
        }
        self.listeners = bound;
        !self.listeners.is_empty()
    }

    fn try_admin_get(&self, path: &str) -> Option<Response> {
        try_connect_plain(self.admin)
            .ok()?
            .send(&Request::get(path))
            .ok()
    }

    pub fn admin_get(&self, path: &str) -> Response {
        self.try_admin_get(path)
            .unwrap_or_else(|| panic!("admin GET {path} failed; log:\n{}", self.log_tail(40)))
    }

    /// POSTs to the admin API (`/logging`, `/healthcheck/fail` and others
    /// refuse GET).
    pub fn admin_post(&self, path: &str) -> Response {
        try_connect_plain(self.admin)
            .and_then(|mut conn| conn.send(&Request::post(path, b"")))
            .unwrap_or_else(|e| {
                panic!(
                    "admin POST {path} failed ({e}); log:\n{}",
                    self.log_tail(40)
                )
            })
    }

    /// Where the admin API listens.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
    }

    /// The bound address of listener `name`.
    pub fn listener(&self, name: &str) -> SocketAddr {
        *self
            .listeners
            .get(name)
            .unwrap_or_else(|| panic!("no listener {name:?}; have {:?}", self.listeners))
    }

    pub fn dir(&self) -> &TempDir {
        &self.dir
    }

    pub fn pid(&self) -> u32 {
        self.group.id()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log(), lines)
    }

    /// The exit status, if Envoy has exited by itself.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.group.try_wait()
    }

    /// Stops Envoy (SIGTERM, then SIGKILL) and returns its exit status.
    pub fn stop(mut self) -> Option<ExitStatus> {
        self.group.stop(Duration::from_secs(5))
    }
}

impl Drop for Envoy {
    fn drop(&mut self) {
        self.group.stop(Duration::from_secs(3));
        if std::thread::panicking() {
            eprintln!(
                "--- envoy log tail ({}) ---\n{}",
                self.log_path.display(),
                self.log_tail(40)
            );
        }
    }
}

/// Runs `envoy --mode validate` on `config`; returns the status and output.
pub fn validate(config: &Path) -> (ExitStatus, String) {
    let out = Command::new(binary())
        .args(["--mode", "validate", "--disable-hot-restart", "-c"])
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary().display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status, text)
}

pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
