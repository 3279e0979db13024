//! The load generator: oha, presenting the client certificate over
//! keep-alive HTTP/1.1 (or HTTP/2) connections, in its own process group.

use crate::cpu;
use crate::support::process::Group;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long oha may overrun its own `-z` before it is killed.
const OVERRUN: Duration = Duration::from_secs(30);

pub struct Oha {
    pub bin: PathBuf,
    /// Client certificate chain (leaf, then intermediate) and key.
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The server's root, so the server is verified as a real client would.
    pub ca: PathBuf,
    /// Where oha's JSON report goes.
    pub scratch: PathBuf,
    pub cpu: usize,
    pub home_cpu: usize,
}

pub struct Load {
    pub url: String,
    pub duration: Duration,
    pub connections: u32,
    /// Requests per second overall; `None` is as fast as possible.
    pub rate: Option<u32>,
    /// The `authorization` header every request carries, if any.
    pub authorization: Option<String>,
    /// HTTP/2 with this many concurrent streams per connection; `None` is HTTP/1.1.
    pub http2_streams: Option<u32>,
}

#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    pub rps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// What oha counted as other than a 200: errors and other statuses.
    pub failed: u64,
}

impl Oha {
    pub fn version(&self) -> String {
        Command::new(&self.bin)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_else(|e| format!("unknown ({e})"))
    }

    pub fn run(&self, load: &Load) -> Result<Outcome, String> {
        let report = self.scratch.join("oha.json");
        let _ = std::fs::remove_file(&report);
        let out = std::fs::File::create(&report).map_err(|e| e.to_string())?;
        let err = std::fs::File::create(self.scratch.join("oha.err")).map_err(|e| e.to_string())?;
        let mut command = Command::new(&self.bin);
        command
            .args(["--no-tui", "--output-format", "json", "--ipv4"])
            // Requests in flight at the deadline finish and count, not fail.
            .arg("--wait-ongoing-requests-after-deadline")
            .args(["-z", &format!("{}ms", load.duration.as_millis())])
            .args(["-c", &load.connections.to_string()])
            .arg("--cert")
            .arg(&self.cert)
            .arg("--key")
            .arg(&self.key)
            .arg("--cacert")
            .arg(&self.ca)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        if let Some(rate) = load.rate {
            // Latencies from the intended send times, so a stall is not hidden.
            command
                .args(["-q", &rate.to_string()])
                .arg("--latency-correction");
        }
        if let Some(streams) = load.http2_streams {
            command.arg("--http2").args(["-p", &streams.to_string()]);
        }
        if let Some(value) = &load.authorization {
            command.args(["-H", &format!("authorization: {value}")]);
        }
        command.arg(&load.url);
        let mut group = cpu::on_cpu(self.cpu, self.home_cpu, || Group::spawn(command))
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("cannot start {}: {e}", self.bin.display()))?;
        let status = group.wait_timeout(load.duration + OVERRUN);
        let status = match status {
            Some(status) => status,
            None => {
                group.stop(Duration::from_secs(2));
                return Err(format!(
                    "oha did not finish within {:?}",
                    load.duration + OVERRUN
                ));
            }
        };
        let text = std::fs::read_to_string(&report).map_err(|e| e.to_string())?;
        if !status.success() {
            let err = std::fs::read_to_string(self.scratch.join("oha.err")).unwrap_or_default();
            return Err(format!(
                "oha exited with {status}: {}{}",
                shorten(&err),
                shorten(&text)
            ));
        }
        parse(&text).map_err(|e| format!("{e}; oha printed: {}", shorten(&text)))
    }
}

fn parse(text: &str) -> Result<Outcome, String> {
    let json: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let number = |v: &Value, what: &str| {
        v.as_f64()
            .ok_or_else(|| format!("no {what} in oha's report"))
    };
    let summary = &json["summary"];
    let percentiles = &json["latencyPercentiles"];
    let count = |v: &Value| -> u64 {
        v.as_object()
            .map(|m| m.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0)
    };
    let statuses = json["statusCodeDistribution"].as_object();
    let ok = statuses
        .and_then(|m| m.get("200"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let failed = count(&json["statusCodeDistribution"]) - ok + count(&json["errorDistribution"]);
    Ok(Outcome {
        rps: number(&summary["requestsPerSec"], "requestsPerSec")?,
        p50_us: number(&percentiles["p50"], "p50")? * 1e6,
        p99_us: number(&percentiles["p99"], "p99")? * 1e6,
        failed,
    })
}

fn shorten(text: &str) -> &str {
    &text[..text.len().min(600)]
}

/// `oha` next to the repository's other tools unless `$OHA` says otherwise.
pub fn locate(repo: &Path) -> PathBuf {
    match std::env::var_os("OHA") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo.join(".cache/tools/bin/oha"),
    }
}
