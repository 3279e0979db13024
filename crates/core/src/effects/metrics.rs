//! The names of the filter's Envoy counters: verdicts by outcome, reason
//! and rule, full client-chain verifications by result, and configuration
//! loads. The glue defines and increments them; their names are made here.
//!
//! Names carry their labels as `.reason.<code>`, `.rule.<name>` and
//! `.result.<code>` segments, which the [`STATS_TAGS`] regexes turn into
//! Prometheus labels.

use crate::binding::BindingResult;
use crate::decision::ChainVerification;
use crate::reason::Reason;

/// The first segment of every counter name.
pub const PREFIX: &str = "onerecord_tls_policy";
/// Per-request families: `<PREFIX>.<family>[.reason.<code>].rule.<rule>`.
pub const ALLOWED: &str = "allowed_total";
pub const DENIED: &str = "denied_total";
pub const AUDIT_DENIED: &str = "audit_denied_total";
/// Full chain verifications (cache hits are none):
/// `<PREFIX>.chain_verifications_total.result.<verified | reason code>`.
pub const CHAIN_VERIFICATIONS: &str = "chain_verifications_total";
/// Requests whose client facts came from a trusted front proxy (defined
/// only when `trusted_proxies` is configured; the rest came from the handshake).
pub const TRUSTED_PROXY_REQUESTS: &str = "onerecord_tls_policy.trusted_proxy_requests_total";
/// Token bindings, per request where a rule binds the token and the
/// client was verified:
/// `<PREFIX>.token_bindings_total.result.<verified | absent | reason code>`.
pub const TOKEN_BINDINGS: &str = "token_bindings_total";
pub const CONFIG_LOADS: &str = "onerecord_tls_policy.config_loads_total";
pub const CONFIG_FAILURES: &str = "onerecord_tls_policy.config_failures_total";
/// CRL fetches by source and result:
/// `<PREFIX>.crl_fetches_total.source.<index>.result.<ok | http_error | parse_error | bad_signature | older>`.
pub const CRL_FETCHES: &str = "crl_fetches_total";
/// Gauges by source: `<PREFIX>.<gauge>.source.<index>`.
pub const CRL_SECONDS_SINCE_THIS_UPDATE: &str = "crl_seconds_since_this_update";
pub const CRL_SECONDS_UNTIL_NEXT_UPDATE: &str = "crl_seconds_until_next_update";
/// Requests whose verified path expires within `expiry_warning_days`, and
/// whose CRL reaches nextUpdate within it: `<PREFIX>.<family>.rule.<rule>`.
pub const EXPIRING_CLIENTS: &str = "expiring_clients_total";
pub const EXPIRING_CRLS: &str = "expiring_crls_total";
/// Verified clients' verdicts pushed out of a full verdict cache (by
/// content): each costs its client a full verification again.
pub const VERDICT_CACHE_EVICTIONS: &str = "onerecord_tls_policy.verdict_cache_evictions_total";
/// The results of a CRL fetch, as its counters label them.
pub const CRL_FETCH_RESULTS: [&str; 5] =
    ["ok", "http_error", "parse_error", "bad_signature", "older"];

/// OCSP queries by result: `<PREFIX>.ocsp_responses_total.result.<result>`;
/// requests the OCSP cache answered: `<PREFIX>.ocsp_cache_hits_total`;
/// requests soft mode passed without a valid answer:
/// `<PREFIX>.ocsp_soft_failures_total`; requests that waited for an answer:
/// `<PREFIX>.ocsp_paused_requests_total`.
pub const OCSP_RESPONSES: &str = "ocsp_responses_total";
pub const OCSP_CACHE_HITS: &str = "onerecord_tls_policy.ocsp_cache_hits_total";
pub const OCSP_SOFT_FAILURES: &str = "onerecord_tls_policy.ocsp_soft_failures_total";
/// Requests paused while a responder was asked (the cache had no answer).
pub const OCSP_PAUSED: &str = "onerecord_tls_policy.ocsp_paused_requests_total";
pub const OCSP_RESULTS: [&str; 6] = [
    "good",
    "revoked",
    "unknown",
    "timeout",
    "error",
    "bad_response",
];

/// `onerecord_tls_policy.ocsp_responses_total.result.<result>`.
pub fn ocsp_counter_name(result: &str) -> String {
    format!("{PREFIX}.{OCSP_RESPONSES}.result.{result}")
}

/// `onerecord_tls_policy.crl_fetches_total.source.<index>.result.<result>`.
pub fn crl_fetch_counter_name(source: usize, result: &str) -> String {
    format!("{PREFIX}.{CRL_FETCHES}.source.{source}.result.{result}")
}

/// `onerecord_tls_policy.<gauge>.source.<index>`.
pub fn crl_gauge_name(gauge: &str, source: usize) -> String {
    format!("{PREFIX}.{gauge}.source.{source}")
}

/// `stats_config.stats_tags` entries, `(tag_name, regex)`. Envoy matches them
/// against the full stat name, `wasmcustom.` namespace included; the first
/// group is cut from the name, the second is the label value. Rule names
/// may contain dots, so the rule comes last and takes the rest of the name.
pub const STATS_TAGS: [(&str, &str); 4] = [
    (
        "reason",
        r"^wasmcustom\.onerecord_tls_policy\.\w+(\.reason\.(\w+))",
    ),
    (
        "rule",
        r"^wasmcustom\.onerecord_tls_policy\.\w+(?:\.reason\.\w+)?(\.rule\.(.+))$",
    ),
    (
        "result",
        r"^wasmcustom\.onerecord_tls_policy\.(?:chain_verifications_total|token_bindings_total|ocsp_responses_total|crl_fetches_total\.source\.\d+)(\.result\.(\w+))$",
    ),
    (
        "source",
        r"^wasmcustom\.onerecord_tls_policy\.crl_\w+(\.source\.(\d+))",
    ),
];

/// What a full chain verification can end in besides `verified`: every
/// reason but those decided before or after the chain.
pub fn chain_failures() -> impl Iterator<Item = Reason> {
    Reason::ALL.into_iter().filter(|reason| {
        !matches!(
            reason,
            Reason::TlsRequired
                | Reason::TlsVersionTooLow
                | Reason::TlsVersionUnrecognized
                | Reason::RouteMetadataInvalid
                | Reason::ClientCertificateRequired
                | Reason::ClientNotAllowed
                | Reason::RequestPathInvalid
                | Reason::TokenRequired
                | Reason::TokenCertificateMismatch
                | Reason::TokenAgentMismatch
                | Reason::TokenAgentMissing
                | Reason::TokenPayloadUnavailable
                | Reason::RevocationStatusUnknown
        )
    })
}

/// `onerecord_tls_policy.<family>[.reason.<code>].rule.<rule>`.
pub fn counter_name(family: &str, reason: Option<Reason>, rule: &str) -> String {
    match reason {
        Some(reason) => format!("{PREFIX}.{family}.reason.{}.rule.{rule}", reason.code()),
        None => format!("{PREFIX}.{family}.rule.{rule}"),
    }
}

/// `onerecord_tls_policy.chain_verifications_total.result.<code>`.
pub fn verification_counter_name(verification: ChainVerification) -> String {
    format!(
        "{PREFIX}.{CHAIN_VERIFICATIONS}.result.{}",
        verification.code()
    )
}

/// What a token binding can end in: `verified`, `absent` (optional, no
/// token) or one of the `token_*` reasons.
pub fn binding_results() -> impl Iterator<Item = BindingResult> {
    [BindingResult::Verified, BindingResult::Absent]
        .into_iter()
        .chain(
            Reason::ALL
                .into_iter()
                .filter(|r| r.code().starts_with("token_"))
                .map(BindingResult::Failed),
        )
}

/// `onerecord_tls_policy.token_bindings_total.result.<code>`.
pub fn binding_counter_name(result: BindingResult) -> String {
    format!("{PREFIX}.{TOKEN_BINDINGS}.result.{}", result.code())
}
