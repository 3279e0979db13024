//! Decision → effects: the plan the glue applies (a deny reply, or the
//! request forwarded with client-sent annotations stripped and ours added),
//! and what reports it (the counter names, the access-log value). Pure
//! functions of the decision; the glue only performs them.

pub mod access_log;
mod annotations;
mod dictionary;
pub mod metrics;
mod outcome;
mod plan;
pub mod reply;
pub mod resource;

pub use annotations::{DICTIONARY_HEADER, Fact, annotations, facts, header_safe};
pub use outcome::Outcome;
pub use plan::{Effect, Plan, Rendered};
pub use reply::{API_NAMESPACE, DenyResponse, deny_response, error_body};
pub use resource::Resource;

#[cfg(test)]
mod annotation_tests;
#[cfg(test)]
mod tests;
