//! Reading certificate files: PEM bundles (or one DER certificate) into
//! parsed certificates, with errors that say which block is wrong.

use crate::Failure;
use onerecord_tls_policy_core::fingerprint::Fingerprint;
use onerecord_tls_policy_core::pem;
use onerecord_tls_policy_core::x509;
use std::path::Path;

/// One certificate from a file.
#[derive(Clone, Debug)]
pub struct Certificate {
    pub der: Vec<u8>,
    pub sha256: Fingerprint,
    /// RFC 4514, as the filter writes subjects.
    pub subject: String,
}

impl Certificate {
    /// Parses one DER certificate; `what` names it in errors.
    pub fn from_der(der: Vec<u8>, what: &str) -> Result<Self, String> {
        let cert = x509::parse(&der).map_err(|e| match e {
            x509::ParseError::Malformed(e) => {
                format!("{what} is not a valid X.509 certificate: {e}")
            }
            x509::ParseError::TrailingData => format!("{what} has data after the certificate"),
        })?;
        let subject = x509::rfc4514(cert.subject());
        Ok(Certificate {
            sha256: Fingerprint::of_der(&der),
            subject,
            der,
        })
    }
}

/// The certificates of a file, in order, and the PEM blocks that were not
/// certificates (1-based block number and label), which callers report.
#[derive(Debug)]
pub struct Bundle {
    pub certificates: Vec<Certificate>,
    pub skipped: Vec<(usize, String)>,
}

/// Reads `path`: PEM with at least one `CERTIFICATE` block, or one DER certificate.
pub fn read_file(path: &Path) -> Result<Bundle, Failure> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| Failure::new(format!("cannot read {shown}: {e}")))?;
    parse(&bytes).map_err(|e| Failure::new(format!("{shown}: {e}")))
}

/// Parses the contents of a certificate file.
pub fn parse(bytes: &[u8]) -> Result<Bundle, String> {
    let mut bundle = Bundle {
        certificates: Vec::new(),
        skipped: Vec::new(),
    };
    for (index, block) in pem::blocks(bytes).enumerate() {
        let number = index + 1;
        let block = block.map_err(|e| format!("PEM block {number} cannot be read: {e}"))?;
        if block.label != pem::CERTIFICATE {
            bundle.skipped.push((number, block.label));
            continue;
        }
        let certificate = Certificate::from_der(block.contents, &format!("PEM block {number}"))?;
        bundle.certificates.push(certificate);
    }
    if !bundle.certificates.is_empty() {
        return Ok(bundle);
    }
    if !bundle.skipped.is_empty() {
        let labels: Vec<&str> = bundle.skipped.iter().map(|(_, l)| l.as_str()).collect();
        return Err(format!(
            "contains no certificate, only PEM blocks of type {}",
            labels.join(", ")
        ));
    }
    // No PEM block at all: a DER certificate (a SEQUENCE), or not a certificate file.
    if bytes.first() == Some(&0x30) {
        let certificate = Certificate::from_der(bytes.to_vec(), "the file (read as DER)")?;
        bundle.certificates.push(certificate);
        return Ok(bundle);
    }
    Err("contains no certificate: expected PEM (-----BEGIN CERTIFICATE-----) or DER".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_files_without_certificates() {
        let e = parse(b"hello\n").unwrap_err();
        assert!(e.contains("contains no certificate"), "{e}");
        let e = parse(b"").unwrap_err();
        assert!(e.contains("contains no certificate"), "{e}");
        let key = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let e = parse(key).unwrap_err();
        assert!(e.contains("PRIVATE KEY"), "{e}");
        let bad = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let e = parse(bad).unwrap_err();
        assert!(e.contains("PEM block 1 is not a valid X.509"), "{e}");
        let unterminated = b"-----BEGIN CERTIFICATE-----\nAAAA\n";
        let e = parse(unterminated).unwrap_err();
        assert!(e.contains("PEM block 1 cannot be read"), "{e}");
        let e = parse(&[0x30, 0x03, 0x02, 0x01, 0x01]).unwrap_err();
        assert!(e.contains("read as DER"), "{e}");
    }
}
