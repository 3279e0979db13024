//! What happened to a request, as metrics and access logs report it.

use crate::decision::Decision;
use crate::reason::Reason;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Forwarded: the policy passed it.
    Allowed,
    /// Answered with a 403.
    Denied(Reason),
    /// Forwarded in audit mode although enforce mode would have denied it.
    AuditDenied(Reason),
}

impl Outcome {
    /// Follows what the request got (`replied`: a deny reply), not only the
    /// verdict: audit mode forwards denials, and a failed header rewrite
    /// denies what the policy allowed.
    pub fn of(replied: bool, decision: &Decision) -> Outcome {
        match (replied, decision.deny_reason()) {
            (true, reason) => Outcome::Denied(reason.unwrap_or(Reason::ConnectionFactsUnavailable)),
            (false, Some(reason)) => Outcome::AuditDenied(reason),
            (false, None) => Outcome::Allowed,
        }
    }

    /// `allow`, `deny` or `audit-deny`, as in the `x-onerecord-policy` header.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allow",
            Outcome::Denied(_) => "deny",
            Outcome::AuditDenied(_) => "audit-deny",
        }
    }

    pub fn reason(self) -> Option<Reason> {
        match self {
            Outcome::Allowed => None,
            Outcome::Denied(reason) | Outcome::AuditDenied(reason) => Some(reason),
        }
    }
}
