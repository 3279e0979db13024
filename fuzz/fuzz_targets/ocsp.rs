//! OCSP response input: an issuer certificate, a response, the certificate
//! asked about (the `crl` target's framing: two length-prefixed parts, then
//! the rest), mutated.
//!
//! Invariants: checking never panics and is deterministic; a response the
//! filter accepts is one OpenSSL parses as successful, with a status for
//! the certificate asked about, and whose signature OpenSSL verifies with
//! the issuer as the only trusted certificate (when OpenSSL takes the issuer
//! itself as a trust anchor: its validity is the verified path's business),
//! or, signed by a delegated responder, with that responder's certificate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onerecord_tls_policy::ocsp::{CertQuery, Signer, check_response};
use onerecord_tls_policy_fuzz::crl_input::split;
use openssl::hash::MessageDigest;
use openssl::ocsp::{OcspCertId, OcspFlag, OcspResponse, OcspResponseStatus};
use openssl::stack::Stack;
use openssl::x509::X509;
use openssl::x509::store::X509StoreBuilder;

/// Inside the validity of the seeds' responses.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fuzz_target!(|data: &[u8]| {
    let Some((issuer_der, response_der, leaf_der)) = split(data) else {
        return;
    };
    let Some(query) = CertQuery::new(leaf_der, issuer_der) else {
        return;
    };
    let now = now();
    let checked = check_response(response_der, &query, now, 60);
    assert_eq!(
        checked,
        check_response(response_der, &query, now, 60),
        "deterministic"
    );
    if checked.is_err() {
        return;
    }
    let (Ok(issuer), Ok(leaf)) = (X509::from_der(issuer_der), X509::from_der(leaf_der)) else {
        return;
    };
    let response =
        OcspResponse::from_der(response_der).expect("OpenSSL parses an accepted response");
    assert_eq!(response.status(), OcspResponseStatus::SUCCESSFUL);
    let basic = response.basic().expect("a basic response");
    let found = [MessageDigest::sha1(), MessageDigest::sha256()]
        .into_iter()
        .filter_map(|digest| OcspCertId::from_cert(digest, &leaf, &issuer).ok())
        .any(|id| basic.find_status(&id).is_some());
    assert!(
        found,
        "accepted a response without a status for the certificate"
    );
    // The issuer's own validity is the verified path's business (the
    // filter only ever asks about issuers on one): a mutation that makes it
    // malformed (TBS signature field unlike its signatureAlgorithm, RFC
    // 5280 4.1.1.2) or unusable as a trust anchor (an unknown critical
    // extension) says nothing about the response.
    if !algorithms_agree(issuer_der) || !openssl_takes_as_anchor(&issuer) {
        return;
    }
    let mut store = X509StoreBuilder::new().expect("store");
    store.add_cert(issuer.clone()).expect("add issuer");
    let store = store.build();
    let mut certs = Stack::new().expect("stack");
    certs.push(issuer).expect("push");
    // A delegated responder's certificate: OpenSSL builds and judges a chain
    // for it by its own rules (AKI against SKI, the issuer's extensions);
    // here it checks the response's signature with that certificate, and
    // the filter's unit tests cover the delegation itself.
    let flags = match checked.map(|answer| answer.signer) {
        Ok(Signer::Delegated) => OcspFlag::NO_VERIFY,
        _ => OcspFlag::TRUST_OTHER | OcspFlag::NO_CHECKS,
    };
    assert!(
        basic.verify(&certs, &store, flags).is_ok(),
        "accepted a response OpenSSL does not verify"
    );
});

/// Whether a certificate's TBS `signature` equals its outer `signatureAlgorithm`.
fn algorithms_agree(der: &[u8]) -> bool {
    use x509_parser::prelude::FromDer;
    x509_parser::certificate::X509Certificate::from_der(der)
        .is_ok_and(|(_, cert)| cert.signature_algorithm == cert.tbs_certificate.signature)
}

/// Whether OpenSSL accepts `issuer` as a trust anchor of its own.
fn openssl_takes_as_anchor(issuer: &X509) -> bool {
    use openssl::x509::X509StoreContext;
    use openssl::x509::verify::X509VerifyFlags;
    let Ok(mut store) = X509StoreBuilder::new() else {
        return false;
    };
    if store.add_cert(issuer.clone()).is_err()
        || store.set_flags(X509VerifyFlags::PARTIAL_CHAIN).is_err()
    {
        return false;
    }
    let store = store.build();
    let (Ok(mut context), Ok(chain)) = (X509StoreContext::new(), Stack::new()) else {
        return false;
    };
    context
        .init(&store, issuer, &chain, |c| c.verify_cert())
        .unwrap_or(false)
}
