//! x-forwarded-client-cert parsing.
//!
//! Envoy (`forward_client_cert_details: APPEND_FORWARD`) appends one element
//! per hop, so only the **last** element describes the connection we sit on;
//! everything before it came from the client or other proxies. A client can
//! therefore write arbitrary bytes in front of Envoy's element, and the parser
//! is built so that no such prefix can change what the last element is:
//! every element is checked against the same strict grammar, and a quote may
//! only open a value and must be followed by `;`, `,` or the end. A prefix
//! that leaves a quote open makes Envoy's own first quote close it, which the
//! grammar rejects instead of re-synchronising somewhere inside Envoy's text.
//!
//! What Envoy writes (`conn_manager_utility.cc`, `connection_info_impl_base.cc`):
//! `By=<uri>` (repeated), `Hash=<hex>`, `Cert="<pem>"`, `Chain="<pem>"`,
//! `Subject="<RFC 2253 DN>"`, `URI=<uri>` (repeated; a bare `URI=` when the
//! certificate has none), `DNS=<name>` (repeated), joined by `;`. The PEM
//! values have `\n`, space, `+`, `/` and `=` percent-encoded; nothing else is
//! escaped, and `By`/`URI`/`DNS` are written unquoted and verbatim.

/// The XFCC writer: for the CLI, fuzzing and tests, not the filter.
#[cfg(any(test, feature = "tools"))]
pub mod envoy_format;

mod split;
pub use split::last_two_elements;

use crate::pem::BundleError;
use std::fmt;

/// Headers longer than this are refused before any parsing.
pub const MAX_HEADER_BYTES: usize = 256 * 1024;
/// PEM bundles with more certificates than this are refused.
pub const MAX_CERTIFICATES: usize = 64;

/// One parsed XFCC element (the one describing this connection).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct XfccElement {
    /// `By`: URI SANs of the proxy's own certificate, in header order.
    pub by: Vec<String>,
    /// `Hash`: 64 hex digits as written (Envoy writes lowercase).
    pub hash: Option<String>,
    /// `Cert`, percent-decoded: the client certificate as PEM.
    pub cert: Option<String>,
    /// `Chain`, percent-decoded: the presented chain (leaf included) as PEM.
    pub chain: Option<String>,
    /// `Subject` without its surrounding quotes and otherwise verbatim. It is
    /// the RFC 2253 string Envoy printed, whose own backslash escapes
    /// (`\"`, `\\`, `\,` ...) are kept: undoing them would let distinct DNs
    /// read the same.
    pub subject: Option<String>,
    /// `URI` values in header order; empty ones (Envoy's "no URI SAN") are dropped.
    pub uri: Vec<String>,
    /// `DNS` values in header order; empty ones are dropped.
    pub dns: Vec<String>,
}

/// Why a header or PEM bundle was refused. Messages never echo input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum XfccError {
    /// The header is empty.
    Empty,
    /// The header (or PEM bundle) is longer than [`MAX_HEADER_BYTES`].
    TooLarge,
    /// An element is empty (leading, trailing or doubled `,`).
    EmptyElement,
    /// A `;`-separated pair has no `=` (this includes an empty pair).
    MissingEquals,
    /// A key is empty or has a character outside `A-Z a-z 0-9 - _`.
    InvalidKey,
    /// A quoted value does not end.
    UnterminatedQuote,
    /// A `"` inside an unquoted value, or text after a closing quote.
    UnexpectedQuote,
    /// An ASCII control character (including tab).
    ControlCharacter,
    /// A key that may appear once per element appeared again.
    DuplicateKey(&'static str),
    /// A key that must carry a value had an empty one.
    EmptyValue(&'static str),
    /// `Hash` is not 64 hex digits.
    InvalidHash,
    /// A `%` not followed by two hex digits.
    BadPercentEncoding,
    /// Percent-decoded bytes are not UTF-8.
    NotUtf8,
    /// The PEM bundle holds no certificate.
    NoCertificates,
    /// The PEM bundle holds more than [`MAX_CERTIFICATES`] certificates.
    TooManyCertificates,
    /// A PEM block other than `CERTIFICATE`.
    NotCertificateBlock,
    /// Text outside blocks, a bad boundary line, bad base64, an unterminated block.
    MalformedPem,
    /// A block's content is not one complete DER SEQUENCE.
    MalformedDer,
}

impl fmt::Display for XfccError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XfccError::Empty => f.write_str("x-forwarded-client-cert is empty"),
            XfccError::TooLarge => write!(f, "input is longer than {MAX_HEADER_BYTES} bytes"),
            XfccError::EmptyElement => f.write_str("x-forwarded-client-cert has an empty element"),
            XfccError::MissingEquals => {
                f.write_str("x-forwarded-client-cert has a pair without '='")
            }
            XfccError::InvalidKey => {
                f.write_str("x-forwarded-client-cert has an empty or invalid key")
            }
            XfccError::UnterminatedQuote => {
                f.write_str("x-forwarded-client-cert has an unterminated quoted value")
            }
            XfccError::UnexpectedQuote => f.write_str(
                "x-forwarded-client-cert has a misplaced '\"' or text after a closing quote",
            ),
            XfccError::ControlCharacter => {
                f.write_str("x-forwarded-client-cert contains a control character")
            }
            XfccError::DuplicateKey(key) => {
                write!(f, "x-forwarded-client-cert element repeats the {key} key")
            }
            XfccError::EmptyValue(key) => write!(f, "x-forwarded-client-cert {key} value is empty"),
            XfccError::InvalidHash => {
                f.write_str("x-forwarded-client-cert Hash is not 64 hex digits")
            }
            XfccError::BadPercentEncoding => {
                f.write_str("x-forwarded-client-cert value has malformed percent-encoding")
            }
            XfccError::NotUtf8 => f.write_str("percent-decoded value is not UTF-8"),
            XfccError::NoCertificates => f.write_str("PEM bundle contains no certificate"),
            XfccError::TooManyCertificates => {
                write!(
                    f,
                    "PEM bundle contains more than {MAX_CERTIFICATES} certificates"
                )
            }
            XfccError::NotCertificateBlock => {
                f.write_str("PEM bundle contains a non-CERTIFICATE block")
            }
            XfccError::MalformedPem => f.write_str("PEM bundle is malformed"),
            XfccError::MalformedDer => f.write_str("PEM certificate is not a single DER SEQUENCE"),
        }
    }
}

impl std::error::Error for XfccError {}

/// Parses the header and returns the LAST element (the one Envoy added for this connection).
///
/// Every element must be well-formed, because a malformed earlier element
/// makes it uncertain where the last one starts; only the last element's
/// keys are interpreted, so duplicates or bad encodings in earlier elements
/// do not matter.
pub fn parse_last_element(header: &str) -> Result<XfccElement, XfccError> {
    if header.len() > MAX_HEADER_BYTES {
        return Err(XfccError::TooLarge);
    }
    if header.is_empty() {
        return Err(XfccError::Empty);
    }
    interpret(lex_last_element(header)?)
}

/// One `key=value` pair, quotes removed, nothing decoded.
struct Pair<'a> {
    key: &'a str,
    value: &'a str,
}

/// Checks the grammar of the whole header in one pass and returns the pairs
/// of the last element.
fn lex_last_element(header: &str) -> Result<Vec<Pair<'_>>, XfccError> {
    let bytes = header.as_bytes();
    let mut pairs = Vec::new();
    let mut pos = 0;
    loop {
        // Start of an element.
        pairs.clear();
        if matches!(bytes.get(pos), None | Some(b',')) {
            return Err(XfccError::EmptyElement);
        }
        loop {
            let (pair, end) = lex_pair(header, pos)?;
            pairs.push(pair);
            match bytes.get(end) {
                None => return Ok(pairs),
                Some(b';') => pos = end + 1,
                Some(b',') => {
                    pos = end + 1;
                    break;
                }
                // lex_pair only stops at `;`, `,` or the end.
                Some(_) => return Err(XfccError::UnexpectedQuote),
            }
        }
    }
}

/// Lexes one pair starting at byte `start`; returns it and the index of the
/// `;`/`,` that ends it (or the header length).
fn lex_pair(header: &str, start: usize) -> Result<(Pair<'_>, usize), XfccError> {
    let bytes = header.as_bytes();
    let mut i = start;
    loop {
        match bytes.get(i) {
            None | Some(b';' | b',') => return Err(XfccError::MissingEquals),
            Some(b'=') => break,
            Some(&b) if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' => i += 1,
            Some(&b) if is_control(b) => return Err(XfccError::ControlCharacter),
            Some(_) => return Err(XfccError::InvalidKey),
        }
    }
    if i == start {
        return Err(XfccError::InvalidKey);
    }
    // All cut points below sit on ASCII bytes, hence on char boundaries.
    let key = header.get(start..i).ok_or(XfccError::InvalidKey)?;
    i += 1; // '='

    if bytes.get(i) == Some(&b'"') {
        let content_start = i + 1;
        i = content_start;
        loop {
            match bytes.get(i) {
                None => return Err(XfccError::UnterminatedQuote),
                Some(b'"') => break,
                // An escaped byte never closes the value. Any byte may be
                // escaped: Envoy's Subject carries RFC 2253 escapes like `\,`.
                Some(b'\\') => match bytes.get(i + 1) {
                    None => return Err(XfccError::UnterminatedQuote),
                    Some(&b) if is_control(b) => return Err(XfccError::ControlCharacter),
                    Some(_) => i += 2,
                },
                Some(&b) if is_control(b) => return Err(XfccError::ControlCharacter),
                Some(_) => i += 1,
            }
        }
        let value = header
            .get(content_start..i)
            .ok_or(XfccError::UnterminatedQuote)?;
        let end = i + 1;
        return match bytes.get(end) {
            None | Some(b';' | b',') => Ok((Pair { key, value }, end)),
            Some(_) => Err(XfccError::UnexpectedQuote),
        };
    }

    let value_start = i;
    loop {
        match bytes.get(i) {
            None | Some(b';' | b',') => break,
            Some(b'"') => return Err(XfccError::UnexpectedQuote),
            Some(&b) if is_control(b) => return Err(XfccError::ControlCharacter),
            Some(_) => i += 1,
        }
    }
    let value = header.get(value_start..i).ok_or(XfccError::MissingEquals)?;
    Ok((Pair { key, value }, i))
}

fn is_control(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

/// Turns the last element's pairs into an [`XfccElement`].
fn interpret(pairs: Vec<Pair<'_>>) -> Result<XfccElement, XfccError> {
    let mut element = XfccElement::default();
    for Pair { key, value } in pairs {
        if key.eq_ignore_ascii_case("By") {
            push_name(&mut element.by, value);
        } else if key.eq_ignore_ascii_case("Hash") {
            ensure_unset(&element.hash, "Hash")?;
            element.hash = Some(parse_hash(value)?);
        } else if key.eq_ignore_ascii_case("Cert") {
            ensure_unset(&element.cert, "Cert")?;
            element.cert = Some(decode_pem_value(value, "Cert")?);
        } else if key.eq_ignore_ascii_case("Chain") {
            ensure_unset(&element.chain, "Chain")?;
            element.chain = Some(decode_pem_value(value, "Chain")?);
        } else if key.eq_ignore_ascii_case("Subject") {
            ensure_unset(&element.subject, "Subject")?;
            element.subject = Some(value.to_string());
        } else if key.eq_ignore_ascii_case("URI") {
            push_name(&mut element.uri, value);
        } else if key.eq_ignore_ascii_case("DNS") {
            push_name(&mut element.dns, value);
        }
        // Other keys: ignored, for forward compatibility.
    }
    Ok(element)
}

/// Envoy writes a bare `URI=` for "no URI SAN"; an empty name names nothing.
fn push_name(list: &mut Vec<String>, value: &str) {
    if !value.is_empty() {
        list.push(value.to_string());
    }
}

fn ensure_unset(slot: &Option<String>, key: &'static str) -> Result<(), XfccError> {
    match slot {
        Some(_) => Err(XfccError::DuplicateKey(key)),
        None => Ok(()),
    }
}

fn parse_hash(value: &str) -> Result<String, XfccError> {
    if value.is_empty() {
        return Err(XfccError::EmptyValue("Hash"));
    }
    if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(XfccError::InvalidHash);
    }
    Ok(value.to_string())
}

fn decode_pem_value(value: &str, key: &'static str) -> Result<String, XfccError> {
    if value.is_empty() {
        return Err(XfccError::EmptyValue(key));
    }
    percent_decode(value)
}

/// `%XX` with exactly two hex digits; every other byte (including `+`) is literal.
fn percent_decode(value: &str) -> Result<String, XfccError> {
    let mut out = Vec::with_capacity(value.len());
    let mut bytes = value.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = bytes
                .next()
                .and_then(hex_digit)
                .ok_or(XfccError::BadPercentEncoding)?;
            let lo = bytes
                .next()
                .and_then(hex_digit)
                .ok_or(XfccError::BadPercentEncoding)?;
            out.push((hi << 4) | lo);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).map_err(|_| XfccError::NotUtf8)
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits a PEM bundle (decoded `Cert`/`Chain` value) into DER certificates,
/// in order, with the strict reading of [`crate::pem::certificate_bundle`].
pub fn pem_to_der_certificates(pem: &str) -> Result<Vec<Vec<u8>>, XfccError> {
    if pem.len() > MAX_HEADER_BYTES {
        return Err(XfccError::TooLarge);
    }
    crate::pem::certificate_bundle(pem, MAX_CERTIFICATES).map_err(XfccError::from)
}

impl From<BundleError> for XfccError {
    fn from(e: BundleError) -> Self {
        match e {
            BundleError::NoCertificates => XfccError::NoCertificates,
            BundleError::TooManyCertificates => XfccError::TooManyCertificates,
            BundleError::NotCertificateBlock => XfccError::NotCertificateBlock,
            BundleError::Malformed => XfccError::MalformedPem,
            BundleError::MalformedDer => XfccError::MalformedDer,
        }
    }
}

#[cfg(test)]
mod tests;
