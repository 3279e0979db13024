//! The decision as one stream property, for Envoy access logs. Envoy keeps
//! it as filter state [`FILTER_STATE_KEY`], which
//! `%FILTER_STATE(wasm.onerecord_tls_policy:PLAIN)%` prints, e.g.
//! `decision=deny;reason=untrusted_ca;rule=access-delegations;client_sha256=-;anchor_sha256=-;not_after=-`.

use super::Outcome;
use crate::config::NO_RULE;
use crate::decision::{Decision, FactsSource};
use crate::reason::Reason;

/// The property the filter sets.
pub const PROPERTY: &str = "onerecord_tls_policy";
/// Where Envoy keeps it: wasm properties live under `wasm.` in filter state.
pub const FILTER_STATE_KEY: &str = "wasm.onerecord_tls_policy";
/// What the value shows for a fact that does not apply.
const ABSENT: &str = "-";

/// `decision=…;reason=…;rule=…;client_sha256=…;anchor_sha256=…;not_after=…`
/// (`not_after`: the verified path's earliest notAfter, RFC 3339), then
/// `;token_binding=<verified | absent | reason>` where a rule binds the
/// token and the client was verified, `;ocsp=<good | revoked | unknown |
/// failed>` when `ocsp` is on and the client's status was looked up, and
/// `;facts=trusted_proxy` when a
/// trusted front proxy reported the client (without it the facts are the
/// handshake's). Every value is a fixed word, a rule name or hex, so none
/// contains `;`, `=` or a quote.
pub fn value(outcome: Outcome, decision: &Decision) -> String {
    let reason = outcome.reason().map_or(ABSENT, Reason::code);
    let rule = decision.rule.as_deref().unwrap_or(NO_RULE);
    let (client, anchor, not_after) = match &decision.client {
        Some(client) => (
            client.leaf_sha256.to_hex(),
            client.anchor_sha256.to_hex(),
            crate::rfc3339::format_rfc3339(u64::try_from(client.not_after).unwrap_or(0)),
        ),
        None => (ABSENT.to_string(), ABSENT.to_string(), ABSENT.to_string()),
    };
    let mut value = format!(
        "decision={};reason={reason};rule={rule};client_sha256={client};anchor_sha256={anchor};not_after={not_after}",
        outcome.as_str()
    );
    if let Some(binding) = decision.token_binding {
        value.push_str(";token_binding=");
        value.push_str(binding.code());
    }
    if let Some(ocsp) = decision.ocsp {
        value.push_str(";ocsp=");
        value.push_str(ocsp);
    }
    if decision.facts_from == FactsSource::TrustedProxy {
        value.push_str(";facts=");
        value.push_str(FactsSource::TrustedProxy.as_str());
    }
    value
}
