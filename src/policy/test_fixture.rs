//! A pinned test PKI and a policy over it, shared by the tests of the
//! policy, its verdict cache and the filter's fast path.

use super::Policy;
use crate::config::Config;
use crate::test_pki::{CertSpec, Issued, issue, self_signed};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Root (pinned) → intermediate → leaf, and a root nobody pinned with a
/// client of its own.
pub struct Pki {
    pub root: Issued,
    pub inter: Issued,
    pub leaf: Issued,
    pub other_root: Issued,
    pub other_leaf: Issued,
}

pub fn pki_with_leaf(leaf: CertSpec) -> Pki {
    let root = self_signed(&CertSpec::ca("Pinned Root"));
    let inter = issue(&CertSpec::ca("Pinned Intermediate"), &root);
    let leaf = issue(&leaf, &inter);
    let other_root = self_signed(&CertSpec::ca("Other Root"));
    let other_leaf = issue(&CertSpec::client("intruder"), &other_root);
    Pki {
        root,
        inter,
        leaf,
        other_root,
        other_leaf,
    }
}

pub fn pki() -> Pki {
    pki_with_leaf(CertSpec::client("client-1"))
}

/// A policy pinning `root` and requiring mTLS everywhere; `extra` adds fields.
pub fn policy(root: &Issued, extra: &str) -> Policy {
    let json = format!(
        r#"{{"trusted_ca_sha256":["{}"],"mtls":"required"{extra}}}"#,
        root.sha256_hex()
    );
    Policy::new(Config::parse(json.as_bytes()).unwrap())
}
