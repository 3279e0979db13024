//! One request: facts → decision → effects (deny reply, or stripped and
//! annotated headers).

use super::forged::{self, RequestMap};
use super::handshakes::Handshakes;
use super::header_map::HeaderMap;
use super::rendered::Rendered;
use super::{Gathered, Host, HostError, gather_facts};
use crate::config::NO_RULE;
use crate::policy::{Decision, Policy, Verdict};
use crate::reason::Reason;
use crate::response::{deny_response, header_safe};
use std::rc::Rc;
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

/// What the filter did with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handled {
    pub action: Action,
    pub decision: Decision,
    /// What a forwarded request was annotated with, and its access-log value.
    pub rendered: Option<Rc<Rendered>>,
}

pub fn on_request_headers(
    host: &mut dyn Host,
    policy: &Policy,
    handshakes: &Handshakes,
) -> Handled {
    let Gathered { facts, headers } = gather_facts(host, policy, handshakes);
    let mut decision = policy.decide(&facts);
    log_decision(&decision, &facts.request.path);

    if decision.rejects() {
        let action = deny(host, policy, decision.deny_reason(), &facts.request.path);
        return Handled {
            action,
            decision,
            rendered: None,
        };
    }
    let connection_id = facts
        .connection
        .as_ref()
        .ok()
        .and_then(|c| c.peer.as_ref())
        .and_then(|p| p.connection_id);
    let rendered = rendering(policy, handshakes, connection_id, &decision);
    if let Err(e) = headers.and_then(|headers| annotate(host, policy, &headers, &rendered)) {
        // Forged annotations might survive: refuse rather than forward.
        log::error!(
            "onerecord-tls-policy: cannot rewrite request headers ({}); denying",
            e.0
        );
        decision.verdict = Verdict::Deny(Reason::ConnectionFactsUnavailable);
        let reason = Some(Reason::ConnectionFactsUnavailable);
        let action = deny(host, policy, reason, &facts.request.path);
        return Handled {
            action,
            decision,
            rendered: None,
        };
    }
    Handled {
        action: Action::Continue,
        decision,
        rendered: Some(rendered),
    }
}

/// The connection's kept rendering when its decision is the same, else a
/// new one (kept for the next request).
fn rendering(
    policy: &Policy,
    handshakes: &Handshakes,
    connection_id: Option<u64>,
    decision: &Decision,
) -> Rc<Rendered> {
    if let Some(kept) = connection_id.and_then(|id| handshakes.rendered(id, decision)) {
        return kept;
    }
    let rendered = Rc::new(Rendered::forwarded(
        decision,
        &policy.config.annotation_prefix,
    ));
    if let Some(id) = connection_id {
        handshakes.keep_rendered(id, decision, &rendered);
    }
    rendered
}

pub(super) fn deny(
    host: &mut dyn Host,
    policy: &Policy,
    reason: Option<Reason>,
    path: &str,
) -> Action {
    let reason = reason.unwrap_or(Reason::ConnectionFactsUnavailable);
    let reply = deny_response(reason, path, &policy.config.annotation_prefix);
    if let Err(e) = host.send_response(reply.status, &reply.headers, reply.body.as_bytes()) {
        log::error!("onerecord-tls-policy: cannot send the deny reply: {}", e.0);
    }
    Action::Pause
}

/// Strips every client-sent header a backend could read as one of ours
/// (found in the map the facts were read from), then adds ours.
fn annotate(
    host: &mut dyn Host,
    policy: &Policy,
    headers: &HeaderMap,
    rendered: &Rendered,
) -> Result<(), HostError> {
    let prefix = policy.config.annotation_prefix.as_bytes();
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
