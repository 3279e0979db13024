//! Who signed a response: the issuer, or a responder certificate the issuer
//! signed for id-kp-OCSPSigning.

use crate::revocation::IssuerKey;
use crate::trust::{ALGORITHMS, PublicKey, Signed};
use x509_parser::prelude::FromDer;

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
/// id-kp-OCSPSigning in its ExtendedKeyUsage, within its validity.
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
    let eku = x509.extended_key_usage().ok()??;
    eku.value.ocsp_signing.then(|| signed.key.spki.to_vec())
}
