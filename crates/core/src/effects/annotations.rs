//! The headers a forwarded request carries to the backend: the TLS version,
//! the verified client, the token bound to it and the rule, under the
//! annotation prefix.

use crate::decision::Decision;

/// Headers for the backend. Values come from verified certificates, but
/// they still pass through `header_safe` before they reach a header.
pub fn annotations(decision: &Decision, prefix: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut add = |name: &str, value: String| out.push((format!("{prefix}{name}"), value));
    if let Some(version) = decision.tls_version {
        add("tls-version", version.as_str().to_string());
    }
    match &decision.client {
        Some(client) => {
            add("mtls", "verified".to_string());
            add("client-sha256", client.leaf_sha256.to_hex());
            add("client-subject", header_safe(&client.subject));
            if !client.uri_sans.is_empty() {
                let uris: Vec<String> = client
                    .uri_sans
                    .iter()
                    .map(|u| header_safe(u).replace(',', "%2C"))
                    .collect();
                add("client-uri-san", uris.join(","));
            }
            add("trust-anchor-sha256", client.anchor_sha256.to_hex());
        }
        None => add("mtls", "none".to_string()),
    }
    if let Some(token) = &decision.token {
        add("logistics-agent", header_safe(&token.logistics_agent_uri));
        add("token-binding", "verified".to_string());
    }
    if let Some(rule) = &decision.rule {
        add("rule", rule.clone());
    }
    if let Some(reason) = decision.deny_reason() {
        let value = match decision.detail {
            Some(detail) => format!("audit-deny; reason={}; detail={detail}", reason.code()),
            None => format!("audit-deny; reason={}", reason.code()),
        };
        add("policy", value);
    }
    out
}

/// Percent-encodes everything outside printable ASCII (and `%` itself), so a
/// certificate field can never split or smuggle a header.
pub fn header_safe(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
