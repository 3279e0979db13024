//! The decision as one stream property, for Envoy access logs. Envoy keeps
//! it as filter state [`FILTER_STATE_KEY`], which
//! `%FILTER_STATE(wasm.onerecord_tls_policy:PLAIN)%` prints, e.g.
//! `decision=deny;reason=untrusted_ca;rule=access-delegations;client_sha256=-;anchor_sha256=-`.

use super::{Host, Outcome};
use crate::config::NO_RULE;
use crate::policy::Decision;
use crate::reason::Reason;
use std::sync::atomic::{AtomicBool, Ordering};

/// The property the filter sets.
pub const PROPERTY: &str = "onerecord_tls_policy";
/// Where Envoy keeps it: wasm properties live under `wasm.` in filter state.
pub const FILTER_STATE_KEY: &str = "wasm.onerecord_tls_policy";
/// What the value shows for a fact that does not apply.
const ABSENT: &str = "-";

static FAILURE_LOGGED: AtomicBool = AtomicBool::new(false);

/// `decision=…;reason=…;rule=…;client_sha256=…;anchor_sha256=…`. Every value
/// is a fixed word, a rule name or hex, so none contains `;`, `=` or a quote.
pub fn value(outcome: Outcome, decision: &Decision) -> String {
    let reason = outcome.reason().map_or(ABSENT, Reason::code);
    let rule = decision.rule.as_deref().unwrap_or(NO_RULE);
    let (client, anchor) = match &decision.client {
        Some(client) => (client.leaf_sha256.to_hex(), client.anchor_sha256.to_hex()),
        None => (ABSENT.to_string(), ABSENT.to_string()),
    };
    format!(
        "decision={};reason={reason};rule={rule};client_sha256={client};anchor_sha256={anchor}",
        outcome.as_str()
    )
}

/// Sets the property: one host call. A failure is logged once per VM and
/// changes nothing else.
pub fn record(host: &mut dyn Host, outcome: Outcome, decision: &Decision) {
    record_value(host, &value(outcome, decision));
}

/// Sets the property to a value made by [`value`] earlier.
pub fn record_value(host: &mut dyn Host, value: &str) {
    if let Err(e) = host.set_property(PROPERTY, value.as_bytes())
        && !FAILURE_LOGGED.swap(true, Ordering::Relaxed)
    {
        log::error!(
            "onerecord-tls-policy: cannot set the access-log property {FILTER_STATE_KEY} ({}); further failures are not logged",
            e.0
        );
    }
}
