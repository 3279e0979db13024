//! One request: facts → decision → effects (deny reply, or stripped and
//! annotated headers).

use super::{Host, gather_facts};
use crate::config::NO_RULE;
use crate::policy::{Decision, Policy, Verdict};
use crate::reason::Reason;
use crate::response::{annotations, deny_response, header_safe};
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

pub fn on_request_headers(host: &mut dyn Host, policy: &Policy) -> (Action, Decision) {
    let facts = gather_facts(host);
    let mut decision = policy.decide(&facts);
    log_decision(&decision, &facts.request.path);

    if decision.rejects() {
        return (
            deny(host, policy, decision.deny_reason(), &facts.request.path),
            decision,
        );
    }
    if let Err(e) = annotate(host, policy, &decision) {
        // Forged annotations might survive: refuse rather than forward.
        log::error!(
            "onerecord-tls-policy: cannot rewrite request headers ({}); denying",
            e.0
        );
        decision.verdict = Verdict::Deny(Reason::ConnectionFactsUnavailable);
        return (
            deny(
                host,
                policy,
                Some(Reason::ConnectionFactsUnavailable),
                &facts.request.path,
            ),
            decision,
        );
    }
    (Action::Continue, decision)
}

fn deny(host: &mut dyn Host, policy: &Policy, reason: Option<Reason>, path: &str) -> Action {
    let reason = reason.unwrap_or(Reason::ConnectionFactsUnavailable);
    let reply = deny_response(reason, path, &policy.config.annotation_prefix);
    if let Err(e) = host.send_response(reply.status, &reply.headers, reply.body.as_bytes()) {
        log::error!("onerecord-tls-policy: cannot send the deny reply: {}", e.0);
    }
    Action::Pause
}

/// Strips every client-sent header under our prefix, then adds ours.
fn annotate(
    host: &mut dyn Host,
    policy: &Policy,
    decision: &Decision,
) -> Result<(), super::HostError> {
    let prefix = policy.config.annotation_prefix.as_str();
    let forged: Vec<String> = host
        .request_header_names()?
        .into_iter()
        .filter(|name| name.to_ascii_lowercase().starts_with(prefix))
        .collect();
    for name in forged {
        host.remove_request_header(&name)?;
    }
    for (name, value) in annotations(decision, prefix) {
        host.set_request_header(&name, &value)?;
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
