//! How `explain` shows a decision: aligned text for people, one JSON object
//! with stable keys for scripts.

use crate::certs::Certificate;
use crate::check_config::mode;
use onerecord_tls_policy_core::config::Mode;
use onerecord_tls_policy_core::facts::Facts;
use onerecord_tls_policy_core::fingerprint::Fingerprint;
use onerecord_tls_policy_core::policy::Decision;
use onerecord_tls_policy_core::rfc3339::format_rfc3339;
use serde_json::{Value, json};
use std::fmt::Write;

pub struct Report<'a> {
    pub facts: &'a Facts,
    pub decision: &'a Decision,
    /// Every rule a reading of the path selected (`Policy::select_rules`).
    pub selected_rules: &'a [String],
    /// Certificates whose subjects label the verified path (chain and configured CAs).
    pub known_certificates: &'a [Certificate],
    /// What became of each `--crl`.
    pub crls: &'a [String],
    /// The certificate a CRL revokes, with the entry's reason code.
    pub revoked: Option<&'a str>,
}

impl Report<'_> {
    /// `allow`, `deny`, or `audit-deny` (audit mode: the filter forwards the
    /// request but the verdict is a deny).
    pub fn verdict(&self) -> &'static str {
        match (self.decision.deny_reason(), self.decision.mode) {
            (None, _) => "allow",
            (Some(_), Mode::Enforce) => "deny",
            (Some(_), Mode::Audit) => "audit-deny",
        }
    }

    /// `verified` when a client certificate passed, as in `x-onerecord-mtls`.
    fn mtls(&self) -> &'static str {
        if self.decision.client.is_some() {
            "verified"
        } else {
            "none"
        }
    }

    fn subject_of(&self, sha256: &Fingerprint) -> Option<&str> {
        self.known_certificates
            .iter()
            .find(|c| c.sha256 == *sha256)
            .map(|c| c.subject.as_str())
    }

    pub fn json(&self) -> Value {
        let d = self.decision;
        let client = d.client.as_ref().map(|c| {
            json!({
                "sha256": c.leaf_sha256.to_hex(),
                "subject": c.subject,
                "uri_san": c.uri_sans,
                "dns_san": c.dns_sans,
                "organization": c.organizations,
                "not_after": not_after(c.not_after),
            })
        });
        let path: Vec<String> = d
            .client
            .iter()
            .flat_map(|c| c.path_sha256.iter().map(Fingerprint::to_hex))
            .collect();
        json!({
            "verdict": self.verdict(),
            "reason": d.deny_reason().map(|r| r.code()),
            "message": d.deny_reason().map(|r| r.message()),
            "detail": d.detail,
            "mode": mode(d.mode),
            "rule": d.rule,
            "selected_rules": self.selected_rules,
            "tls_version": d.tls_version.map(|v| v.as_str()),
            "mtls": self.mtls(),
            "client": client,
            "anchor_sha256": d.client.as_ref().map(|c| c.anchor_sha256.to_hex()),
            "path_sha256": path,
            "ignored_certificate": d.ignored_certificate.map(|r| r.code()),
            "at": format_rfc3339(self.facts.now_unix),
            "token_binding": d.token_binding.map(|b| b.code()),
            "logistics_agent": d.token.as_ref().map(|t| &t.logistics_agent_uri),
            "crls": self.crls,
            "revoked": self.revoked,
        })
    }

    pub fn text(&self) -> String {
        let d = self.decision;
        let f = self.facts;
        let mut out = String::new();
        let mut line = |key: &str, value: &str| {
            let _ = writeln!(out, "{key:<16}{}", printable(value));
        };
        let connection = match f
            .connection
            .as_ref()
            .ok()
            .and_then(|c| c.tls_version.as_deref())
        {
            None => "plaintext".to_string(),
            Some(tls) => {
                let peer = f.connection.as_ref().ok().and_then(|c| c.peer.as_ref());
                let cert = if peer.is_some() {
                    "with a client certificate"
                } else {
                    "without a client certificate"
                };
                format!("{tls}, {cert}")
            }
        };
        line(
            "request",
            &format!("{} {} over {connection}", f.request.method, f.request.path),
        );
        if let Some(route) = &f.request.route_mtls {
            line("route_mtls", route);
        }
        line("at", &format_rfc3339(f.now_unix));
        line("verdict", self.verdict());
        if let Some(reason) = d.deny_reason() {
            line("reason", reason.code());
            line("message", reason.message());
            if let Some(detail) = d.detail {
                line("detail", detail);
            }
        }
        if let Some(revoked) = self.revoked {
            line("revoked", revoked);
        }
        for (i, crl) in self.crls.iter().enumerate() {
            line(if i == 0 { "crl" } else { "" }, crl);
        }
        if d.mode == Mode::Audit {
            line(
                "mode",
                "audit (the filter forwards every request; a deny is only annotated and logged)",
            );
        }
        line("rule", d.rule.as_deref().unwrap_or("(none matched)"));
        // Only worth a line when readings of the path disagree.
        if self.selected_rules.len() > 1 || (d.rule.is_none() && !self.selected_rules.is_empty()) {
            line("selected_rules", &self.selected_rules.join(", "));
        }
        line(
            "tls_version",
            d.tls_version.map_or("(none)", |v| v.as_str()),
        );
        line("mtls", self.mtls());
        if let Some(reason) = d.ignored_certificate {
            line(
                "ignored",
                &format!(
                    "the client certificate failed verification ({}); mTLS is optional here, so the request carries no client identity",
                    reason.code()
                ),
            );
        }
        if let Some(binding) = d.token_binding {
            line("token_binding", binding.code());
        }
        if let Some(token) = &d.token {
            line("logistics_agent", &token.logistics_agent_uri);
        }
        if let Some(c) = &d.client {
            line("client", &c.leaf_sha256.to_hex());
            line("  subject", &c.subject);
            line("  uri_san", &list(&c.uri_sans));
            line("  dns_san", &list(&c.dns_sans));
            line("  organization", &list(&c.organizations));
            line("  not_after", &not_after(c.not_after));
            line("anchor", &c.anchor_sha256.to_hex());
            let last = c.path_sha256.len().saturating_sub(1);
            for (i, sha256) in c.path_sha256.iter().enumerate() {
                let role = match i {
                    0 => "leaf",
                    i if i == last => "pinned anchor",
                    _ => "intermediate",
                };
                let subject = self.subject_of(sha256).unwrap_or("?");
                line(
                    if i == 0 { "path" } else { "" },
                    &format!("{sha256}  {subject}  ({role})"),
                );
            }
        }
        out
    }
}

/// The path's earliest notAfter, RFC 3339.
fn not_after(unix: i64) -> String {
    format_rfc3339(u64::try_from(unix).unwrap_or(0))
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_string()
    } else {
        items.join(", ")
    }
}

/// Certificate text can hold control characters; they must not reach a terminal.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}
