//! The configured CA certificates (`ca_certificates_der`), parsed once per
//! configuration: pinned ones are anchors, the others complete chains that
//! clients send short.

use super::anchors::Anchor;
use super::presented::Cert;
use crate::config::TrustSettings;
use crate::fingerprint::Fingerprint;

#[derive(Clone, Debug, Default)]
pub(crate) struct Configured {
    pub anchors: Vec<Anchor>,
    pub intermediates: Vec<Cert<'static>>,
}

impl Configured {
    /// A certificate that cannot be used is skipped with a warning: it could
    /// never help verify anything.
    pub(crate) fn new(settings: &TrustSettings) -> Self {
        let mut configured = Configured::default();
        let mut seen: Vec<Fingerprint> = Vec::new();
        for der in &settings.ca_certificates_der {
            let sha256 = Fingerprint::of_der(der);
            if seen.contains(&sha256) {
                continue;
            }
            seen.push(sha256);
            let cert = match Cert::parse(der) {
                Ok(cert) => cert.into_owned(),
                Err(_) => {
                    log::warn!(
                        "configured CA certificate {sha256} is not a usable X.509 certificate; skipped"
                    );
                    continue;
                }
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
