//! `ca_certificates_pem`: PEM blocks that must each hold a CA certificate,
//! read once by the trust module's reader, which the trust store then takes.

use super::{ConfigError, err};
use crate::trust::{CaCertificate, CaCertificateError};

/// The DER of each certificate and how it was read: every block a
/// `CERTIFICATE` holding the certificate of a CA.
pub(super) fn read(
    text: &str,
    field: &str,
) -> Result<(Vec<Vec<u8>>, Vec<CaCertificate>), ConfigError> {
    let (mut ders, mut read) = (Vec::new(), Vec::new());
    for (i, block) in crate::pem::blocks(text.as_bytes()).enumerate() {
        let pem = block.map_err(|e| err(field, format!("PEM block {i} cannot be read: {e}")))?;
        if pem.label != crate::pem::CERTIFICATE {
            return Err(err(
                field,
                format!("PEM block {i} is a {:?}, expected CERTIFICATE", pem.label),
            ));
        }
        let certificate = CaCertificate::read(&pem.contents).map_err(|e| {
            let message = match e {
                CaCertificateError::NotX509(crate::x509::ParseError::Malformed(e)) => {
                    format!("PEM block {i} is not a valid X.509 certificate: {e}")
                }
                CaCertificateError::NotX509(crate::x509::ParseError::TrailingData) => {
                    format!("PEM block {i} has trailing data after the certificate")
                }
                CaCertificateError::NotCa(subject) => {
                    format!("PEM block {i} ({subject}) is not a CA certificate")
                }
            };
            err(field, message)
        })?;
        ders.push(pem.contents);
        read.push(certificate);
    }
    if ders.is_empty() && !text.trim().is_empty() {
        return Err(err(field, "contains no PEM certificate"));
    }
    Ok((ders, read))
}
