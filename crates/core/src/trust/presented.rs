//! The chain as the client presented it: parsed once, duplicates dropped,
//! counted before any path building.

use super::profile::CertFacts;
use super::signed::KeyIds;
use crate::fingerprint::Fingerprint;
use crate::reason::Reason;
use crate::trust::PresentedChain;
use std::borrow::Cow;
use x509_parser::certificate::X509Certificate;

/// One certificate with what the checks need from it. Borrowed when presented,
/// owned when it comes from the configuration.
#[derive(Clone, Debug)]
pub(crate) struct Cert<'a> {
    pub der: Cow<'a, [u8]>,
    pub sha256: Fingerprint,
    pub facts: CertFacts,
    pub key_ids: KeyIds,
}

impl<'a> Cert<'a> {
    /// Any X.509 DER certificate whose extensions can be read.
    pub(crate) fn parse(der: &'a [u8]) -> Result<Self, Reason> {
        Cert::of(der, Fingerprint::of_der(der), &parse_x509(der)?)
    }

    /// `der`, whose digest is `sha256`, as already parsed into `x509`.
    pub(crate) fn of(
        der: &'a [u8],
        sha256: Fingerprint,
        x509: &X509Certificate<'_>,
    ) -> Result<Self, Reason> {
        Ok(Cert {
            der: Cow::Borrowed(der),
            sha256,
            facts: CertFacts::of(x509)?,
            key_ids: KeyIds::of(x509),
        })
    }

    pub(crate) fn into_owned(self) -> Cert<'static> {
        Cert {
            der: Cow::Owned(self.der.into_owned()),
            sha256: self.sha256,
            facts: self.facts,
            key_ids: self.key_ids,
        }
    }
}

/// How many distinct certificates a client may present per certificate its
/// path may hold: room for ones it sends but its path does not use (a
/// cross-signed twin, its CA's sibling sub-CAs). The path itself is held to
/// `max_chain_length`, and the signature budget does not grow with this.
pub(crate) const PRESENTED_PER_PATH_CERTIFICATE: usize = 2;

/// The most distinct certificates, leaf included, a client may present.
pub(crate) fn max_presented(max_chain_length: usize) -> usize {
    max_chain_length.saturating_mul(PRESENTED_PER_PATH_CERTIFICATE)
}

#[derive(Debug)]
pub(crate) struct Presented<'a> {
    pub leaf: Cert<'a>,
    pub leaf_x509: X509Certificate<'a>,
    /// Distinct certificates other than the leaf, in the order sent.
    pub others: Vec<Cert<'a>>,
}

impl<'a> Presented<'a> {
    /// Order: unparseable leaf, then too many certificates, then any other
    /// certificate that is not X.509 DER. A certificate sent twice (Envoy
    /// repeats the leaf) counts once.
    pub(crate) fn parse(
        chain: &'a PresentedChain,
        max_chain_length: usize,
    ) -> Result<Self, Reason> {
        let leaf_x509 = parse_x509(&chain.leaf)?;
        let leaf = Cert::of(&chain.leaf, Fingerprint::of_der(&chain.leaf), &leaf_x509)?;

        let limit = max_presented(max_chain_length);
        let mut distinct: Vec<(&'a [u8], Fingerprint)> = Vec::new();
        for der in &chain.others {
            let sha256 = Fingerprint::of_der(der);
            if sha256 == leaf.sha256 || distinct.iter().any(|(_, seen)| *seen == sha256) {
                continue;
            }
            distinct.push((der, sha256));
            if distinct.len().saturating_add(1) > limit {
                return Err(Reason::ChainTooLong);
            }
        }

        let others = distinct
            .into_iter()
            .map(|(der, _)| Cert::parse(der))
            .collect::<Result<Vec<_>, Reason>>()?;
        Ok(Presented {
            leaf,
            leaf_x509,
            others,
        })
    }
}

fn parse_x509(der: &[u8]) -> Result<X509Certificate<'_>, Reason> {
    crate::x509::parse(der).map_err(|_| Reason::CertificateInvalid)
}
