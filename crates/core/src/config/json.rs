//! Reading JSON values, each error naming the field it is about.

use super::{ConfigError, err};
use crate::fingerprint::Fingerprint;
use serde_json::{Map, Value};

pub(super) fn present<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

pub(super) fn reject_unknown(
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

pub(super) fn as_str<'a>(v: &'a Value, field: &str) -> Result<&'a str, ConfigError> {
    v.as_str()
        .ok_or_else(|| err(field, format!("must be a string, got {}", kind(v))))
}

pub(super) fn as_u64(v: &Value, field: &str) -> Result<u64, ConfigError> {
    v.as_u64().ok_or_else(|| {
        err(
            field,
            format!("must be a non-negative integer, got {}", kind(v)),
        )
    })
}

pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn strings(v: &Value, field: &str) -> Result<Vec<String>, ConfigError> {
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

pub(super) fn fingerprints(v: &Value, field: &str) -> Result<Vec<Fingerprint>, ConfigError> {
    let texts = strings(v, field)?;
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| Fingerprint::parse(t).map_err(|m| err(format!("{field}[{i}]"), m)))
        .collect()
}
