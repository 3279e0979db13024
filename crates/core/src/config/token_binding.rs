//! `token_binding`, `token_metadata`, `require_cnf` and `agent_match`: the
//! binding of the ONE Record token to the client certificate, globally and
//! per rule (a rule's own value replaces the global one).

use super::json::{as_str, kind, present, reject_unknown};
use super::{ConfigError, err};
use serde_json::{Map, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TokenBindingMode {
    Off,
    Optional,
    Required,
}

impl TokenBindingMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenBindingMode::Off => "off",
            TokenBindingMode::Optional => "optional",
            TokenBindingMode::Required => "required",
        }
    }
}

/// How `logistics_agent_uri` must match a URI SAN of the client certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentMatch {
    /// Byte for byte.
    Exact,
    /// Same scheme, host and port.
    Host,
}

impl AgentMatch {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentMatch::Exact => "exact",
            AgentMatch::Host => "host",
        }
    }
}

/// Where `jwt_authn` (`payload_in_metadata`) keeps the verified payload:
/// dynamic metadata `filter_metadata.<filter>.<key>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenMetadata {
    pub filter: String,
    pub key: String,
}

pub const DEFAULT_TOKEN_FILTER: &str = "envoy.filters.http.jwt_authn";
pub const DEFAULT_TOKEN_KEY: &str = "jwt_payload";

impl Default for TokenMetadata {
    fn default() -> Self {
        TokenMetadata {
            filter: DEFAULT_TOKEN_FILTER.to_string(),
            key: DEFAULT_TOKEN_KEY.to_string(),
        }
    }
}

/// The binding settings of the configuration or of one rule; in a rule,
/// `None` takes the global value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenBinding {
    pub mode: Option<TokenBindingMode>,
    pub require_cnf: Option<bool>,
    pub agent_match: Option<AgentMatch>,
}

/// The keys this file reads, in the top-level object and in a rule.
pub(super) const GLOBAL_KEYS: &[&str] = &[
    "token_binding",
    "token_metadata",
    "require_cnf",
    "agent_match",
];
pub(super) const RULE_KEYS: &[&str] = &["token_binding", "require_cnf", "agent_match"];

/// `token_binding`, `require_cnf` and `agent_match` of `object` (the
/// configuration or a rule, whose fields are named under `parent`).
pub(super) fn binding(
    object: &Map<String, Value>,
    parent: &str,
) -> Result<TokenBinding, ConfigError> {
    let field = |key: &str| format!("{parent}{key}");
    let mode = present(object, "token_binding")
        .map(|v| {
            let f = field("token_binding");
            match as_str(v, &f)? {
                "off" => Ok(TokenBindingMode::Off),
                "optional" => Ok(TokenBindingMode::Optional),
                "required" => Ok(TokenBindingMode::Required),
                other => Err(err(
                    f,
                    format!("must be \"off\", \"optional\" or \"required\", got {other:?}"),
                )),
            }
        })
        .transpose()?;
    let require_cnf = present(object, "require_cnf")
        .map(|v| {
            v.as_bool().ok_or_else(|| {
                err(
                    field("require_cnf"),
                    format!("must be true or false, got {}", kind(v)),
                )
            })
        })
        .transpose()?;
    let agent_match = present(object, "agent_match")
        .map(|v| {
            let f = field("agent_match");
            match as_str(v, &f)? {
                "exact" => Ok(AgentMatch::Exact),
                "host" => Ok(AgentMatch::Host),
                other => Err(err(
                    f,
                    format!("must be \"exact\" or \"host\", got {other:?}"),
                )),
            }
        })
        .transpose()?;
    Ok(TokenBinding {
        mode,
        require_cnf,
        agent_match,
    })
}

/// `token_metadata`: `{ "filter": …, "key": … }`, both non-empty.
pub(super) fn metadata(v: &Value) -> Result<TokenMetadata, ConfigError> {
    let object = v.as_object().ok_or_else(|| {
        err(
            "token_metadata",
            format!("must be an object, got {}", kind(v)),
        )
    })?;
    reject_unknown(object, &["filter", "key"], "token_metadata.")?;
    let mut metadata = TokenMetadata::default();
    for (key, slot) in [("filter", &mut metadata.filter), ("key", &mut metadata.key)] {
        if let Some(v) = present(object, key) {
            let field = format!("token_metadata.{key}");
            let text = as_str(v, &field)?;
            if text.is_empty() || text.contains('\0') {
                return Err(err(field, "must be a non-empty name without NUL"));
            }
            *slot = text.to_string();
        }
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    const PIN: &str = r#""trusted_ca_sha256":["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"]"#;

    fn parse(body: &str) -> Result<Config, ConfigError> {
        Config::parse(format!("{{{body}}}").as_bytes())
    }

    #[test]
    fn rules_take_the_global_settings_they_leave_out() {
        let c = parse(&format!(
            r#"{PIN},"token_binding":"optional","agent_match":"host",
               "token_metadata":{{"filter":"jwt","key":"payload"}},
               "rules":[{{"name":"a","path_prefix":"/a","token_binding":"required","require_cnf":true}},
                        {{"name":"b","path_prefix":"/b","token_binding":"off"}}]"#
        ))
        .unwrap();
        let a = c.token_binding_for(c.rules.first());
        assert_eq!(a.mode, TokenBindingMode::Required);
        assert!(a.require_cnf);
        assert_eq!(a.agent_match, AgentMatch::Host);
        assert!(!c.binds_token(c.rules.get(1)));
        assert!(c.binds_token(None));
        assert_eq!(c.token_metadata.filter, "jwt");
        assert_eq!(c.token_metadata.key, "payload");
        let defaults = parse("").unwrap();
        assert!(!defaults.binds_any_token());
        assert_eq!(defaults.token_metadata, TokenMetadata::default());
    }

    #[test]
    fn errors_name_the_field() {
        for (body, field) in [
            (format!(r#"{PIN},"token_binding":"on""#), "token_binding"),
            (format!(r#"{PIN},"require_cnf":"yes""#), "require_cnf"),
            (format!(r#"{PIN},"agent_match":"prefix""#), "agent_match"),
            (
                format!(r#"{PIN},"token_metadata":{{"filter":""}}"#),
                "token_metadata.filter",
            ),
            (
                format!(r#"{PIN},"token_metadata":{{"keys":"x"}}"#),
                "token_metadata.keys",
            ),
            (format!(r#"{PIN},"token_metadata":"jwt""#), "token_metadata"),
            (
                format!(r#"{PIN},"rules":[{{"name":"a","path_prefix":"/a","token_binding":1}}]"#),
                "rules[0].token_binding",
            ),
            (
                r#""token_binding":"optional""#.to_string(),
                "trusted_ca_sha256",
            ),
            (
                r#""rules":[{"name":"a","path_prefix":"/a","token_binding":"required"}]"#
                    .to_string(),
                "trusted_ca_sha256",
            ),
        ] {
            let e = parse(&body).unwrap_err();
            assert_eq!(e.field, field, "{body}: {e}");
        }
    }
}
