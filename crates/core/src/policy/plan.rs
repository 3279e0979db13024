//! Decision → effects plan, with the rendering the connection memo keeps
//! for a forwarded request.

use super::Policy;
use crate::decision::{Decided, Decision, Verdict};
use crate::effects::{Plan, Rendered, Resource};
use crate::reason::Reason;
use crate::state::State;
use std::rc::Rc;

impl Policy {
    /// What the filter does with a decided request to `resource` on connection
    /// `connection_id`: the deny reply when the decision rejects, else the
    /// request forwarded with the connection's kept rendering when it was
    /// made for an equal decision, or a new one (kept for the next request).
    pub fn plan(
        &self,
        decided: Decided,
        resource: &Resource,
        connection_id: Option<u64>,
        state: &mut State,
    ) -> Plan {
        let Decided {
            decision,
            chain_verification,
            ..
        } = decided;
        let plan = if decision.rejects() {
            Plan::reply(decision, resource, &self.config.annotation_prefix)
        } else {
            let rendered = self.rendering(&decision, connection_id, state);
            Plan::forward(decision, rendered)
        };
        plan.with_verification(chain_verification)
    }

    /// What replaces a forward the filter could not apply (a header or
    /// trailer it could not rewrite: forged annotations might survive):
    /// `decision` denied with `connection_facts_unavailable`, answered with
    /// the deny reply, in audit mode too.
    pub fn fallback(&self, mut decision: Decision, resource: &Resource) -> Plan {
        decision.verdict = Verdict::Deny(Reason::ConnectionFactsUnavailable);
        Plan::reply(decision, resource, &self.config.annotation_prefix)
    }

    fn rendering(
        &self,
        decision: &Decision,
        connection_id: Option<u64>,
        state: &mut State,
    ) -> Rc<Rendered> {
        if let Some(kept) = connection_id.and_then(|id| state.kept_rendering(id, decision)) {
            return kept;
        }
        let rendered = Rc::new(Rendered::forwarded(
            decision,
            &self.config.annotation_prefix,
            self.config.annotation_format,
        ));
        if let Some(id) = connection_id {
            state.keep_rendering(id, decision, &rendered);
        }
        rendered
    }
}
