//! The ONE Record client-certificate profile, checked on a path webpki has
//! already verified: limits, the anchor's own constraints (webpki takes the
//! anchor on faith), revocation, key and signature strength, leaf usage.

use super::name_constraints::{self, Constraints, Names, Violation};
use super::onerecord::{self, OneRecordFacts};
use super::path_len;
use super::rfc5280::{Defects, Role};
use super::signed::encode_tlv;
use super::{TrustSettings, X509Profile};
use crate::fingerprint::Fingerprint;
use crate::reason::Reason;
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::oid;
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
    OID_PKCS1_RSASSAPSS, OID_SIG_ED25519, Oid,
};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;
use x509_parser::signature_algorithm::RsaSsaPssParams;
use x509_parser::x509::{AlgorithmIdentifier, SubjectPublicKeyInfo, X509Version};

const MIN_RSA_BITS: usize = 2048;

/// The detail of a path longer than a pathLenConstraint on it allows.
pub(crate) const PATH_LENGTH_EXCEEDED: &str = "path_length_constraint_exceeded";

/// Signature algorithms built on MD2, MD4, MD5 or SHA-1.
const WEAK_SIGNATURE_OIDS: &[Oid<'static>] = &[
    oid!(1.2.840.113549.1.1.2), // md2WithRSAEncryption
    oid!(1.2.840.113549.1.1.3), // md4WithRSAEncryption
    oid!(1.2.840.113549.1.1.4), // md5WithRSAEncryption
    oid!(1.2.840.113549.1.1.5), // sha1WithRSAEncryption
    oid!(1.3.14.3.2.25),        // md5WithRSASignature (OIW)
    oid!(1.3.14.3.2.29),        // sha1WithRSASignature (OIW)
    oid!(1.2.840.10045.4.1),    // ecdsa-with-SHA1
    oid!(1.2.840.10040.4.3),    // dsa-with-sha1
];

/// Hashes that make an RSASSA-PSS signature weak.
const WEAK_HASH_OIDS: &[Oid<'static>] = &[
    oid!(1.3.14.3.2.26),      // SHA-1
    oid!(1.2.840.113549.2.5), // MD5
];

/// What the profile needs from one certificate, read once when it is parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CertFacts {
    pub not_before: i64,
    pub not_after: i64,
    pub version1: bool,
    /// BasicConstraints cA; `None` when the extension is absent.
    pub ca: Option<bool>,
    pub path_len: Option<u32>,
    /// KeyUsage bits; `None` when the extension is absent.
    pub key_cert_sign: Option<bool>,
    pub digital_signature: Option<bool>,
    pub crl_sign: Option<bool>,
    /// Whether the EKU lists clientAuth; `None` when the extension is absent.
    pub client_auth: Option<bool>,
    /// `Err(WeakKey)` for a key outside the profile.
    pub key: Result<(), Reason>,
    pub weak_signature: bool,
    /// Departures from the RFC 5280 profile.
    pub defects: Defects,
    /// Issuer and subject are the same name (RFC 5280 6.1: exempt from the
    /// name constraints above it unless it is the leaf).
    pub self_issued: bool,
    pub names: Names,
    pub name_constraints: Option<Constraints>,
    pub onerecord: OneRecordFacts,
}

/// Why a candidate path was refused: the reason, and the detail the log
/// and `explain` show with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub reason: Reason,
    pub detail: Option<&'static str>,
}

impl From<Reason> for Refusal {
    fn from(reason: Reason) -> Self {
        Refusal {
            reason,
            detail: None,
        }
    }
}

impl CertFacts {
    /// Reads the facts; a certificate whose extensions cannot be read (duplicated,
    /// malformed) is `CertificateInvalid` rather than silently lacking them.
    pub(crate) fn of(cert: &X509Certificate<'_>) -> Result<Self, Reason> {
        let invalid = |_| Reason::CertificateInvalid;
        let bc = cert.basic_constraints().map_err(invalid)?;
        let ku = cert.key_usage().map_err(invalid)?;
        let eku = cert.extended_key_usage().map_err(invalid)?;
        Ok(CertFacts {
            not_before: cert.validity().not_before.timestamp(),
            not_after: cert.validity().not_after.timestamp(),
            version1: cert.version() == X509Version::V1,
            ca: bc.as_ref().map(|bc| bc.value.ca),
            path_len: bc.and_then(|bc| bc.value.path_len_constraint),
            key_cert_sign: ku.as_ref().map(|ku| ku.value.key_cert_sign()),
            digital_signature: ku.as_ref().map(|ku| ku.value.digital_signature()),
            crl_sign: ku.map(|ku| ku.value.crl_sign()),
            client_auth: eku.map(|eku| eku.value.client_auth),
            key: key_strength(cert.public_key()),
            weak_signature: is_weak_signature(&cert.signature_algorithm),
            defects: Defects::of(cert),
            self_issued: cert.issuer().as_raw() == cert.subject().as_raw(),
            names: Names::of(cert),
            name_constraints: Constraints::of(cert),
            onerecord: OneRecordFacts::of(cert),
        })
    }

    /// Facts of no particular certificate, for tests to fill in.
    #[cfg(test)]
    pub(crate) fn blank() -> Self {
        CertFacts {
            not_before: 0,
            not_after: 0,
            version1: false,
            ca: None,
            path_len: None,
            key_cert_sign: None,
            digital_signature: None,
            crl_sign: None,
            client_auth: None,
            key: Ok(()),
            weak_signature: false,
            defects: Defects::default(),
            self_issued: false,
            names: Names::default(),
            name_constraints: None,
            onerecord: OneRecordFacts::default(),
        }
    }

    /// Valid at `now`, allowing `skew` seconds either side.
    pub(crate) fn validity_at(&self, now: u64, skew: u64) -> Result<(), Reason> {
        let (now, skew) = (i128::from(now), i128::from(skew));
        if now + skew < i128::from(self.not_before) {
            return Err(Reason::CertificateNotYetValid);
        }
        if now - skew > i128::from(self.not_after) {
            return Err(Reason::CertificateExpired);
        }
        Ok(())
    }
}

/// One certificate of a candidate path.
pub(crate) struct PathCert<'a> {
    pub sha256: &'a Fingerprint,
    pub facts: &'a CertFacts,
}

/// Checks a path webpki verified (signatures, names, leaf and intermediate
/// validity, basic constraints, EKU). Order, first failure wins: length;
/// the anchor's validity and CA constraints and every issuer's keyCertSign;
/// the path-length constraints of the anchor and intermediates;
/// revocation; key then signature strength from leaf to anchor; leaf usage.
pub(crate) fn check_path(
    leaf: PathCert<'_>,
    intermediates: &[PathCert<'_>],
    anchor: PathCert<'_>,
    limits: &TrustSettings,
    now: u64,
) -> Result<(), Refusal> {
    let length = intermediates.len().saturating_add(2);
    if length > limits.max_chain_length {
        return Err(Reason::ChainTooLong.into());
    }

    anchor.facts.validity_at(now, limits.clock_skew_seconds)?;
    // A v3 certificate without BasicConstraints is not a CA (RFC 5280 4.2.1.9);
    // v1 roots predate the extension.
    let anchor_is_ca = anchor.facts.ca.unwrap_or(anchor.facts.version1);
    let issuers = || intermediates.iter().chain(std::iter::once(&anchor));
    let issuers_may_sign = issuers().all(|c| c.facts.key_cert_sign != Some(false));
    if !anchor_is_ca || !issuers_may_sign {
        return Err(Reason::CertificateInvalid.into());
    }
    if !path_len::respected(intermediates.iter().map(|c| c.facts), anchor.facts) {
        return Err(Refusal {
            reason: Reason::CertificateInvalid,
            detail: Some(PATH_LENGTH_EXCEEDED),
        });
    }

    let all = || std::iter::once(&leaf).chain(issuers());
    if all().any(|c| limits.revoked_sha256.contains(c.sha256)) {
        return Err(Reason::CertificateRevoked.into());
    }

    for cert in all() {
        cert.facts.key?;
        if cert.facts.weak_signature {
            return Err(Reason::WeakSignatureAlgorithm.into());
        }
    }

    if leaf.facts.digital_signature == Some(false) || leaf.facts.client_auth == Some(false) {
        return Err(Reason::MissingClientAuthUsage.into());
    }

    let strict = limits.profile.x509 == X509Profile::Strict;
    let roles = std::iter::once((&leaf, Role::Leaf))
        .chain(intermediates.iter().map(|c| (c, Role::Intermediate)))
        .chain(std::iter::once((&anchor, Role::Anchor)));
    for (cert, role) in roles {
        if let Some(defect) = cert.facts.defects.first(role, strict) {
            return Err(Refusal {
                reason: Reason::CertificateProfileViolation,
                detail: Some(defect.code()),
            });
        }
    }

    let issuers: Vec<&CertFacts> = issuers().map(|c| c.facts).collect();
    name_constraints::check_path(leaf.facts, &issuers).map_err(|violation| Refusal {
        reason: match violation {
            Violation::Budget => Reason::VerificationBudgetExceeded,
            _ => Reason::NameConstraintViolation,
        },
        detail: Some(violation.detail()),
    })?;

    if limits.profile.onerecord {
        let intermediates = intermediates.iter().map(|c| &c.facts.onerecord);
        onerecord::check(&leaf.facts.onerecord, &leaf.facts.names, intermediates).map_err(
            |detail| Refusal {
                reason: Reason::OnerecordProfileViolation,
                detail: Some(detail),
            },
        )?;
    }
    Ok(())
}

/// RSA of at least 2048 bits, EC on P-256 or P-384, or Ed25519.
fn key_strength(spki: &SubjectPublicKeyInfo<'_>) -> Result<(), Reason> {
    let algorithm = &spki.algorithm.algorithm;
    if *algorithm == OID_PKCS1_RSAENCRYPTION {
        return match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) if modulus_bits(rsa.modulus) >= MIN_RSA_BITS => Ok(()),
            Ok(PublicKey::RSA(_)) => Err(Reason::WeakKey),
            _ => Err(Reason::CertificateInvalid),
        };
    }
    if *algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok());
        return match curve {
            Some(c) if c == OID_EC_P256 || c == OID_NIST_EC_P384 => Ok(()),
            _ => Err(Reason::WeakKey),
        };
    }
    if *algorithm == OID_SIG_ED25519 {
        return Ok(());
    }
    Err(Reason::WeakKey)
}

/// Significant bits of a big-endian unsigned integer.
fn modulus_bits(bytes: &[u8]) -> usize {
    let Some(start) = bytes.iter().position(|b| *b != 0) else {
        return 0;
    };
    let significant = bytes.get(start..).unwrap_or_default();
    let top = significant
        .first()
        .map_or(0, |b| 8 - b.leading_zeros() as usize);
    significant.len().saturating_sub(1) * 8 + top
}

/// MD5 or SHA-1 based, including RSASSA-PSS over SHA-1 or MD5.
pub(crate) fn is_weak_signature(algorithm: &AlgorithmIdentifier<'_>) -> bool {
    if WEAK_SIGNATURE_OIDS.contains(&algorithm.algorithm) {
        return true;
    }
    if algorithm.algorithm == OID_PKCS1_RSASSAPSS {
        // Parameters missing from a signature are malformed, not weak.
        let params = algorithm
            .parameters
            .as_ref()
            .and_then(|p| RsaSsaPssParams::try_from(p).ok());
        return params.is_some_and(|p| WEAK_HASH_OIDS.contains(p.hash_algorithm_oid()));
    }
    false
}

/// Classifies the contents of an AlgorithmIdentifier SEQUENCE, as webpki
/// reports an unsupported signature algorithm.
pub(crate) fn is_weak_signature_contents(contents: &[u8]) -> bool {
    let der = encode_tlv(0x30, contents);
    match AlgorithmIdentifier::from_der(&der) {
        Ok((rest, algorithm)) => rest.is_empty() && is_weak_signature(&algorithm),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modulus_bits_ignores_leading_zeros() {
        assert_eq!(modulus_bits(&[]), 0);
        assert_eq!(modulus_bits(&[0, 0]), 0);
        assert_eq!(modulus_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(modulus_bits(&[0x01, 0xff]), 9);
        let mut n = vec![0u8];
        n.extend([0xc5; 256]);
        assert_eq!(modulus_bits(&n), 2048);
    }

    #[test]
    fn classifies_signature_algorithm_contents() {
        // sha1WithRSAEncryption, NULL
        let sha1_rsa = hex::decode("06092a864886f70d0101050500").unwrap();
        // ecdsa-with-SHA1
        let sha1_ecdsa = hex::decode("06072a8648ce3d0401").unwrap();
        // md5WithRSAEncryption, NULL
        let md5_rsa = hex::decode("06092a864886f70d0101040500").unwrap();
        // sha256WithRSAEncryption, NULL
        let sha256_rsa = hex::decode("06092a864886f70d01010b0500").unwrap();
        // RSASSA-PSS with default (SHA-1) parameters written out as an empty SEQUENCE
        let pss_default = hex::decode("06092a864886f70d01010a3000").unwrap();
        assert!(is_weak_signature_contents(&sha1_rsa));
        assert!(is_weak_signature_contents(&sha1_ecdsa));
        assert!(is_weak_signature_contents(&md5_rsa));
        assert!(is_weak_signature_contents(&pss_default));
        assert!(!is_weak_signature_contents(&sha256_rsa));
        assert!(!is_weak_signature_contents(
            rustls_pki_types::alg_id::RSA_PSS_SHA256.as_ref()
        ));
        assert!(!is_weak_signature_contents(b"\xff\xff garbage"));
        assert!(!is_weak_signature_contents(&[]));
    }

    #[test]
    fn validity_allows_skew_both_ways() {
        let facts = CertFacts {
            not_before: 1_000,
            not_after: 2_000,
            ..CertFacts::blank()
        };
        assert_eq!(facts.validity_at(940, 60), Ok(()));
        assert_eq!(
            facts.validity_at(939, 60),
            Err(Reason::CertificateNotYetValid)
        );
        assert_eq!(facts.validity_at(2_060, 60), Ok(()));
        assert_eq!(
            facts.validity_at(2_061, 60),
            Err(Reason::CertificateExpired)
        );
        assert_eq!(
            facts.validity_at(u64::MAX, 86_400),
            Err(Reason::CertificateExpired)
        );
    }
}
