//! OCSP response input: an issuer certificate, a response, the certificate
//! asked about (the `crl` target's framing: two length-prefixed parts, then
//! the rest), mutated.
//!
//! Invariants: checking never panics and is deterministic; a response the
//! filter accepts is one OpenSSL parses as successful, with a status for
//! the certificate asked about, and whose signature OpenSSL verifies with
//! the issuer as the only trusted certificate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onerecord_tls_policy::ocsp::{CertQuery, check_response};
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
    let mut store = X509StoreBuilder::new().expect("store");
    store.add_cert(issuer.clone()).expect("add issuer");
    let store = store.build();
    let mut certs = Stack::new().expect("stack");
    certs.push(issuer).expect("push");
    assert!(
        basic
            .verify(&certs, &store, OcspFlag::TRUST_OTHER | OcspFlag::NO_CHECKS)
            .is_ok(),
        "accepted a response OpenSSL does not verify"
    );
});
