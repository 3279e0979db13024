//! An OCSP response checked against the certificate it was asked for.

use super::request::{CertQuery, SHA1, SHA256};
use super::signer::{delegated_key, verifies};
use crate::trust::{no_unused_bits, split_tlv, take};
use std::fmt;
use x509_cert::der::Decode;
use x509_ocsp::{CertStatus, OcspResponse, OcspResponseStatus, ResponseData};

const SEQUENCE: u8 = 0x30;
const BIT_STRING: u8 = 0x03;
const CERTS: u8 = 0xa0;
/// id-pkix-ocsp-basic.
const BASIC: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");

/// What the responder says of the certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OcspStatus {
    Good,
    Revoked { at: i64, reason: Option<u8> },
    Unknown,
}

impl OcspStatus {
    pub fn name(&self) -> &'static str {
        match self {
            OcspStatus::Good => "good",
            OcspStatus::Revoked { .. } => "revoked",
            OcspStatus::Unknown => "unknown",
        }
    }
}

/// Whose key signed the response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signer {
    Issuer,
    Delegated,
}

/// An accepted answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OcspAnswer {
    pub status: OcspStatus,
    pub this_update: i64,
    pub next_update: Option<i64>,
    pub signer: Signer,
}

/// Why a response is no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OcspError {
    /// Not a DER OCSPResponse with a basic response.
    Malformed(String),
    /// A responseStatus other than successful (`tryLater`, ...).
    NotSuccessful(&'static str),
    /// No SingleResponse for the certificate asked about.
    OtherCertificate,
    /// Signed neither by the issuer nor by a delegated responder.
    BadSignature,
    /// thisUpdate later than now plus the clock skew.
    NotYetValid,
    /// nextUpdate passed.
    Stale,
}

impl fmt::Display for OcspError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OcspError::Malformed(why) => write!(f, "is not a valid OCSP response: {why}"),
            OcspError::NotSuccessful(status) => write!(f, "has responseStatus {status}"),
            OcspError::OtherCertificate => {
                write!(f, "has no status for the certificate asked about")
            }
            OcspError::BadSignature => write!(
                f,
                "is signed neither by the issuer nor by a responder certificate the issuer signed with id-kp-OCSPSigning"
            ),
            OcspError::NotYetValid => write!(f, "has a thisUpdate in the future"),
            OcspError::Stale => write!(f, "is past its nextUpdate"),
        }
    }
}

impl std::error::Error for OcspError {}

impl OcspError {
    /// The metric label: a responder's refusal, or a response not to trust.
    pub fn result(&self) -> &'static str {
        match self {
            OcspError::NotSuccessful(_) => "error",
            _ => "bad_response",
        }
    }
}

fn status_name(status: OcspResponseStatus) -> &'static str {
    match status {
        OcspResponseStatus::Successful => "successful",
        OcspResponseStatus::MalformedRequest => "malformedRequest",
        OcspResponseStatus::InternalError => "internalError",
        OcspResponseStatus::TryLater => "tryLater",
        OcspResponseStatus::SigRequired => "sigRequired",
        OcspResponseStatus::Unauthorized => "unauthorized",
    }
}

/// The raw signed parts of a BasicOCSPResponse.
struct SignedParts<'a> {
    /// The whole tbsResponseData: the signed message.
    tbs: &'a [u8],
    /// The signatureAlgorithm's contents.
    algorithm: &'a [u8],
    signature: &'a [u8],
    certificates: Vec<&'a [u8]>,
}

fn signed_parts(basic: &[u8]) -> Option<SignedParts<'_>> {
    let (fields, rest) = take(basic, SEQUENCE)?;
    if !rest.is_empty() {
        return None;
    }
    let (tbs, rest) = split_tlv(fields)?;
    let (algorithm, rest) = take(rest, SEQUENCE)?;
    let (signature, rest) = take(rest, BIT_STRING)?;
    let mut certificates = Vec::new();
    if !rest.is_empty() {
        let (explicit, rest) = take(rest, CERTS)?;
        if !rest.is_empty() {
            return None;
        }
        let (mut list, rest) = take(explicit, SEQUENCE)?;
        if !rest.is_empty() {
            return None;
        }
        while !list.is_empty() {
            let (certificate, rest) = split_tlv(list)?;
            certificates.push(certificate);
            list = rest;
        }
    }
    Some(SignedParts {
        tbs,
        algorithm,
        signature: no_unused_bits(signature)?,
        certificates,
    })
}

fn unix(time: &x509_ocsp::OcspGeneralizedTime) -> i64 {
    i64::try_from(time.0.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Checks `der` as the answer for `query` at `now` (Unix seconds).
pub fn check_response(
    der: &[u8],
    query: &CertQuery,
    now: u64,
    clock_skew_seconds: u64,
) -> Result<OcspAnswer, OcspError> {
    let malformed = |e: x509_cert::der::Error| OcspError::Malformed(e.to_string());
    let response = OcspResponse::from_der(der).map_err(malformed)?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(OcspError::NotSuccessful(status_name(
            response.response_status,
        )));
    }
    let bytes = response
        .response_bytes
        .ok_or_else(|| OcspError::Malformed("successful without responseBytes".into()))?;
    if bytes.response_type != BASIC {
        return Err(OcspError::Malformed(format!(
            "response type {} is not id-pkix-ocsp-basic",
            bytes.response_type
        )));
    }
    let SignedParts {
        tbs,
        algorithm,
        signature,
        certificates,
    } = signed_parts(bytes.response.as_bytes())
        .ok_or_else(|| OcspError::Malformed("unreadable BasicOCSPResponse".into()))?;
    // The same parts BasicOCSPResponse's decoder reads, each from its own
    // bytes: der 0.7 compiles a type's decoder once per depth it is nested
    // at, and decoding the whole at once cost 13 KB more of the module.
    let data = ResponseData::from_der(tbs).map_err(malformed)?;
    for certificate in &certificates {
        x509_cert::Certificate::from_der(certificate).map_err(malformed)?;
    }

    let now_signed = i64::try_from(now).unwrap_or(i64::MAX);
    let skew = i64::try_from(clock_skew_seconds).unwrap_or(i64::MAX);
    let single = data
        .responses
        .iter()
        .find(|single| is_for(single, query))
        .ok_or(OcspError::OtherCertificate)?;

    let signer = if verifies(&query.issuer.spki, algorithm, tbs, signature) {
        Signer::Issuer
    } else if certificates.iter().any(|certificate| {
        delegated_key(certificate, &query.issuer, now_signed)
            .is_some_and(|spki| verifies(&spki, algorithm, tbs, signature))
    }) {
        Signer::Delegated
    } else {
        return Err(OcspError::BadSignature);
    };

    let this_update = unix(&single.this_update);
    if this_update > now_signed.saturating_add(skew) {
        return Err(OcspError::NotYetValid);
    }
    let next_update = single.next_update.as_ref().map(unix);
    if next_update.is_some_and(|next| next < now_signed) {
        return Err(OcspError::Stale);
    }
    let status = match &single.cert_status {
        CertStatus::Good(_) => OcspStatus::Good,
        CertStatus::Revoked(info) => OcspStatus::Revoked {
            at: unix(&info.revocation_time),
            reason: info.revocation_reason.map(|r| r as u8),
        },
        CertStatus::Unknown(_) => OcspStatus::Unknown,
    };
    Ok(OcspAnswer {
        status,
        this_update,
        next_update,
        signer,
    })
}

fn is_for(single: &x509_ocsp::SingleResponse, query: &CertQuery) -> bool {
    let id = &single.cert_id;
    let sha256 = match id.hash_algorithm.oid {
        SHA1 => false,
        SHA256 => true,
        _ => return false,
    };
    let Some((name_hash, key_hash)) = query.hashes(sha256) else {
        return false;
    };
    id.issuer_name_hash.as_bytes() == name_hash.as_slice()
        && id.issuer_key_hash.as_bytes() == key_hash.as_slice()
        && crate::revocation::Serial::new(id.serial_number.as_bytes()) == query.serial
}
