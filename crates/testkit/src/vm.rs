//! Whether Envoy's wasm VMs ran the filter without failing. A trap in the
//! filter (a Rust panic is one) puts the VM in a failed state: Envoy 1.40
//! logs `[error][wasm] ... Function: proxy_on_request_headers failed:
//! Uncaught RuntimeError: unreachable`, and with FAIL_CLOSED answers every
//! later request with a 503. No counter names the failure itself (the
//! `vm_reload*` ones move only under FAIL_RELOAD), and `created`/`active`
//! stay as they were; they change when a VM is created or replaced, which
//! outside start-up and configuration changes means something went wrong.

use super::envoy::Envoy;
use std::collections::BTreeMap;

/// Every `/stats` line of the form `name: <integer>` (histograms and text
/// values are left out).
pub fn counters(envoy: &Envoy) -> BTreeMap<String, u64> {
    envoy
        .admin_get("/stats")
        .text()
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once(": ")?;
            Some((name.to_string(), value.trim().parse().ok()?))
        })
        .collect()
}

/// The sum of every counter whose name ends with `suffix` (listeners bound to
/// port 0 share one stats prefix, so sums are what is meaningful).
pub fn sum_suffix(counters: &BTreeMap<String, u64>, suffix: &str) -> u64 {
    counters
        .iter()
        .filter(|(name, _)| name.ends_with(suffix))
        .map(|(_, value)| value)
        .sum()
}

/// The VM-related numbers Envoy reports, read at one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmHealth {
    /// `wasm.envoy.wasm.runtime.v8.created`: VMs ever created (and cloned).
    pub created: u64,
    /// `wasm.envoy.wasm.runtime.v8.active`.
    pub active: u64,
    /// `wasm.wasm_vm_count` (Envoy 1.40; 1.36 does not have it).
    pub vm_count: Option<u64>,
    /// `wasm.<plugin>.vm_reload*`: reloads of a failed VM (FAIL_RELOAD only,
    /// but a non-zero value means a VM failed whatever the policy).
    pub reloads: u64,
    /// `http.*.downstream_rq_5xx`: a failed VM answers 503 under FAIL_CLOSED.
    pub responses_5xx: u64,
}

impl VmHealth {
    pub fn read(envoy: &Envoy) -> VmHealth {
        let all = counters(envoy);
        let get = |name: &str| {
            *all.get(name)
                .unwrap_or_else(|| panic!("Envoy reports no {name}; wasm stats: {:#?}", wasm(&all)))
        };
        VmHealth {
            created: get("wasm.envoy.wasm.runtime.v8.created"),
            active: get("wasm.envoy.wasm.runtime.v8.active"),
            vm_count: all.get("wasm.wasm_vm_count").copied(),
            reloads: all
                .iter()
                .filter(|(name, _)| name.starts_with("wasm.") && name.contains(".vm_reload"))
                .map(|(_, value)| value)
                .sum(),
            responses_5xx: all
                .iter()
                .filter(|(name, _)| {
                    name.starts_with("http.") && name.ends_with(".downstream_rq_5xx")
                })
                .map(|(_, value)| value)
                .sum(),
        }
    }
}

fn wasm(all: &BTreeMap<String, u64>) -> BTreeMap<&String, &u64> {
    all.iter().filter(|(n, _)| n.starts_with("wasm")).collect()
}

/// Lines in which Envoy (not the filter's own logging, which Envoy prefixes
/// with `wasm log`) reports an error on its `wasm` logger, i.e. a VM
/// failure, and any panic message the filter printed.
pub fn vm_failure_lines(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| {
            let vm_error = (line.contains("][error][wasm]") || line.contains("][critical][wasm]"))
                && !line.contains("wasm log ");
            vm_error || (line.contains("wasm log ") && line.contains("panicked"))
        })
        .collect()
}

/// The VMs Envoy had at `baseline` still run: none created or lost since,
/// no reload of a failed VM, no 5xx answer, and no VM failure in the log.
pub fn assert_vm_intact(envoy: &Envoy, baseline: &VmHealth) {
    let now = VmHealth::read(envoy);
    let log = envoy.log();
    let failures = vm_failure_lines(&log);
    assert!(
        now == *baseline && failures.is_empty(),
        "the wasm VM failed or was replaced: before {baseline:?}, now {now:?}; \
         VM failures logged: {failures:#?}\nlog tail:\n{}",
        envoy.log_tail(30)
    );
}
