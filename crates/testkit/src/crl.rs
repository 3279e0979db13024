//! X.509 CRLs made in code: the DER is written here field by field, so a
//! test can put in exactly the defect it is about (an encoding of a
//! serial, a critical extension, a wrong signer), and signed with openssl.

use crate::pki::Issued;
use openssl::hash::MessageDigest;
use openssl::pkey::Id;
use openssl::sign::Signer;

/// One extension as written: the OID's encoded contents, criticality, value.
#[derive(Clone, Debug)]
pub struct RawExtension {
    pub oid: Vec<u8>,
    pub critical: bool,
    /// The DER inside the extnValue OCTET STRING.
    pub value: Vec<u8>,
}

impl RawExtension {
    /// An extension under the private arc 1.3.6.1.4.1.99999.<n>, value NULL.
    pub fn private(n: u8, critical: bool) -> Self {
        RawExtension {
            oid: vec![0x2b, 6, 1, 4, 1, 0x86, 0x8d, 0x1f, n],
            critical,
            value: vec![0x05, 0x00],
        }
    }

    /// deltaCRLIndicator (2.5.29.27) for base CRL `base`.
    pub fn delta_crl_indicator(base: u8) -> Self {
        RawExtension {
            oid: vec![0x55, 0x1d, 0x1b],
            critical: true,
            value: vec![0x02, 0x01, base],
        }
    }

    /// issuingDistributionPoint (2.5.29.28) with onlyContainsUserCerts or
    /// onlyContainsCACerts (or indirectCRL).
    pub fn issuing_distribution_point(user_only: bool, ca_only: bool, indirect: bool) -> Self {
        let mut inner = Vec::new();
        if user_only {
            inner.extend([0x81, 0x01, 0xff]);
        }
        if ca_only {
            inner.extend([0x82, 0x01, 0xff]);
        }
        if indirect {
            inner.extend([0x84, 0x01, 0xff]);
        }
        RawExtension {
            oid: vec![0x55, 0x1d, 0x1c],
            critical: true,
            value: tlv(0x30, &inner),
        }
    }
}

/// One revoked certificate.
#[derive(Clone, Debug)]
pub struct CrlEntry {
    /// The INTEGER's contents exactly as written (any encoding).
    pub serial: Vec<u8>,
    pub revoked_offset: i64,
    pub reason: Option<u8>,
    pub extensions: Vec<RawExtension>,
}

/// What to put in a CRL. Times are offsets from now, in seconds.
#[derive(Clone, Debug)]
pub struct CrlSpec {
    /// Write the version field (v2); without it, a v1 CRL.
    pub version2: bool,
    pub this_update_offset: i64,
    pub next_update_offset: Option<i64>,
    pub number: Option<u64>,
    pub entries: Vec<CrlEntry>,
    pub extensions: Vec<RawExtension>,
}

impl Default for CrlSpec {
    fn default() -> Self {
        CrlSpec {
            version2: true,
            this_update_offset: -60,
            next_update_offset: Some(7 * 86_400),
            number: Some(1),
            entries: Vec::new(),
            extensions: Vec::new(),
        }
    }
}

impl CrlSpec {
    /// Lists `cert` (reason keyCompromise).
    pub fn revoke(self, cert: &Issued) -> Self {
        self.revoke_serial(serial_contents(cert), Some(1))
    }

    pub fn revoke_serial(mut self, serial: Vec<u8>, reason: Option<u8>) -> Self {
        self.entries.push(CrlEntry {
            serial,
            revoked_offset: -120,
            reason,
            extensions: Vec::new(),
        });
        self
    }

    pub fn number(mut self, number: Option<u64>) -> Self {
        self.number = number;
        self
    }

    pub fn times(mut self, this_update_offset: i64, next_update_offset: Option<i64>) -> Self {
        self.this_update_offset = this_update_offset;
        self.next_update_offset = next_update_offset;
        self
    }

    pub fn extension(mut self, extension: RawExtension) -> Self {
        self.extensions.push(extension);
        self
    }

    /// Signed by `issuer`'s key, in `issuer`'s name.
    pub fn sign(&self, issuer: &Issued) -> Crl {
        self.sign_as(issuer, issuer)
    }

    /// In `named`'s name, signed with `signer`'s key (a wrong signer when
    /// they differ).
    pub fn sign_as(&self, named: &Issued, signer: &Issued) -> Crl {
        let issuer = named.cert.subject_name().to_der().expect("issuer name");
        let algorithm = algorithm_for(signer);
        let tbs = self.tbs(&algorithm, &issuer);
        let signature = sign(signer, &tbs);
        let mut bits = vec![0];
        bits.extend(signature);
        let mut body = tbs;
        body.extend(&algorithm);
        body.extend(tlv(0x03, &bits));
        Crl {
            der: tlv(0x30, &body),
        }
    }

    fn tbs(&self, algorithm: &[u8], issuer: &[u8]) -> Vec<u8> {
        let now = crate::unix_now() as i64;
        let mut tbs = Vec::new();
        if self.version2 {
            tbs.extend([0x02, 0x01, 0x01]);
        }
        tbs.extend(algorithm);
        tbs.extend(issuer);
        tbs.extend(time(now + self.this_update_offset));
        if let Some(next) = self.next_update_offset {
            tbs.extend(time(now + next));
        }
        if !self.entries.is_empty() {
            let mut list = Vec::new();
            for entry in &self.entries {
                let mut e = tlv(0x02, &entry.serial);
                e.extend(time(now + entry.revoked_offset));
                let mut extensions = entry.extensions.clone();
                if let Some(reason) = entry.reason {
                    extensions.insert(
                        0,
                        RawExtension {
                            oid: vec![0x55, 0x1d, 0x15],
                            critical: false,
                            value: vec![0x0a, 0x01, reason],
                        },
                    );
                }
                if !extensions.is_empty() {
                    e.extend(extensions_der(&extensions));
                }
                list.extend(tlv(0x30, &e));
            }
            tbs.extend(tlv(0x30, &list));
        }
        let mut extensions = self.extensions.clone();
        if let Some(number) = self.number {
            extensions.insert(
                0,
                RawExtension {
                    oid: vec![0x55, 0x1d, 0x14],
                    critical: false,
                    value: integer(number),
                },
            );
        }
        if !extensions.is_empty() {
            tbs.extend(tlv(0xa0, &extensions_der(&extensions)));
        }
        tlv(0x30, &tbs)
    }
}

/// A CRL as DER.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crl {
    pub der: Vec<u8>,
}

impl Crl {
    pub fn pem(&self) -> String {
        let base64 = openssl::base64::encode_block(&self.der);
        let mut pem = String::from("-----BEGIN X509 CRL-----\n");
        for line in base64.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            pem.push('\n');
        }
        pem.push_str("-----END X509 CRL-----\n");
        pem
    }
}

/// The serialNumber INTEGER's contents of `cert`, as DER writes it.
pub fn serial_contents(cert: &Issued) -> Vec<u8> {
    let der = cert.cert.serial_number().to_bn().expect("serial").to_vec();
    let negative = cert
        .cert
        .serial_number()
        .to_bn()
        .expect("serial")
        .is_negative();
    match der.first() {
        _ if negative => panic!("negative serials: write the bytes with revoke_serial"),
        Some(b) if *b >= 0x80 => std::iter::once(0).chain(der).collect(),
        None => vec![0],
        _ => der,
    }
}

pub(crate) fn algorithm_for(signer: &Issued) -> Vec<u8> {
    match signer.key.id() {
        Id::RSA => tlv(
            0x30,
            &[
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
            ],
        ),
        Id::EC if signer.key.bits() > 256 => tlv(
            0x30,
            &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
        ),
        Id::EC => tlv(
            0x30,
            &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
        ),
        other => panic!("no CRL signature algorithm for key type {other:?}"),
    }
}

/// `signer`'s signature over `message`: SHA-384 for a key over 256 bits
/// (P-384), else SHA-256, as `algorithm_for` names it.
pub fn sign(signer: &Issued, message: &[u8]) -> Vec<u8> {
    let digest = if signer.key.id() == Id::EC && signer.key.bits() > 256 {
        MessageDigest::sha384()
    } else {
        MessageDigest::sha256()
    };
    let mut s = Signer::new(digest, &signer.key).expect("signer");
    s.update(message).expect("sign");
    s.sign_to_vec().expect("signature")
}

fn extensions_der(extensions: &[RawExtension]) -> Vec<u8> {
    let mut all = Vec::new();
    for ext in extensions {
        let mut e = tlv(0x06, &ext.oid);
        if ext.critical {
            e.extend([0x01, 0x01, 0xff]);
        }
        e.extend(tlv(0x04, &ext.value));
        all.extend(tlv(0x30, &e));
    }
    tlv(0x30, &all)
}

fn integer(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(7);
    let mut contents: Vec<u8> = bytes[start..].to_vec();
    if contents[0] >= 0x80 {
        contents.insert(0, 0);
    }
    tlv(0x02, &contents)
}

/// UTCTime (before 2050) or GeneralizedTime.
pub(crate) fn time(unix: i64) -> Vec<u8> {
    let t = openssl::asn1::Asn1Time::from_unix(unix).expect("time");
    let text = t.to_string(); // "Mon DD HH:MM:SS YYYY GMT"
    let parts: Vec<&str> = text.split_whitespace().collect();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[0])
    .expect("month")
        + 1;
    let day: u32 = parts[1].parse().expect("day");
    let hms = parts[2].replace(':', "");
    let year: u32 = parts[3].parse().expect("year");
    if year < 2050 {
        let s = format!("{:02}{month:02}{day:02}{hms}Z", year % 100);
        tlv(0x17, s.as_bytes())
    } else {
        let s = format!("{year}{month:02}{day:02}{hms}Z");
        tlv(0x18, s.as_bytes())
    }
}

/// DER: `tag`, the definite length, `contents` (the test kit's hand-written
/// CRLs, OCSP responses and name constraints, and tests that rewrite DER).
pub fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = contents.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u32).to_be_bytes();
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(3);
        out.push(0x80 | (4 - start) as u8);
        out.extend(&bytes[start..]);
    }
    out.extend(contents);
    out
}
