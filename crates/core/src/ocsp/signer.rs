//! Who signed a response: the issuer, or a responder certificate the issuer
//! signed for id-kp-OCSPSigning.

use crate::revocation::IssuerKey;
use crate::trust::{ALGORITHMS, PublicKey, Signed, known_critical};
use x509_parser::der_parser::oid;
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::FromDer;

/// id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): its meaning is known, and the
/// filter does not check a responder's revocation either way.
const OCSP_NOCHECK: Oid<'static> = oid!(1.3.6.1.5.5.7.48.1.5);

/// Whether the key in `spki` (SubjectPublicKeyInfo contents) made
/// `signature` over `message` with `algorithm` (AlgorithmIdentifier contents).
pub(super) fn verifies(spki: &[u8], algorithm: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Some(key) = PublicKey::from_spki(spki) else {
        return false;
    };
    ALGORITHMS
        .iter()
        .filter(|a| a.signature_alg_id().as_ref() == algorithm)
        .filter(|a| a.public_key_alg_id().as_ref() == key.algorithm)
        .any(|a| a.verify_signature(key.bits, message, signature).is_ok())
}

/// The SubjectPublicKeyInfo contents of `certificate` when it is a delegated
/// responder of `issuer` at `now`: issued and signed by it, with
/// id-kp-OCSPSigning in its ExtendedKeyUsage, within its validity, without
/// a critical extension whose meaning is unknown (RFC 5280 4.2), and with
/// digitalSignature in its KeyUsage when it has one (4.2.1.3).
pub(super) fn delegated_key(certificate: &[u8], issuer: &IssuerKey, now: i64) -> Option<Vec<u8>> {
    let signed = Signed::parse(certificate)?;
    if signed.issuer != issuer.subject.as_slice() {
        return None;
    }
    if !verifies(
        &issuer.spki,
        signed.signature_algorithm,
        signed.tbs,
        signed.signature,
    ) {
        return None;
    }
    let (_, x509) = x509_parser::certificate::X509Certificate::from_der(certificate).ok()?;
    let validity = x509.validity();
    if now < validity.not_before.timestamp() || now > validity.not_after.timestamp() {
        return None;
    }
    let unknown = |e: &x509_parser::extensions::X509Extension<'_>| {
        e.critical && e.oid != OCSP_NOCHECK && !known_critical(&e.oid)
    };
    if x509.extensions().iter().any(unknown) {
        return None;
    }
    if let Some(key_usage) = x509.key_usage().ok()?
        && !key_usage.value.digital_signature()
    {
        return None;
    }
    let eku = x509.extended_key_usage().ok()??;
    eku.value.ocsp_signing.then(|| signed.key.spki.to_vec())
}
