//! Validity in time, and clock skew either way.

use super::*;

#[test]
fn expired_and_not_yet_valid_certificates() {
    let leaf_expired = pki(
        root_spec(),
        inter_spec(),
        leaf_spec().validity(-7200, -3600),
    );
    assert_eq!(
        standard_outcome(&leaf_expired),
        Err(Reason::CertificateExpired)
    );

    let leaf_future = pki(root_spec(), inter_spec(), leaf_spec().validity(3600, 7200));
    assert_eq!(
        standard_outcome(&leaf_future),
        Err(Reason::CertificateNotYetValid)
    );

    let inter_expired = pki(
        root_spec(),
        inter_spec().validity(-7200, -3600),
        leaf_spec(),
    );
    assert_eq!(
        standard_outcome(&inter_expired),
        Err(Reason::CertificateExpired)
    );

    let anchor_expired = pki(
        root_spec().validity(-7200, -3600),
        inter_spec(),
        leaf_spec(),
    );
    assert_eq!(
        standard_outcome(&anchor_expired),
        Err(Reason::CertificateExpired)
    );

    let anchor_future = pki(root_spec().validity(3600, 7200), inter_spec(), leaf_spec());
    assert_eq!(
        standard_outcome(&anchor_future),
        Err(Reason::CertificateNotYetValid)
    );

    // An expired anchor the client sends itself is still an expired anchor.
    let p = &anchor_expired;
    assert_eq!(
        outcome(
            &pinned_only(&[&p.root]),
            &chain(&p.leaf, &[&p.inter, &p.root])
        ),
        Err(Reason::CertificateExpired)
    );
}

#[test]
fn clock_skew_is_tolerated_both_ways_and_no_further() {
    let with_skew = |p: &Pki, skew: u64| {
        let settings = TrustSettings {
            clock_skew_seconds: skew,
            ..trusting(&[&p.root])
        };
        outcome(&settings, &chain(&p.leaf, &[&p.inter]))
    };
    let cases = [
        (
            pki(root_spec(), inter_spec(), leaf_spec().validity(-3600, -60)),
            Ok(()),
            Err(Reason::CertificateExpired),
        ),
        (
            pki(root_spec(), inter_spec(), leaf_spec().validity(60, 3600)),
            Ok(()),
            Err(Reason::CertificateNotYetValid),
        ),
        (
            pki(root_spec(), inter_spec().validity(-3600, -60), leaf_spec()),
            Ok(()),
            Err(Reason::CertificateExpired),
        ),
        (
            pki(root_spec(), inter_spec().validity(60, 3600), leaf_spec()),
            Ok(()),
            Err(Reason::CertificateNotYetValid),
        ),
        (
            pki(root_spec().validity(-3600, -60), inter_spec(), leaf_spec()),
            Ok(()),
            Err(Reason::CertificateExpired),
        ),
        (
            pki(root_spec().validity(60, 3600), inter_spec(), leaf_spec()),
            Ok(()),
            Err(Reason::CertificateNotYetValid),
        ),
    ];
    for (i, (p, within, beyond)) in cases.iter().enumerate() {
        assert_eq!(
            with_skew(p, 300).map(|_| ()),
            *within,
            "case {i} within 300 s of skew"
        );
        assert_eq!(
            with_skew(p, 10).map(|_| ()),
            *beyond,
            "case {i} beyond 10 s of skew"
        );
        assert_eq!(
            with_skew(p, 0).map(|_| ()),
            *beyond,
            "case {i} without skew"
        );
    }
    // Beyond the skew by far.
    let p = pki(root_spec(), inter_spec(), leaf_spec().validity(-7200, -900));
    assert_eq!(with_skew(&p, 300), Err(Reason::CertificateExpired));
}
