//! `onerecord_profile`: the ONE Record certificate policy on top of the
//! X.509 profile, refused as `onerecord_profile_violation` with the rule.

use super::*;
use crate::trust::X509Profile;

fn with_onerecord(leaf: CertSpec, x509: X509Profile) -> Verification {
    let p = pki(root_spec(), inter_spec(), leaf);
    let mut settings = trusting(&[&p.root]);
    settings.profile.onerecord = true;
    settings.profile.x509 = x509;
    TrustStore::new(&settings).verify_counted(&chain(&p.leaf, &[&p.inter]), now())
}

#[test]
fn a_logistics_agent_certificate_meets_the_policy() {
    let v = with_onerecord(leaf_spec(), X509Profile::Strict);
    assert!(v.result.is_ok(), "{:?} {:?}", v.result, v.detail);
}

#[test]
fn each_rule_of_the_policy_is_refused_with_its_detail() {
    let cases = [
        (
            leaf_spec()
                .uri_sans(&[])
                .dns_sans(&["client-1.example.com"]),
            "onerecord_uri_san_missing",
        ),
        (
            leaf_spec().uri_sans(&["https://1r.example.com/"]),
            "onerecord_uri_san_missing",
        ),
        (
            leaf_spec().extension("keyUsage", "digitalSignature"),
            "onerecord_key_usage_not_critical_digital_signature",
        ),
        (leaf_spec().eku(None), "onerecord_client_auth_eku_missing"),
    ];
    for (leaf, detail) in cases {
        let v = with_onerecord(leaf.clone(), X509Profile::Compatible);
        assert_eq!(
            v.result.as_ref().err(),
            Some(&Reason::OnerecordProfileViolation),
            "{detail}"
        );
        assert_eq!(v.detail, Some(detail));
        // Without the option the same chain passes.
        let p = pki(root_spec(), inter_spec(), leaf);
        let mut settings = trusting(&[&p.root]);
        settings.profile.x509 = X509Profile::Compatible;
        assert!(
            verify(&settings, &chain(&p.leaf, &[&p.inter])).is_ok(),
            "{detail}"
        );
    }
}
