//! The pinned test PKI (from the test kit) and a policy over it, shared by
//! the tests of the policy and its verdict cache.

pub use onerecord_tls_policy_testkit::pinned::{Pki, pki, pki_with_leaf};
pub use onerecord_tls_policy_testkit::unix_now as now;

use super::Policy;
use crate::config::Config;
use onerecord_tls_policy_testkit::pinned::policy_json;
use onerecord_tls_policy_testkit::pki::Issued;

/// A policy pinning `root` and requiring mTLS everywhere; `extra` adds fields.
pub fn policy(root: &Issued, extra: &str) -> Policy {
    Policy::new(Config::parse(policy_json(root, extra).as_bytes()).unwrap())
}
