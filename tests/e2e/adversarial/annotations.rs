//! The annotations the upstream must receive.

use onerecord_tls_policy_testkit as support;

use super::pki;
use std::collections::BTreeMap;
use support::pki::Issued;

pub(super) type Annotations = BTreeMap<String, Vec<String>>;

pub(super) fn annotations(pairs: &[(&str, &str)]) -> Annotations {
    pairs
        .iter()
        .map(|(name, value)| (format!("x-onerecord-{name}"), vec![value.to_string()]))
        .collect()
}

/// What the filter adds for a request with no verified client.
pub(super) fn no_identity(rule: Option<&str>) -> Annotations {
    let mut pairs = vec![("tls-version", "TLSv1.3"), ("mtls", "none")];
    pairs.extend(rule.map(|rule| ("rule", rule)));
    annotations(&pairs)
}

/// What the filter adds for `leaf`, a `CertSpec::client(name)` of the pinned root.
pub(super) fn identity(leaf: &Issued, name: &str, rule: Option<&str>, tls: &str) -> Annotations {
    let sha256 = leaf.sha256_hex();
    let subject = format!("O=Example Airline,CN={name}");
    let uri = format!("https://1r.example.com/logistics-agents/{name}");
    let anchor = pki().client_ca.sha256_hex();
    let mut pairs = vec![
        ("tls-version", tls),
        ("mtls", "verified"),
        ("client-sha256", sha256.as_str()),
        ("client-subject", subject.as_str()),
        ("client-uri-san", uri.as_str()),
        ("trust-anchor-sha256", anchor.as_str()),
    ];
    pairs.extend(rule.map(|rule| ("rule", rule)));
    annotations(&pairs)
}

pub(super) fn airline() -> Annotations {
    identity(&pki().client, "airline-1", None, "TLSv1.3")
}
