//! What a verified leaf says about the client: its names, in the forms the
//! allow-lists and the backend headers use.

use super::VerifiedClient;
use crate::fingerprint::Fingerprint;
use crate::reason::Reason;
use crate::x509;
use x509_parser::certificate::X509Certificate;

/// Builds the identity from the leaf and the verified path (leaf first, anchor
/// last). A subjectAltName extension that cannot be read is `CertificateInvalid`:
/// an allow-list decision must not rest on a partial reading.
pub(crate) fn client(
    leaf: &X509Certificate<'_>,
    path_sha256: Vec<Fingerprint>,
) -> Result<VerifiedClient, Reason> {
    let (Some(leaf_sha256), Some(anchor_sha256)) =
        (path_sha256.first().copied(), path_sha256.last().copied())
    else {
        return Err(Reason::CertificateInvalid);
    };
    let names = x509::alt_names(leaf)
        .filter(|names| !names.has_unreadable)
        .ok_or(Reason::CertificateInvalid)?;
    let mut dns_sans = names.dns;
    for dns in &mut dns_sans {
        dns.make_ascii_lowercase();
    }
    Ok(VerifiedClient {
        leaf_sha256,
        subject: x509::rfc4514(leaf.subject()),
        uri_sans: names.uris,
        dns_sans,
        organizations: x509::organizations(leaf),
        anchor_sha256,
        path_sha256,
        path_links: Vec::new(),
        ocsp_queries: Vec::new(),
        not_after: i64::MAX,
    })
}
