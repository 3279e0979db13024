//! Trust anchors: certificates whose SHA-256 is pinned, from the configuration
//! or from the presented chain. Any other certificate is only a candidate
//! intermediate.

use super::presented::Cert;
use super::profile::CertFacts;
use super::signed::KeyIds;
use crate::fingerprint::Fingerprint;
use crate::reason::Reason;
use rustls_pki_types::{CertificateDer, TrustAnchor};

#[derive(Clone, Debug)]
pub(crate) struct Anchor {
    pub trust_anchor: TrustAnchor<'static>,
    pub sha256: Fingerprint,
    /// webpki keeps only subject, key and name constraints of an anchor; the
    /// profile checks the rest of the certificate from these.
    pub facts: CertFacts,
    /// For issuer pruning (authorityKeyIdentifier of the certificates below).
    pub key_ids: KeyIds,
}

impl Anchor {
    /// A pinned certificate webpki cannot take as an anchor is `CertificateInvalid`.
    pub(crate) fn new(cert: &Cert<'_>) -> Result<Self, Reason> {
        let der = CertificateDer::from(cert.der.as_ref());
        let trust_anchor =
            webpki::anchor_from_trusted_cert(&der).map_err(|_| Reason::CertificateInvalid)?;
        Ok(Anchor {
            trust_anchor: trust_anchor.to_owned(),
            sha256: cert.sha256,
            facts: cert.facts.clone(),
            key_ids: cert.key_ids.clone(),
        })
    }

    /// A view webpki can take a slice of, without copying the key; without
    /// the anchor's name constraints, which the profile evaluates
    /// (`name_constraints`) from the certificate.
    pub(crate) fn borrowed(&self) -> TrustAnchor<'_> {
        let ta = &self.trust_anchor;
        TrustAnchor {
            subject: ta.subject.as_ref().into(),
            subject_public_key_info: ta.subject_public_key_info.as_ref().into(),
            name_constraints: None,
        }
    }
}

/// Splits the presented certificates into extra anchors (pinned, not already
/// configured) and candidate intermediates.
pub(crate) fn split_presented<'p, 'a>(
    others: &'p [Cert<'a>],
    pinned: &[Fingerprint],
    configured: &[Anchor],
) -> Result<(Vec<Anchor>, Vec<&'p Cert<'a>>), Reason> {
    let mut anchors = Vec::new();
    let mut intermediates = Vec::new();
    for cert in others {
        if !pinned.contains(&cert.sha256) {
            intermediates.push(cert);
        } else if !configured.iter().any(|a| a.sha256 == cert.sha256) {
            anchors.push(Anchor::new(cert)?);
        }
    }
    Ok((anchors, intermediates))
}
