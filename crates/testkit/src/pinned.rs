//! The pinned PKI of the unit tests (policy, verdict cache, the filter's
//! fast path): root → intermediate → leaf, and a root nobody pinned with a
//! client of its own.

use super::pki::{CertSpec, Issued, issue, self_signed};

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

/// A plugin configuration pinning `root` and requiring mTLS everywhere;
/// `extra` adds fields (`,"mode":"audit"`).
pub fn policy_json(root: &Issued, extra: &str) -> String {
    format!(
        r#"{{"trusted_ca_sha256":["{}"],"mtls":"required"{extra}}}"#,
        root.sha256_hex()
    )
}
