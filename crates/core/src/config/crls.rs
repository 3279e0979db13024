//! `crls_pem`, `crl_sources`, `crl_grace_seconds`, `expiry_warning_days`:
//! the CRLs configured, verified when read, and where to fetch live ones.

use super::json::{as_str, as_u64, present, reject_unknown};
use super::{ConfigError, err};
use crate::revocation::{Crl, IssuerKey, UnverifiedCrl};
use serde_json::{Map, Value};
use std::sync::Arc;

/// The PEM label of a CRL (RFC 7468).
pub const X509_CRL: &str = "X509 CRL";
pub const DEFAULT_CRL_GRACE_SECONDS: u64 = 86_400;
pub const MAX_CRL_GRACE_SECONDS: u64 = 30 * 86_400;
pub const DEFAULT_EXPIRY_WARNING_DAYS: u64 = 30;
pub const MAX_EXPIRY_WARNING_DAYS: u64 = 365;
pub const DEFAULT_REFRESH_SECONDS: u64 = 300;
pub const MIN_REFRESH_SECONDS: u64 = 1;
pub const MAX_REFRESH_SECONDS: u64 = 86_400;
/// Each source is one fetch per period and one entry in shared data.
pub const MAX_CRL_SOURCES: usize = 16;

/// Where to fetch one CRL, through an Envoy cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrlSource {
    pub cluster: String,
    pub path: String,
    /// The `:authority` of the request (defaults to the cluster's name).
    pub authority: String,
    pub refresh_seconds: u64,
}

/// Revocation as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevocationConfig {
    /// `crls_pem`, each verified with a certificate of `ca_certificates_pem`.
    pub crls: Vec<Arc<Crl>>,
    pub sources: Vec<CrlSource>,
    pub grace_seconds: u64,
    pub expiry_warning_days: u64,
    /// The configured CA certificates as CRL signers.
    pub issuers: Vec<IssuerKey>,
}

impl Default for RevocationConfig {
    fn default() -> Self {
        RevocationConfig {
            crls: Vec::new(),
            sources: Vec::new(),
            grace_seconds: DEFAULT_CRL_GRACE_SECONDS,
            expiry_warning_days: DEFAULT_EXPIRY_WARNING_DAYS,
            issuers: Vec::new(),
        }
    }
}

/// The fields of the top-level object this file reads.
pub(super) const FIELDS: &[&str] = &[
    "crls_pem",
    "crl_sources",
    "crl_grace_seconds",
    "expiry_warning_days",
];

/// Reads the revocation fields; `ca_certificates_der` are the certificates
/// of `ca_certificates_pem`, the only ones a configured CRL may be signed by.
pub(super) fn read(
    object: &Map<String, Value>,
    ca_certificates_der: &[Vec<u8>],
) -> Result<RevocationConfig, ConfigError> {
    let mut config = RevocationConfig {
        issuers: ca_certificates_der
            .iter()
            .filter_map(|der| IssuerKey::of_certificate(der))
            .collect(),
        ..RevocationConfig::default()
    };
    if let Some(v) = present(object, "crls_pem") {
        config.crls = crls(as_str(v, "crls_pem")?, "crls_pem", &config.issuers)?;
    }
    if let Some(v) = present(object, "crl_sources") {
        config.sources = sources(v, "crl_sources")?;
    }
    if let Some(v) = present(object, "crl_grace_seconds") {
        config.grace_seconds = bounded(v, "crl_grace_seconds", 0, MAX_CRL_GRACE_SECONDS)?;
    }
    if let Some(v) = present(object, "expiry_warning_days") {
        config.expiry_warning_days = bounded(v, "expiry_warning_days", 0, MAX_EXPIRY_WARNING_DAYS)?;
    }
    Ok(config)
}

/// Every PEM block an `X509 CRL` that parses and verifies.
pub fn crls(text: &str, field: &str, issuers: &[IssuerKey]) -> Result<Vec<Arc<Crl>>, ConfigError> {
    let mut read = Vec::new();
    for (i, block) in crate::pem::blocks(text.as_bytes()).enumerate() {
        let pem = block.map_err(|e| err(field, format!("PEM block {i} cannot be read: {e}")))?;
        if pem.label != X509_CRL {
            return Err(err(
                field,
                format!("PEM block {i} is a {:?}, expected X509 CRL", pem.label),
            ));
        }
        let crl =
            UnverifiedCrl::parse(&pem.contents).map_err(|e| err(field, format!("CRL {i} {e}")))?;
        let issuer = crl.issuer_name().to_string();
        let (crl, _) = crl.verify(issuers).map_err(|e| {
            err(
                field,
                format!(
                    "CRL {i} ({issuer}) {e}; its CA certificate must be in ca_certificates_pem"
                ),
            )
        })?;
        read.push(Arc::new(crl));
    }
    if read.is_empty() && !text.trim().is_empty() {
        return Err(err(field, "contains no PEM CRL"));
    }
    Ok(read)
}

fn sources(v: &Value, field: &str) -> Result<Vec<CrlSource>, ConfigError> {
    let items = v
        .as_array()
        .ok_or_else(|| err(field, "must be an array of source objects"))?;
    if items.len() > MAX_CRL_SOURCES {
        return Err(err(
            field,
            format!("at most {MAX_CRL_SOURCES} sources, got {}", items.len()),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| source(item, &format!("{field}[{i}]")))
        .collect()
}

fn source(v: &Value, field: &str) -> Result<CrlSource, ConfigError> {
    let object = v
        .as_object()
        .ok_or_else(|| err(field, "must be an object"))?;
    let parent = format!("{field}.");
    reject_unknown(
        object,
        &["cluster", "path", "authority", "refresh_seconds"],
        &parent,
    )?;
    let text = |key: &str| -> Result<Option<String>, ConfigError> {
        let name = format!("{parent}{key}");
        present(object, key)
            .map(|v| as_str(v, &name).map(str::to_string))
            .transpose()
    };
    let cluster = text("cluster")?
        .filter(|c| !c.is_empty())
        .ok_or_else(|| err(format!("{parent}cluster"), "must name an Envoy cluster"))?;
    let path = text("path")?
        .filter(|p| p.starts_with('/') && p.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            err(
                format!("{parent}path"),
                "must be a request path starting with '/' (printable ASCII, no spaces)",
            )
        })?;
    let authority = match text("authority")? {
        Some(a) if a.is_empty() || !a.bytes().all(|b| b.is_ascii_graphic()) => {
            return Err(err(
                format!("{parent}authority"),
                "must be a host name (printable ASCII, no spaces)",
            ));
        }
        Some(a) => a,
        None => cluster.clone(),
    };
    let refresh_seconds = match present(object, "refresh_seconds") {
        Some(v) => bounded(
            v,
            &format!("{parent}refresh_seconds"),
            MIN_REFRESH_SECONDS,
            MAX_REFRESH_SECONDS,
        )?,
        None => DEFAULT_REFRESH_SECONDS,
    };
    Ok(CrlSource {
        cluster,
        path,
        authority,
        refresh_seconds,
    })
}

pub(super) fn bounded(v: &Value, field: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    let n = as_u64(v, field)?;
    if !(min..=max).contains(&n) {
        return Err(err(
            field,
            format!("must be between {min} and {max}, got {n}"),
        ));
    }
    Ok(n)
}
