//! The facts a forwarded request carries to the backend: the TLS version,
//! the verified client, the token bound to it and the rule, under the
//! annotation prefix, as one header each or as one dictionary header.

use super::dictionary;
use crate::config::AnnotationFormat;
use crate::decision::Decision;

/// The dictionary header's name after the prefix.
pub const DICTIONARY_HEADER: &str = "facts";

/// One fact for the backend, typed so each format can write it its way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    /// A fixed word (`verified`, `TLSv1.3`).
    Word(&'static str),
    /// Text from a certificate, a token or the configuration, already
    /// `header_safe`.
    Text(String),
    /// Several texts (URI SANs).
    List(Vec<String>),
    /// Audit mode's would-be deny: its reason code and detail.
    AuditDeny {
        reason: &'static str,
        detail: Option<&'static str>,
    },
}

/// The facts for `decision`, each under its name (the header name after the
/// prefix, and the dictionary key).
pub fn facts(decision: &Decision) -> Vec<(&'static str, Fact)> {
    let mut out = Vec::new();
    if let Some(version) = decision.tls_version {
        out.push(("tls-version", Fact::Word(version.as_str())));
    }
    match &decision.client {
        Some(client) => {
            out.push(("mtls", Fact::Word("verified")));
            out.push(("client-sha256", Fact::Text(client.leaf_sha256.to_hex())));
            out.push(("client-subject", Fact::Text(header_safe(&client.subject))));
            if !client.uri_sans.is_empty() {
                let uris = client.uri_sans.iter().map(|u| header_safe(u)).collect();
                out.push(("client-uri-san", Fact::List(uris)));
            }
            out.push((
                "trust-anchor-sha256",
                Fact::Text(client.anchor_sha256.to_hex()),
            ));
        }
        None => out.push(("mtls", Fact::Word("none"))),
    }
    if let Some(token) = &decision.token {
        out.push((
            "logistics-agent",
            Fact::Text(header_safe(&token.logistics_agent_uri)),
        ));
        out.push(("token-binding", Fact::Word("verified")));
    }
    if let Some(rule) = &decision.rule {
        out.push(("rule", Fact::Text(rule.clone())));
    }
    if let Some(reason) = decision.deny_reason() {
        out.push((
            "policy",
            Fact::AuditDeny {
                reason: reason.code(),
                detail: decision.detail,
            },
        ));
    }
    out
}

/// The headers for the backend, in `format`. Values come from verified
/// certificates, but they still pass through `header_safe` before they
/// reach a header.
pub fn annotations(
    decision: &Decision,
    prefix: &str,
    format: AnnotationFormat,
) -> Vec<(String, String)> {
    let facts = facts(decision);
    match format {
        AnnotationFormat::Headers => facts
            .into_iter()
            .map(|(name, fact)| (format!("{prefix}{name}"), header_value(fact)))
            .collect(),
        AnnotationFormat::Dictionary => vec![(
            format!("{prefix}{DICTIONARY_HEADER}"),
            dictionary::serialize(&facts),
        )],
    }
}

/// A fact as its own header's value.
fn header_value(fact: Fact) -> String {
    match fact {
        Fact::Word(word) => word.to_string(),
        Fact::Text(text) => text,
        // A comma inside a URI would read as a separator.
        Fact::List(items) => items
            .iter()
            .map(|item| item.replace(',', "%2C"))
            .collect::<Vec<_>>()
            .join(","),
        Fact::AuditDeny { reason, detail } => match detail {
            Some(detail) => format!("audit-deny; reason={reason}; detail={detail}"),
            None => format!("audit-deny; reason={reason}"),
        },
    }
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
