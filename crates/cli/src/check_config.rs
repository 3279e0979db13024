//! `check-config CONFIG.json`: the filter's own validation, and a summary.

use crate::Failure;
use crate::args::CheckConfigArgs;
use onerecord_tls_policy_core::binding::BindingSettings;
use onerecord_tls_policy_core::config::{
    AllowedClients, AnnotationFormat, Config, Mode, MtlsRequirement, PathMatch, TokenBindingMode,
};
use onerecord_tls_policy_core::fingerprint::Fingerprint;
use onerecord_tls_policy_core::trust::{TrustStore, X509Profile};
use std::path::Path;
use std::process::ExitCode;

pub fn run(args: &CheckConfigArgs) -> Result<ExitCode, Failure> {
    let config = load(&args.config)?;
    let store = config.trust_store();
    for warning in warnings(&config, store) {
        eprintln!("warning: {warning}");
    }
    print!("{}", summary(&config, store));
    Ok(ExitCode::SUCCESS)
}

/// Reads and validates a configuration file with `Config::parse`, the code
/// the filter runs on Envoy's configuration; an invalid one fails with the
/// message the filter logs.
pub fn load(path: &Path) -> Result<Config, Failure> {
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    Config::parse(&bytes).map_err(|e| Failure::new(e.to_string()))
}

/// What the filter would only log at start-up (`log::warn!`), which an
/// operator should see.
fn warnings(config: &Config, store: &TrustStore) -> Vec<String> {
    let mut unique: Vec<Fingerprint> = Vec::new();
    for der in &config.trust.ca_certificates_der {
        let sha256 = Fingerprint::of_der(der);
        if !unique.contains(&sha256) {
            unique.push(sha256);
        }
    }
    let usable = store.configured_anchor_count() + store.configured_intermediate_count();
    let unusable = unique.len().saturating_sub(usable);
    let mut out = Vec::new();
    if unusable > 0 {
        out.push(format!(
            "{unusable} certificate(s) in ca_certificates_pem cannot be used and are skipped by the \
             filter (not a usable X.509 certificate, or a pinned one that cannot be a trust anchor)"
        ));
    }
    out
}

fn summary(config: &Config, store: &TrustStore) -> String {
    let trust = &config.trust;
    let pinned_in_pem = trust
        .trusted_ca_sha256
        .iter()
        .filter(|f| {
            trust
                .ca_certificates_der
                .iter()
                .any(|der| Fingerprint::of_der(der) == **f)
        })
        .count();
    let mut lines = vec![
        "configuration OK".to_string(),
        row("mode", mode(config.mode)),
        row("min_tls_version", config.min_tls_version.as_str()),
        row("mtls", requirement(config.mtls)),
        row(
            "allowed_clients",
            &config
                .allowed_clients
                .as_ref()
                .map_or_else(|| "not set".to_string(), allowed),
        ),
        row(
            "trusted_ca_sha256",
            &format!(
                "{} pinned CA(s), {pinned_in_pem} of them in ca_certificates_pem{}",
                trust.trusted_ca_sha256.len(),
                if pinned_in_pem < trust.trusted_ca_sha256.len() {
                    " (clients must send the others in their chain)"
                } else {
                    ""
                }
            ),
        ),
        row(
            "ca_certificates_pem",
            &format!(
                "{} certificate(s): {} anchor(s), {} intermediate(s)",
                trust.ca_certificates_der.len(),
                store.configured_anchor_count(),
                store.configured_intermediate_count()
            ),
        ),
        row("revoked_sha256", &trust.revoked_sha256.len().to_string()),
        row(
            "x509_profile",
            match trust.profile.x509 {
                X509Profile::Strict => "strict",
                X509Profile::Compatible => "compatible",
            },
        ),
        row(
            "onerecord_profile",
            if trust.profile.onerecord { "on" } else { "off" },
        ),
        row("rules", &config.rules.len().to_string()),
    ];
    for (i, rule) in config.rules.iter().enumerate() {
        let path = match &rule.path {
            PathMatch::Prefix(p) => format!("path_prefix {p}"),
            PathMatch::Exact(p) => format!("path_exact {p}"),
        };
        let case = if rule.case_sensitive {
            ", case-sensitive"
        } else {
            ""
        };
        let methods = if rule.methods.is_empty() {
            "all methods".to_string()
        } else {
            rule.methods.join(",")
        };
        let mtls = rule.mtls.map_or("mtls from default", |m| match m {
            MtlsRequirement::Optional => "mtls optional",
            MtlsRequirement::Required => "mtls required",
        });
        let clients = rule.allowed_clients.as_ref().map_or_else(String::new, |a| {
            format!(", allowed_clients: {}", allowed(a))
        });
        let token = format!(
            ", token_binding {}",
            binding(config.token_binding_for(Some(rule)))
        );
        lines.push(format!(
            "  {}. {}: {path}{case}, {methods}, {mtls}{clients}{token}",
            i + 1,
            rule.name
        ));
    }
    lines.push(row(
        "token_binding",
        &binding(config.token_binding_for(None)),
    ));
    if config.binds_any_token() {
        let metadata = &config.token_metadata;
        lines.push(row(
            "token_metadata",
            &format!("{} / {} (dynamic metadata)", metadata.filter, metadata.key),
        ));
    }
    lines.push(row("max_chain_length", &trust.max_chain_length.to_string()));
    lines.push(row(
        "clock_skew_seconds",
        &trust.clock_skew_seconds.to_string(),
    ));
    lines.push(row("annotation_prefix", &config.annotation_prefix));
    lines.push(row(
        "annotation_format",
        &match config.annotation_format {
            AnnotationFormat::Headers => "headers (one header per fact)".to_string(),
            AnnotationFormat::Dictionary => {
                format!("dictionary (one header, {}facts)", config.annotation_prefix)
            }
        },
    ));
    lines.push(row(
        "verdict_cache_size",
        &match config.verdict_cache_size {
            0 => "0 (off: every request verifies its client chain in full)".to_string(),
            n => format!("{n} verified client chain(s) per worker"),
        },
    ));
    lines.push(row(
        "trusted_proxies",
        &config.trusted_proxies.as_ref().map_or_else(
            || "not set (every connection judged on its own handshake)".to_string(),
            |p| {
                format!(
                    "{} URI SAN(s), {} fingerprint(s); TLS version from {}, XFCC {}",
                    p.uri_san.len(),
                    p.sha256.len(),
                    p.tls_version_header,
                    p.forward_client_cert.as_str()
                )
            },
        ),
    ));
    lines.extend(crate::crls::summary(&config.revocation));
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// `off`, or the mode with what the token must carry and how its agent matches.
fn binding(settings: BindingSettings) -> String {
    if settings.mode == TokenBindingMode::Off {
        return "off".to_string();
    }
    format!(
        "{} (cnf {}, agent_match {})",
        settings.mode.as_str(),
        if settings.require_cnf {
            "required"
        } else {
            "checked when present"
        },
        settings.agent_match.as_str()
    )
}

fn row(key: &str, value: &str) -> String {
    format!("{key:<20}{value}")
}

pub fn mode(mode: Mode) -> &'static str {
    match mode {
        Mode::Enforce => "enforce",
        Mode::Audit => "audit",
    }
}

fn requirement(requirement: MtlsRequirement) -> &'static str {
    match requirement {
        MtlsRequirement::Optional => "optional",
        MtlsRequirement::Required => "required",
    }
}

fn allowed(list: &AllowedClients) -> String {
    format!(
        "{} URI SAN(s), {} DNS SAN(s), {} organization(s), {} fingerprint(s)",
        list.uri_san.len(),
        list.dns_san.len(),
        list.subject_organization.len(),
        list.sha256.len()
    )
}
