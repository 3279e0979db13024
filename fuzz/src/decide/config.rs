//! The configuration a [`ConfigSpec`] describes, as the JSON the plugin loads.

use super::case::{AllowedSpec, ConfigSpec, Method, Pins, Requirement};
use super::certs::Certs;
use onerecord_tls_policy::xfcc::envoy_format;
use serde_json::{Value, json};

pub fn config_json(spec: &ConfigSpec, certs: &Certs<'_>) -> Value {
    let mut config = serde_json::Map::new();
    match spec.mtls {
        Requirement::Required => config.insert("mtls".into(), json!("required")),
        Requirement::Optional => config.insert("mtls".into(), json!("optional")),
        Requirement::Unset => None,
    };
    let last = certs.der.len().saturating_sub(1) as u8;
    let pins: Vec<String> = match &spec.pins {
        Pins::Last => vec![certs.sha256(last)],
        Pins::Pool(indices) => indices.iter().map(|&i| certs.sha256(i)).collect(),
        Pins::Nothing => Vec::new(),
        Pins::Text(texts) => texts.clone(),
    };
    config.insert("trusted_ca_sha256".into(), json!(pins));
    if spec.min_tls13 {
        config.insert("min_tls_version".into(), json!("TLSv1.3"));
    }
    if spec.audit {
        config.insert("mode".into(), json!("audit"));
    }
    if !spec.ca_pem.is_empty() {
        let pem: String = spec
            .ca_pem
            .iter()
            .map(|&i| envoy_format::pem(certs.get(i)))
            .collect();
        config.insert("ca_certificates_pem".into(), json!(pem));
    }
    if !spec.revoked.is_empty() {
        let revoked: Vec<String> = spec.revoked.iter().map(|&i| certs.sha256(i)).collect();
        config.insert("revoked_sha256".into(), json!(revoked));
    }
    if let Some(allowed) = &spec.allowed {
        config.insert("allowed_clients".into(), allowed_json(allowed, certs));
    }
    let rules: Vec<Value> = spec
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let mut r = serde_json::Map::new();
            r.insert("name".into(), json!(format!("rule-{i}")));
            // Only paths already in the compared form load; keep to those.
            let words: Vec<&str> = rule
                .path
                .split(|c: char| !(c.is_ascii_alphanumeric() || "-_~".contains(c)))
                .filter(|w| !w.is_empty())
                .collect();
            let slash = if rule.path.ends_with('/') { "/" } else { "" };
            let path = format!("/{}{slash}", words.join("/")).replace("//", "/");
            let key = if rule.exact {
                "path_exact"
            } else {
                "path_prefix"
            };
            r.insert(key.into(), json!(path));
            if !rule.methods.is_empty() {
                let methods: Vec<String> = rule.methods.iter().map(method).collect();
                r.insert("methods".into(), json!(methods));
            }
            match rule.mtls {
                Requirement::Required => r.insert("mtls".into(), json!("required")),
                Requirement::Optional => r.insert("mtls".into(), json!("optional")),
                Requirement::Unset => None,
            };
            if let Some(allowed) = &rule.allowed {
                r.insert("allowed_clients".into(), allowed_json(allowed, certs));
            }
            Value::Object(r)
        })
        .collect();
    if !rules.is_empty() {
        config.insert("rules".into(), json!(rules));
    }
    if let Some(n) = spec.max_chain_length {
        config.insert("max_chain_length".into(), json!(1 + n % 8));
    }
    if let Some(s) = spec.clock_skew_seconds {
        config.insert("clock_skew_seconds".into(), json!(s % 86_401));
    }
    if let Some(n) = spec.verdict_cache_size {
        config.insert("verdict_cache_size".into(), json!(n));
    }
    if let Some(prefix) = &spec.prefix {
        config.insert("annotation_prefix".into(), json!(prefix));
    }
    if spec.dictionary {
        config.insert("annotation_format".into(), json!("dictionary"));
    }
    Value::Object(config)
}

pub fn allowed_json(spec: &AllowedSpec, certs: &Certs<'_>) -> Value {
    let mut uri: Vec<String> = spec.uri_of.iter().flat_map(|&i| certs.names(i).1).collect();
    uri.extend(spec.uri_text.iter().cloned());
    let dns: Vec<String> = spec.dns_of.iter().flat_map(|&i| certs.names(i).2).collect();
    let org: Vec<String> = spec.org_of.iter().flat_map(|&i| certs.names(i).3).collect();
    let sha: Vec<String> = spec.sha256_of.iter().map(|&i| certs.sha256(i)).collect();
    json!({ "uri_san": uri, "dns_san": dns, "subject_organization": org, "sha256": sha })
}

pub fn method(m: &Method) -> String {
    match m {
        Method::Get => "GET".into(),
        Method::Post => "POST".into(),
        Method::Patch => "patch".into(),
        Method::Text(t) => t.clone(),
    }
}
