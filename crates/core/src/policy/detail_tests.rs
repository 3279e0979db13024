//! The detail of a chain's refusal reaches the decision, whether the chain
//! was verified now or its denial remembered (by content or connection),
//! and the audit annotation shows it.

use super::cache_tests::{peer, request};
use super::test_fixture::{Peer, pki_with_leaf, remembering};
use super::*;
use crate::effects::annotations;
use onerecord_tls_policy_testkit::pki::CertSpec;
use onerecord_tls_policy_testkit::unix_now;

#[test]
fn a_refusal_keeps_its_detail_when_remembered() {
    // A leaf without EKU: a defect of the strict profile.
    let k = pki_with_leaf(CertSpec::client("client-1").eku(None));
    let mut p = remembering(&k.root, r#","mode":"audit""#);
    let on_connection = |id| Peer {
        id: Some(id),
        ..peer(&[&k.leaf, &k.inter, &k.root])
    };
    let now = unix_now();
    for (what, facts) in [
        ("full", request(on_connection(1), now)),
        ("by content", request(on_connection(2), now)),
        ("by connection", request(on_connection(2), now)),
    ] {
        let d = p.decide(&facts);
        assert_eq!(
            d.deny_reason(),
            Some(Reason::CertificateProfileViolation),
            "{what}"
        );
        assert_eq!(d.detail, Some("extended_key_usage_missing"), "{what}");
        let policy = annotations(&d, "x-onerecord-", crate::config::AnnotationFormat::Headers)
            .into_iter()
            .find(|(name, _)| name == "x-onerecord-policy")
            .map(|(_, value)| value);
        assert_eq!(
            policy.as_deref(),
            Some(
                "audit-deny; reason=certificate_profile_violation; detail=extended_key_usage_missing"
            ),
            "{what}"
        );
    }
}
