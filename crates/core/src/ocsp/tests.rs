//! OCSP response checks on responses the test kit writes with the defect
//! each test is about.

use super::*;
use onerecord_tls_policy_testkit::crl::serial_contents;
use onerecord_tls_policy_testkit::ocsp::{OcspSpec, Status};
use onerecord_tls_policy_testkit::pki::{CertSpec, Issued, issue, self_signed};
use onerecord_tls_policy_testkit::unix_now;

const SKEW: u64 = 60;

struct Pki {
    root: Issued,
    leaf: Issued,
    query: CertQuery,
}

fn pki() -> Pki {
    let root = self_signed(&CertSpec::ca("OCSP Root"));
    let leaf = issue(
        &CertSpec::client("ocsp client").extension(
            "authorityInfoAccess",
            "OCSP;URI:http://ocsp.example.test:8080/ocsp",
        ),
        &root,
    );
    let query = CertQuery::new(&leaf.der(), &root.der()).unwrap();
    Pki { root, leaf, query }
}

fn check(p: &Pki, der: &[u8]) -> Result<OcspAnswer, OcspError> {
    check_response(der, &p.query, unix_now(), SKEW)
}

#[test]
fn a_good_answer_from_the_issuer_is_accepted_with_its_times() {
    let p = pki();
    let answer = check(&p, &OcspSpec::default().sign(&p.leaf, &p.root)).unwrap();
    assert_eq!(answer.status, OcspStatus::Good);
    assert_eq!(answer.signer, Signer::Issuer);
    let now = unix_now() as i64;
    assert!((answer.this_update - (now - 60)).abs() <= 2);
    assert!((answer.next_update.unwrap() - (now + 3600)).abs() <= 2);
    let sha256 = OcspSpec::default().sha256().sign(&p.leaf, &p.root);
    assert_eq!(check(&p, &sha256).unwrap().status, OcspStatus::Good);
}

#[test]
fn revoked_and_unknown_are_reported_as_such() {
    let p = pki();
    let revoked = check(
        &p,
        &OcspSpec::default()
            .status(Status::Revoked)
            .sign(&p.leaf, &p.root),
    );
    assert!(matches!(
        revoked.unwrap().status,
        OcspStatus::Revoked {
            reason: Some(1),
            ..
        }
    ));
    let unknown = check(
        &p,
        &OcspSpec::default()
            .status(Status::Unknown)
            .sign(&p.leaf, &p.root),
    );
    assert_eq!(unknown.unwrap().status, OcspStatus::Unknown);
}

#[test]
fn try_later_is_not_successful() {
    let p = pki();
    let err = check(
        &p,
        &OcspSpec::default()
            .response_status(3)
            .sign(&p.leaf, &p.root),
    );
    assert_eq!(err, Err(OcspError::NotSuccessful("tryLater")));
    assert_eq!(err.unwrap_err().result(), "error");
}

#[test]
fn an_answer_for_another_serial_or_issuer_is_refused() {
    let p = pki();
    let mut other = serial_contents(&p.leaf);
    *other.last_mut().unwrap() ^= 1;
    let der = OcspSpec::default().serial(other).sign(&p.leaf, &p.root);
    assert_eq!(check(&p, &der), Err(OcspError::OtherCertificate));
    // Same name, another key: the key hash differs.
    let namesake = self_signed(&CertSpec::ca("OCSP Root"));
    let der = OcspSpec::default().sign(&p.leaf, &namesake);
    assert_eq!(check(&p, &der), Err(OcspError::OtherCertificate));
}

#[test]
fn the_name_hash_is_of_the_name_the_certificate_spells() {
    // RFC 6960 hashes the checked certificate's own issuer field. Here it
    // differs in case (and so in bytes) from the issuer's subject, which
    // name comparison would still match.
    let p = pki();
    let der = p.leaf.der();
    let at = der.windows(9).position(|w| w == b"OCSP Root").unwrap();
    let mut respelled = der.clone();
    respelled[at + 5..at + 9].copy_from_slice(b"ROOT");
    let query = CertQuery::new(&respelled, &p.root.der()).unwrap();
    let for_subject = OcspSpec::default().sign(&p.leaf, &p.root);
    assert_eq!(
        check_response(&for_subject, &query, unix_now(), SKEW),
        Err(OcspError::OtherCertificate)
    );
    let ours = openssl::ocsp::OcspCertId::from_cert(
        openssl::hash::MessageDigest::sha1(),
        &openssl::x509::X509::from_der(&respelled).unwrap(),
        &openssl::x509::X509::from_der(&p.root.der()).unwrap(),
    )
    .unwrap();
    let mut request = openssl::ocsp::OcspRequest::new().unwrap();
    request.add_id(ours).unwrap();
    assert_eq!(query.request_der().unwrap(), request.to_der().unwrap());
}

#[test]
fn a_signature_by_another_key_is_refused() {
    let p = pki();
    let stranger = self_signed(&CertSpec::ca("Stranger"));
    let der = OcspSpec::default().sign_with(&p.leaf, &p.root, &stranger, &[]);
    assert_eq!(check(&p, &der), Err(OcspError::BadSignature));
    let mut flipped = OcspSpec::default().sign(&p.leaf, &p.root);
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    assert!(check(&p, &flipped).is_err());
}

#[test]
fn stale_and_future_answers_are_refused() {
    let p = pki();
    let stale = OcspSpec::default()
        .times(-7200, Some(-10))
        .sign(&p.leaf, &p.root);
    assert_eq!(check(&p, &stale), Err(OcspError::Stale));
    let future = OcspSpec::default()
        .times(600, Some(7200))
        .sign(&p.leaf, &p.root);
    assert_eq!(check(&p, &future), Err(OcspError::NotYetValid));
    let within_skew = OcspSpec::default()
        .times(30, Some(7200))
        .sign(&p.leaf, &p.root);
    assert!(check(&p, &within_skew).is_ok());
}

#[test]
fn a_delegated_responder_needs_the_issuer_signature_and_ocsp_signing() {
    let p = pki();
    let responder = issue(
        &CertSpec::client("OCSP Responder").eku(Some(vec!["OCSPSigning"])),
        &p.root,
    );
    let good = OcspSpec::default().sign_with(&p.leaf, &p.root, &responder, &[&responder]);
    assert_eq!(check(&p, &good).unwrap().signer, Signer::Delegated);

    let no_eku = issue(&CertSpec::client("Plain Responder"), &p.root);
    let der = OcspSpec::default().sign_with(&p.leaf, &p.root, &no_eku, &[&no_eku]);
    assert_eq!(check(&p, &der), Err(OcspError::BadSignature));

    let other_ca = self_signed(&CertSpec::ca("Other CA"));
    let foreign = issue(
        &CertSpec::client("Foreign Responder").eku(Some(vec!["OCSPSigning"])),
        &other_ca,
    );
    let der = OcspSpec::default().sign_with(&p.leaf, &p.root, &foreign, &[&foreign]);
    assert_eq!(check(&p, &der), Err(OcspError::BadSignature));

    let expired = issue(
        &CertSpec::client("Expired Responder")
            .eku(Some(vec!["OCSPSigning"]))
            .validity(-7200, -3600),
        &p.root,
    );
    let der = OcspSpec::default().sign_with(&p.leaf, &p.root, &expired, &[&expired]);
    assert_eq!(check(&p, &der), Err(OcspError::BadSignature));
}

#[test]
fn a_delegated_responder_is_held_to_its_extensions() {
    let p = pki();
    let answer = |extensions: &[(&str, &str)]| {
        let mut spec = CertSpec::client("OCSP Responder").eku(Some(vec!["OCSPSigning"]));
        for (name, value) in extensions {
            spec = spec.extension(name, value);
        }
        let responder = issue(&spec, &p.root);
        let cert_der = responder.der();
        let cert = crate::x509::parse(&cert_der).unwrap();
        for (name, _) in extensions.iter().filter(|(name, _)| name.starts_with('1')) {
            let ext = cert
                .extensions()
                .iter()
                .find(|e| e.oid.to_id_string() == *name);
            assert!(
                ext.is_some_and(|e| e.critical),
                "{name} is not in the certificate"
            );
        }
        let der = OcspSpec::default().sign_with(&p.leaf, &p.root, &responder, &[&responder]);
        check(&p, &der).map(|answer| answer.signer)
    };
    // Understood: id-pkix-ocsp-nocheck, even critical; a KeyUsage that
    // allows signing.
    assert_eq!(
        answer(&[("1.3.6.1.5.5.7.48.1.5", "critical,DER:05:00")]),
        Ok(Signer::Delegated)
    );
    assert_eq!(
        answer(&[("keyUsage", "critical,digitalSignature")]),
        Ok(Signer::Delegated)
    );
    // A critical extension nobody understands, a KeyUsage without
    // digitalSignature: the certificate cannot sign for the issuer.
    for refused in [
        ("1.3.6.1.4.1.99999.1", "critical,DER:05:00"),
        ("keyUsage", "critical,keyEncipherment"),
    ] {
        assert_eq!(
            answer(&[refused]),
            Err(OcspError::BadSignature),
            "{refused:?}"
        );
    }
}

#[test]
fn garbage_is_malformed_never_a_panic() {
    let p = pki();
    let good = OcspSpec::default().sign(&p.leaf, &p.root);
    for cut in 0..good.len() {
        assert!(check(&p, &good[..cut]).is_err());
    }
    assert!(matches!(
        check(&p, b"not der"),
        Err(OcspError::Malformed(_))
    ));
}

/// The request as OpenSSL's own responder reads it, and its answer
/// (revoked per its index) as this checker reads it.
#[test]
fn openssl_ocsp_answers_the_request_and_the_answer_checks() {
    let p = pki();
    assert_eq!(p.query.urls, vec!["http://ocsp.example.test:8080/ocsp"]);
    let dir = onerecord_tls_policy_testkit::tempdir::TempDir::new("ocsp-request");
    let serial = hex::encode_upper(&p.query.serial_magnitude);
    let subject = "/O=Test PKI/CN=ocsp client";
    let index =
        format!("R\t491231235959Z\t250101000000Z,keyCompromise\t{serial}\tunknown\t{subject}\n");
    dir.write("index.txt", index);
    let ca = dir.write("root.pem", p.root.pem());
    let key = dir.write("root.key", p.root.key_pem());
    let request = dir.write("request.der", p.query.request_der().unwrap());
    let response = dir.join("response.der");
    let status = std::process::Command::new("openssl")
        .arg("ocsp")
        .arg("-index")
        .arg(dir.join("index.txt"))
        .arg("-CA")
        .arg(&ca)
        .arg("-rsigner")
        .arg(&ca)
        .arg("-rkey")
        .arg(&key)
        .arg("-reqin")
        .arg(&request)
        .arg("-respout")
        .arg(&response)
        .args(["-ndays", "1"])
        .output()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let der = std::fs::read(&response).unwrap();
    let answer = check(&p, &der).unwrap();
    assert!(matches!(
        answer.status,
        OcspStatus::Revoked {
            reason: Some(1),
            ..
        }
    ));
    assert!(answer.next_update.unwrap() > unix_now() as i64 + 80_000);
}

fn answer(status: OcspStatus, next_update: Option<i64>) -> OcspAnswer {
    OcspAnswer {
        status,
        this_update: 900,
        next_update,
        signer: Signer::Issuer,
    }
}

#[test]
fn a_good_answer_is_kept_until_next_update_capped_and_refreshed_before() {
    let p = pki();
    let key = p.query.key();
    let mut cache = OcspCache::new(4);
    let kept = cache.store(
        key.clone(),
        &answer(OcspStatus::Good, Some(2000)),
        1000,
        3600,
    );
    assert_eq!(kept.fresh_until, 2000);
    assert_eq!(kept.refresh_at, 1900);
    assert!(matches!(
        cache.lookup(std::slice::from_ref(&key), 1899),
        Lookup::Answered(_)
    ));
    assert!(cache.due(std::slice::from_ref(&key), 1899).is_empty());
    assert_eq!(cache.due(std::slice::from_ref(&key), 1900), vec![0]);
    assert_eq!(
        cache.lookup(std::slice::from_ref(&key), 2000),
        Lookup::Missing(vec![0])
    );
    // Capped by max_cache_seconds; without nextUpdate, the cap alone.
    assert_eq!(
        cache
            .store(
                key.clone(),
                &answer(OcspStatus::Good, Some(99_999)),
                1000,
                60
            )
            .fresh_until,
        1060
    );
    assert_eq!(
        cache
            .store(key.clone(), &answer(OcspStatus::Good, None), 1000, 60)
            .fresh_until,
        1060
    );
    // Short lifetimes: refreshed a few seconds ahead, or half-way.
    let mut refresh_at = |lifetime: u64| {
        cache
            .store(key.clone(), &answer(OcspStatus::Good, None), 1000, lifetime)
            .refresh_at
    };
    assert_eq!(refresh_at(60), 1054);
    assert_eq!(refresh_at(10), 1007);
    assert_eq!(refresh_at(4), 1002);
    assert_eq!(refresh_at(1), 1000);
    assert_eq!(refresh_at(86_400), 1000 + 86_400 - 300);
}

#[test]
fn a_revocation_is_final_and_a_failure_is_held_briefly() {
    let p = pki();
    let key = p.query.key();
    let mut cache = OcspCache::new(4);
    let revoked = OcspStatus::Revoked {
        at: 5,
        reason: None,
    };
    cache.store(key.clone(), &answer(revoked, Some(2000)), 1000, 60);
    assert_eq!(cache.store_failure(key.clone(), 1001).status, Some(revoked));
    assert_eq!(cache.get(&key, u64::MAX - 1).unwrap().status, Some(revoked));

    let mut cache = OcspCache::new(4);
    let failed = cache.store_failure(key.clone(), 1000);
    assert_eq!(failed.status, None);
    assert_eq!(failed.fresh_until, 1000 + cache::FAILURE_HOLD_SECONDS);
    // A failed refresh keeps the good answer it would have replaced.
    cache.store(
        key.clone(),
        &answer(OcspStatus::Good, Some(2000)),
        1000,
        3600,
    );
    assert_eq!(
        cache.store_failure(key.clone(), 1950).status,
        Some(OcspStatus::Good)
    );
    // The worst of several results comes first.
    let other = (key.0, crate::revocation::Serial::new(&[7]));
    cache.store_failure(other.clone(), 1000);
    let Lookup::Answered(results) = cache.lookup(&[key, other], 1001) else {
        panic!("both are answered");
    };
    assert_eq!(results[0].status, None);
}

#[test]
fn the_cache_stays_within_its_bound() {
    let p = pki();
    let mut cache = OcspCache::new(2);
    for n in 0..10u8 {
        let key = (
            p.query.issuer.id(),
            crate::revocation::Serial::new(&[n + 1]),
        );
        cache.store(
            key,
            &answer(OcspStatus::Good, Some(5000 + i64::from(n))),
            1000,
            9000,
        );
    }
    assert_eq!(cache.len(), 2);
}
