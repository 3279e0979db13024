//! `ocsp`: live status of client certificates from the responders their
//! AIA names, asked through an Envoy cluster.

use super::crls::bounded;
use super::json::{as_str, present, reject_unknown};
use super::{ConfigError, err};
use serde_json::{Map, Value};

pub const DEFAULT_OCSP_TIMEOUT_MS: u64 = 2000;
pub const MAX_OCSP_TIMEOUT_MS: u64 = 30_000;
pub const DEFAULT_OCSP_MAX_CACHE_SECONDS: u64 = 3600;
pub const MAX_OCSP_MAX_CACHE_SECONDS: u64 = 7 * 86_400;

/// What a missing answer does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OcspMode {
    #[default]
    Off,
    /// No valid answer: the request passes, the failure is counted.
    Soft,
    /// No valid answer: `revocation_status_unknown`.
    Hard,
}

impl OcspMode {
    pub fn name(self) -> &'static str {
        match self {
            OcspMode::Off => "off",
            OcspMode::Soft => "soft",
            OcspMode::Hard => "hard",
        }
    }
}

/// Which certificates of a verified path are asked about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OcspCheck {
    #[default]
    Leaf,
    /// Every certificate below the anchor.
    Chain,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcspConfig {
    pub mode: OcspMode,
    /// The Envoy cluster the requests go through.
    pub cluster: String,
    pub timeout_ms: u64,
    pub check: OcspCheck,
    pub max_cache_seconds: u64,
}

impl Default for OcspConfig {
    fn default() -> Self {
        OcspConfig {
            mode: OcspMode::Off,
            cluster: String::new(),
            timeout_ms: DEFAULT_OCSP_TIMEOUT_MS,
            check: OcspCheck::Leaf,
            max_cache_seconds: DEFAULT_OCSP_MAX_CACHE_SECONDS,
        }
    }
}

/// The fields of the top-level object this file reads.
pub(super) const FIELDS: &[&str] = &["ocsp"];

pub(super) fn read(object: &Map<String, Value>) -> Result<OcspConfig, ConfigError> {
    let Some(v) = present(object, "ocsp") else {
        return Ok(OcspConfig::default());
    };
    let object = v
        .as_object()
        .ok_or_else(|| err("ocsp", "must be an object"))?;
    reject_unknown(
        object,
        &[
            "mode",
            "cluster",
            "timeout_ms",
            "check",
            "max_cache_seconds",
        ],
        "ocsp.",
    )?;
    let mut config = OcspConfig::default();
    if let Some(v) = present(object, "mode") {
        config.mode = match as_str(v, "ocsp.mode")? {
            "off" => OcspMode::Off,
            "soft" => OcspMode::Soft,
            "hard" => OcspMode::Hard,
            other => {
                return Err(err(
                    "ocsp.mode",
                    format!("must be \"off\", \"soft\" or \"hard\", got {other:?}"),
                ));
            }
        };
    }
    if let Some(v) = present(object, "check") {
        config.check = match as_str(v, "ocsp.check")? {
            "leaf" => OcspCheck::Leaf,
            "chain" => OcspCheck::Chain,
            other => {
                return Err(err(
                    "ocsp.check",
                    format!("must be \"leaf\" or \"chain\", got {other:?}"),
                ));
            }
        };
    }
    if let Some(v) = present(object, "cluster") {
        config.cluster = as_str(v, "ocsp.cluster")?.to_string();
    }
    if let Some(v) = present(object, "timeout_ms") {
        config.timeout_ms = bounded(v, "ocsp.timeout_ms", 1, MAX_OCSP_TIMEOUT_MS)?;
    }
    if let Some(v) = present(object, "max_cache_seconds") {
        config.max_cache_seconds =
            bounded(v, "ocsp.max_cache_seconds", 1, MAX_OCSP_MAX_CACHE_SECONDS)?;
    }
    if config.mode != OcspMode::Off && config.cluster.trim().is_empty() {
        return Err(err(
            "ocsp.cluster",
            "is required when ocsp.mode is soft or hard (the Envoy cluster that reaches the responders)",
        ));
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<OcspConfig, ConfigError> {
        let value: Value = serde_json::from_str(json).unwrap();
        read(value.as_object().unwrap())
    }

    #[test]
    fn defaults_and_a_full_object() {
        assert_eq!(parse("{}").unwrap(), OcspConfig::default());
        let c = parse(
            r#"{"ocsp":{"mode":"hard","cluster":"ocsp","timeout_ms":500,"check":"chain","max_cache_seconds":60}}"#,
        )
        .unwrap();
        assert_eq!(c.mode, OcspMode::Hard);
        assert_eq!(c.cluster, "ocsp");
        assert_eq!(c.timeout_ms, 500);
        assert_eq!(c.check, OcspCheck::Chain);
        assert_eq!(c.max_cache_seconds, 60);
    }

    #[test]
    fn errors_name_the_field() {
        for (json, field) in [
            (r#"{"ocsp":1}"#, "ocsp"),
            (r#"{"ocsp":{"mode":"strict","cluster":"c"}}"#, "ocsp.mode"),
            (r#"{"ocsp":{"mode":"soft"}}"#, "ocsp.cluster"),
            (r#"{"ocsp":{"check":"all"}}"#, "ocsp.check"),
            (r#"{"ocsp":{"timeout_ms":0}}"#, "ocsp.timeout_ms"),
            (
                r#"{"ocsp":{"max_cache_seconds":0}}"#,
                "ocsp.max_cache_seconds",
            ),
            (r#"{"ocsp":{"nonce":true}}"#, "ocsp.nonce"),
        ] {
            assert_eq!(parse(json).unwrap_err().field, field, "{json}");
        }
    }
}
