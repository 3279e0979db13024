//! The request paths and plugin configurations the end-to-end suites share.

use super::fixture::TestPki;
use serde_json::{Value, json};

/// A logistics object: no rule of the shared configurations covers it.
pub const OBJECT: &str = "/logistics-objects/shipment-1";
/// Under the `access-delegations` rule (mTLS required).
pub const DELEGATION: &str = "/access-delegations/delegation-1";
/// Where suites require mTLS through route metadata instead of a rule.
pub const ACTION: &str = "/action-requests/request-1";

/// The rule most suites use: mTLS required under `/access-delegations`.
pub fn delegations_rule() -> Value {
    json!({ "name": "access-delegations", "path_prefix": "/access-delegations", "mtls": "required" })
}

/// mTLS required under `/access-delegations`, the shared client CA pinned
/// but not given (no `ca_certificates_pem`: clients send their chain).
pub fn delegations_policy() -> Value {
    json!({
        "trusted_ca_sha256": [TestPki::shared().client_ca.sha256_hex()],
        "rules": [delegations_rule()],
    })
}

/// The shared client CA pinned and given to the filter to complete chains.
pub fn pinned_client_ca() -> Value {
    let ca = &TestPki::shared().client_ca;
    json!({
        "trusted_ca_sha256": [ca.sha256_hex()],
        "ca_certificates_pem": ca.pem(),
    })
}

/// `base` with the fields of `extra` (an object) added or replaced.
pub fn with(mut base: Value, extra: Value) -> Value {
    let Value::Object(extra) = extra else {
        panic!("extra fields must be an object: {extra}");
    };
    for (key, value) in extra {
        base[key] = value;
    }
    base
}
