//! One loaded configuration: the policy, what its requests remember, and
//! its counters. [`configure`] builds it and counts the load; each request
//! then goes through [`Plugin::on_request_headers`], which decides, applies
//! and reports, and, when it has trailers, [`Plugin::on_request_trailers`].

use super::crl_fetch::CrlFetcher;
use super::metrics::{self, Metrics};
use super::ocsp_ask::{Asking, OcspAsker};
use super::{Action, Host, HostError, Outcome, access_log, request, trailers};
use crate::config::Config;
use crate::decision::{Decision, FactsSource};
use crate::effects::Plan;
use crate::policy::Policy;
use crate::state::State;

pub struct Plugin {
    policy: Policy,
    /// The verdicts and the connection memo; this plugin's alone.
    state: State,
    metrics: Metrics,
    /// `crl_sources`: what this VM fetches and applies.
    fetcher: CrlFetcher,
    /// `ocsp`: the queries, refreshes and their counters.
    ocsp: OcspAsker,
    /// The verdict cache's evictions counted so far.
    evictions_counted: u64,
}

/// A request's headers as handled: decided, or waiting for OCSP answers.
// Returned once per request and matched at once: boxing would only add an
// allocation to every request.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Headers {
    Done(Action, Outcome, Option<Forwarded>),
    /// Paused: these queries are under way.
    Waiting(Vec<Asking>),
}

/// The plugin for a configuration, or `None` (logged) when it must be
/// refused. Either way the load or failure is counted.
pub fn configure(host: &mut dyn Host, configuration: Result<Vec<u8>, HostError>) -> Option<Plugin> {
    let bytes = match configuration {
        Ok(bytes) => bytes,
        Err(e) => {
            log::error!(
                "onerecord-tls-policy: cannot read the plugin configuration: {}",
                e.0
            );
            metrics::count_failure(host);
            return None;
        }
    };
    let plugin = load(host, &bytes);
    match plugin {
        Some(_) => metrics::count_load(host, &bytes),
        None => metrics::count_failure(host),
    }
    plugin
}

fn load(host: &mut dyn Host, bytes: &[u8]) -> Option<Plugin> {
    match Config::parse(bytes) {
        Ok(config) => {
            log::info!(
                "onerecord-tls-policy: configuration loaded (mode={:?}, min_tls_version={}, rules={}, trusted CAs={})",
                config.mode,
                config.min_tls_version.as_str(),
                config.rules.len(),
                config.trust.trusted_ca_sha256.len()
            );
            let metrics = Metrics::define(host, &config);
            let fetcher = CrlFetcher::new(host, &config);
            let ocsp = OcspAsker::new(host, &config);
            let policy = Policy::new(config);
            Some(Plugin {
                state: policy.new_state(),
                policy,
                metrics,
                fetcher,
                ocsp,
                evictions_counted: 0,
            })
        }
        Err(e) => {
            log::error!("onerecord-tls-policy: {e}");
            None
        }
    }
}

impl Plugin {
    /// Decides and applies (see [`request::on_request_headers`]), then counts
    /// the outcome (and a full chain verification, when one ran) and sets the
    /// access-log property. Neither report can change the outcome.
    pub fn on_request_headers(&mut self, host: &mut dyn Host) -> (Action, Outcome) {
        let (action, outcome, _) = self.on_request_headers_keeping(host);
        (action, outcome)
    }

    /// As [`Plugin::on_request_headers`], and for a forwarded request also
    /// what its trailers are later checked with.
    pub fn on_request_headers_keeping(
        &mut self,
        host: &mut dyn Host,
    ) -> (Action, Outcome, Option<Forwarded>) {
        let (plan, ocsp) = request::on_request_headers_noting(host, &self.policy, &mut self.state);
        self.ocsp.note(host, &ocsp);
        self.finish(host, plan)
    }

    /// As [`Plugin::on_request_headers_keeping`], unless the OCSP cache
    /// cannot answer for the client: then the responders are asked and the
    /// request waits for [`Plugin::on_ocsp_response`].
    pub fn on_request_headers_asking(&mut self, host: &mut dyn Host) -> Headers {
        if self.ocsp.is_on() {
            match request::on_request_headers_or_ask(host, &self.policy, &mut self.state) {
                Ok((plan, ocsp)) => {
                    self.ocsp.note(host, &ocsp);
                    let (action, outcome, forwarded) = self.finish(host, plan);
                    return Headers::Done(action, outcome, forwarded);
                }
                Err(queries) => {
                    let now = host.now_unix().unwrap_or(0);
                    let asking = self
                        .ocsp
                        .ask_pausing(host, &queries, &mut self.state.ocsp, now);
                    if !asking.is_empty() {
                        return Headers::Waiting(asking);
                    }
                    // Nothing could be sent: the failures are cached.
                }
            }
        }
        let (action, outcome, forwarded) = self.on_request_headers_keeping(host);
        Headers::Done(action, outcome, forwarded)
    }

    /// An answer (`status` `None`: the call failed or timed out) for a
    /// request waiting on `waiting`. When it was the last, the request is
    /// decided again, resumed when forwarded, and its result returned;
    /// an answer that is none of `waiting`'s changes nothing. Trailers that
    /// arrived meanwhile (`had_trailers`) are stripped before the resume.
    pub fn on_ocsp_response(
        &mut self,
        host: &mut dyn Host,
        waiting: &mut Vec<Asking>,
        answer: (u32, Option<u32>, &[u8]),
        had_trailers: bool,
    ) -> Option<(Action, Option<Forwarded>)> {
        let (token, status, body) = answer;
        let index = waiting.iter().position(|a| a.token == token)?;
        let asking = waiting.swap_remove(index);
        let now = host.now_unix().unwrap_or(0);
        self.ocsp
            .answered(host, &asking, status, body, &mut self.state.ocsp, now);
        if !waiting.is_empty() {
            return None;
        }
        let (mut action, _, forwarded) = self.on_request_headers_keeping(host);
        if had_trailers && let Some(forwarded) = &forwarded {
            action = self.on_request_trailers(host, forwarded);
        }
        if action == Action::Continue
            && let Err(e) = host.resume_request()
        {
            log::error!("onerecord-tls-policy: cannot resume the request: {}", e.0);
        }
        Some((action, forwarded))
    }

    fn finish(&mut self, host: &mut dyn Host, plan: Plan) -> (Action, Outcome, Option<Forwarded>) {
        let evictions = self.state.stats().evictions;
        self.metrics
            .count_evictions(host, evictions.saturating_sub(self.evictions_counted));
        self.evictions_counted = evictions;
        // Once per request: the trailers phase reports its verdict again.
        if let Some(binding) = plan.decision.token_binding {
            self.metrics.count_binding(host, binding);
        }
        self.report(host, &plan);
        let action = Action::after(&plan);
        let forwarded = (action == Action::Continue).then_some(Forwarded {
            decision: plan.decision,
        });
        (action, plan.outcome, forwarded)
    }

    /// Strips forged annotations from the trailers of a request its headers
    /// phase forwarded. When that fails the request is denied, counted
    /// (it was counted at its headers too) and logged as denied.
    pub fn on_request_trailers(&self, host: &mut dyn Host, forwarded: &Forwarded) -> Action {
        match trailers::on_request_trailers(host, &self.policy, &forwarded.decision) {
            None => Action::Continue,
            Some(denied) => {
                self.report(host, &denied);
                Action::Pause
            }
        }
    }

    /// The plan's counters (the chain verification first, then the
    /// verdict), then its access-log value.
    fn report(&self, host: &mut dyn Host, plan: &Plan) {
        if let Some(verification) = plan.chain_verification {
            self.metrics.count_verification(host, verification);
        }
        self.metrics
            .count(host, plan.outcome, plan.decision.rule.as_deref());
        if plan.decision.facts_from == FactsSource::TrustedProxy {
            self.metrics.count_trusted_proxy(host);
        }
        self.metrics.count_expiring(host, &plan.decision);
        if self.policy.config.access_log_filter_state {
            access_log::record_value(host, plan.access_log());
        }
    }

    /// Whether the root context must tick (CRL sources are configured, or
    /// OCSP is on).
    pub fn needs_ticks(&self) -> bool {
        !self.fetcher.is_empty() || self.ocsp.is_on()
    }

    /// The root context's tick: CRL sources fetched and shared, OCSP
    /// refreshes sent.
    pub fn on_tick(&mut self, host: &mut dyn Host) {
        if let Ok(now) = host.now_unix() {
            self.fetcher.on_tick(host, &mut self.state.revocation, now);
            self.ocsp.on_tick(host, &mut self.state.ocsp, now);
        }
    }

    /// The response to an HTTP call the root context made (`status`
    /// `None`: the call failed); `false` when it was not this plugin's.
    pub fn on_http_call_response(
        &mut self,
        host: &mut dyn Host,
        token: u32,
        status: Option<u32>,
        body: &[u8],
    ) -> bool {
        let now = host.now_unix().unwrap_or(0);
        self.fetcher
            .on_response(host, &mut self.state.revocation, token, status, body, now)
            || self
                .ocsp
                .on_refresh_response(host, token, status, body, &mut self.state.ocsp, now)
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// What this configuration's requests remember.
    pub fn state(&self) -> &State {
        &self.state
    }
}

/// A request the filter forwarded at its headers: the decision its
/// trailers phase reports under.
#[derive(Debug)]
pub struct Forwarded {
    decision: Decision,
}

#[cfg(test)]
mod tests;
