//! The decision core of onerecord-tls-policy: facts in, decision and effects
//! plan out. No proxy-wasm, no unsafe code and no host calls: the filter's
//! glue (the `onerecord-tls-policy` crate) reads the facts and applies the
//! plan; the CLI runs the same code natively.
//!
//! One way: [`facts`] → [`Policy::decide_with`](policy::Policy::decide_with)
//! (reading and updating the [`state`]) → a [`decision`] →
//! [`Policy::plan`](policy::Policy::plan) → an [`effects`] plan. What the
//! glue must read is asked first ([`Policy::needs`](policy::Policy::needs)).
#![forbid(unsafe_code)]

pub mod binding;
pub mod config;
pub mod decision;
pub mod effects;
pub mod facts;
pub mod fingerprint;
pub mod lru;
pub mod ocsp;
pub mod pem;
pub mod policy;
pub mod reason;
pub mod revocation;
pub mod rfc3339;
pub mod state;
pub mod trust;
pub mod x509;
pub mod xfcc;
