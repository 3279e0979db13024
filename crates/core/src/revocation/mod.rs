//! Revocation as CAs publish it: X.509 CRLs, configured (`crls_pem`) or
//! fetched live (`crl_sources`), applied to every certificate on a verified
//! path on every request, remembered verdicts included.
//!
//! # Keyed by issuer
//! A CRL counts for the certificates issued by the certificate whose key
//! signed it: its issuer is identified by that certificate's subject name and
//! public key ([`IssuerId`]), so a CRL can never apply to certificates of a
//! namesake CA with another key. A verified path records, for each of its
//! certificates below the anchor, the issuer's id and the serial number
//! ([`PathLink`]); the check on a request is then one hash lookup per
//! certificate, with no signature and no parsing.
//!
//! # What a CRL must be
//! X.509 v1 or v2, DER, signed with an algorithm the verifier knows (RSA
//! PKCS#1/PSS, ECDSA P-256/P-384, Ed25519) by a known CA certificate whose
//! KeyUsage, when present, has cRLSign. Not a delta CRL, not indirect, not
//! partitioned by reasons, and no critical extension (of the CRL or of an
//! entry) that is not understood: such a CRL is refused as a whole, because
//! applying only part of it could allow a revoked certificate.
//!
//! # When the status cannot be known
//! A CRL past its nextUpdate plus `crl_grace_seconds`, or a configured
//! source that has not yet delivered a CRL (its issuer is not known until it
//! does), makes the status of the certificates concerned unknown:
//! `revocation_status_unknown`, fail closed.

mod crl;
mod extensions;
mod serial;
mod store;

#[cfg(test)]
mod tests;

pub use crl::{Crl, CrlError, RevokedEntry, UnverifiedCrl, describe_crl, reason_name};
pub use serial::Serial;
pub use store::{Offered, Origin, Revocations, SourceStatus, describe_revoked};

use crate::fingerprint::Fingerprint;
use crate::trust::Signed;

/// The certificate that issues: its subject name and public key, hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IssuerId(pub Fingerprint);

impl IssuerId {
    /// From the subject Name's and the SubjectPublicKeyInfo's contents, as
    /// webpki compares them.
    pub fn of(subject: &[u8], spki: &[u8]) -> Self {
        let length = u32::try_from(subject.len()).unwrap_or(u32::MAX);
        let mut bytes =
            Vec::with_capacity(subject.len().saturating_add(spki.len()).saturating_add(4));
        bytes.extend_from_slice(&length.to_be_bytes());
        bytes.extend_from_slice(subject);
        bytes.extend_from_slice(spki);
        IssuerId(Fingerprint::of_der(&bytes))
    }
}

/// A certificate that may sign CRLs: what a CRL's signature is checked with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerKey {
    /// The subject Name's contents.
    pub subject: Vec<u8>,
    /// The SubjectPublicKeyInfo's contents.
    pub spki: Vec<u8>,
    /// KeyUsage absent, or with cRLSign.
    pub crl_sign: bool,
}

impl IssuerKey {
    pub fn id(&self) -> IssuerId {
        IssuerId::of(&self.subject, &self.spki)
    }

    /// From a certificate's DER; `None` when it cannot be read.
    pub fn of_certificate(der: &[u8]) -> Option<Self> {
        use x509_parser::prelude::FromDer;
        let signed = Signed::parse(der)?;
        let (_, x509) = x509_parser::certificate::X509Certificate::from_der(der).ok()?;
        let crl_sign = match x509.key_usage() {
            Ok(None) => true,
            Ok(Some(ku)) => ku.value.crl_sign(),
            Err(_) => false,
        };
        Some(IssuerKey {
            subject: signed.subject.to_vec(),
            spki: signed.key.spki.to_vec(),
            crl_sign,
        })
    }
}

/// One certificate of a verified path below its anchor, as the revocation
/// check needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathLink {
    pub issuer: IssuerId,
    pub serial: Serial,
    /// BasicConstraints cA: which CRLs restricted to user or CA
    /// certificates cover it.
    pub is_ca: bool,
    pub not_after: i64,
}

impl PathLink {
    /// For the certificate `der`, issued by the holder of `issuer_subject`
    /// and `issuer_spki` (contents, as [`IssuerId::of`] takes them).
    pub(crate) fn of(
        der: &[u8],
        is_ca: bool,
        not_after: i64,
        issuer_subject: &[u8],
        issuer_spki: &[u8],
    ) -> Option<Self> {
        let signed = Signed::parse(der)?;
        Some(PathLink {
            issuer: IssuerId::of(issuer_subject, issuer_spki),
            serial: Serial::new(signed.serial),
            is_ca,
            not_after,
        })
    }
}
