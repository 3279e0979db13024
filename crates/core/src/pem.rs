//! The one PEM reader: PEM text into labelled DER blocks.
//!
//! Two readings share its decoder. [`blocks`] reads what operators hand
//! over (certificate files, `ca_certificates_pem`) and passes every block
//! on, whatever its label. [`certificate_bundle`] reads PEM that arrived
//! inside a request header (XFCC `Cert` and `Chain`) and is strict about
//! layout, since any leniency there is room for a client to play in.

use base64ct::{Base64, Encoding};
use std::fmt;

pub(crate) const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
pub(crate) const PEM_END: &str = "-----END CERTIFICATE-----";

/// The label of a certificate block.
pub const CERTIFICATE: &str = "CERTIFICATE";

/// One PEM block: its label (`CERTIFICATE`, `PRIVATE KEY`, ...) and what its
/// base64 decodes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub label: String,
    pub contents: Vec<u8>,
}

/// A block that cannot be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unreadable {
    /// A `-----BEGIN ` line that is not `-----BEGIN <label>-----`.
    InvalidHeader,
    /// No `-----END ` line after the block's start.
    Incomplete,
    /// A line inside the block that is not text.
    NotText,
    /// The block's lines are not padded base64.
    Base64,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unreadable::InvalidHeader => "invalid PEM header line",
            Unreadable::Incomplete => "PEM block without an end line",
            Unreadable::NotText => "PEM block with a line that is not text",
            Unreadable::Base64 => "PEM block that is not valid base64",
        })
    }
}

impl std::error::Error for Unreadable {}

/// The blocks of `text` in order; lines outside blocks are ignored, and so
/// is what a block's `-----BEGIN` line holds after its label's first `-`.
/// Inside a block each line's trailing whitespace is dropped and the rest is
/// decoded as one strict, padded base64 text.
pub fn blocks(text: &[u8]) -> impl Iterator<Item = Result<Block, Unreadable>> + '_ {
    let mut lines = text.split(|&b| b == b'\n');
    std::iter::from_fn(move || {
        let header = lines
            .by_ref()
            .find(|line| line.starts_with(b"-----BEGIN "))?;
        Some(block(header, &mut lines))
    })
}

/// The block whose `-----BEGIN` line is `header`, read from `lines`.
fn block<'a>(
    header: &[u8],
    lines: &mut impl Iterator<Item = &'a [u8]>,
) -> Result<Block, Unreadable> {
    let header = std::str::from_utf8(header).map_err(|_| Unreadable::InvalidHeader)?;
    let label = header
        .strip_prefix("-----BEGIN ")
        .and_then(|rest| rest.split_once("-----"))
        .map(|(label, _)| label.split('-').next().unwrap_or(label))
        .ok_or(Unreadable::InvalidHeader)?;
    let mut base64 = String::new();
    loop {
        let line = lines.next().ok_or(Unreadable::Incomplete)?;
        if line.starts_with(b"-----END ") {
            break;
        }
        let line = std::str::from_utf8(line).map_err(|_| Unreadable::NotText)?;
        base64.push_str(line.trim_end());
    }
    let contents = Base64::decode_vec(&base64).map_err(|_| Unreadable::Base64)?;
    Ok(Block {
        label: label.to_string(),
        contents,
    })
}

/// Why [`certificate_bundle`] refused its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BundleError {
    /// No certificate block at all.
    NoCertificates,
    /// More certificate blocks than allowed.
    TooManyCertificates,
    /// A block other than `CERTIFICATE`.
    NotCertificateBlock,
    /// Text outside blocks, a bad boundary line, bad base64, an unterminated block.
    Malformed,
    /// A block's content is not one complete DER SEQUENCE.
    MalformedDer,
}

/// Splits a PEM bundle into DER certificates, in order.
///
/// Strict about layout: only `CERTIFICATE` blocks with exact boundary lines,
/// base64-only lines inside, and empty lines outside (`\r\n` line ends are
/// accepted). The decoder skips text it does not understand, so the layout
/// is checked first, and its block count must match. Each block must hold
/// exactly one DER SEQUENCE; whether that is a valid certificate is left to
/// the verifier.
pub fn certificate_bundle(pem: &str, max_certificates: usize) -> Result<Vec<Vec<u8>>, BundleError> {
    let count = count_certificate_blocks(pem, max_certificates)?;
    if count == 0 {
        return Err(BundleError::NoCertificates);
    }
    let mut out = Vec::with_capacity(count);
    for block in blocks(pem.as_bytes()) {
        let block = block.map_err(|_| BundleError::Malformed)?;
        if block.label != CERTIFICATE {
            return Err(BundleError::NotCertificateBlock);
        }
        if out.len() == count {
            return Err(BundleError::Malformed);
        }
        ensure_single_der_sequence(&block.contents)?;
        out.push(block.contents);
    }
    if out.len() != count {
        return Err(BundleError::Malformed);
    }
    Ok(out)
}

/// Validates the bundle's line layout and counts its blocks, stopping as
/// soon as there are too many.
fn count_certificate_blocks(pem: &str, max_certificates: usize) -> Result<usize, BundleError> {
    let mut blocks = 0usize;
    // `Some((lines, padded))`: inside a block with `lines` base64 lines so
    // far, the last of which ended in `=` padding if `padded`.
    let mut inside: Option<(usize, bool)> = None;
    for raw in pem.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        inside = match inside {
            None if line.is_empty() => None,
            None if line == PEM_BEGIN => {
                blocks += 1;
                if blocks > max_certificates {
                    return Err(BundleError::TooManyCertificates);
                }
                Some((0, false))
            }
            None if line.starts_with("-----BEGIN ") && line.ends_with("-----") => {
                return Err(BundleError::NotCertificateBlock);
            }
            None => return Err(BundleError::Malformed),
            Some((lines, _)) if line == PEM_END && lines > 0 => None,
            // Padding ends the data, so nothing may follow a padded line.
            Some((lines, false)) => Some((lines + 1, base64_line(line)?)),
            Some((_, true)) => return Err(BundleError::Malformed),
        };
    }
    if inside.is_some() {
        return Err(BundleError::Malformed);
    }
    Ok(blocks)
}

/// Checks one base64 line: alphabet characters, then at most two `=`.
/// Returns whether it was padded.
fn base64_line(line: &str) -> Result<bool, BundleError> {
    let data = line.trim_end_matches('=');
    let padding = line.len() - data.len();
    let alphabet = |b: u8| b.is_ascii_alphanumeric() || b == b'+' || b == b'/';
    if data.is_empty() || padding > 2 || !data.bytes().all(alphabet) {
        return Err(BundleError::Malformed);
    }
    Ok(padding > 0)
}

/// A certificate is a DER SEQUENCE with nothing after it; this checks the
/// framing only (tag, canonical length, no trailing bytes).
fn ensure_single_der_sequence(der_bytes: &[u8]) -> Result<(), BundleError> {
    use der::{Decode, Tagged};
    let any = der::asn1::AnyRef::from_der(der_bytes).map_err(|_| BundleError::MalformedDer)?;
    if any.tag() != der::Tag::Sequence {
        return Err(BundleError::MalformedDer);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_every_label_in_order_and_report_undecodable_ones() {
        let text = "note\n-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n\
                    -----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let read: Vec<Block> = blocks(text.as_bytes()).map(Result::unwrap).collect();
        let labels: Vec<&str> = read.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(labels, [CERTIFICATE, "PRIVATE KEY"]);
        assert_eq!(read[0].contents, [0x30, 0x00]);
        let unterminated = "-----BEGIN CERTIFICATE-----\nAAAA\n";
        let e = blocks(unterminated.as_bytes()).next().unwrap().unwrap_err();
        assert_eq!(e, Unreadable::Incomplete);
    }

    #[test]
    fn block_lines_are_read_as_openssl_writes_them() {
        // CRLF line ends, a label with a suffix after `-`, and a base64 text
        // split over lines of any length.
        let text = "-----BEGIN X509 CRL-----\r\nMAAw\r\nAA==\r\n-----END X509 CRL-----\r\n";
        let read: Vec<Block> = blocks(text.as_bytes()).map(Result::unwrap).collect();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].label, "X509 CRL");
        assert_eq!(read[0].contents, [0x30, 0x00, 0x30, 0x00]);
        let suffixed = "-----BEGIN CERTIFICATE-x-----\nMAA=\n-----END CERTIFICATE-----\n";
        assert_eq!(
            blocks(suffixed.as_bytes()).next().unwrap().unwrap().label,
            CERTIFICATE
        );
        // Bytes that are not UTF-8 outside a block are skipped, inside refused.
        let mut outside = b"\xff\xfe note\n".to_vec();
        outside
            .extend_from_slice(b"-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n");
        assert_eq!(
            blocks(&outside).next().unwrap().unwrap().contents,
            [0x30, 0x00]
        );
        let inside = b"-----BEGIN CERTIFICATE-----\nMA\xff=\n-----END CERTIFICATE-----\n";
        assert_eq!(
            blocks(inside).next().unwrap().unwrap_err(),
            Unreadable::NotText
        );
    }

    #[test]
    fn undecodable_blocks_are_named() {
        let read = |text: &str| blocks(text.as_bytes()).next().unwrap().unwrap_err();
        // Missing padding, a non-canonical final character, a character
        // outside the alphabet.
        for body in ["MAA", "MAB=", "MA*="] {
            let text = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
            assert_eq!(read(&text), Unreadable::Base64, "{body}");
        }
        assert_eq!(
            read("-----BEGIN CERTIFICATE\nMAA=\n"),
            Unreadable::InvalidHeader
        );
        assert_eq!(blocks(b"no blocks here\n").count(), 0);
    }

    #[test]
    fn the_strict_bundle_reader_refuses_what_the_lenient_one_skips() {
        let der_sequence = "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
        assert_eq!(
            certificate_bundle(der_sequence, 1),
            Ok(vec![vec![0x30, 0x00]])
        );
        let with_note = format!("note\n{der_sequence}");
        assert_eq!(blocks(with_note.as_bytes()).count(), 1);
        assert_eq!(
            certificate_bundle(&with_note, 1),
            Err(BundleError::Malformed)
        );
        let two = der_sequence.repeat(2);
        assert_eq!(
            certificate_bundle(&two, 1),
            Err(BundleError::TooManyCertificates)
        );
    }
}
