//! `access_log_filter_state`: whether each request's decision is written to
//! Envoy's filter state for access logs (one host call per request).

use super::json::{kind, present};
use super::{ConfigError, err};
use serde_json::{Map, Value};

pub const FIELDS: &[&str] = &["access_log_filter_state"];

/// On unless the configuration turns it off: turning it off only takes the
/// decision out of access logs, never a check out of a request.
pub(super) fn read(object: &Map<String, Value>) -> Result<bool, ConfigError> {
    match present(object, "access_log_filter_state") {
        None => Ok(true),
        Some(v) => v.as_bool().ok_or_else(|| {
            err(
                "access_log_filter_state",
                format!("must be true or false, got {}", kind(v)),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn on_by_default_off_when_asked_and_only_a_boolean() {
        assert!(Config::parse(b"{}").unwrap().access_log_filter_state);
        let off = Config::parse(br#"{"access_log_filter_state":false}"#).unwrap();
        assert!(!off.access_log_filter_state);
        let wrong = Config::parse(br#"{"access_log_filter_state":"no"}"#).unwrap_err();
        assert_eq!(wrong.field, "access_log_filter_state");
    }
}
