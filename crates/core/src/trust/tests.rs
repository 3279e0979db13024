//! End-to-end checks of `TrustStore::verify` over PKIs generated per test.

use super::*;
use std::time::{SystemTime, UNIX_EPOCH};

use onerecord_tls_policy_testkit::pki::{
    CertSpec, Issued, KeyKind, SigDigest, generate_key, issue, issue_with_key, self_signed,
};

const UNKNOWN_CRITICAL: (&str, &str) = ("1.3.6.1.4.1.99999.1", "critical,DER:05:00");

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sha(cert: &Issued) -> Fingerprint {
    Fingerprint::of_der(&cert.der())
}

/// Pins `anchors` and configures their certificates.
fn trusting(anchors: &[&Issued]) -> TrustSettings {
    TrustSettings {
        trusted_ca_sha256: anchors.iter().map(|c| sha(c)).collect(),
        ca_certificates_der: anchors.iter().map(|c| c.der()).collect(),
        revoked_sha256: Vec::new(),
        max_chain_length: 5,
        clock_skew_seconds: 60,
    }
}

/// Pins `anchors` without configuring them: the client has to send them.
fn pinned_only(anchors: &[&Issued]) -> TrustSettings {
    TrustSettings {
        ca_certificates_der: Vec::new(),
        ..trusting(anchors)
    }
}

fn chain(leaf: &Issued, others: &[&Issued]) -> PresentedChain {
    PresentedChain {
        leaf: leaf.der(),
        others: others.iter().map(|c| c.der()).collect(),
    }
}

fn verify(settings: &TrustSettings, chain: &PresentedChain) -> Result<VerifiedClient, Reason> {
    TrustStore::new(settings).verify(chain, now())
}

/// The verified path, or the reason.
fn outcome(settings: &TrustSettings, chain: &PresentedChain) -> Result<Vec<Fingerprint>, Reason> {
    verify(settings, chain).map(|client| client.path_sha256)
}

fn path_of(certs: &[&Issued]) -> Result<Vec<Fingerprint>, Reason> {
    Ok(certs.iter().map(|c| sha(c)).collect())
}

struct Pki {
    root: Issued,
    inter: Issued,
    leaf: Issued,
}

fn pki(root: CertSpec, inter: CertSpec, leaf: CertSpec) -> Pki {
    let root = self_signed(&root);
    let inter = issue(&inter, &root);
    let leaf = issue(&leaf, &inter);
    Pki { root, inter, leaf }
}

fn root_spec() -> CertSpec {
    CertSpec::ca("Root CA")
}

fn inter_spec() -> CertSpec {
    CertSpec::ca("Intermediate CA")
}

fn leaf_spec() -> CertSpec {
    CertSpec::client("client-1")
}

fn standard() -> Pki {
    pki(root_spec(), inter_spec(), leaf_spec())
}

/// The standard PKI with the root pinned and configured, leaf + intermediate sent.
fn standard_outcome(p: &Pki) -> Result<Vec<Fingerprint>, Reason> {
    outcome(&trusting(&[&p.root]), &chain(&p.leaf, &[&p.inter]))
}

// --- algorithms and anchoring -------------------------------------------------

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

// --- time -----------------------------------------------------------------------

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

// --- revocation and profile -----------------------------------------------------

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

    let no_eku = pki(root_spec(), inter_spec(), leaf_spec().eku(None));
    assert!(standard_outcome(&no_eku).is_ok());

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

// --- limits and constraints -------------------------------------------------------

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

    // Four distinct certificates presented where three are allowed.
    assert_eq!(
        outcome(&with_max(3), &chain(&leaf, &[&lower, &upper, &root])),
        Err(Reason::ChainTooLong)
    );
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
    assert_eq!(standard_outcome(&outside), Err(Reason::CertificateInvalid));

    let on_intermediate = pki(
        root_spec(),
        inter_spec().extension("nameConstraints", "critical,permitted;DNS:example.com"),
        leaf_spec().dns_sans(&["client-1.example.org"]),
    );
    assert_eq!(
        standard_outcome(&on_intermediate),
        Err(Reason::CertificateInvalid)
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

// --- hostile input ----------------------------------------------------------------

#[test]
fn garbage_is_certificate_invalid() {
    let p = standard();
    let settings = trusting(&[&p.root]);
    let mut truncated = p.leaf.der();
    truncated.truncate(truncated.len() / 2);
    let mut trailing = p.leaf.der();
    trailing.push(0);
    for leaf in [
        Vec::new(),
        b"not a certificate".to_vec(),
        truncated.clone(),
        trailing,
        vec![0x30, 0x80, 0, 0],
    ] {
        let garbage = PresentedChain {
            leaf,
            others: vec![p.inter.der()],
        };
        assert_eq!(
            outcome(&settings, &garbage),
            Err(Reason::CertificateInvalid)
        );
    }
    for other in [Vec::new(), b"junk".to_vec(), truncated] {
        let garbage = PresentedChain {
            leaf: p.leaf.der(),
            others: vec![p.inter.der(), other],
        };
        assert_eq!(
            outcome(&settings, &garbage),
            Err(Reason::CertificateInvalid)
        );
    }
}

#[test]
fn mutated_chains_never_verify_and_never_panic() {
    let p = standard();
    let store = TrustStore::new(&trusting(&[&p.root]));
    let good = chain(&p.leaf, &[&p.inter]);
    assert!(store.verify(&good, now()).is_ok());

    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..400 {
        let mut mutated = good.clone();
        let target = if next() % 2 == 0 {
            &mut mutated.leaf
        } else {
            &mut mutated.others[0]
        };
        let at = (next() as usize) % target.len();
        target[at] ^= 1 << (next() % 8);
        assert!(
            store.verify(&mutated, now()).is_err(),
            "bit flip at {at} verified"
        );
    }
    for cut in (0..p.inter.der().len()).step_by(13) {
        let mut cut_chain = good.clone();
        cut_chain.others[0].truncate(cut);
        assert!(store.verify(&cut_chain, now()).is_err());
    }
}

// --- identity -----------------------------------------------------------------------

#[test]
fn identity_fields_are_exact() {
    let root = self_signed(&root_spec());
    let inter = issue(&inter_spec(), &root);
    let leaf = issue(
        &leaf_spec()
            .uri_sans(&[
                "https://1r.example.com/logistics-agents/client-1",
                "urn:example:carrier:42",
            ])
            .dns_sans(&["Client-1.Example.COM", "api.example.com"]),
        &inter,
    );
    let client = verify(&trusting(&[&root]), &chain(&leaf, &[&leaf, &inter])).unwrap();
    assert_eq!(
        client,
        VerifiedClient {
            leaf_sha256: sha(&leaf),
            subject: "O=Example Airline,CN=client-1".to_string(),
            uri_sans: vec![
                "https://1r.example.com/logistics-agents/client-1".to_string(),
                "urn:example:carrier:42".to_string(),
            ],
            dns_sans: vec![
                "client-1.example.com".to_string(),
                "api.example.com".to_string()
            ],
            organizations: vec!["Example Airline".to_string()],
            anchor_sha256: sha(&root),
            path_sha256: vec![sha(&leaf), sha(&inter), sha(&root)],
        }
    );
}

#[test]
fn identity_escapes_the_subject_and_keeps_organizations_verbatim() {
    let p = pki(
        root_spec(),
        inter_spec(),
        CertSpec::client("client+1")
            .organization(Some("Cargo, Inc."))
            .uri_sans(&[]),
    );
    let client = verify(&trusting(&[&p.root]), &chain(&p.leaf, &[&p.inter])).unwrap();
    assert_eq!(client.subject, "O=Cargo\\, Inc.,CN=client\\+1");
    assert_eq!(client.organizations, vec!["Cargo, Inc.".to_string()]);
    assert!(client.uri_sans.is_empty() && client.dns_sans.is_empty());

    let no_org = pki(root_spec(), inter_spec(), leaf_spec().organization(None));
    let client = verify(
        &trusting(&[&no_org.root]),
        &chain(&no_org.leaf, &[&no_org.inter]),
    )
    .unwrap();
    assert_eq!(client.subject, "CN=client-1");
    assert!(client.organizations.is_empty());
}

// --- validity window of the path ----------------------------------------------

#[test]
fn path_validity_is_the_overlap_of_every_certificate_on_it() {
    use x509_parser::prelude::{FromDer, X509Certificate};
    let period = |c: &Issued| {
        let der = c.der();
        let (_, x) = X509Certificate::from_der(&der).unwrap();
        let v = x.validity();
        (v.not_before.timestamp(), v.not_after.timestamp())
    };
    let day = 86_400;
    // The anchor ends first and the leaf starts last; then the intermediate ends first.
    let anchor_ends = pki(
        root_spec().validity(-7200, 10 * day),
        inter_spec().validity(-3600, 20 * day),
        leaf_spec().validity(-600, 30 * day),
    );
    let inter_ends = pki(
        root_spec().validity(-7200, 40 * day),
        inter_spec().validity(-3600, 5 * day),
        leaf_spec().validity(-600, 30 * day),
    );
    for (p, ends_first) in [
        (&anchor_ends, &anchor_ends.root),
        (&inter_ends, &inter_ends.inter),
    ] {
        let store = TrustStore::new(&trusting(&[&p.root]));
        let (client, validity) = store
            .verify_path(&chain(&p.leaf, &[&p.inter]), now())
            .unwrap();
        assert_eq!(
            client.path_sha256,
            path_of(&[&p.leaf, &p.inter, &p.root]).unwrap()
        );
        let (not_before, not_after) = (period(&p.leaf).0, period(ends_first).1);
        assert_eq!(
            validity,
            PathValidity {
                not_before,
                not_after
            }
        );
        assert!(validity.contains(not_before as u64) && validity.contains(not_after as u64));
        assert!(!validity.contains(not_before as u64 - 1));
        assert!(!validity.contains(not_after as u64 + 1));
    }
}
