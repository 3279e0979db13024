//! The one X.509 reader: a whole DER certificate, its names in RFC 4514
//! form, its subjectAltName URI and DNS names and its organizations, as
//! the verifier, the XFCC writer and the CLI all read them.

use std::fmt::{self, Write};
use x509_parser::asn1_rs::{Any, Tag, ToDer};
use x509_parser::certificate::X509Certificate;
use x509_parser::der_parser::oid;
use x509_parser::error::X509Error;
use x509_parser::extensions::GeneralName;
use x509_parser::oid_registry::Oid;
use x509_parser::prelude::FromDer;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// Why bytes are not one X.509 certificate.
#[derive(Debug)]
pub enum ParseError {
    /// Not X.509 DER; shown as the parser's own message.
    Malformed(x509_parser::nom::Err<X509Error>),
    /// A certificate with more bytes after it.
    TrailingData,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Malformed(e) => write!(f, "{e}"),
            ParseError::TrailingData => f.write_str("data after the certificate"),
        }
    }
}

/// A whole DER certificate and nothing after it.
pub fn parse(der: &[u8]) -> Result<X509Certificate<'_>, ParseError> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(ParseError::TrailingData),
        Err(e) => Err(ParseError::Malformed(e)),
    }
}

/// The subjectAltName URI and DNS names, in certificate order, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AltNames {
    pub uris: Vec<String>,
    pub dns: Vec<String>,
    /// Some name could not be read; a decision must not rest on the others.
    pub has_unreadable: bool,
}

/// `None` when the extension itself cannot be read (duplicated, malformed);
/// no extension is no names.
pub fn alt_names(cert: &X509Certificate<'_>) -> Option<AltNames> {
    let san = cert.subject_alternative_name().ok()?;
    let mut names = AltNames::default();
    for name in san.iter().flat_map(|san| san.value.general_names.iter()) {
        match name {
            GeneralName::URI(uri) => names.uris.push((*uri).to_string()),
            GeneralName::DNSName(dns) => names.dns.push((*dns).to_string()),
            GeneralName::Invalid(..) => names.has_unreadable = true,
            _ => {}
        }
    }
    Some(names)
}

/// The subject's organization (O) values that have a string form.
pub fn organizations(cert: &X509Certificate<'_>) -> Vec<String> {
    cert.subject()
        .iter_organization()
        .filter_map(|attr| decode_string(attr.attr_value()))
        .collect()
}

/// Attribute short names RFC 4514 section 3 defines; others print as dotted OIDs.
const SHORT_NAMES: &[(Oid<'static>, &str)] = &[
    (oid!(2.5.4.3), "CN"),
    (oid!(2.5.4.7), "L"),
    (oid!(2.5.4.8), "ST"),
    (oid!(2.5.4.10), "O"),
    (oid!(2.5.4.11), "OU"),
    (oid!(2.5.4.6), "C"),
    (oid!(2.5.4.9), "STREET"),
    (oid!(0.9.2342.19200300.100.1.25), "DC"),
    (oid!(0.9.2342.19200300.100.1.1), "UID"),
];

/// RFC 4514 string form: last RDN first, `,` between RDNs, `+` inside one.
pub fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<_> = name.iter().collect();
    let mut out = String::new();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, attr) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            push_attribute(&mut out, attr);
        }
    }
    out
}

fn push_attribute(out: &mut String, attr: &AttributeTypeAndValue<'_>) {
    let short = SHORT_NAMES
        .iter()
        .find(|(oid, _)| oid == attr.attr_type())
        .map(|(_, name)| *name);
    let text = short.and_then(|_| decode_string(attr.attr_value()));
    match short {
        Some(name) => out.push_str(name),
        None => out.push_str(&attr.attr_type().to_id_string()),
    }
    out.push('=');
    match text {
        Some(text) => escape_into(out, &text),
        // A dotted type or a value without a string form: `#` and the DER in hex.
        None => {
            out.push('#');
            out.push_str(&hex::encode(
                attr.attr_value().to_der_vec().unwrap_or_default(),
            ));
        }
    }
}

/// The text of a DirectoryString-like value.
fn decode_string(value: &Any<'_>) -> Option<String> {
    let data = value.data;
    match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString => std::str::from_utf8(data).ok().map(str::to_string),
        // Latin-1, as most readers treat T61 in practice.
        Tag::TeletexString => Some(data.iter().map(|b| char::from(*b)).collect()),
        Tag::BmpString => {
            let units = data
                .chunks(2)
                .map(|c| <[u8; 2]>::try_from(c).ok().map(u16::from_be_bytes))
                .collect::<Option<Vec<u16>>>()?;
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
        }
        Tag::UniversalString => data
            .chunks(4)
            .map(|c| {
                <[u8; 4]>::try_from(c)
                    .ok()
                    .map(u32::from_be_bytes)
                    .and_then(char::from_u32)
            })
            .collect(),
        _ => None,
    }
}

/// RFC 4514 section 2.4 escaping, plus control characters as `\XX` so the
/// string is safe in a log line or header.
fn escape_into(out: &mut String, value: &str) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && matches!(c, ' ' | '#'))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
            out.push(c);
        } else if c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(value: &str) -> String {
        let mut out = String::new();
        escape_into(&mut out, value);
        out
    }

    #[test]
    fn a_certificate_must_be_whole() {
        let root = onerecord_tls_policy_testkit::pki::self_signed(
            &onerecord_tls_policy_testkit::pki::CertSpec::ca("Root"),
        );
        let der = root.der();
        assert_eq!(
            rfc4514(parse(&der).unwrap().subject()),
            "O=Test PKI,CN=Root"
        );
        let mut longer = der.clone();
        longer.push(0);
        assert!(matches!(parse(&longer), Err(ParseError::TrailingData)));
        assert!(matches!(parse(&der[1..]), Err(ParseError::Malformed(_))));
    }

    #[test]
    fn escapes_specials_leading_and_trailing_and_controls() {
        assert_eq!(escaped("Example Airline"), "Example Airline");
        assert_eq!(
            escaped("a,b+c;d<e>f\"g\\h"),
            "a\\,b\\+c\\;d\\<e\\>f\\\"g\\\\h"
        );
        assert_eq!(escaped("#1 Cargo "), "\\#1 Cargo\\ ");
        assert_eq!(escaped(" x"), "\\ x");
        assert_eq!(escaped("a#b"), "a#b");
        assert_eq!(escaped("line\nbreak\0"), "line\\0Abreak\\00");
        assert_eq!(escaped(""), "");
    }

    #[test]
    fn decodes_bmp_and_universal_strings() {
        fn decode(tag: u8, content: &[u8]) -> Option<String> {
            let mut der = vec![tag, content.len() as u8];
            der.extend_from_slice(content);
            let (_, any) = <Any as x509_parser::asn1_rs::FromDer>::from_der(&der).unwrap();
            decode_string(&any)
        }
        let text = "Fracht Ä Ω";
        let bmp: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode(0x1e, &bmp).as_deref(), Some(text));
        let universal: Vec<u8> = text
            .chars()
            .flat_map(|c| u32::from(c).to_be_bytes())
            .collect();
        assert_eq!(decode(0x1c, &universal).as_deref(), Some(text));
        assert_eq!(decode(0x14, b"Caf\xe9").as_deref(), Some("Caf\u{e9}"));
        // Odd lengths and surrogate halves are not text.
        assert_eq!(decode(0x1e, &[0x00, 0x41, 0x00]), None);
        assert_eq!(decode(0x1e, &[0xd8, 0x00]), None);
        assert_eq!(decode(0x1c, &[0x00, 0x00, 0x00]), None);
        assert_eq!(decode(0x04, b"octets"), None);
    }
}
