//! What issuer pruning reads from a certificate, as the exact bytes webpki
//! compares and hands to a signature algorithm: the raw subject and issuer
//! names, the subject public key, and the signed TBS with its signature.
//!
//! A minimal DER walk over a certificate x509-parser has already accepted;
//! anything it cannot follow makes the certificate no candidate issuer (and
//! no child), which webpki would then refuse as well.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;

const SEQUENCE: u8 = 0x30;
const BIT_STRING: u8 = 0x03;
const INTEGER: u8 = 0x02;
const VERSION: u8 = 0xa0;

/// The key identifiers of a certificate, read once when it is parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct KeyIds {
    /// subjectKeyIdentifier.
    pub subject: Option<Vec<u8>>,
    /// authorityKeyIdentifier's keyIdentifier.
    pub authority: Option<Vec<u8>>,
}

impl KeyIds {
    pub(crate) fn of(cert: &X509Certificate<'_>) -> Self {
        let mut ids = KeyIds::default();
        for extension in cert.extensions() {
            match extension.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(id) => ids.subject = Some(id.0.to_vec()),
                ParsedExtension::AuthorityKeyIdentifier(aki) => {
                    ids.authority = aki.key_identifier.as_ref().map(|id| id.0.to_vec());
                }
                _ => {}
            }
        }
        ids
    }
}

/// The public key as webpki passes it around: the SubjectPublicKeyInfo
/// contents, its AlgorithmIdentifier contents and the key bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PublicKey<'a> {
    pub spki: &'a [u8],
    pub algorithm: &'a [u8],
    pub bits: &'a [u8],
}

impl<'a> PublicKey<'a> {
    /// From the contents of a SubjectPublicKeyInfo SEQUENCE.
    pub(crate) fn from_spki(spki: &'a [u8]) -> Option<Self> {
        let (algorithm, rest) = take(spki, SEQUENCE)?;
        let (bits, rest) = take(rest, BIT_STRING)?;
        let bits = no_unused_bits(bits)?;
        rest.is_empty().then_some(PublicKey {
            spki,
            algorithm,
            bits,
        })
    }
}

/// A certificate as a child (what was signed) and as an issuer (names, key).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Signed<'a> {
    /// Name contents, as webpki compares them.
    pub subject: &'a [u8],
    pub issuer: &'a [u8],
    /// The serialNumber INTEGER's contents, as encoded.
    pub serial: &'a [u8],
    pub key: PublicKey<'a>,
    /// The whole TBSCertificate, tag and length included: the signed message.
    pub tbs: &'a [u8],
    /// The outer signatureAlgorithm's contents.
    pub signature_algorithm: &'a [u8],
    pub signature: &'a [u8],
}

impl<'a> Signed<'a> {
    pub(crate) fn parse(der: &'a [u8]) -> Option<Self> {
        let (certificate, rest) = take(der, SEQUENCE)?;
        if !rest.is_empty() {
            return None;
        }
        let (tbs, after_tbs) = split_tlv(certificate)?;
        let (signature_algorithm, rest) = take(after_tbs, SEQUENCE)?;
        let (signature, rest) = take(rest, BIT_STRING)?;
        if !rest.is_empty() {
            return None;
        }
        let (tbs_tag, tbs_contents, _) = tlv(tbs)?;
        if tbs_tag != SEQUENCE {
            return None;
        }
        let mut fields = tbs_contents;
        if fields.first() == Some(&VERSION) {
            fields = take(fields, VERSION)?.1;
        }
        let (serial, fields) = take(fields, INTEGER)?;
        let (_signature, fields) = take(fields, SEQUENCE)?;
        let (issuer, fields) = take(fields, SEQUENCE)?;
        let (_validity, fields) = take(fields, SEQUENCE)?;
        let (subject, fields) = take(fields, SEQUENCE)?;
        let (spki, _) = take(fields, SEQUENCE)?;
        Some(Signed {
            subject,
            issuer,
            serial,
            key: PublicKey::from_spki(spki)?,
            tbs,
            signature_algorithm,
            signature: no_unused_bits(signature)?,
        })
    }
}

/// A BIT STRING's contents without its unused-bits octet, which must be 0.
pub(crate) fn no_unused_bits(contents: &[u8]) -> Option<&[u8]> {
    match contents.split_first() {
        Some((0, bits)) => Some(bits),
        _ => None,
    }
}

/// The contents of the first TLV when its tag is `tag`, and what follows it.
pub(crate) fn take(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (found, contents, rest) = tlv(input)?;
    (found == tag).then_some((contents, rest))
}

/// The first TLV whole, and what follows it.
pub(crate) fn split_tlv(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let (_, contents, rest) = tlv(input)?;
    let whole = input.len().checked_sub(rest.len())?;
    debug_assert!(whole >= contents.len());
    Some((input.get(..whole)?, rest))
}

/// DER: tag, definite length (shortest form), contents. The writer beside
/// the reader above, for the few values the core re-encodes.
pub(crate) fn encode_tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let length = contents.len();
    let mut out = Vec::with_capacity(contents.len() + 10);
    out.push(tag);
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let octets = length.to_be_bytes();
        let significant = octets.iter().skip_while(|b| **b == 0).count();
        out.push(0x80 | significant as u8);
        out.extend_from_slice(octets.get(octets.len() - significant..).unwrap_or_default());
    }
    out.extend_from_slice(contents);
    out
}

/// Tag, contents and rest of the first TLV (definite lengths, up to 4 octets).
pub(crate) fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let octets = usize::from(first & 0x7f);
        if octets == 0 || octets > 4 {
            return None;
        }
        let (bytes, after) = (rest.get(..octets)?, rest.get(octets..)?);
        rest = after;
        bytes.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b))
    };
    Some((tag, rest.get(..length)?, rest.get(length..)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use onerecord_tls_policy_testkit::pki::{CertSpec, issue, self_signed};
    use x509_parser::prelude::FromDer;

    #[test]
    fn reads_what_x509_parser_reads() {
        let root = self_signed(&CertSpec::ca("Root CA"));
        let leaf = issue(&CertSpec::client("client-1"), &root);
        let der = leaf.der();
        let (_, x509) = X509Certificate::from_der(&der).unwrap();
        let signed = Signed::parse(&der).unwrap();
        assert_eq!(signed.tbs, x509.tbs_certificate.as_ref());
        assert_eq!(signed.signature, x509.signature_value.data.as_ref());
        assert_eq!(
            signed.key.bits,
            x509.public_key().subject_public_key.data.as_ref()
        );
        let root_der = root.der();
        let root_signed = Signed::parse(&root_der).unwrap();
        assert_eq!(signed.issuer, root_signed.subject);
        assert_ne!(signed.subject, root_signed.subject);
        let ids = KeyIds::of(&x509);
        assert!(ids.subject.is_some() && ids.authority.is_some());
        let (_, root_x509) = X509Certificate::from_der(&root_der).unwrap();
        assert_eq!(ids.authority, KeyIds::of(&root_x509).subject);
    }

    #[test]
    fn anything_else_is_not_read() {
        let der = self_signed(&CertSpec::ca("Root CA")).der();
        for cut in [0, 1, 2, 10, der.len() / 2, der.len() - 1] {
            assert!(Signed::parse(&der[..cut]).is_none(), "cut at {cut}");
        }
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(Signed::parse(&trailing).is_none());
        assert!(tlv(&[0x30, 0x85, 0, 0, 0, 0, 1]).is_none());
        assert!(tlv(&[0x30, 0x82, 0xff, 0xff]).is_none());
    }

    #[test]
    fn writes_what_it_reads() {
        assert_eq!(encode_tlv(0x04, &[7; 3])[..2], [0x04, 3]);
        assert_eq!(encode_tlv(0x04, &[7; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(encode_tlv(0x04, &[7; 300])[..4], [0x04, 0x82, 1, 44]);
        for length in [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x1_0000] {
            let contents = vec![5; length];
            let der = encode_tlv(0x30, &contents);
            assert_eq!(tlv(&der), Some((0x30, &contents[..], &[][..])), "{length}");
        }
    }
}
