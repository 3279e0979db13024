//! Rules and allow-lists: which requests need which clients.

use super::json::{as_str, fingerprints, kind, present, reject_unknown, strings};
use super::{AllowedClients, ConfigError, MtlsRequirement, NO_RULE, PathMatch, Rule, err};
use serde_json::Value;

pub(super) fn requirement(v: &Value, field: &str) -> Result<MtlsRequirement, ConfigError> {
    let s = as_str(v, field)?;
    MtlsRequirement::parse(s).ok_or_else(|| {
        err(
            field,
            format!("must be \"optional\" or \"required\", got {s:?}"),
        )
    })
}

pub(super) fn allowed_clients(v: &Value, field: &str) -> Result<AllowedClients, ConfigError> {
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

pub(super) fn rule(v: &Value, field: &str) -> Result<Rule, ConfigError> {
    let object = v
        .as_object()
        .ok_or_else(|| err(field, format!("must be an object, got {}", kind(v))))?;
    let known: Vec<&str> = [
        "name",
        "path_prefix",
        "path_exact",
        "case_sensitive",
        "methods",
        "mtls",
        "allowed_clients",
    ]
    .iter()
    .chain(super::token_binding::RULE_KEYS)
    .copied()
    .collect();
    reject_unknown(object, &known, &format!("{field}."))?;
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
    let token_binding = super::token_binding::binding(object, &format!("{field}."))?;
    Ok(Rule {
        name,
        path,
        case_sensitive,
        methods,
        mtls,
        allowed_clients: allowed,
        token_binding,
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
