//! The effects plan: what the glue applies for one request, in order: the
//! reply or the forwarded headers, then the counters, then the access-log
//! property. Made from the decision alone (see `Policy::plan`).

use super::reply::{DenyResponse, deny_response};
use super::resource::Resource;
use super::{Outcome, access_log, annotations};
use crate::config::AnnotationFormat;
use crate::decision::{ChainVerification, Decision};
use crate::reason::Reason;
use std::rc::Rc;

/// What a forwarded request writes: the client-sent headers it strips, its
/// annotation headers and its access-log value. All depend on the decision
/// alone, and on a keep-alive connection the decision rarely changes, so
/// the connection memo keeps the last rendering and reuses it while the
/// decision is equal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// Every client-sent header a backend could read under this prefix goes,
    /// in either annotation format: a backend reading the other format's
    /// names must not find a client's copy.
    pub strip_prefix: String,
    pub annotations: Vec<(String, String)>,
    pub access_log: String,
}

impl Rendered {
    /// For a decision the filter forwards (allowed, or denied in audit mode).
    pub fn forwarded(decision: &Decision, prefix: &str, format: AnnotationFormat) -> Rendered {
        Rendered {
            strip_prefix: prefix.to_string(),
            annotations: annotations(decision, prefix, format),
            access_log: access_log::value(Outcome::of(false, decision), decision),
        }
    }
}

/// What the request gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A local reply instead of the backend, and its access-log value.
    Reply {
        response: DenyResponse,
        access_log: String,
    },
    /// The backend, with the headers rewritten as rendered.
    Forward(Rc<Rendered>),
}

/// One request's effects, and the decision they were made from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub decision: Decision,
    pub effect: Effect,
    /// The verdict counter: its family and reason; its rule is the decision's.
    pub outcome: Outcome,
    /// The full chain verification deciding ran, for its own counter.
    pub chain_verification: Option<ChainVerification>,
}

impl Plan {
    /// The deny reply for `decision` (its reason, else
    /// `connection_facts_unavailable`) on the request to `resource`.
    pub fn reply(decision: Decision, resource: &Resource, prefix: &str) -> Plan {
        let outcome = Outcome::of(true, &decision);
        let reason = outcome
            .reason()
            .unwrap_or(Reason::ConnectionFactsUnavailable);
        let effect = Effect::Reply {
            response: deny_response(reason, resource, prefix),
            access_log: access_log::value(outcome, &decision),
        };
        Plan {
            decision,
            effect,
            outcome,
            chain_verification: None,
        }
    }

    /// Forwarding `decision` with `rendered`, made for it.
    pub fn forward(decision: Decision, rendered: Rc<Rendered>) -> Plan {
        Plan {
            outcome: Outcome::of(false, &decision),
            decision,
            effect: Effect::Forward(rendered),
            chain_verification: None,
        }
    }

    /// The same plan, reporting `verification` too.
    pub fn with_verification(mut self, verification: Option<ChainVerification>) -> Plan {
        self.chain_verification = verification;
        self
    }

    /// The access-log property's value.
    pub fn access_log(&self) -> &str {
        match &self.effect {
            Effect::Forward(rendered) => &rendered.access_log,
            Effect::Reply { access_log, .. } => access_log,
        }
    }

    /// The rendering a forwarded request was annotated with.
    pub fn rendered(&self) -> Option<&Rc<Rendered>> {
        match &self.effect {
            Effect::Forward(rendered) => Some(rendered),
            Effect::Reply { .. } => None,
        }
    }
}
