//! CRL reading and verification on CRLs the test kit writes with the defect
//! each test is about.

use super::*;
use onerecord_tls_policy_testkit::crl::{CrlSpec, RawExtension};
use onerecord_tls_policy_testkit::pki::{CertSpec, Issued, KeyKind, issue, self_signed};

fn key(cert: &Issued) -> IssuerKey {
    IssuerKey::of_certificate(&cert.der()).unwrap()
}

fn read(spec: &CrlSpec, issuer: &Issued) -> Result<Crl, CrlError> {
    UnverifiedCrl::parse(&spec.sign(issuer).der)?
        .verify(&[key(issuer)])
        .map(|(crl, _)| crl)
}

fn unusable(spec: CrlSpec, issuer: &Issued) -> String {
    match read(&spec, issuer) {
        Err(CrlError::Unusable(why)) => why,
        other => panic!("expected an unusable CRL, got {other:?}"),
    }
}

#[test]
fn reads_what_the_crl_says() {
    let root = self_signed(&CertSpec::ca("CRL Root"));
    let leaf = issue(&CertSpec::client("listed"), &root);
    let crl = read(
        &CrlSpec::default().number(Some(0x1234)).revoke(&leaf),
        &root,
    )
    .unwrap();
    assert_eq!(crl.issuer, key(&root).id());
    assert_eq!(crl.issuer_name, "O=Test PKI,CN=CRL Root");
    assert_eq!(crl.number_hex(), "1234");
    assert_eq!(crl.len(), 1);
    let serial = Serial::new(
        leaf.cert
            .serial_number()
            .to_bn()
            .unwrap()
            .to_vec()
            .as_slice(),
    );
    let entry = crl.entry(&serial).unwrap();
    assert_eq!(reason_name(entry.reason), "keyCompromise");
    assert!(crl.next_update.unwrap() > crl.this_update);
    // A v1 CRL without extensions or nextUpdate reads too.
    let v1 = CrlSpec {
        version2: false,
        number: None,
        next_update_offset: None,
        ..CrlSpec::default()
    };
    let crl = read(&v1, &root).unwrap();
    assert_eq!((crl.number.clone(), crl.next_update), (None, None));
}

#[test]
fn rsa_and_ecdsa_signers_verify() {
    for kind in [KeyKind::Rsa(2048), KeyKind::P256, KeyKind::P384] {
        let root = self_signed(&CertSpec::ca("Signer").key(kind));
        assert!(read(&CrlSpec::default(), &root).is_ok(), "{kind:?}");
    }
}

#[test]
fn a_wrong_signer_or_namesake_is_refused() {
    let root = self_signed(&CertSpec::ca("Real Root"));
    let namesake = self_signed(&CertSpec::ca("Real Root"));
    let forged = CrlSpec::default().sign_as(&root, &namesake);
    let parsed = UnverifiedCrl::parse(&forged.der).unwrap();
    assert!(matches!(
        parsed.clone().verify(&[key(&root)]),
        Err(CrlError::BadSignature(_))
    ));
    // The namesake's own key verifies it, for the namesake's issuer id only.
    let (crl, _) = parsed.verify(&[key(&root), key(&namesake)]).unwrap();
    assert_eq!(crl.issuer, key(&namesake).id());
    assert_ne!(crl.issuer, key(&root).id());
    let stranger = self_signed(&CertSpec::ca("Stranger"));
    let parsed = UnverifiedCrl::parse(&CrlSpec::default().sign(&root).der).unwrap();
    assert!(matches!(
        parsed.verify(&[key(&stranger)]),
        Err(CrlError::UnknownIssuer(_))
    ));
}

#[test]
fn an_issuer_without_crl_sign_is_refused() {
    let root =
        self_signed(&CertSpec::ca("No CRL Sign").extension("keyUsage", "critical,keyCertSign"));
    assert!(!key(&root).crl_sign);
    assert!(matches!(
        read(&CrlSpec::default(), &root),
        Err(CrlError::BadSignature(_))
    ));
}

#[test]
fn critical_extensions_not_understood_make_the_crl_unusable() {
    let root = self_signed(&CertSpec::ca("Ext Root"));
    assert!(
        read(
            &CrlSpec::default().extension(RawExtension::private(1, false)),
            &root
        )
        .is_ok()
    );
    let why = unusable(
        CrlSpec::default().extension(RawExtension::private(1, true)),
        &root,
    );
    assert!(why.contains("unknown critical extension"), "{why}");
    let why = unusable(
        CrlSpec::default().extension(RawExtension::delta_crl_indicator(1)),
        &root,
    );
    assert!(why.contains("delta"), "{why}");
    let why = unusable(
        CrlSpec::default().extension(RawExtension::issuing_distribution_point(false, false, true)),
        &root,
    );
    assert!(why.contains("indirect"), "{why}");
}

#[test]
fn a_v2_crl_needs_a_non_critical_crl_number() {
    let root = self_signed(&CertSpec::ca("Number Root"));
    let why = unusable(CrlSpec::default().number(None), &root);
    assert!(why.contains("without a CRL number"), "{why}");
    let critical = RawExtension {
        oid: vec![0x55, 0x1d, 0x14],
        critical: true,
        value: vec![0x02, 0x01, 0x07],
    };
    let why = unusable(CrlSpec::default().number(None).extension(critical), &root);
    assert!(why.contains("critical CRL number"), "{why}");
}

#[test]
fn entry_extensions_are_checked_too() {
    let root = self_signed(&CertSpec::ca("Entry Root"));
    let leaf = issue(&CertSpec::client("entry"), &root);
    let mut spec = CrlSpec::default().revoke(&leaf);
    spec.entries[0]
        .extensions
        .push(RawExtension::private(2, false));
    assert_eq!(read(&spec, &root).unwrap().len(), 1);
    spec.entries[0]
        .extensions
        .push(RawExtension::private(3, true));
    let why = unusable(spec, &root);
    assert!(why.contains("unknown critical entry extension"), "{why}");
    // certificateIssuer: an indirect CRL's entry.
    let mut spec = CrlSpec::default().revoke(&leaf);
    spec.entries[0].extensions.push(RawExtension {
        oid: vec![0x55, 0x1d, 0x1d],
        critical: true,
        value: vec![0x30, 0x00],
    });
    assert!(unusable(spec, &root).contains("certificateIssuer"));
}

#[test]
fn user_or_ca_only_crls_cover_only_those() {
    let root = self_signed(&CertSpec::ca("Scoped Root"));
    let users = read(
        &CrlSpec::default().extension(RawExtension::issuing_distribution_point(true, false, false)),
        &root,
    )
    .unwrap();
    assert!(users.covers(false) && !users.covers(true));
    let cas = read(
        &CrlSpec::default().extension(RawExtension::issuing_distribution_point(false, true, false)),
        &root,
    )
    .unwrap();
    assert!(cas.covers(true) && !cas.covers(false));
}

#[test]
fn what_is_not_a_crl_is_malformed() {
    let root = self_signed(&CertSpec::ca("Cut Root"));
    let der = CrlSpec::default().sign(&root).der;
    for cut in [0, 1, 10, der.len() / 2, der.len() - 1] {
        assert!(
            matches!(
                UnverifiedCrl::parse(&der[..cut]),
                Err(CrlError::Malformed(_))
            ),
            "cut at {cut}"
        );
    }
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(UnverifiedCrl::parse(&trailing).is_err());
    assert!(UnverifiedCrl::parse(&root.der()).is_err(), "a certificate");
}

#[test]
fn newer_is_by_this_update_then_number() {
    let root = self_signed(&CertSpec::ca("Order Root"));
    let old = read(
        &CrlSpec::default()
            .times(-7200, Some(86_400))
            .number(Some(9)),
        &root,
    )
    .unwrap();
    let new = read(
        &CrlSpec::default().times(-60, Some(86_400)).number(Some(1)),
        &root,
    )
    .unwrap();
    assert!(old.is_older_than(&new) && !new.is_older_than(&old));
    let mut same_time = new.clone();
    same_time.number = Some(vec![2]);
    assert!(new.is_older_than(&same_time));
    same_time.number = Some(vec![1, 0]);
    assert!(new.is_older_than(&same_time), "0x0100 > 0x01");
}
