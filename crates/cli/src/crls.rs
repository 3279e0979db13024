//! CRLs for the CLI: `explain --crl FILE` applies them as the filter applies
//! a fetched CRL; `check-config` lists the configured ones.

use crate::Failure;
use crate::certs::Certificate;
use onerecord_tls_policy_core::config::crls::{RevocationConfig, X509_CRL};
use onerecord_tls_policy_core::revocation::{
    IssuerKey, Offered, Revocations, describe_crl as describe,
};
use std::path::{Path, PathBuf};

/// The DER of every CRL in a file: PEM `X509 CRL` blocks, or one DER CRL.
pub fn read_file(path: &Path) -> Result<Vec<Vec<u8>>, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    if bytes.first() == Some(&0x30) {
        return Ok(vec![bytes]);
    }
    let mut ders = Vec::new();
    for (i, block) in onerecord_tls_policy_core::pem::blocks(&bytes).enumerate() {
        let block = block.map_err(|e| {
            Failure::new(format!(
                "{}: PEM block {i} cannot be read: {e}",
                path.display()
            ))
        })?;
        if block.label == X509_CRL {
            ders.push(block.contents);
        }
    }
    if ders.is_empty() {
        return Err(Failure::new(format!(
            "{}: no X509 CRL in it",
            path.display()
        )));
    }
    Ok(ders)
}

/// Applies each CRL of `files` to `revocations` as the filter applies a
/// fetched one: verified with a configured CA or a certificate the client
/// sent (one off the verified path applies to nothing). Returns a line per CRL.
pub fn apply(
    files: &[PathBuf],
    chain: &[Certificate],
    revocations: &mut Revocations,
) -> Result<Vec<String>, Failure> {
    let issuers: Vec<IssuerKey> = chain
        .iter()
        .filter_map(|c| IssuerKey::of_certificate(&c.der))
        .collect();
    let mut lines = Vec::new();
    for file in files {
        for (i, der) in read_file(file)?.iter().enumerate() {
            let what = format!("{} #{i}", file.display());
            let line = match revocations.offer_given(der, issuers.clone()) {
                Offered::Applied(crl, _) => format!("{what}: applied: {}", describe(&crl)),
                Offered::Unchanged => format!("{what}: already in force"),
                Offered::Older => {
                    format!("{what}: ignored: older than the CRL in force for its issuer")
                }
                Offered::ParseError(e) | Offered::BadSignature(e) => {
                    return Err(Failure::new(format!("{what}: the CRL {e}")));
                }
            };
            lines.push(line);
        }
    }
    Ok(lines)
}

/// The `check-config` lines for the revocation fields.
pub fn summary(config: &RevocationConfig) -> Vec<String> {
    let mut lines = vec![format!(
        "{:<20}{}",
        "crls_pem",
        format!("{} CRL(s)", config.crls.len())
    )];
    for (i, crl) in config.crls.iter().enumerate() {
        lines.push(format!("  {i}. {}", describe(crl)));
    }
    lines.push(format!(
        "{:<20}{} source(s)",
        "crl_sources",
        config.sources.len()
    ));
    for (i, source) in config.sources.iter().enumerate() {
        lines.push(format!(
            "  {i}. cluster {}, {}{}, every {}s",
            source.cluster, source.authority, source.path, source.refresh_seconds
        ));
    }
    lines.push(format!(
        "{:<20}{}",
        "crl_grace_seconds", config.grace_seconds
    ));
    lines.push(format!(
        "{:<20}{}",
        "expiry_warning_days", config.expiry_warning_days
    ));
    lines
}
