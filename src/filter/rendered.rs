//! What a forwarded request writes: its annotation headers and its
//! access-log value. Both depend on the decision alone, and on a keep-alive
//! connection the decision rarely changes, so the filter keeps the last
//! rendering per connection ([`Handshakes`](super::Handshakes)) and reuses
//! it while the decision is equal.

use super::{Action, Outcome, access_log};
use crate::policy::Decision;
use crate::response::annotations;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub annotations: Vec<(String, String)>,
    pub access_log: String,
}

impl Rendered {
    /// For a decision the filter forwards (allowed, or denied in audit mode).
    pub fn forwarded(decision: &Decision, prefix: &str) -> Rendered {
        Rendered {
            annotations: annotations(decision, prefix),
            access_log: access_log::value(Outcome::of(Action::Continue, decision), decision),
        }
    }
}
