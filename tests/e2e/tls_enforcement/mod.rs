//! The filter against a real Envoy: TLS version floor, mTLS requirements,
//! the ONE Record deny, backend annotations, audit mode, bad configuration.
//! Each test runs its own Envoy and upstream, so they run in parallel.

mod audit;
mod configuration;
mod deny;
mod requirements;
mod stripping;
mod versions;

use onerecord_tls_policy_testkit as support;
use serde_json::{Value, json};
use support::policies::delegations_rule;
use support::stack::Stack;

/// A policy requiring mTLS under `/access-delegations`, pinning the test
/// client CA (and not given it: no `ca_certificates_pem`).
fn delegations_policy() -> Value {
    json!({
        "trusted_ca_sha256": [Stack::client_ca_sha256()],
        "rules": [delegations_rule()]
    })
}
