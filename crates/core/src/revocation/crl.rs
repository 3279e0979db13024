//! One CRL: read (x509-parser, plus a DER walk for the exact signed bytes),
//! checked for what it may contain, then verified with its issuer's key.

use super::extensions::{crl_extensions, entry_extensions};
use super::serial::Serial;
use super::{IssuerId, IssuerKey};
use crate::fingerprint::Fingerprint;
use crate::trust::{ALGORITHMS, PublicKey, no_unused_bits, split_tlv, take};
use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasherDefault;
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

const SEQUENCE: u8 = 0x30;
const BIT_STRING: u8 = 0x03;
const INTEGER: u8 = 0x02;

/// Why a CRL cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrlError {
    /// Not a DER X.509 CRL.
    Malformed(String),
    /// Well formed, but with something this verifier must not ignore.
    Unusable(String),
    /// No known CA certificate has the CRL's issuer name (RFC 4514).
    UnknownIssuer(String),
    /// A CA of that name is known, but no such key made the signature.
    BadSignature(String),
}

impl fmt::Display for CrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CrlError::Malformed(why) => write!(f, "is not a valid X.509 CRL: {why}"),
            CrlError::Unusable(why) => write!(f, "cannot be used: {why}"),
            CrlError::UnknownIssuer(issuer) => {
                write!(
                    f,
                    "is issued by {issuer}, which is not a known CA certificate"
                )
            }
            CrlError::BadSignature(issuer) => write!(
                f,
                "is not signed by the key of {issuer} (bad signature, or an issuer without cRLSign)"
            ),
        }
    }
}

impl std::error::Error for CrlError {}

/// One revoked serial, as its entry says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevokedEntry {
    /// The reasonCode (RFC 5280 5.3.1), when the entry has one.
    pub reason: Option<u8>,
    pub revoked_at: i64,
}

/// Which certificates of its issuer a CRL covers (issuingDistributionPoint).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    All,
    UserCertificates,
    CaCertificates,
}

/// A CRL that parsed and may be used, not yet verified.
#[derive(Clone, Debug)]
pub struct UnverifiedCrl {
    tbs: Vec<u8>,
    signature_algorithm: Vec<u8>,
    signature: Vec<u8>,
    /// The issuer Name's contents.
    issuer_name: Vec<u8>,
    body: Crl,
}

/// A CRL whose signature verified with its issuer's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crl {
    pub issuer: IssuerId,
    /// RFC 4514.
    pub issuer_name: String,
    /// The CRL number's big-endian bytes, without leading zeros.
    pub number: Option<Vec<u8>>,
    pub this_update: i64,
    pub next_update: Option<i64>,
    pub sha256: Fingerprint,
    scope: Scope,
    revoked: HashMap<Serial, RevokedEntry, BuildHasherDefault<SerialHasher>>,
}

/// FNV-1a: a CRL's serials are the CA's, not a client's, so the lookup
/// needs no keyed hash, only a fast one (it runs on every request).
#[derive(Clone, Copy, Debug)]
struct SerialHasher(u64);

impl Default for SerialHasher {
    fn default() -> Self {
        SerialHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for SerialHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

impl Crl {
    /// The entry for `serial`; `None` when not listed.
    pub fn entry(&self, serial: &Serial) -> Option<&RevokedEntry> {
        self.revoked.get(serial)
    }

    /// Whether this CRL speaks for a CA (`is_ca`) or end-entity certificate.
    pub fn covers(&self, is_ca: bool) -> bool {
        match self.scope {
            Scope::All => true,
            Scope::UserCertificates => !is_ca,
            Scope::CaCertificates => is_ca,
        }
    }

    pub fn len(&self) -> usize {
        self.revoked.len()
    }

    pub fn is_empty(&self) -> bool {
        self.revoked.is_empty()
    }

    /// The listed serials with their entries, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = (&Serial, &RevokedEntry)> {
        self.revoked.iter()
    }

    /// The CRL number in hex (`-` without one).
    pub fn number_hex(&self) -> String {
        match &self.number {
            Some(n) if n.is_empty() => "00".to_string(),
            Some(n) => n.iter().map(|b| format!("{b:02x}")).collect(),
            None => "-".to_string(),
        }
    }

    /// Whether `self` is older than `other`: an earlier thisUpdate, or the
    /// same one with a lower CRL number.
    pub fn is_older_than(&self, other: &Crl) -> bool {
        if self.this_update != other.this_update {
            return self.this_update < other.this_update;
        }
        match (&self.number, &other.number) {
            (Some(mine), Some(theirs)) => (mine.len(), mine) < (theirs.len(), theirs),
            _ => false,
        }
    }
}

/// Issuer, number, dates and entries of a CRL, for logs and the CLI.
pub fn describe_crl(crl: &Crl) -> String {
    let time = |unix: i64| crate::rfc3339::format_rfc3339(u64::try_from(unix).unwrap_or(0));
    let next = crl.next_update.map_or_else(|| "none".to_string(), time);
    let entries = match crl.len() {
        1 => "1 entry".to_string(),
        n => format!("{n} entries"),
    };
    format!(
        "{}, number {}, thisUpdate {}, nextUpdate {next}, {entries}",
        crl.issuer_name,
        crl.number_hex(),
        time(crl.this_update),
    )
}

/// The name RFC 5280 gives a reasonCode value.
pub fn reason_name(code: Option<u8>) -> &'static str {
    match code {
        None => "none",
        Some(0) => "unspecified",
        Some(1) => "keyCompromise",
        Some(2) => "cACompromise",
        Some(3) => "affiliationChanged",
        Some(4) => "superseded",
        Some(5) => "cessationOfOperation",
        Some(6) => "certificateHold",
        Some(8) => "removeFromCRL",
        Some(9) => "privilegeWithdrawn",
        Some(10) => "aACompromise",
        Some(_) => "unknown",
    }
}

impl UnverifiedCrl {
    pub fn parse(der: &[u8]) -> Result<Self, CrlError> {
        let malformed = |why: &str| CrlError::Malformed(why.to_string());
        let (tbs, signature_algorithm, signature) =
            signed_parts(der).ok_or_else(|| malformed("not a DER CertificateList"))?;
        let issuer_name = issuer_contents(tbs).ok_or_else(|| malformed("no issuer name"))?;
        let (rest, crl) = CertificateRevocationList::from_der(der)
            .map_err(|e| CrlError::Malformed(e.to_string()))?;
        if !rest.is_empty() {
            return Err(malformed("trailing data after the CRL"));
        }
        let unusable = |why: String| CrlError::Unusable(why);
        if crl.tbs_cert_list.signature != crl.signature_algorithm {
            return Err(unusable(
                "the signed and outer signature algorithms differ".into(),
            ));
        }
        if crl.version().is_none() && !crl.extensions().is_empty() {
            return Err(unusable("a version 1 CRL with extensions".into()));
        }
        let (number, scope) = crl_extensions(crl.extensions()).map_err(unusable)?;
        // RFC 5280 5.2.3: every v2 CRL has one; without it, which CRL is
        // newer cannot be told.
        if crl.version().is_some() && number.is_none() {
            return Err(unusable("a version 2 CRL without a CRL number".into()));
        }
        let mut revoked = HashMap::default();
        for entry in crl.iter_revoked_certificates() {
            let reason = entry_extensions(entry.extensions()).map_err(unusable)?;
            revoked.insert(
                Serial::new(entry.raw_serial()),
                RevokedEntry {
                    reason,
                    revoked_at: entry.revocation_date.timestamp(),
                },
            );
        }
        let body = Crl {
            issuer: IssuerId(Fingerprint([0; 32])),
            issuer_name: crate::x509::rfc4514(crl.issuer()),
            number,
            this_update: crl.last_update().timestamp(),
            next_update: crl.next_update().map(|t| t.timestamp()),
            sha256: Fingerprint::of_der(der),
            scope,
            revoked,
        };
        Ok(UnverifiedCrl {
            tbs: tbs.to_vec(),
            signature_algorithm: signature_algorithm.to_vec(),
            signature: signature.to_vec(),
            issuer_name: issuer_name.to_vec(),
            body,
        })
    }

    /// The issuer's name, RFC 4514.
    pub fn issuer_name(&self) -> &str {
        &self.body.issuer_name
    }

    /// What the CRL says, before its signature is checked.
    pub fn claims(&self) -> &Crl {
        &self.body
    }

    /// Verified with the first of `issuers` whose subject is the CRL's
    /// issuer and whose key made its signature.
    pub fn verify<'k>(
        self,
        issuers: impl IntoIterator<Item = &'k IssuerKey>,
    ) -> Result<(Crl, IssuerKey), CrlError> {
        let mut named = false;
        for issuer in issuers {
            if issuer.subject != self.issuer_name {
                continue;
            }
            named = true;
            if issuer.crl_sign && self.signed_by(issuer) {
                let mut crl = self.body;
                crl.issuer = issuer.id();
                return Ok((crl, issuer.clone()));
            }
        }
        let name = self.body.issuer_name;
        Err(if named {
            CrlError::BadSignature(name)
        } else {
            CrlError::UnknownIssuer(name)
        })
    }

    fn signed_by(&self, issuer: &IssuerKey) -> bool {
        let Some(key) = PublicKey::from_spki(&issuer.spki) else {
            return false;
        };
        ALGORITHMS
            .iter()
            .filter(|a| a.signature_alg_id().as_ref() == self.signature_algorithm.as_slice())
            .filter(|a| a.public_key_alg_id().as_ref() == key.algorithm)
            .any(|a| {
                a.verify_signature(key.bits, &self.tbs, &self.signature)
                    .is_ok()
            })
    }
}

/// The whole TBSCertList, the signatureAlgorithm's contents and the signature bits.
fn signed_parts(der: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let (list, rest) = take(der, SEQUENCE)?;
    if !rest.is_empty() {
        return None;
    }
    let (tbs, rest) = split_tlv(list)?;
    let (algorithm, rest) = take(rest, SEQUENCE)?;
    let (signature, rest) = take(rest, BIT_STRING)?;
    rest.is_empty()
        .then_some(())
        .and_then(|()| Some((tbs, algorithm, no_unused_bits(signature)?)))
}

/// The issuer Name's contents in a TBSCertList.
fn issuer_contents(tbs: &[u8]) -> Option<&[u8]> {
    let (mut fields, _) = take(tbs, SEQUENCE)?;
    if fields.first() == Some(&INTEGER) {
        fields = take(fields, INTEGER)?.1;
    }
    let (_signature, fields) = take(fields, SEQUENCE)?;
    take(fields, SEQUENCE).map(|(issuer, _)| issuer)
}
