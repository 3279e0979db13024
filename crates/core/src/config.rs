//! The plugin configuration: JSON in, a validated `Config` out.
//!
//! Validation is by hand over `serde_json::Value` so that every error names
//! the exact field (`rules[2].path_prefix`), which serde's own messages do not.

use crate::fingerprint::Fingerprint;
use crate::trust::{CaCertificate, CaCertificateError, TrustStore};
use serde_json::{Map, Value};
use std::fmt;

/// Defined with the verifier, which takes it; configured here.
pub use crate::trust::TrustSettings;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Enforce,
    Audit,
}

/// TLS protocol versions Envoy reports in `connection.tls_version`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVersion {
    /// Parses Envoy's spelling (`TLSv1`, `TLSv1.1`, `TLSv1.2`, `TLSv1.3`).
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "SSLv3" => Some(TlsVersion::Ssl3),
            "TLSv1" | "TLSv1.0" => Some(TlsVersion::Tls10),
            "TLSv1.1" => Some(TlsVersion::Tls11),
            "TLSv1.2" => Some(TlsVersion::Tls12),
            "TLSv1.3" => Some(TlsVersion::Tls13),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Ssl3 => "SSLv3",
            TlsVersion::Tls10 => "TLSv1",
            TlsVersion::Tls11 => "TLSv1.1",
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MtlsRequirement {
    Optional,
    Required,
}

impl MtlsRequirement {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "optional" => Some(MtlsRequirement::Optional),
            "required" => Some(MtlsRequirement::Required),
            _ => None,
        }
    }
}

/// Which verified clients may pass. A client matches when any one of its
/// identities is listed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedClients {
    pub uri_san: Vec<String>,
    pub dns_san: Vec<String>,
    pub subject_organization: Vec<String>,
    pub sha256: Vec<Fingerprint>,
}

/// A rule's path, in the form every reading of a request path is compared
/// with (see [`crate::policy::path`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathMatch {
    Prefix(String),
    Exact(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub path: PathMatch,
    /// Compare the path byte for byte; by default ASCII case is ignored,
    /// as case-insensitive backends route.
    pub case_sensitive: bool,
    /// Uppercase method names; empty means every method (`GET` covers `HEAD`).
    pub methods: Vec<String>,
    pub mtls: Option<MtlsRequirement>,
    pub allowed_clients: Option<AllowedClients>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub mode: Mode,
    pub min_tls_version: TlsVersion,
    pub mtls: MtlsRequirement,
    pub trust: TrustSettings,
    pub allowed_clients: Option<AllowedClients>,
    pub rules: Vec<Rule>,
    pub annotation_prefix: String,
    /// Successful client verifications kept per VM; 0 disables the cache.
    pub verdict_cache_size: usize,
    /// `trust.ca_certificates_der` as read when they were checked, for
    /// [`Config::trust_store`].
    ca_certificates: Vec<CaCertificate>,
}

pub const DEFAULT_ANNOTATION_PREFIX: &str = "x-onerecord-";
/// The rule name logs, metrics and access logs show when no rule matched;
/// reserved, so that it can never be mistaken for a rule.
pub const NO_RULE: &str = "-";
pub const DEFAULT_MAX_CHAIN_LENGTH: usize = 5;
pub const DEFAULT_CLOCK_SKEW_SECONDS: u64 = 60;
/// Beyond this no real PKI goes, and path building cost grows with it.
pub const MAX_MAX_CHAIN_LENGTH: usize = 8;
/// A day of skew already hides real expiry; more is a typo.
pub const MAX_CLOCK_SKEW_SECONDS: u64 = 86_400;
pub const DEFAULT_VERDICT_CACHE_SIZE: usize = 1024;
/// Each entry holds a client identity (about half a kilobyte) in every
/// worker's VM; more distinct clients than this is a typo, not a deployment.
pub const MAX_VERDICT_CACHE_SIZE: usize = 65_536;

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Enforce,
            min_tls_version: TlsVersion::Tls12,
            mtls: MtlsRequirement::Optional,
            trust: TrustSettings {
                trusted_ca_sha256: Vec::new(),
                ca_certificates_der: Vec::new(),
                revoked_sha256: Vec::new(),
                max_chain_length: DEFAULT_MAX_CHAIN_LENGTH,
                clock_skew_seconds: DEFAULT_CLOCK_SKEW_SECONDS,
            },
            allowed_clients: None,
            rules: Vec::new(),
            annotation_prefix: DEFAULT_ANNOTATION_PREFIX.to_string(),
            verdict_cache_size: DEFAULT_VERDICT_CACHE_SIZE,
            ca_certificates: Vec::new(),
        }
    }
}

/// A configuration error: the field it is about and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "invalid plugin configuration: {}", self.message)
        } else {
            write!(
                f,
                "invalid plugin configuration: field `{}`: {}",
                self.field, self.message
            )
        }
    }
}

impl std::error::Error for ConfigError {}

fn err(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.into(),
    }
}

impl Config {
    /// Parses and validates the plugin configuration. Empty input means all defaults.
    pub fn parse(bytes: &[u8]) -> Result<Config, ConfigError> {
        let text = std::str::from_utf8(bytes).map_err(|_| err("", "configuration is not UTF-8"))?;
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        let value: Value =
            serde_json::from_str(text).map_err(|e| err("", format!("not valid JSON: {e}")))?;
        let object = value
            .as_object()
            .ok_or_else(|| err("", "must be a JSON object"))?;
        Config::from_object(object)
    }

    fn from_object(object: &Map<String, Value>) -> Result<Config, ConfigError> {
        const KNOWN: &[&str] = &[
            "mode",
            "min_tls_version",
            "mtls",
            "trusted_ca_sha256",
            "ca_certificates_pem",
            "revoked_sha256",
            "allowed_clients",
            "rules",
            "annotation_prefix",
            "max_chain_length",
            "clock_skew_seconds",
            "verdict_cache_size",
        ];
        reject_unknown(object, KNOWN, "")?;
        let mut config = Config::default();

        if let Some(v) = present(object, "mode") {
            config.mode = match as_str(v, "mode")? {
                "enforce" => Mode::Enforce,
                "audit" => Mode::Audit,
                other => {
                    return Err(err(
                        "mode",
                        format!("must be \"enforce\" or \"audit\", got {other:?}"),
                    ));
                }
            };
        }
        if let Some(v) = present(object, "min_tls_version") {
            config.min_tls_version = match as_str(v, "min_tls_version")? {
                "TLSv1.2" => TlsVersion::Tls12,
                "TLSv1.3" => TlsVersion::Tls13,
                other if TlsVersion::parse(other).is_some() => {
                    return Err(err(
                        "min_tls_version",
                        format!(
                            "{other} is below TLSv1.2, which the ONE Record specification forbids; use \"TLSv1.2\" or \"TLSv1.3\""
                        ),
                    ));
                }
                other => {
                    return Err(err(
                        "min_tls_version",
                        format!("must be \"TLSv1.2\" or \"TLSv1.3\", got {other:?}"),
                    ));
                }
            };
        }
        if let Some(v) = present(object, "mtls") {
            config.mtls = requirement(v, "mtls")?;
        }
        if let Some(v) = present(object, "trusted_ca_sha256") {
            config.trust.trusted_ca_sha256 = fingerprints(v, "trusted_ca_sha256")?;
        }
        if let Some(v) = present(object, "ca_certificates_pem") {
            (config.trust.ca_certificates_der, config.ca_certificates) =
                ca_certificates(as_str(v, "ca_certificates_pem")?, "ca_certificates_pem")?;
        }
        if let Some(v) = present(object, "revoked_sha256") {
            config.trust.revoked_sha256 = fingerprints(v, "revoked_sha256")?;
        }
        if let Some(v) = present(object, "allowed_clients") {
            config.allowed_clients = Some(allowed_clients(v, "allowed_clients")?);
        }
        if let Some(v) = present(object, "rules") {
            let items = v
                .as_array()
                .ok_or_else(|| err("rules", "must be an array of rule objects"))?;
            for (i, item) in items.iter().enumerate() {
                config.rules.push(rule(item, &format!("rules[{i}]"))?);
            }
            let mut names: Vec<&str> = config.rules.iter().map(|r| r.name.as_str()).collect();
            names.sort_unstable();
            if let Some(pair) = names.windows(2).find(|w| w.first() == w.last()) {
                let name = pair.first().copied().unwrap_or_default();
                return Err(err(
                    "rules",
                    format!("rule name {name:?} is used twice; names label metrics and logs"),
                ));
            }
        }
        if let Some(v) = present(object, "annotation_prefix") {
            config.annotation_prefix = annotation_prefix(as_str(v, "annotation_prefix")?)?;
        }
        if let Some(v) = present(object, "max_chain_length") {
            let n = as_u64(v, "max_chain_length")?;
            if !(1..=MAX_MAX_CHAIN_LENGTH as u64).contains(&n) {
                return Err(err(
                    "max_chain_length",
                    format!(
                        "must be between 1 and {MAX_MAX_CHAIN_LENGTH} (certificates from the client certificate up to the trusted CA), got {n}"
                    ),
                ));
            }
            config.trust.max_chain_length = n as usize;
        }
        if let Some(v) = present(object, "clock_skew_seconds") {
            let n = as_u64(v, "clock_skew_seconds")?;
            if n > MAX_CLOCK_SKEW_SECONDS {
                return Err(err(
                    "clock_skew_seconds",
                    format!("must be at most {MAX_CLOCK_SKEW_SECONDS}, got {n}"),
                ));
            }
            config.trust.clock_skew_seconds = n;
        }
        if let Some(v) = present(object, "verdict_cache_size") {
            let n = as_u64(v, "verdict_cache_size")?;
            if n > MAX_VERDICT_CACHE_SIZE as u64 {
                return Err(err(
                    "verdict_cache_size",
                    format!(
                        "must be at most {MAX_VERDICT_CACHE_SIZE} (0 disables the cache), got {n}"
                    ),
                ));
            }
            config.verdict_cache_size = n as usize;
        }
        config.check_trust_is_possible()?;
        Ok(config)
    }

    /// A policy that can require or restrict clients needs something to trust;
    /// without it every such request would be denied, which is a config mistake.
    fn check_trust_is_possible(&self) -> Result<(), ConfigError> {
        if !self.trust.trusted_ca_sha256.is_empty() {
            return Ok(());
        }
        let why = if self.mtls == MtlsRequirement::Required {
            Some("mtls is \"required\"".to_string())
        } else if self.allowed_clients.is_some() {
            Some("allowed_clients is set".to_string())
        } else {
            self.rules
                .iter()
                .find(|r| r.mtls == Some(MtlsRequirement::Required) || r.allowed_clients.is_some())
                .map(|r| format!("rule {:?} requires client certificates", r.name))
        };
        match why {
            Some(why) => Err(err(
                "trusted_ca_sha256",
                format!("must list at least one trusted CA fingerprint because {why}"),
            )),
            None => Ok(()),
        }
    }

    /// The verifier for this configuration, from the CA certificates as
    /// they were read when checked.
    pub fn trust_store(&self) -> TrustStore {
        TrustStore::with_certificates(&self.trust, self.ca_certificates.iter().cloned())
    }

    /// The allow-list that applies under `rule` (a rule's own list replaces the global one).
    pub fn allowed_clients_for<'a>(&'a self, rule: Option<&'a Rule>) -> Option<&'a AllowedClients> {
        rule.and_then(|r| r.allowed_clients.as_ref())
            .or(self.allowed_clients.as_ref())
    }
}

fn present<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

fn reject_unknown(
    object: &Map<String, Value>,
    known: &[&str],
    parent: &str,
) -> Result<(), ConfigError> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(err(
            format!("{parent}{}", key.escape_debug()),
            format!("unknown field; expected one of: {}", known.join(", ")),
        )),
        None => Ok(()),
    }
}

fn as_str<'a>(v: &'a Value, field: &str) -> Result<&'a str, ConfigError> {
    v.as_str()
        .ok_or_else(|| err(field, format!("must be a string, got {}", kind(v))))
}

fn as_u64(v: &Value, field: &str) -> Result<u64, ConfigError> {
    v.as_u64().ok_or_else(|| {
        err(
            field,
            format!("must be a non-negative integer, got {}", kind(v)),
        )
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn strings(v: &Value, field: &str) -> Result<Vec<String>, ConfigError> {
    let items = v.as_array().ok_or_else(|| {
        err(
            field,
            format!("must be an array of strings, got {}", kind(v)),
        )
    })?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let s = as_str(item, &format!("{field}[{i}]"))?;
            if s.is_empty() {
                return Err(err(format!("{field}[{i}]"), "must not be empty"));
            }
            Ok(s.to_string())
        })
        .collect()
}

fn fingerprints(v: &Value, field: &str) -> Result<Vec<Fingerprint>, ConfigError> {
    let texts = strings(v, field)?;
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| Fingerprint::parse(t).map_err(|m| err(format!("{field}[{i}]"), m)))
        .collect()
}

fn requirement(v: &Value, field: &str) -> Result<MtlsRequirement, ConfigError> {
    let s = as_str(v, field)?;
    MtlsRequirement::parse(s).ok_or_else(|| {
        err(
            field,
            format!("must be \"optional\" or \"required\", got {s:?}"),
        )
    })
}

/// The DER of each certificate and how it was read: every block a
/// `CERTIFICATE` holding the certificate of a CA.
fn ca_certificates(
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

fn allowed_clients(v: &Value, field: &str) -> Result<AllowedClients, ConfigError> {
    let object = v
        .as_object()
        .ok_or_else(|| err(field, format!("must be an object, got {}", kind(v))))?;
    reject_unknown(
        object,
        &["uri_san", "dns_san", "subject_organization", "sha256"],
        &format!("{field}."),
    )?;
    let list = |key: &str| -> Result<Vec<String>, ConfigError> {
        present(object, key)
            .map(|v| strings(v, &format!("{field}.{key}")))
            .unwrap_or(Ok(Vec::new()))
    };
    let clients = AllowedClients {
        uri_san: list("uri_san")?,
        dns_san: list("dns_san")?
            .into_iter()
            .map(|d| d.to_ascii_lowercase())
            .collect(),
        subject_organization: list("subject_organization")?,
        sha256: match present(object, "sha256") {
            Some(v) => fingerprints(v, &format!("{field}.sha256"))?,
            None => Vec::new(),
        },
    };
    if clients.uri_san.is_empty()
        && clients.dns_san.is_empty()
        && clients.subject_organization.is_empty()
        && clients.sha256.is_empty()
    {
        return Err(err(
            field,
            "lists no client; it would deny everyone (leave it out to allow every verified client)",
        ));
    }
    Ok(clients)
}

fn rule(v: &Value, field: &str) -> Result<Rule, ConfigError> {
    let object = v
        .as_object()
        .ok_or_else(|| err(field, format!("must be an object, got {}", kind(v))))?;
    reject_unknown(
        object,
        &[
            "name",
            "path_prefix",
            "path_exact",
            "case_sensitive",
            "methods",
            "mtls",
            "allowed_clients",
        ],
        &format!("{field}."),
    )?;
    let name = match present(object, "name") {
        Some(v) => as_str(v, &format!("{field}.name"))?.to_string(),
        None => {
            return Err(err(
                format!("{field}.name"),
                "is required (it labels logs and metrics)",
            ));
        }
    };
    if name == NO_RULE {
        return Err(err(
            format!("{field}.name"),
            format!("{NO_RULE:?} is reserved: it labels requests no rule matched"),
        ));
    }
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(err(
            format!("{field}.name"),
            format!(
                "must be non-empty and use only letters, digits, '-', '_' and '.', got {name:?}"
            ),
        ));
    }
    let path = match (
        present(object, "path_prefix"),
        present(object, "path_exact"),
    ) {
        (Some(_), Some(_)) => {
            return Err(err(field, "set either path_prefix or path_exact, not both"));
        }
        (Some(p), None) => PathMatch::Prefix(route_path(p, &format!("{field}.path_prefix"))?),
        (None, Some(p)) => PathMatch::Exact(route_path(p, &format!("{field}.path_exact"))?),
        (None, None) => return Err(err(field, "needs path_prefix or path_exact")),
    };
    let case_sensitive = match present(object, "case_sensitive") {
        Some(v) => v.as_bool().ok_or_else(|| {
            err(
                format!("{field}.case_sensitive"),
                format!("must be true or false, got {}", kind(v)),
            )
        })?,
        None => false,
    };
    let methods = match present(object, "methods") {
        Some(v) => {
            let methods = strings(v, &format!("{field}.methods"))?;
            for (i, m) in methods.iter().enumerate() {
                if !m.chars().all(|c| c.is_ascii_alphabetic()) {
                    return Err(err(
                        format!("{field}.methods[{i}]"),
                        format!("is not an HTTP method: {m:?}"),
                    ));
                }
            }
            methods
                .into_iter()
                .map(|m| m.to_ascii_uppercase())
                .collect()
        }
        None => Vec::new(),
    };
    let mtls = present(object, "mtls")
        .map(|v| requirement(v, &format!("{field}.mtls")))
        .transpose()?;
    let allowed = present(object, "allowed_clients")
        .map(|v| allowed_clients(v, &format!("{field}.allowed_clients")))
        .transpose()?;
    Ok(Rule {
        name,
        path,
        case_sensitive,
        methods,
        mtls,
        allowed_clients: allowed,
    })
}

/// A configured path must be one a request path can meet: valid as a
/// request path, and already in the form every reading compares with.
fn route_path(v: &Value, field: &str) -> Result<String, ConfigError> {
    use crate::policy::path::{canonical_path, encode_invalid, is_valid_request_path, readings};
    let p = as_str(v, field)?;
    if !p.starts_with('/') {
        return Err(err(
            field,
            format!(
                "must start with '/', got {p:?}; use {:?}",
                canonical_path(&encode_invalid(p))
            ),
        ));
    }
    let fits = is_valid_request_path(p) && readings(p).iter().all(|r| r == p);
    if !fits {
        return Err(err(
            field,
            format!(
                "{p:?} can never match: rules compare the normalised path; use {:?}",
                canonical_path(&encode_invalid(p))
            ),
        ));
    }
    Ok(p.to_string())
}

fn annotation_prefix(p: &str) -> Result<String, ConfigError> {
    let field = "annotation_prefix";
    let valid_chars = p
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if p.len() < 3 || !valid_chars {
        return Err(err(
            field,
            format!(
                "must be at least 3 characters of lowercase letters, digits and '-', got {p:?}"
            ),
        ));
    }
    // Stripping client copies of our headers must never strip headers Envoy sets for us.
    for protected in [
        "x-forwarded-client-cert",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-request-id",
        "x-envoy-",
    ] {
        if protected.starts_with(p) || p.starts_with(protected) {
            return Err(err(
                field,
                format!("{p:?} would also match Envoy's {protected} header"),
            ));
        }
    }
    Ok(p.to_string())
}

#[cfg(test)]
mod tests;
