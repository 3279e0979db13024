//! Algorithms and anchoring.

use super::*;

#[test]
fn rsa_chain_anchored_at_a_configured_root() {
    let rsa = KeyKind::Rsa(2048);
    let p = pki(
        root_spec().key(rsa),
        inter_spec().key(rsa),
        leaf_spec().key(rsa),
    );
    assert_eq!(standard_outcome(&p), path_of(&[&p.leaf, &p.inter, &p.root]));
}

#[test]
fn ecdsa_p384_chain_with_the_root_sent_by_the_client() {
    let p = pki(
        root_spec().key(KeyKind::P384).digest(SigDigest::Sha384),
        inter_spec().key(KeyKind::P384).digest(SigDigest::Sha384),
        leaf_spec().digest(SigDigest::Sha384),
    );
    let settings = pinned_only(&[&p.root]);
    assert_eq!(
        outcome(&settings, &chain(&p.leaf, &[&p.inter, &p.root])),
        path_of(&[&p.leaf, &p.inter, &p.root])
    );
    // Pinned but neither configured nor sent: nothing to anchor to.
    assert_eq!(
        outcome(&settings, &chain(&p.leaf, &[&p.inter])),
        Err(Reason::UntrustedCa)
    );
}

#[test]
fn ed25519_chain() {
    let ed = KeyKind::Ed25519;
    let p = pki(
        root_spec().key(ed),
        inter_spec().key(ed),
        leaf_spec().key(ed),
    );
    assert_eq!(standard_outcome(&p), path_of(&[&p.leaf, &p.inter, &p.root]));
}

#[test]
fn mixed_curves_hashes_and_key_types() {
    // P-256 root signs with SHA-384, P-384 intermediate with SHA-256, RSA root and leaf.
    let p = pki(
        root_spec(),
        inter_spec().key(KeyKind::P384).digest(SigDigest::Sha384),
        leaf_spec()
            .key(KeyKind::Rsa(2048))
            .digest(SigDigest::Sha256),
    );
    assert_eq!(standard_outcome(&p), path_of(&[&p.leaf, &p.inter, &p.root]));

    let root = self_signed(
        &root_spec()
            .key(KeyKind::Rsa(3072))
            .digest(SigDigest::Sha384),
    );
    let inter = issue(&inter_spec().digest(SigDigest::Sha384), &root);
    let leaf = issue(&leaf_spec().key(KeyKind::Ed25519), &inter);
    assert_eq!(
        outcome(&trusting(&[&root]), &chain(&leaf, &[&inter])),
        path_of(&[&leaf, &inter, &root])
    );
}

#[test]
fn intermediate_pinned_as_the_anchor() {
    let p = standard();
    assert_eq!(
        outcome(&trusting(&[&p.inter]), &chain(&p.leaf, &[])),
        path_of(&[&p.leaf, &p.inter])
    );
    // Sent in the chain with its unpinned root: the path stops at the pinned one.
    assert_eq!(
        outcome(
            &pinned_only(&[&p.inter]),
            &chain(&p.leaf, &[&p.inter, &p.root])
        ),
        path_of(&[&p.leaf, &p.inter])
    );
}

#[test]
fn missing_intermediate_is_untrusted_ca() {
    let p = standard();
    assert_eq!(
        outcome(&trusting(&[&p.root]), &chain(&p.leaf, &[])),
        Err(Reason::UntrustedCa)
    );
}

#[test]
fn no_pinned_anchor_means_untrusted_ca_for_everything() {
    let p = standard();
    let none = TrustSettings {
        trusted_ca_sha256: Vec::new(),
        ..trusting(&[&p.root])
    };
    assert_eq!(
        outcome(&none, &chain(&p.leaf, &[&p.inter])),
        Err(Reason::UntrustedCa)
    );
    let garbage = PresentedChain {
        leaf: b"garbage".to_vec(),
        others: Vec::new(),
    };
    assert_eq!(outcome(&none, &garbage), Err(Reason::UntrustedCa));
    assert_eq!(TrustStore::new(&none).configured_anchor_count(), 0);
}

#[test]
fn configured_unpinned_certificates_only_complete_chains() {
    let p = standard();
    let unpinned_root = self_signed(&CertSpec::ca("Unpinned CA"));
    let mut settings = trusting(&[&p.root]);
    settings.ca_certificates_der.extend([
        unpinned_root.der(),
        p.inter.der(),
        p.inter.der(),
        b"not a certificate".to_vec(),
    ]);
    let store = TrustStore::new(&settings);
    assert_eq!(store.configured_anchor_count(), 1);
    assert_eq!(store.configured_intermediate_count(), 2);
    // The configured intermediate completes a chain the client sent short.
    assert_eq!(
        outcome(&settings, &chain(&p.leaf, &[])),
        path_of(&[&p.leaf, &p.inter, &p.root])
    );

    // An unpinned configured root is no anchor.
    let foreign_leaf = issue(&leaf_spec(), &unpinned_root);
    assert_eq!(
        outcome(&settings, &chain(&foreign_leaf, &[])),
        Err(Reason::UntrustedCa)
    );

    // It counts on the path, not among the presented certificates.
    let two = TrustSettings {
        max_chain_length: 2,
        ..settings.clone()
    };
    assert_eq!(
        outcome(&two, &chain(&p.leaf, &[])),
        Err(Reason::ChainTooLong)
    );
    let three = TrustSettings {
        max_chain_length: 3,
        ..settings
    };
    assert_eq!(
        outcome(&three, &chain(&p.leaf, &[&p.leaf])),
        path_of(&[&p.leaf, &p.inter, &p.root])
    );
}

#[test]
fn decoy_pinned_ca_appended_to_a_foreign_chain() {
    let p = standard();
    let evil = pki(
        CertSpec::ca("Evil Root"),
        CertSpec::ca("Evil Intermediate"),
        leaf_spec(),
    );
    assert_eq!(
        outcome(
            &pinned_only(&[&p.root]),
            &chain(&evil.leaf, &[&evil.inter, &p.root])
        ),
        Err(Reason::UntrustedCa)
    );
    assert_eq!(
        outcome(
            &trusting(&[&p.root]),
            &chain(&evil.leaf, &[&evil.inter, &evil.root, &p.inter])
        ),
        Err(Reason::UntrustedCa)
    );
}

#[test]
fn forged_intermediate_with_the_pinned_subject_but_another_key() {
    let p = standard();
    let evil_root = self_signed(&CertSpec::ca("Evil Root"));
    let forged = issue_with_key(&inter_spec(), generate_key(KeyKind::P256), Some(&evil_root));
    let leaf = issue(&leaf_spec(), &forged);
    // The pinned intermediate is the anchor: the leaf's signature does not verify under it.
    assert_eq!(
        outcome(&trusting(&[&p.inter]), &chain(&leaf, &[&forged])),
        Err(Reason::CertificateInvalid)
    );

    // A forged root subject above a forged intermediate, with the real root pinned.
    let fake_root = self_signed(&root_spec());
    let forged = issue(&inter_spec(), &fake_root);
    let leaf = issue(&leaf_spec(), &forged);
    assert_eq!(
        outcome(&trusting(&[&p.root]), &chain(&leaf, &[&forged])),
        Err(Reason::CertificateInvalid)
    );

    // The forged copy sent beside the genuine intermediate, the root pinned:
    // the leaf's key identifier names the copy, yet its signature is checked
    // under the genuine intermediate (verified up to the root), as before
    // issuer pruning.
    let forged = issue_with_key(&inter_spec(), generate_key(KeyKind::P256), Some(&evil_root));
    let leaf = issue(&leaf_spec(), &forged);
    assert_eq!(
        outcome(
            &trusting(&[&p.root]),
            &chain(&leaf, &[&forged, &p.inter, &p.root])
        ),
        Err(Reason::CertificateInvalid)
    );
}

#[test]
fn ca_certificate_as_the_leaf_is_invalid() {
    let p = standard();
    assert_eq!(
        outcome(&trusting(&[&p.root]), &chain(&p.root, &[])),
        Err(Reason::CertificateInvalid)
    );
    assert_eq!(
        outcome(&trusting(&[&p.root]), &chain(&p.inter, &[])),
        Err(Reason::CertificateInvalid)
    );
}

#[test]
fn pinned_end_entity_certificate_is_not_an_anchor() {
    let own = self_signed(&CertSpec::client("self-signed"));
    assert_eq!(
        outcome(&trusting(&[&own]), &chain(&own, &[])),
        Err(Reason::CertificateInvalid)
    );
}

#[test]
fn alternative_path_avoids_a_revoked_intermediate() {
    let root = self_signed(&root_spec());
    let key = generate_key(KeyKind::P256);
    let old = issue_with_key(&inter_spec(), key.clone(), Some(&root));
    let new = issue_with_key(&inter_spec(), key, Some(&root));
    let leaf = issue(&leaf_spec(), &old);
    let mut settings = trusting(&[&root]);
    settings.revoked_sha256 = vec![sha(&old)];
    assert_eq!(
        outcome(&settings, &chain(&leaf, &[&old, &new])),
        path_of(&[&leaf, &new, &root])
    );
    assert_eq!(
        outcome(&settings, &chain(&leaf, &[&old])),
        Err(Reason::CertificateRevoked)
    );
}

#[test]
fn reissued_root_with_the_same_key_replaces_an_expired_one() {
    let key = generate_key(KeyKind::P256);
    let expired = issue_with_key(&root_spec().validity(-7200, -3600), key.clone(), None);
    let current = issue_with_key(&root_spec(), key, None);
    let inter = issue(&inter_spec(), &current);
    let leaf = issue(&leaf_spec(), &inter);
    let client = verify(&trusting(&[&expired, &current]), &chain(&leaf, &[&inter])).unwrap();
    assert_eq!(client.anchor_sha256, sha(&current));
    assert_eq!(
        outcome(&trusting(&[&expired]), &chain(&leaf, &[&inter])),
        Err(Reason::CertificateExpired)
    );
}
