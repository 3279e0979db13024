//! onerecord-tls-policy: an Envoy (proxy-wasm) filter that enforces the
//! transport-security rules of the IATA ONE Record API specification.
//!
//! This crate is the glue, the only one with host calls: host → facts →
//! [`decide_with`](onerecord_tls_policy_core::policy::Policy::decide_with)
//! → [`plan`](onerecord_tls_policy_core::policy::Policy::plan) → the plan
//! applied. The decisions and the plan are made in
//! `onerecord-tls-policy-core`, whose modules are re-exported here.

pub use onerecord_tls_policy_core::{
    binding, config, decision, effects, facts, fingerprint, ocsp, policy, reason, revocation,
    rfc3339, state, trust, xfcc,
};

pub mod filter;
#[cfg(any(test, feature = "test-host"))]
pub mod test_host;
