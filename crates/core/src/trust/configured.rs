//! The configured CA certificates (`ca_certificates_der`), each read once:
//! the configuration checks them on the way in and the store keeps what was
//! read. Pinned ones are anchors, the others complete chains that clients
//! send short.

use super::TrustSettings;
use super::anchors::Anchor;
use super::presented::Cert;
use crate::fingerprint::Fingerprint;
use crate::x509;
use x509_parser::certificate::X509Certificate;

/// One configured certificate as read: what the store can use of it.
#[derive(Clone, Debug)]
pub(crate) struct CaCertificate {
    sha256: Fingerprint,
    /// `None` when it could never help verify anything (not X.509 DER, or
    /// extensions that cannot be read).
    cert: Option<Cert<'static>>,
}

/// Two readings of the same DER are the same.
impl PartialEq for CaCertificate {
    fn eq(&self, other: &Self) -> bool {
        self.sha256 == other.sha256
    }
}

impl Eq for CaCertificate {}

/// Why a certificate cannot be configured as a CA.
#[derive(Debug)]
pub(crate) enum CaCertificateError {
    NotX509(x509::ParseError),
    /// Without BasicConstraints cA; the subject in RFC 4514 form.
    NotCa(String),
}

impl CaCertificate {
    /// What `ca_certificates_pem` accepts: one whole X.509 certificate of a CA.
    pub(crate) fn read(der: &[u8]) -> Result<Self, CaCertificateError> {
        let parsed = x509::parse(der).map_err(CaCertificateError::NotX509)?;
        if !parsed.is_ca() {
            return Err(CaCertificateError::NotCa(x509::rfc4514(parsed.subject())));
        }
        Ok(CaCertificate::of(der, Some(&parsed)))
    }

    /// Whatever settings built by hand hold.
    pub(crate) fn read_any(der: &[u8]) -> Self {
        CaCertificate::of(der, x509::parse(der).ok().as_ref())
    }

    fn of(der: &[u8], parsed: Option<&X509Certificate<'_>>) -> Self {
        let sha256 = Fingerprint::of_der(der);
        let cert = parsed.and_then(|x509| Cert::of(der, sha256, x509).ok());
        CaCertificate {
            sha256,
            cert: cert.map(Cert::into_owned),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Configured {
    pub anchors: Vec<Anchor>,
    pub intermediates: Vec<Cert<'static>>,
}

impl Configured {
    /// A certificate that cannot be used is skipped with a warning: it could
    /// never help verify anything. One listed twice counts once.
    pub(crate) fn new(
        settings: &TrustSettings,
        certificates: impl IntoIterator<Item = CaCertificate>,
    ) -> Self {
        let mut configured = Configured::default();
        let mut seen: Vec<Fingerprint> = Vec::new();
        for CaCertificate { sha256, cert } in certificates {
            if seen.contains(&sha256) {
                continue;
            }
            seen.push(sha256);
            let Some(cert) = cert else {
                log::warn!(
                    "configured CA certificate {sha256} is not a usable X.509 certificate; skipped"
                );
                continue;
            };
            if !settings.trusted_ca_sha256.contains(&sha256) {
                configured.intermediates.push(cert);
                continue;
            }
            match Anchor::new(&cert) {
                Ok(anchor) => configured.anchors.push(anchor),
                Err(_) => {
                    log::warn!("pinned CA certificate {sha256} cannot be a trust anchor; skipped")
                }
            }
        }
        configured
    }
}
