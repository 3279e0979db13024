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

/// The reason and detail of verifying `chain` under `settings`.
fn refusal(
    settings: &TrustSettings,
    chain: &PresentedChain,
) -> (Option<Reason>, Option<&'static str>) {
    let checked = TrustStore::new(settings).verify_counted(chain, now());
    (checked.result.err(), checked.detail)
}

const PATH_LENGTH: (Option<Reason>, Option<&str>) = (
    Some(Reason::CertificateInvalid),
    Some("path_length_constraint_exceeded"),
);

#[test]
fn path_length_constraints() {
    // The anchor's own constraint, which webpki does not read.
    let anchor = pki(root_spec().path_len(Some(0)), inter_spec(), leaf_spec());
    let standard_chain = chain(&anchor.leaf, &[&anchor.inter]);
    assert_eq!(
        refusal(&trusting(&[&anchor.root]), &standard_chain),
        PATH_LENGTH
    );
    let fits = pki(root_spec().path_len(Some(1)), inter_spec(), leaf_spec());
    assert!(standard_outcome(&fits).is_ok());

    // An intermediate's constraint.
    let root = self_signed(&root_spec());
    let upper = issue(&CertSpec::ca("Upper Intermediate").path_len(Some(0)), &root);
    let lower = issue(&inter_spec(), &upper);
    let leaf = issue(&leaf_spec(), &lower);
    assert_eq!(
        refusal(&trusting(&[&root]), &chain(&leaf, &[&lower, &upper])),
        PATH_LENGTH
    );
    let direct = issue(&leaf_spec(), &upper);
    assert_eq!(
        outcome(&trusting(&[&root]), &chain(&direct, &[&upper])),
        path_of(&[&direct, &upper, &root])
    );
}

#[test]
fn self_issued_intermediates_do_not_count_against_path_lengths() {
    let root = self_signed(&root_spec());
    let upper = issue(&CertSpec::ca("Upper Intermediate").path_len(Some(0)), &root);
    // Upper's successor under the same name and a new key, issued by it.
    let renewed = issue(
        &CertSpec::ca("Upper Intermediate").path_len(Some(0)),
        &upper,
    );
    let leaf = issue(&leaf_spec(), &renewed);
    assert_eq!(
        outcome(&trusting(&[&root]), &chain(&leaf, &[&renewed, &upper])),
        path_of(&[&leaf, &renewed, &upper, &root])
    );
    // Under another name the same certificate is a CA below pathLen 0.
    let other = issue(&CertSpec::ca("Other Intermediate"), &upper);
    let leaf = issue(&leaf_spec(), &other);
    assert_eq!(
        refusal(&trusting(&[&root]), &chain(&leaf, &[&other, &upper])),
        PATH_LENGTH
    );

    // The anchor's constraint counts the same way (RFC 5280 4.2.1.9).
    let limited = self_signed(&root_spec().path_len(Some(0)));
    let rollover = issue(&root_spec(), &limited);
    let leaf = issue(&leaf_spec(), &rollover);
    assert_eq!(
        outcome(&trusting(&[&limited]), &chain(&leaf, &[&rollover])),
        path_of(&[&leaf, &rollover, &limited])
    );
}

#[test]
fn path_lengths_deeper_in_the_path() {
    // pathLen 1 two levels above the leaf's issuer: one CA below it, not two.
    let root = self_signed(&root_spec());
    let top = issue(&CertSpec::ca("Top Intermediate").path_len(Some(1)), &root);
    let middle = issue(&CertSpec::ca("Middle Intermediate"), &top);
    let bottom = issue(&CertSpec::ca("Bottom Intermediate"), &middle);
    let leaf = issue(&leaf_spec(), &bottom);
    assert_eq!(
        refusal(
            &trusting(&[&root]),
            &chain(&leaf, &[&bottom, &middle, &top])
        ),
        PATH_LENGTH
    );
    let renewed = issue(&CertSpec::ca("Middle Intermediate"), &middle);
    let leaf = issue(&leaf_spec(), &renewed);
    assert_eq!(
        outcome(
            &trusting(&[&root]),
            &chain(&leaf, &[&renewed, &middle, &top])
        ),
        path_of(&[&leaf, &renewed, &middle, &top, &root])
    );
    // A larger constraint lower down does not lift the one above it.
    let root = self_signed(&root_spec());
    let top = issue(&CertSpec::ca("Top Intermediate").path_len(Some(0)), &root);
    let middle = issue(&CertSpec::ca("Middle Intermediate").path_len(Some(2)), &top);
    let leaf = issue(&leaf_spec(), &middle);
    assert_eq!(
        refusal(&trusting(&[&root]), &chain(&leaf, &[&middle, &top])),
        PATH_LENGTH
    );
}

#[test]
fn a_ca_copied_without_its_path_length_does_not_verify() {
    use crate::trust::view::for_webpki;
    let root = self_signed(&root_spec());
    let upper = issue(&CertSpec::ca("Upper Intermediate").path_len(Some(0)), &root);
    let lower = issue(&inter_spec(), &upper);
    let leaf = issue(&leaf_spec(), &lower);
    // Upper's certificate with pathLenConstraint cut out and its signature kept.
    let stripped = for_webpki(&upper.der(), Some(0)).unwrap().der;
    let settings = trusting(&[&root]);
    for others in [
        vec![lower.der(), stripped.clone(), upper.der()],
        vec![lower.der(), upper.der(), stripped.clone()],
    ] {
        let chain = PresentedChain {
            leaf: leaf.der(),
            others,
        };
        assert_eq!(refusal(&settings, &chain), PATH_LENGTH);
    }
    // Alone, the copy's signature is simply wrong.
    let alone = PresentedChain {
        leaf: leaf.der(),
        others: vec![lower.der(), stripped.clone()],
    };
    assert!(TrustStore::new(&settings).verify(&alone, now()).is_err());
    // Nor does the copy pass as the upper CA configured beside the real one.
    let mut configured = trusting(&[&root]);
    configured.ca_certificates_der.push(upper.der());
    let sent = PresentedChain {
        leaf: leaf.der(),
        others: vec![lower.der(), stripped],
    };
    assert_eq!(refusal(&configured, &sent), PATH_LENGTH);
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
