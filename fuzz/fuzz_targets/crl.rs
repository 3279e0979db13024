//! CRL input: an issuer certificate and a CRL, mutated.
//!
//! Invariants: reading is deterministic and never panics; a CRL the filter
//! accepts as signed by the issuer is one OpenSSL parses and verifies with
//! the issuer's key, issued in the issuer's name; the store applies it for
//! that issuer only, and a listed serial (in any encoding of its integer)
//! is found while an unlisted one is not; an older CRL never replaces a
//! newer one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use onerecord_tls_policy::revocation::{
    IssuerKey, Offered, PathLink, Revocations, Serial, UnverifiedCrl,
};
use onerecord_tls_policy_fuzz::crl_input::split;
use openssl::x509::{X509, X509Crl};

fuzz_target!(|data: &[u8]| {
    let Some((issuer_der, crl_der, serial)) = split(data) else {
        return;
    };
    let parsed = UnverifiedCrl::parse(crl_der);
    assert_eq!(
        parsed.as_ref().map(|c| c.claims().clone()).ok(),
        UnverifiedCrl::parse(crl_der)
            .map(|c| c.claims().clone())
            .ok(),
        "deterministic"
    );
    let (Ok(unverified), Some(key)) = (parsed, IssuerKey::of_certificate(issuer_der)) else {
        return;
    };
    let Ok((crl, used)) = unverified.verify(std::slice::from_ref(&key)) else {
        return;
    };
    assert_eq!(used, key);
    assert_eq!(crl.issuer, key.id());

    // OpenSSL agrees that this is a CRL the issuer signed in its name. (The
    // issuer certificate is mutated too; one OpenSSL cannot read is not
    // what this target checks: the filter takes issuers from verified paths
    // and the configuration only.)
    let Ok(issuer) = X509::from_der(issuer_der) else {
        return;
    };
    let openssl_crl = X509Crl::from_der(crl_der).expect("OpenSSL parses an accepted CRL");
    let public_key = issuer.public_key().expect("issuer key");
    assert!(
        openssl_crl.verify(&public_key).unwrap_or(false),
        "accepted a CRL OpenSSL does not verify"
    );
    assert_eq!(
        openssl_crl.issuer_name().to_der().ok(),
        issuer.subject_name().to_der().ok(),
        "accepted a CRL in another name"
    );

    let mut store = Revocations::new(&[], vec![key.clone()], 1, 86_400);
    let offered = store.offer(0, crl_der);
    assert!(matches!(offered, Offered::Applied(..)), "{offered:?}");
    let listed = |serial: &[u8]| PathLink {
        issuer: key.id(),
        serial: Serial::new(serial),
        is_ca: false,
        not_after: i64::MAX,
    };
    let link = listed(serial);
    let found = store.find_revoked(std::slice::from_ref(&link)).is_some();
    assert_eq!(
        found,
        crl.covers(false) && crl.entry(&link.serial).is_some()
    );
    // A leading zero byte before a byte below 0x80 is the same integer.
    if serial.first().is_some_and(|b| *b < 0x80) {
        let mut padded = vec![0];
        padded.extend(serial);
        assert_eq!(
            store.find_revoked(&[listed(&padded)]).is_some(),
            found,
            "another encoding of the same serial"
        );
    }
    // Offered again it changes nothing.
    assert_eq!(store.offer(0, crl_der), Offered::Unchanged);
});
