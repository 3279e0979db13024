//! Envoy counters for verdicts, full client-chain verifications and
//! configuration loads, by id. Their names are made in the core
//! ([`effects::metrics`](crate::effects::metrics)). Every counter is defined
//! when a configuration loads; a request only looks up an id.

use super::{Host, HostError};
use crate::config::{Config, Mode, NO_RULE};
use crate::decision::{ChainVerification, Decision};
use crate::effects::Outcome;
use crate::effects::metrics::{EXPIRING_CLIENTS, EXPIRING_CRLS, VERDICT_CACHE_EVICTIONS};
use crate::fingerprint::Fingerprint;
use crate::reason::Reason;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::binding::BindingResult;
pub use crate::effects::metrics::{
    ALLOWED, AUDIT_DENIED, CHAIN_VERIFICATIONS, CONFIG_FAILURES, CONFIG_LOADS, DENIED, PREFIX,
    STATS_TAGS, TOKEN_BINDINGS, TRUSTED_PROXY_REQUESTS, binding_counter_name, binding_results,
    chain_failures, counter_name, verification_counter_name,
};

const REASONS: usize = Reason::ALL.len();

/// A failing increment is an operator's problem, not per-request news.
static INCREMENT_FAILURE_LOGGED: AtomicBool = AtomicBool::new(false);

/// The counter ids of one rule, or of "no rule matched". Indexed by
/// `Reason as usize`, which follows `Reason::ALL`.
#[derive(Clone, Debug, Default)]
struct RuleCounters {
    allowed: Option<u32>,
    denied: [Option<u32>; REASONS],
    /// Defined in audit mode only: enforce mode never forwards a denial.
    audit_denied: [Option<u32>; REASONS],
    /// Requests whose verified path, or its CRL, ends within `expiry_warning_days`.
    expiring_clients: Option<u32>,
    expiring_crls: Option<u32>,
}

impl RuleCounters {
    fn id(&self, outcome: Outcome) -> Option<u32> {
        match outcome {
            Outcome::Allowed => self.allowed,
            Outcome::Denied(reason) => self.denied.get(reason as usize).copied().flatten(),
            Outcome::AuditDenied(reason) => {
                self.audit_denied.get(reason as usize).copied().flatten()
            }
        }
    }
}

/// The counters of one configuration.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    no_rule: RuleCounters,
    by_rule: HashMap<String, RuleCounters>,
    /// `verified` first, then [`chain_failures`] in order.
    verifications: Vec<(ChainVerification, Option<u32>)>,
    /// Defined when `trusted_proxies` is configured.
    trusted_proxy: Option<u32>,
    /// Token binding results; defined only where a rule binds the token.
    bindings: Vec<(BindingResult, Option<u32>)>,
    verdict_cache_evictions: Option<u32>,
}

impl Metrics {
    /// Defines every counter `config` can increment. One that cannot be
    /// defined is left out, with one log line: metrics never decide whether
    /// a configuration loads.
    pub fn define(host: &mut dyn Host, config: &Config) -> Metrics {
        let mut definer = Definer {
            host,
            audit: config.mode == Mode::Audit,
            failures: 0,
            last_error: None,
        };
        let no_rule = definer.rule(NO_RULE);
        let by_rule = config
            .rules
            .iter()
            .map(|rule| (rule.name.clone(), definer.rule(&rule.name)))
            .collect();
        let verifications = std::iter::once(ChainVerification::Verified)
            .chain(chain_failures().map(ChainVerification::Failed))
            .map(|v| (v, definer.define(&verification_counter_name(v))))
            .collect();
        let trusted_proxy = match config.trusted_proxies {
            Some(_) => definer.define(TRUSTED_PROXY_REQUESTS),
            None => None,
        };
        let bindings = if config.binds_any_token() {
            binding_results()
                .map(|b| (b, definer.define(&binding_counter_name(b))))
                .collect()
        } else {
            Vec::new()
        };
        let verdict_cache_evictions = definer.define(VERDICT_CACHE_EVICTIONS);
        if let Some(e) = definer.last_error {
            log::error!(
                "onerecord-tls-policy: {} counters could not be defined ({}); they will not count",
                definer.failures,
                e.0
            );
        }
        Metrics {
            no_rule,
            by_rule,
            verifications,
            trusted_proxy,
            bindings,
            verdict_cache_evictions,
        }
    }

    /// Adds one to the requests whose facts a trusted proxy reported.
    pub fn count_trusted_proxy(&self, host: &mut dyn Host) {
        increment(host, self.trusted_proxy);
    }

    /// Adds one to the counter of `outcome` on `rule`: two lookups, no
    /// formatting. A failure is logged once and changes nothing else.
    pub fn count(&self, host: &mut dyn Host, outcome: Outcome, rule: Option<&str>) {
        let counters = match rule {
            None => Some(&self.no_rule),
            Some(name) => self.by_rule.get(name),
        };
        increment(host, counters.and_then(|c| c.id(outcome)));
    }

    /// Counts a verified client whose path, or whose CRL, ends soon.
    pub fn count_expiring(&self, host: &mut dyn Host, decision: &Decision) {
        let counters = match decision.rule.as_deref() {
            None => Some(&self.no_rule),
            Some(name) => self.by_rule.get(name),
        };
        let Some(counters) = counters else {
            return;
        };
        if decision.expiring.certificate {
            increment(host, counters.expiring_clients);
        }
        if decision.expiring.crl {
            increment(host, counters.expiring_crls);
        }
    }

    /// Adds one to the counter of a full chain verification's result.
    pub fn count_verification(&self, host: &mut dyn Host, verification: ChainVerification) {
        let id = self
            .verifications
            .iter()
            .find(|(v, _)| *v == verification)
            .and_then(|(_, id)| *id);
        increment(host, id);
    }
}

impl Metrics {
    /// Adds one to the counter of a token binding's result.
    pub fn count_binding(&self, host: &mut dyn Host, result: BindingResult) {
        let id = self
            .bindings
            .iter()
            .find(|(b, _)| *b == result)
            .and_then(|(_, id)| *id);
        increment(host, id);
    }
}

impl Metrics {
    /// Adds `evictions` to the verdict cache's evictions: 0 on almost every
    /// request (no hostcall), 1 when its verdict pushed another out.
    pub fn count_evictions(&self, host: &mut dyn Host, evictions: u64) {
        for _ in 0..evictions {
            increment(host, self.verdict_cache_evictions);
        }
    }
}

/// A failure is logged once and changes nothing else.
fn increment(host: &mut dyn Host, id: Option<u32>) {
    let Some(id) = id else {
        return;
    };
    if let Err(e) = host.increment_counter(id)
        && !INCREMENT_FAILURE_LOGGED.swap(true, Ordering::Relaxed)
    {
        log::error!(
            "onerecord-tls-policy: cannot count a request ({}); verdicts are unaffected, further failures are not logged",
            e.0
        );
    }
}

struct Definer<'a> {
    host: &'a mut dyn Host,
    audit: bool,
    failures: usize,
    last_error: Option<HostError>,
}

impl Definer<'_> {
    fn rule(&mut self, rule: &str) -> RuleCounters {
        let mut counters = RuleCounters {
            allowed: self.define(&counter_name(ALLOWED, None, rule)),
            expiring_clients: self.define(&counter_name(EXPIRING_CLIENTS, None, rule)),
            expiring_crls: self.define(&counter_name(EXPIRING_CRLS, None, rule)),
            ..RuleCounters::default()
        };
        for (slot, reason) in counters.denied.iter_mut().zip(Reason::ALL) {
            *slot = self.define(&counter_name(DENIED, Some(reason), rule));
        }
        if self.audit {
            for (slot, reason) in counters.audit_denied.iter_mut().zip(Reason::ALL) {
                *slot = self.define(&counter_name(AUDIT_DENIED, Some(reason), rule));
            }
        }
        counters
    }

    fn define(&mut self, name: &str) -> Option<u32> {
        match self.host.define_counter(name) {
            Ok(id) => Some(id),
            Err(e) => {
                self.failures += 1;
                self.last_error = Some(e);
                None
            }
        }
    }
}

/// Counts a configuration that loaded, once per Envoy process: Envoy
/// configures every VM that runs it (a validation copy and one per thread),
/// so each VM counting would multiply loads by the thread count. A
/// configuration is known by the SHA-256 of its text; shared data remembers
/// which ones were counted.
pub fn count_load(host: &mut dyn Host, configuration: &[u8]) {
    let (loads, _) = define_configuration_counters(host);
    // Its SHA-256, computed as certificate fingerprints are.
    let key = format!(
        "{PREFIX}.loaded.{}",
        Fingerprint::of_der(configuration).to_hex()
    );
    match host.claim_shared(&key) {
        Ok(true) => {}
        Ok(false) => return,
        // Counting twice beats never showing a reload.
        Err(e) => log::error!(
            "onerecord-tls-policy: cannot tell whether this configuration was counted ({})",
            e.0
        ),
    }
    increment_configuration_counter(host, loads, "load");
}

/// Counts a configuration that was refused. Only Envoy's validation copy
/// sees a refusal (Envoy then rejects the configuration), so each refused
/// attempt counts once.
pub fn count_failure(host: &mut dyn Host) {
    let (_, failures) = define_configuration_counters(host);
    increment_configuration_counter(host, failures, "failure");
}

/// Both are defined every time, so that a count of zero shows too.
fn define_configuration_counters(
    host: &mut dyn Host,
) -> (Result<u32, HostError>, Result<u32, HostError>) {
    (
        host.define_counter(CONFIG_LOADS),
        host.define_counter(CONFIG_FAILURES),
    )
}

fn increment_configuration_counter(host: &mut dyn Host, id: Result<u32, HostError>, what: &str) {
    if let Err(e) = id.and_then(|id| host.increment_counter(id)) {
        log::error!(
            "onerecord-tls-policy: cannot count the configuration {what} ({})",
            e.0
        );
    }
}

#[cfg(test)]
mod tests;
