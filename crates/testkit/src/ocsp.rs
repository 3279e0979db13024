//! OCSP responses made in code: written field by field (RFC 6960) so a
//! test can put in the defect it is about (another serial, a stale
//! nextUpdate, a wrong signer, a responder without id-kp-OCSPSigning), and
//! signed with openssl.

use crate::crl::{algorithm_for, serial_contents, sign, time, tlv};
use crate::pki::Issued;
use openssl::hash::{MessageDigest, hash};

/// The status a response gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Good,
    Revoked,
    Unknown,
}

/// One response about one certificate.
#[derive(Clone, Debug)]
pub struct OcspSpec {
    /// responseStatus: 0 successful, 3 tryLater, ...
    pub response_status: u8,
    pub status: Status,
    /// The serial the CertID names instead of the certificate's.
    pub serial: Option<Vec<u8>>,
    pub this_update_offset: i64,
    pub next_update_offset: Option<i64>,
    /// A SHA-256 CertID instead of SHA-1.
    pub sha256: bool,
}

impl Default for OcspSpec {
    fn default() -> Self {
        OcspSpec {
            response_status: 0,
            status: Status::Good,
            serial: None,
            this_update_offset: -60,
            next_update_offset: Some(3600),
            sha256: false,
        }
    }
}

impl OcspSpec {
    pub fn status(mut self, status: Status) -> Self {
        self.status = status;
        self
    }

    pub fn response_status(mut self, status: u8) -> Self {
        self.response_status = status;
        self
    }

    pub fn serial(mut self, contents: Vec<u8>) -> Self {
        self.serial = Some(contents);
        self
    }

    pub fn times(mut self, this_update_offset: i64, next_update_offset: Option<i64>) -> Self {
        self.this_update_offset = this_update_offset;
        self.next_update_offset = next_update_offset;
        self
    }

    pub fn sha256(mut self) -> Self {
        self.sha256 = true;
        self
    }

    /// About `subject` (issued by `issuer`), signed by `issuer`.
    pub fn sign(&self, subject: &Issued, issuer: &Issued) -> Vec<u8> {
        self.sign_with(subject, issuer, issuer, &[])
    }

    /// Signed with `signer`'s key, with `certificates` in the response.
    pub fn sign_with(
        &self,
        subject: &Issued,
        issuer: &Issued,
        signer: &Issued,
        certificates: &[&Issued],
    ) -> Vec<u8> {
        if self.response_status != 0 {
            return tlv(0x30, &[0x0a, 0x01, self.response_status]);
        }
        let now = crate::unix_now() as i64;
        let digest = if self.sha256 {
            MessageDigest::sha256()
        } else {
            MessageDigest::sha1()
        };
        let algorithm = if self.sha256 {
            tlv(
                0x30,
                &[
                    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
                ],
            )
        } else {
            tlv(
                0x30,
                &[0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00],
            )
        };
        let name = issuer.cert.subject_name().to_der().expect("issuer name");
        let mut cert_id = algorithm;
        cert_id.extend(tlv(0x04, &hash(digest, &name).expect("hash")));
        cert_id.extend(tlv(0x04, &hash(digest, &key_bits(issuer)).expect("hash")));
        let serial = self
            .serial
            .clone()
            .unwrap_or_else(|| serial_contents(subject));
        cert_id.extend(tlv(0x02, &serial));

        let mut single = tlv(0x30, &cert_id);
        single.extend(match self.status {
            Status::Good => vec![0x80, 0x00],
            Status::Revoked => {
                let mut info = generalized(now - 3600);
                info.extend(tlv(0xa0, &[0x0a, 0x01, 0x01]));
                tlv(0xa1, &info)
            }
            Status::Unknown => vec![0x82, 0x00],
        });
        single.extend(generalized(now + self.this_update_offset));
        if let Some(next) = self.next_update_offset {
            single.extend(tlv(0xa0, &generalized(now + next)));
        }
        let key_hash = hash(MessageDigest::sha1(), &key_bits(signer)).expect("hash");
        let mut data = tlv(0xa2, &tlv(0x04, &key_hash));
        data.extend(generalized(now));
        data.extend(tlv(0x30, &tlv(0x30, &single)));
        let tbs = tlv(0x30, &data);

        let mut basic = tbs.clone();
        basic.extend(algorithm_for(signer));
        let mut bits = vec![0];
        bits.extend(sign(signer, &tbs));
        basic.extend(tlv(0x03, &bits));
        if !certificates.is_empty() {
            let all: Vec<u8> = certificates.iter().flat_map(|c| c.der()).collect();
            basic.extend(tlv(0xa0, &tlv(0x30, &all)));
        }
        let mut bytes = tlv(
            0x06,
            &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01],
        );
        bytes.extend(tlv(0x04, &tlv(0x30, &basic)));
        let mut response = vec![0x0a, 0x01, 0x00];
        response.extend(tlv(0xa0, &tlv(0x30, &bytes)));
        tlv(0x30, &response)
    }
}

/// The subjectPublicKey BIT STRING's bits (what issuerKeyHash is over).
fn key_bits(cert: &Issued) -> Vec<u8> {
    let spki = cert
        .cert
        .public_key()
        .expect("key")
        .public_key_to_der()
        .expect("spki");
    let (_, spki_contents) = split(&spki);
    let (algorithm_len, _) = split(spki_contents);
    let rest = &spki_contents[algorithm_len..];
    let (_, bits) = split(rest);
    bits[1..].to_vec()
}

/// The length of the first TLV whole, and its contents.
fn split(der: &[u8]) -> (usize, &[u8]) {
    let first = der[1] as usize;
    let (header, length) = if first < 0x80 {
        (2, first)
    } else {
        let octets = first & 0x7f;
        let length = der[2..2 + octets]
            .iter()
            .fold(0usize, |n, b| (n << 8) | *b as usize);
        (2 + octets, length)
    };
    (header + length, &der[header..header + length])
}

/// GeneralizedTime, as OCSP requires (the CRL writer's UTCTime widened).
fn generalized(unix: i64) -> Vec<u8> {
    let written = time(unix);
    if written[0] == 0x17 {
        let mut text = b"20".to_vec();
        text.extend(&written[2..]);
        tlv(0x18, &text)
    } else {
        written
    }
}
