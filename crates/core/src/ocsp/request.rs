//! What to ask a responder about one certificate, and the DER request.

use super::super::revocation::{IssuerId, IssuerKey, Serial};
use crate::trust::{PublicKey, Signed, encode_tlv};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::der::Encode;
use x509_cert::der::asn1::{Null, OctetString};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_ocsp::{CertId, OcspRequest, Request, TbsRequest, Version};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

/// id-sha1 and id-sha256: the CertID hashes a response may use.
pub(super) const SHA1: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
pub(super) const SHA256: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// One certificate to ask about: its issuer and its serial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertQuery {
    pub issuer: IssuerKey,
    /// The serial's big-endian magnitude (RFC 5280 serials are positive).
    pub serial_magnitude: Vec<u8>,
    pub serial: Serial,
    /// The contents of the certificate's own issuer Name: RFC 6960 hashes
    /// the name as the certificate being checked spells it, which may
    /// differ in bytes from the issuer's subject.
    issuer_name: Vec<u8>,
    /// The OCSP responders of the certificate's AIA, in order.
    pub urls: Vec<String>,
    /// The cache key, made once: the warm path looks it up by reference.
    id: (IssuerId, Serial),
}

impl CertQuery {
    /// For `certificate`, issued by `issuer` (both DER); `None` when either
    /// cannot be read.
    pub fn new(certificate: &[u8], issuer: &[u8]) -> Option<Self> {
        Self::of(certificate, IssuerKey::of_certificate(issuer)?)
    }

    /// For `certificate` (DER), issued by `issuer`.
    pub fn of(certificate: &[u8], issuer: IssuerKey) -> Option<Self> {
        let signed = Signed::parse(certificate)?;
        let mut magnitude = signed.serial;
        while let [0, rest @ ..] = magnitude {
            magnitude = rest;
        }
        let serial = Serial::new(signed.serial);
        Some(CertQuery {
            id: (issuer.id(), serial.clone()),
            issuer,
            serial_magnitude: magnitude.to_vec(),
            serial,
            issuer_name: signed.issuer.to_vec(),
            urls: ocsp_urls(certificate),
        })
    }

    /// The cache key.
    pub fn key(&self) -> (IssuerId, Serial) {
        self.id.clone()
    }

    /// The cache key, borrowed.
    pub fn cache_key(&self) -> &(IssuerId, Serial) {
        &self.id
    }

    /// The issuer name and key hashes with `sha256` or SHA-1.
    pub(super) fn hashes(&self, sha256: bool) -> Option<(Vec<u8>, Vec<u8>)> {
        let name = encode_tlv(0x30, &self.issuer_name);
        let key = PublicKey::from_spki(&self.issuer.spki)?.bits;
        Some(if sha256 {
            (Sha256::digest(&name).to_vec(), Sha256::digest(key).to_vec())
        } else {
            (Sha1::digest(&name).to_vec(), Sha1::digest(key).to_vec())
        })
    }

    /// The DER OCSPRequest for this certificate alone (SHA-1 CertID, the
    /// hash every responder knows; no nonce, no signature).
    pub fn request_der(&self) -> Option<Vec<u8>> {
        let (name_hash, key_hash) = self.hashes(false)?;
        let cert_id = CertId {
            hash_algorithm: AlgorithmIdentifierOwned {
                oid: SHA1,
                parameters: Some(Null.into()),
            },
            issuer_name_hash: OctetString::new(name_hash).ok()?,
            issuer_key_hash: OctetString::new(key_hash).ok()?,
            serial_number: SerialNumber::new(&self.serial_magnitude).ok()?,
        };
        let request = OcspRequest {
            tbs_request: TbsRequest {
                version: Version::V1,
                requestor_name: None,
                request_list: vec![Request {
                    req_cert: cert_id,
                    single_request_extensions: None,
                }],
                request_extensions: None,
            },
            optional_signature: None,
        };
        request.to_der().ok()
    }
}

/// The `http://` OCSP responder URLs of a certificate's AuthorityInfoAccess.
pub fn ocsp_urls(certificate: &[u8]) -> Vec<String> {
    let Ok((_, x509)) = x509_parser::certificate::X509Certificate::from_der(certificate) else {
        return Vec::new();
    };
    let mut urls = Vec::new();
    for extension in x509.extensions() {
        let ParsedExtension::AuthorityInfoAccess(aia) = extension.parsed_extension() else {
            continue;
        };
        for access in &aia.accessdescs {
            if access.access_method != x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_OCSP {
                continue;
            }
            if let GeneralName::URI(uri) = &access.access_location
                && uri.starts_with("http://")
            {
                urls.push((*uri).to_string());
            }
        }
    }
    urls
}
