//! Limits and constraints.

use super::*;

#[test]
fn chain_too_long_presented_or_built() {
    let root = self_signed(&root_spec());
    let upper = issue(&CertSpec::ca("Upper Intermediate"), &root);
    let lower = issue(&inter_spec(), &upper);
    let leaf = issue(&leaf_spec(), &lower);
    let with_max = |max: usize| TrustSettings {
        max_chain_length: max,
        ..trusting(&[&root])
    };

    // Four on the path where three are allowed.
    assert_eq!(
        outcome(&with_max(3), &chain(&leaf, &[&lower, &upper, &root])),
        Err(Reason::ChainTooLong)
    );
    // Certificates the path does not use may be presented, up to twice
    // `max_chain_length` in all; one more is refused before any path building.
    let unused: Vec<Issued> = (0..5)
        .map(|i| self_signed(&CertSpec::ca(&format!("Unused CA {i}"))))
        .collect();
    let presenting = |extra: usize| {
        let mut others = vec![&lower, &upper];
        others.extend(unused.iter().take(extra));
        chain(&leaf, &others)
    };
    assert_eq!(
        outcome(&with_max(4), &presenting(5)),
        path_of(&[&leaf, &lower, &upper, &root])
    );
    let one_more = self_signed(&CertSpec::ca("Unused CA 5"));
    let mut others = vec![&lower, &upper, &one_more];
    others.extend(&unused);
    let checked = TrustStore::new(&with_max(4)).verify_counted(&chain(&leaf, &others), now());
    assert_eq!(checked.result.err(), Some(Reason::ChainTooLong));
    assert_eq!(checked.cost.signature_lookups, 0);
    // Three presented, but the path to the configured root has four.
    assert_eq!(
        outcome(&with_max(3), &chain(&leaf, &[&lower, &upper])),
        Err(Reason::ChainTooLong)
    );
    assert_eq!(
        outcome(&with_max(4), &chain(&leaf, &[&lower, &upper])),
        path_of(&[&leaf, &lower, &upper, &root])
    );
    // Repeats (Envoy sends the leaf again) count once.
    assert_eq!(
        outcome(
            &with_max(4),
            &chain(&leaf, &[&leaf, &lower, &lower, &upper, &leaf])
        ),
        path_of(&[&leaf, &lower, &upper, &root])
    );
    // A shorter path to a pinned intermediate fits where the full one would not.
    let mut shorter = with_max(3);
    shorter.trusted_ca_sha256.push(sha(&upper));
    assert_eq!(
        outcome(&shorter, &chain(&leaf, &[&lower, &upper])),
        path_of(&[&leaf, &lower, &upper])
    );
}

#[test]
fn path_length_constraints() {
    // The anchor's own constraint, which webpki does not read.
    let anchor = pki(root_spec().path_len(Some(0)), inter_spec(), leaf_spec());
    assert_eq!(standard_outcome(&anchor), Err(Reason::CertificateInvalid));
    let fits = pki(root_spec().path_len(Some(1)), inter_spec(), leaf_spec());
    assert!(standard_outcome(&fits).is_ok());

    // An intermediate's constraint.
    let root = self_signed(&root_spec());
    let upper = issue(&CertSpec::ca("Upper Intermediate").path_len(Some(0)), &root);
    let lower = issue(&inter_spec(), &upper);
    let leaf = issue(&leaf_spec(), &lower);
    assert_eq!(
        outcome(&trusting(&[&root]), &chain(&leaf, &[&lower, &upper])),
        Err(Reason::CertificateInvalid)
    );
}

#[test]
fn name_constraints() {
    let constrained =
        || root_spec().extension("nameConstraints", "critical,permitted;DNS:example.com");
    let inside = pki(
        constrained(),
        inter_spec(),
        leaf_spec().dns_sans(&["client-1.example.com"]),
    );
    assert!(standard_outcome(&inside).is_ok());
    let outside = pki(
        constrained(),
        inter_spec(),
        leaf_spec().dns_sans(&["client-1.example.org"]),
    );
    assert_eq!(
        standard_outcome(&outside),
        Err(Reason::NameConstraintViolation)
    );

    let on_intermediate = pki(
        root_spec(),
        inter_spec().extension("nameConstraints", "critical,permitted;DNS:example.com"),
        leaf_spec().dns_sans(&["client-1.example.org"]),
    );
    assert_eq!(
        standard_outcome(&on_intermediate),
        Err(Reason::NameConstraintViolation)
    );
}

#[test]
fn unknown_critical_extensions() {
    let (name, value) = UNKNOWN_CRITICAL;
    let leaf = pki(
        root_spec(),
        inter_spec(),
        leaf_spec().extension(name, value),
    );
    assert_eq!(standard_outcome(&leaf), Err(Reason::CertificateInvalid));
    let inter = pki(
        root_spec(),
        inter_spec().extension(name, value),
        leaf_spec(),
    );
    assert_eq!(standard_outcome(&inter), Err(Reason::CertificateInvalid));
    let not_critical = pki(
        root_spec(),
        inter_spec(),
        leaf_spec().extension(name, "DER:05:00"),
    );
    assert!(standard_outcome(&not_critical).is_ok());
}
