//! The plugin configuration: JSON in, a validated `Config` out.
//!
//! Validation is by hand over `serde_json::Value` so that every error names
//! the exact field (`rules[2].path_prefix`), which serde's own messages do not.
//! This file reads the top-level object; `rules.rs` the rules and
//! allow-lists, `ca_certificates.rs` the CA bundle, `json.rs` the values
//! themselves, `values.rs` defines what they become.

mod access_log;
mod annotation_format;
mod ca_certificates;
pub mod crls;
mod json;
pub mod ocsp;
mod profile;
mod rules;
mod token_binding;
mod trusted_proxies;
mod values;

use crate::trust::TrustStore;
pub use annotation_format::AnnotationFormat;
use json::{as_str, as_u64, fingerprints, present, reject_unknown};
use serde_json::{Map, Value};
use std::fmt;
pub use token_binding::{
    AgentMatch, DEFAULT_TOKEN_FILTER, DEFAULT_TOKEN_KEY, TokenBinding, TokenBindingMode,
    TokenMetadata,
};
pub use trusted_proxies::{DEFAULT_TLS_VERSION_HEADER, ForwardClientCert, TrustedProxies};
pub use values::{AllowedClients, Mode, MtlsRequirement, PathMatch, Rule, TlsVersion};

/// Defined with the verifier, which takes it; configured here.
pub use crate::trust::TrustSettings;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub mode: Mode,
    pub min_tls_version: TlsVersion,
    pub mtls: MtlsRequirement,
    pub trust: TrustSettings,
    pub allowed_clients: Option<AllowedClients>,
    pub rules: Vec<Rule>,
    pub annotation_prefix: String,
    /// `annotation_format`: one header per fact, or one dictionary header.
    pub annotation_format: AnnotationFormat,
    /// Successful client verifications kept per VM; 0 disables the cache.
    pub verdict_cache_size: usize,
    /// Front proxies whose forwarded client facts are read; `None`: every
    /// connection is judged on its own handshake.
    pub trusted_proxies: Option<TrustedProxies>,
    /// Binding the token to the client certificate, for requests no rule
    /// sets it for (`mode: None` is off).
    pub token_binding: TokenBinding,
    /// Where `jwt_authn` keeps the verified payload.
    pub token_metadata: TokenMetadata,
    /// `crls_pem`, `crl_sources`, `crl_grace_seconds`, `expiry_warning_days`.
    pub revocation: crls::RevocationConfig,
    /// `ocsp`.
    pub ocsp: ocsp::OcspConfig,
    /// `access_log_filter_state`: the decision written for access logs.
    pub access_log_filter_state: bool,
    /// The verifier for `trust`, made from the CA certificates as they were
    /// read when checked: [`Config::trust_store`].
    trust_store: Prepared,
}

/// Made from `trust` alone, so equal whenever `trust` is: configurations
/// compare by what they say.
#[derive(Clone, Debug)]
struct Prepared(TrustStore);

impl PartialEq for Prepared {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Prepared {}

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
        let trust = TrustSettings {
            trusted_ca_sha256: Vec::new(),
            ca_certificates_der: Vec::new(),
            revoked_sha256: Vec::new(),
            max_chain_length: DEFAULT_MAX_CHAIN_LENGTH,
            clock_skew_seconds: DEFAULT_CLOCK_SKEW_SECONDS,
            profile: Default::default(),
        };
        let trust_store = Prepared(TrustStore::with_certificates(&trust, Vec::new()));
        Config {
            mode: Mode::Enforce,
            min_tls_version: TlsVersion::Tls12,
            mtls: MtlsRequirement::Optional,
            trust,
            allowed_clients: None,
            rules: Vec::new(),
            annotation_prefix: DEFAULT_ANNOTATION_PREFIX.to_string(),
            annotation_format: AnnotationFormat::Headers,
            verdict_cache_size: DEFAULT_VERDICT_CACHE_SIZE,
            trusted_proxies: None,
            token_binding: TokenBinding::default(),
            token_metadata: TokenMetadata::default(),
            revocation: crls::RevocationConfig::default(),
            ocsp: ocsp::OcspConfig::default(),
            access_log_filter_state: true,
            trust_store,
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
        const OWN: &[&str] = &[
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
            "trusted_proxies",
            "x509_profile",
            "onerecord_profile",
        ];
        let known: Vec<&str> = OWN
            .iter()
            .chain(token_binding::GLOBAL_KEYS)
            .chain(crls::FIELDS)
            .chain(ocsp::FIELDS)
            .chain(access_log::FIELDS)
            .chain(annotation_format::FIELDS)
            .copied()
            .collect();
        reject_unknown(object, &known, "")?;
        let mut config = Config {
            token_binding: token_binding::binding(object, "")?,
            ..Config::default()
        };
        if let Some(v) = present(object, "token_metadata") {
            config.token_metadata = token_binding::metadata(v)?;
        }

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
            config.mtls = rules::requirement(v, "mtls")?;
        }
        if let Some(v) = present(object, "trusted_ca_sha256") {
            config.trust.trusted_ca_sha256 = fingerprints(v, "trusted_ca_sha256")?;
        }
        let mut ca_certificates = Vec::new();
        if let Some(v) = present(object, "ca_certificates_pem") {
            (config.trust.ca_certificates_der, ca_certificates) =
                ca_certificates::read(as_str(v, "ca_certificates_pem")?, "ca_certificates_pem")?;
        }
        config.trust.profile = profile::read(object)?;
        if let Some(v) = present(object, "revoked_sha256") {
            config.trust.revoked_sha256 = fingerprints(v, "revoked_sha256")?;
        }
        if let Some(v) = present(object, "allowed_clients") {
            config.allowed_clients = Some(rules::allowed_clients(v, "allowed_clients")?);
        }
        if let Some(v) = present(object, "rules") {
            let items = v
                .as_array()
                .ok_or_else(|| err("rules", "must be an array of rule objects"))?;
            for (i, item) in items.iter().enumerate() {
                config
                    .rules
                    .push(rules::rule(item, &format!("rules[{i}]"))?);
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
        if let Some(v) = present(object, "trusted_proxies") {
            config.trusted_proxies = Some(trusted_proxies::read(v, &config.annotation_prefix)?);
        }
        config.revocation = crls::read(object, &config.trust.ca_certificates_der)?;
        config.ocsp = ocsp::read(object)?;
        config.access_log_filter_state = access_log::read(object)?;
        config.annotation_format = annotation_format::read(object)?;
        config.check_trust_is_possible()?;
        config.trust_store = Prepared(TrustStore::with_certificates(
            &config.trust,
            ca_certificates,
        ));
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
        } else if self.binds_token(None) {
            Some("token_binding is on".to_string())
        } else {
            self.rules
                .iter()
                .find(|r| {
                    r.mtls == Some(MtlsRequirement::Required)
                        || r.allowed_clients.is_some()
                        || self.binds_token(Some(r))
                })
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

    /// The verifier for this configuration, made when it was parsed from
    /// the CA certificates as they were read when checked.
    pub fn trust_store(&self) -> &TrustStore {
        &self.trust_store.0
    }

    /// The token binding under `rule` (`None`: no rule matched); each
    /// setting a rule leaves out is the global one.
    pub fn token_binding_for(&self, rule: Option<&Rule>) -> crate::binding::BindingSettings {
        let own = rule.map(|r| r.token_binding).unwrap_or_default();
        let global = self.token_binding;
        crate::binding::BindingSettings {
            mode: own.mode.or(global.mode).unwrap_or(TokenBindingMode::Off),
            require_cnf: own.require_cnf.or(global.require_cnf).unwrap_or(false),
            agent_match: own
                .agent_match
                .or(global.agent_match)
                .unwrap_or(AgentMatch::Exact),
        }
    }

    /// Whether the token is bound under `rule` (which implies mTLS required).
    pub fn binds_token(&self, rule: Option<&Rule>) -> bool {
        self.token_binding_for(rule).mode != TokenBindingMode::Off
    }

    /// Whether any request can have its token bound: else the filter never
    /// reads the token metadata.
    pub fn binds_any_token(&self) -> bool {
        self.binds_token(None) || self.rules.iter().any(|r| self.binds_token(Some(r)))
    }

    /// The allow-list that applies under `rule` (a rule's own list replaces the global one).
    pub fn allowed_clients_for<'a>(&'a self, rule: Option<&'a Rule>) -> Option<&'a AllowedClients> {
        rule.and_then(|r| r.allowed_clients.as_ref())
            .or(self.allowed_clients.as_ref())
    }
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
