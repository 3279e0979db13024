//! The RFC 5280 profile webpki does not check: each defect refused with
//! `certificate_profile_violation` and its detail, in the role it counts
//! for, and tolerated by `compatible` only where real client PKIs ship it.

use super::*;
use crate::trust::X509Profile;
use onerecord_tls_policy_testkit::crl::{sign, tlv};

/// The reason and detail for the standard chain shape built from the specs.
fn refused(root: CertSpec, inter: CertSpec, leaf: CertSpec, profile: X509Profile) -> Verification {
    let p = pki(root, inter, leaf);
    let mut settings = trusting(&[&p.root]);
    settings.profile.x509 = profile;
    TrustStore::new(&settings).verify_counted(&chain(&p.leaf, &[&p.inter]), now())
}

fn assert_defect(v: &Verification, detail: &str) {
    assert_eq!(
        v.result.as_ref().err(),
        Some(&Reason::CertificateProfileViolation)
    );
    assert_eq!(v.detail, Some(detail));
}

#[test]
fn a_conforming_chain_passes_both_profiles() {
    for profile in [X509Profile::Strict, X509Profile::Compatible] {
        let v = refused(root_spec(), inter_spec(), leaf_spec(), profile);
        assert!(v.result.is_ok(), "{profile:?}: {:?}", v.result);
        assert_eq!(v.detail, None);
    }
}

#[test]
fn defects_refused_by_both_profiles() {
    let key_cert_sign = ("keyUsage", "critical,digitalSignature,keyCertSign");
    let nc = ("nameConstraints", "critical,permitted;DNS:example.com");
    let cases = [
        (
            root_spec(),
            inter_spec(),
            leaf_spec().extension(key_cert_sign.0, key_cert_sign.1),
            "key_cert_sign_without_ca",
        ),
        (
            root_spec(),
            inter_spec(),
            leaf_spec().extension(nc.0, nc.1),
            "name_constraints_in_end_entity",
        ),
        (
            root_spec().extension(UNKNOWN_CRITICAL.0, UNKNOWN_CRITICAL.1),
            inter_spec(),
            leaf_spec(),
            "unknown_critical_extension",
        ),
        (
            root_spec(),
            inter_spec(),
            leaf_spec().eku(Some(vec!["clientAuth", "anyExtendedKeyUsage"])),
            "extended_key_usage_any",
        ),
    ];
    for (root, inter, leaf, detail) in cases {
        for profile in [X509Profile::Strict, X509Profile::Compatible] {
            let v = refused(root.clone(), inter.clone(), leaf.clone(), profile);
            assert_defect(&v, detail);
        }
    }
}

#[test]
fn defects_compatible_tolerates() {
    let cases = [
        (
            root_spec(),
            inter_spec().extension("nameConstraints", "permitted;DNS:example.com"),
            leaf_spec().dns_sans(&["client-1.example.com"]),
            "name_constraints_not_critical",
        ),
        (
            root_spec(),
            inter_spec(),
            leaf_spec().without_key_identifiers(),
            "authority_key_identifier_missing",
        ),
        (
            root_spec().eku(Some(vec!["clientAuth"])),
            inter_spec(),
            leaf_spec(),
            "extended_key_usage_on_anchor",
        ),
        (
            root_spec(),
            inter_spec(),
            leaf_spec()
                .eku(None)
                .extension("extendedKeyUsage", "critical,clientAuth"),
            "extended_key_usage_critical",
        ),
        (
            root_spec(),
            inter_spec(),
            leaf_spec().dns_sans(&["under_score.example.com"]),
            "dns_name_malformed",
        ),
        (
            root_spec(),
            inter_spec(),
            leaf_spec().dns_sans(&["*.com"]),
            "dns_name_wildcard",
        ),
    ];
    for (root, inter, leaf, detail) in cases {
        let strict = refused(
            root.clone(),
            inter.clone(),
            leaf.clone(),
            X509Profile::Strict,
        );
        assert_defect(&strict, detail);
        let compatible = refused(root, inter, leaf, X509Profile::Compatible);
        assert!(
            compatible.result.is_ok(),
            "{detail}: {:?}",
            compatible.result
        );
    }
}

#[test]
fn a_wildcard_only_as_the_whole_leftmost_label_over_two_labels() {
    let strict = |san: &str| {
        refused(
            root_spec(),
            inter_spec(),
            leaf_spec().dns_sans(&[san]),
            X509Profile::Strict,
        )
    };
    let v = strict("*.example.com");
    assert!(v.result.is_ok(), "{:?} {:?}", v.result, v.detail);
    for (san, detail) in [
        ("*", "dns_name_wildcard"),
        ("*.com", "dns_name_wildcard"),
        ("ba*.example.com", "dns_name_malformed"),
        ("foo.*.example.com", "dns_name_malformed"),
        ("xn--*-1b3c148a.example.com", "dns_name_malformed"),
    ] {
        assert_defect(&strict(san), detail);
    }
}

#[test]
fn a_host_form_common_name_must_repeat_a_san() {
    let mut leaf = leaf_spec().dns_sans(&["valid.example.com"]);
    leaf.common_name = "other.example.com".into();
    let v = refused(root_spec(), inter_spec(), leaf, X509Profile::Strict);
    assert_defect(&v, "common_name_not_in_subject_alt_name");
    // The domain the SANs lie under, or an organisation's name, is fine.
    for cn in ["example.com", "Example Airline"] {
        let mut leaf = leaf_spec().dns_sans(&["valid.example.com"]);
        leaf.common_name = cn.into();
        let v = refused(root_spec(), inter_spec(), leaf, X509Profile::Strict);
        assert!(v.result.is_ok(), "{cn}: {:?}", v.result);
    }
}

/// `cert` with its TBS rewritten by `edit` and signed again by `issuer`
/// with the outer signatureAlgorithm it had (ecdsa-with-SHA256).
fn resigned(cert: &Issued, issuer: &Issued, edit: impl Fn(&mut Vec<u8>)) -> Issued {
    let der = cert.der();
    let signed = crate::trust::Signed::parse(&der).unwrap();
    let mut tbs = signed.tbs.to_vec();
    edit(&mut tbs);
    let signature = sign(issuer, &tbs);
    let mut body = tbs;
    body.extend(tlv(0x30, signed.signature_algorithm));
    body.extend(tlv(0x03, &[&[0u8][..], &signature].concat()));
    Issued {
        cert: openssl::x509::X509::from_der(&tlv(0x30, &body)).unwrap(),
        key: cert.key.clone(),
    }
}

/// RFC 5280 4.1.1.2: webpki refuses a certificate whose signed field names
/// another algorithm than the one its signature is checked with, in both
/// profiles; the anchor's own signature is not checked, by webpki or OpenSSL.
#[test]
fn a_signed_field_naming_another_algorithm_is_refused_below_the_anchor() {
    const ECDSA_SHA256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    let p = standard();
    // The TBS signature field says ecdsa-with-SHA384; the outer field, which
    // the signature is checked with, still says SHA-256.
    let to_sha384 = |tbs: &mut Vec<u8>| {
        let at = tbs
            .windows(ECDSA_SHA256.len())
            .position(|w| w == ECDSA_SHA256)
            .unwrap();
        tbs[at + ECDSA_SHA256.len() - 1] = 0x03;
    };
    let verify = |leaf: &Issued, inter: &Issued, profile: X509Profile| {
        let mut settings = trusting(&[&p.root]);
        settings.profile.x509 = profile;
        TrustStore::new(&settings).verify_counted(&chain(leaf, &[inter]), now())
    };
    for profile in [X509Profile::Strict, X509Profile::Compatible] {
        // Signed again unchanged, each passes: only the mismatch is wrong.
        let (leaf, inter) = (
            resigned(&p.leaf, &p.inter, |_| {}),
            resigned(&p.inter, &p.root, |_| {}),
        );
        assert_ne!(leaf.der(), p.leaf.der());
        let v = verify(&leaf, &inter, profile);
        assert!(v.result.is_ok(), "{profile:?}: {:?}", v.result);
        for (leaf, inter) in [
            (resigned(&p.leaf, &p.inter, to_sha384), inter),
            (leaf, resigned(&p.inter, &p.root, to_sha384)),
        ] {
            let v = verify(&leaf, &inter, profile);
            assert!(v.result.is_err(), "{profile:?}: accepted");
            assert_ne!(
                v.result.as_ref().err(),
                Some(&Reason::CertificateProfileViolation)
            );
        }
    }
}
