//! One request: facts → decision → plan → applied (the deny reply, or the
//! headers stripped and annotated).

use super::forged::{self, RequestMap};
use super::header_map::HeaderMap;
use super::{Gathered, Host, HostError, gather_facts};
use crate::config::NO_RULE;
use crate::decision::{Decided, Decision};
use crate::effects::{Effect, Plan, Rendered, Resource, header_safe};
use crate::ocsp::CertQuery;
use crate::policy::OcspOutcome;
use crate::policy::Policy;
use crate::reason::Reason;
use crate::state::State;
use std::sync::atomic::{AtomicBool, Ordering};

/// What to tell Envoy after the request headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Continue,
    Pause,
}

/// Longest request path written to a log line.
const MAX_LOGGED_PATH: usize = 256;

/// The chain hint is an operator's fix, not per-request news: say it once per VM.
static CHAIN_HINT_LOGGED: AtomicBool = AtomicBool::new(false);

const CHAIN_HINT: &str = "onerecord-tls-policy: the client certificate chain is not available to the filter. \
Configure the HTTP connection manager with forward_client_cert_details: SANITIZE_SET (or APPEND_FORWARD) and \
set_current_client_cert_details: {cert: true, chain: true}, or complete chains with ca_certificates_pem";

/// One request's headers: gathers the facts the policy asks for, has it
/// decide and plan, and applies the plan. Returns the plan as applied: the
/// core's fallback when a forward could not be applied.
pub fn on_request_headers(host: &mut dyn Host, policy: &Policy, state: &mut State) -> Plan {
    on_request_headers_noting(host, policy, state).0
}

/// As [`on_request_headers`], with what the OCSP check used.
pub fn on_request_headers_noting(
    host: &mut dyn Host,
    policy: &Policy,
    state: &mut State,
) -> (Plan, OcspOutcome) {
    let (Gathered { facts, headers }, mut decided) = decide(host, policy, state);
    let ocsp = std::mem::take(&mut decided.ocsp);
    (apply(host, policy, state, &facts, headers, decided), ocsp)
}

/// As [`on_request_headers_noting`], unless the OCSP cache has no answer
/// for a certificate the decision checks: then nothing is applied and what
/// to ask is returned (the request waits, then is decided again).
pub fn on_request_headers_or_ask(
    host: &mut dyn Host,
    policy: &Policy,
    state: &mut State,
) -> Result<(Plan, OcspOutcome), Vec<CertQuery>> {
    let (Gathered { facts, headers }, mut decided) = decide(host, policy, state);
    if !decided.ocsp.ask.is_empty() {
        return Err(std::mem::take(&mut decided.ocsp.ask));
    }
    let ocsp = std::mem::take(&mut decided.ocsp);
    Ok((apply(host, policy, state, &facts, headers, decided), ocsp))
}

fn decide(host: &mut dyn Host, policy: &Policy, state: &mut State) -> (Gathered, Decided) {
    let gathered = gather_facts(host, policy, state);
    let decided = policy.decide_with(&gathered.facts, state);
    (gathered, decided)
}

fn apply(
    host: &mut dyn Host,
    policy: &Policy,
    state: &mut State,
    facts: &crate::facts::Facts,
    headers: Result<HeaderMap, HostError>,
    decided: Decided,
) -> Plan {
    log_decision(&decided.decision, &facts.request.path);
    let connection_id = facts.connection.as_ref().ok().and_then(|c| c.id);
    let resource = Resource::of(facts);
    let plan = policy.plan(decided, &resource, connection_id, state);
    let Effect::Forward(rendered) = &plan.effect else {
        send(host, &plan);
        return plan;
    };
    match headers.and_then(|headers| forward(host, &headers, rendered)) {
        Ok(()) => plan,
        Err(e) => {
            // Forged annotations might survive: refuse rather than forward.
            log::error!(
                "onerecord-tls-policy: cannot rewrite request headers ({}); denying",
                e.0
            );
            let verification = plan.chain_verification;
            let denied = policy
                .fallback(plan.decision, &resource)
                .with_verification(verification);
            send(host, &denied);
            denied
        }
    }
}

impl Action {
    /// What Envoy is told after applying `plan`.
    pub fn after(plan: &Plan) -> Action {
        match plan.effect {
            Effect::Forward(_) => Action::Continue,
            Effect::Reply { .. } => Action::Pause,
        }
    }
}

/// Sends a plan's reply, if it has one.
pub(super) fn send(host: &mut dyn Host, plan: &Plan) {
    if let Effect::Reply { response, .. } = &plan.effect
        && let Err(e) =
            host.send_response(response.status, &response.headers, response.body.as_bytes())
    {
        log::error!("onerecord-tls-policy: cannot send the deny reply: {}", e.0);
    }
}

/// Strips every client-sent header a backend could read as one of ours
/// (found in the map the facts were read from), then adds ours.
fn forward(host: &mut dyn Host, headers: &HeaderMap, rendered: &Rendered) -> Result<(), HostError> {
    let prefix = rendered.strip_prefix.as_bytes();
    forged::strip(host, RequestMap::Headers, headers, prefix)?;
    for (name, value) in &rendered.annotations {
        host.set_request_header(name, value)?;
    }
    Ok(())
}

fn log_decision(decision: &Decision, path: &str) {
    let chain_missing = Some(Reason::PeerChainUnavailable);
    if (decision.deny_reason() == chain_missing || decision.ignored_certificate == chain_missing)
        && !CHAIN_HINT_LOGGED.swap(true, Ordering::Relaxed)
    {
        log::warn!("{CHAIN_HINT}");
    }
    let level = match decision.deny_reason() {
        Some(_) => log::Level::Info,
        None => log::Level::Debug,
    };
    // Allowed requests log at debug, which Envoy usually drops: build
    // nothing unless it will be printed.
    if !log::log_enabled!(level) {
        return;
    }
    let mut shown = header_safe(path);
    shown.truncate(MAX_LOGGED_PATH);
    let rule = decision.rule.as_deref().unwrap_or(NO_RULE);
    let tls = decision.tls_version.map_or("-", |v| v.as_str());
    match decision.deny_reason() {
        Some(reason) if decision.rejects() => {
            log::info!(
                "onerecord-tls-policy: deny reason={} rule={rule} tls={tls} path={shown}",
                reason.code()
            );
        }
        Some(reason) => {
            log::info!(
                "onerecord-tls-policy: audit-deny reason={} rule={rule} tls={tls} path={shown}",
                reason.code()
            );
        }
        None => {
            let client = decision
                .client
                .as_ref()
                .map_or_else(|| "-".to_string(), |c| c.leaf_sha256.to_hex());
            log::debug!(
                "onerecord-tls-policy: allow rule={rule} tls={tls} client={client} path={shown}"
            );
            if let Some(ignored) = decision.ignored_certificate {
                log::debug!(
                    "onerecord-tls-policy: client certificate not accepted ({}); treated as no mTLS",
                    ignored.code()
                );
            }
        }
    }
}
