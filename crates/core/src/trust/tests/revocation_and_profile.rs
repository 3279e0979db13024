//! Revocation and profile.

use super::*;
use crate::trust::X509Profile;

#[test]
fn revoked_leaf_intermediate_or_anchor() {
    let p = standard();
    for revoked in [&p.leaf, &p.inter, &p.root] {
        let mut settings = trusting(&[&p.root]);
        settings.revoked_sha256 = vec![sha(revoked)];
        assert_eq!(
            outcome(&settings, &chain(&p.leaf, &[&p.inter])),
            Err(Reason::CertificateRevoked)
        );
    }
    let mut settings = trusting(&[&p.root]);
    settings.revoked_sha256 = vec![sha(&self_signed(&CertSpec::ca("Unrelated")))];
    assert!(outcome(&settings, &chain(&p.leaf, &[&p.inter])).is_ok());
}

#[test]
fn rsa_1024_anywhere_on_the_path_is_a_weak_key() {
    let weak = KeyKind::Rsa(1024);
    let leaf = pki(root_spec(), inter_spec(), leaf_spec().key(weak));
    assert_eq!(standard_outcome(&leaf), Err(Reason::WeakKey));
    let inter = pki(root_spec(), inter_spec().key(weak), leaf_spec());
    assert_eq!(standard_outcome(&inter), Err(Reason::WeakKey));
    let root = pki(root_spec().key(weak), inter_spec(), leaf_spec());
    assert_eq!(standard_outcome(&root), Err(Reason::WeakKey));
}

#[test]
fn sha1_signatures_are_weak() {
    let rsa = KeyKind::Rsa(2048);
    // The leaf's signature is made with the intermediate's key.
    let rsa_leaf = pki(
        root_spec(),
        inter_spec().key(rsa),
        leaf_spec().digest(SigDigest::Sha1),
    );
    assert_eq!(
        standard_outcome(&rsa_leaf),
        Err(Reason::WeakSignatureAlgorithm)
    );
    let ecdsa_leaf = pki(
        root_spec(),
        inter_spec(),
        leaf_spec().digest(SigDigest::Sha1),
    );
    assert_eq!(
        standard_outcome(&ecdsa_leaf),
        Err(Reason::WeakSignatureAlgorithm)
    );
    let inter = pki(
        root_spec(),
        inter_spec().digest(SigDigest::Sha1),
        leaf_spec(),
    );
    assert_eq!(
        standard_outcome(&inter),
        Err(Reason::WeakSignatureAlgorithm)
    );
    let anchor = pki(
        root_spec().key(rsa).digest(SigDigest::Sha1),
        inter_spec(),
        leaf_spec(),
    );
    assert_eq!(
        standard_outcome(&anchor),
        Err(Reason::WeakSignatureAlgorithm)
    );
}

#[test]
fn client_auth_usage() {
    let server = pki(
        root_spec(),
        inter_spec(),
        CertSpec::server("api.example.com"),
    );
    assert_eq!(
        standard_outcome(&server),
        Err(Reason::MissingClientAuthUsage)
    );

    // RFC 5280 lets a leaf go without EKU; the strict profile does not.
    let no_eku = pki(root_spec(), inter_spec(), leaf_spec().eku(None));
    assert_eq!(
        standard_outcome(&no_eku),
        Err(Reason::CertificateProfileViolation)
    );
    let mut compatible = trusting(&[&no_eku.root]);
    compatible.profile.x509 = X509Profile::Compatible;
    assert!(outcome(&compatible, &chain(&no_eku.leaf, &[&no_eku.inter])).is_ok());

    let both = pki(
        root_spec(),
        inter_spec(),
        leaf_spec().eku(Some(vec!["serverAuth", "clientAuth"])),
    );
    assert!(standard_outcome(&both).is_ok());

    let no_digital_signature = pki(
        root_spec(),
        inter_spec(),
        leaf_spec()
            .key(KeyKind::Rsa(2048))
            .extension("keyUsage", "critical,keyEncipherment"),
    );
    assert_eq!(
        standard_outcome(&no_digital_signature),
        Err(Reason::MissingClientAuthUsage)
    );

    // webpki applies the EKU to intermediates as well.
    let inter_server_only = pki(
        root_spec(),
        inter_spec().eku(Some(vec!["serverAuth"])),
        leaf_spec(),
    );
    assert_eq!(
        standard_outcome(&inter_server_only),
        Err(Reason::MissingClientAuthUsage)
    );
}

#[test]
fn issuers_must_be_allowed_to_sign_certificates() {
    let inter = pki(
        root_spec(),
        inter_spec().extension("keyUsage", "critical,cRLSign"),
        leaf_spec(),
    );
    assert_eq!(standard_outcome(&inter), Err(Reason::CertificateInvalid));
    let anchor = pki(
        root_spec().extension("keyUsage", "critical,cRLSign"),
        inter_spec(),
        leaf_spec(),
    );
    assert_eq!(standard_outcome(&anchor), Err(Reason::CertificateInvalid));
}
