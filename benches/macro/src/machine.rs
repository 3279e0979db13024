//! The machine the benchmark runs on: waiting for it to be quiet, what it
//! is, and where the built filters are.

use crate::load::Oha;
use crate::options::Options;
use crate::{STOP, cpu};
use onerecord_tls_policy_testkit as support;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use support::envoy;

/// Waits (up to `--quiet-wait`) for the 1-minute load average to drop below
/// `--quiet-load`; returns the load average it starts at.
pub(crate) fn wait_for_quiet(options: &Options) -> f64 {
    let deadline = Instant::now() + options.quiet_wait;
    loop {
        let load = cpu::load_average();
        if load < options.quiet_load || Instant::now() >= deadline || STOP.load(Ordering::SeqCst) {
            if load >= options.quiet_load {
                println!(
                    "load average {load:.2} ≥ {}; measuring anyway (noisy)",
                    options.quiet_load
                );
            }
            return load;
        }
        println!(
            "load average {load:.2}; waiting for < {} ...",
            options.quiet_load
        );
        std::thread::sleep(Duration::from_secs(15));
    }
}

pub(crate) struct Machine {
    pub(crate) cpus: usize,
    pub(crate) cpu_model: String,
    pub(crate) kernel: String,
    pub(crate) envoy: String,
    pub(crate) oha: String,
}

impl Machine {
    pub(crate) fn probe(oha: &Oha) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                let (key, value) = l.split_once(':')?;
                (key.trim() == "model name").then(|| value.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let version = Command::new(envoy::binary())
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        // "<path>  version: <commit>/1.40.0/Clean/RELEASE/BoringSSL"
        let envoy = version
            .split_once("version: ")
            .and_then(|(_, v)| v.split('/').nth(1))
            .map(str::to_string)
            .unwrap_or_else(|| version.trim().to_string());
        Machine {
            // Not available_parallelism(): this thread is pinned to one CPU.
            // SAFETY: sysconf only reads a system constant.
            cpus: unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(0) as usize,
            cpu_model,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_string(),
            envoy,
            oha: oha.version(),
        }
    }
}

/// `$VAR`, else the file in the no-op filter crate's target directory.
pub(crate) fn locate(repo: &Path, var: &str, file: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo
            .join("target/bench-noop/wasm32-wasip1/release")
            .join(file),
    }
}

pub(crate) fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}
