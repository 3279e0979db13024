//! The local reply to a denied request: a 403 (a 401 where a required
//! token is missing) with the ONE Record `api:Error` (JSON-LD) and the
//! deny-reason header.

use crate::policy::path::{is_valid_request_path, normalize_path};
use crate::reason::Reason;
use serde_json::json;

/// The ONE Record API vocabulary.
pub const API_NAMESPACE: &str = "https://onerecord.iata.org/ns/api#";

/// Longest request path echoed back in `api:hasResource`.
pub(super) const MAX_RESOURCE_LEN: usize = 512;

/// A local reply: status, headers, body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenyResponse {
    pub status: u32,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The reply for `reason` (its status) on a request to `path`.
pub fn deny_response(reason: Reason, path: &str, annotation_prefix: &str) -> DenyResponse {
    let mut response = DenyResponse {
        status: reason.status(),
        headers: vec![
            (
                "content-type".to_string(),
                "application/ld+json".to_string(),
            ),
            ("content-language".to_string(), "en-US".to_string()),
            ("cache-control".to_string(), "no-store".to_string()),
            (
                format!("{annotation_prefix}deny-reason"),
                reason.code().to_string(),
            ),
        ],
        body: error_body(reason, path),
    };
    // RFC 9110 §15.5.2: a 401 names the scheme to authenticate with.
    if response.status == 401 {
        response
            .headers
            .push(("www-authenticate".to_string(), "Bearer".to_string()));
    }
    response
}

/// A ONE Record `api:Error` with one `api:ErrorDetail`. The resource is the
/// normalised path (no query), bounded, and serialised by serde, so nothing
/// the client sent reaches the body unescaped. A path that is not a valid
/// request path is not echoed at all: it has no resource.
pub fn error_body(reason: Reason, path: &str) -> String {
    let mut detail = serde_json::Map::new();
    detail.insert("@type".into(), json!("api:ErrorDetail"));
    detail.insert("api:hasCode".into(), json!(reason.status().to_string()));
    detail.insert("api:hasMessage".into(), json!(reason.message()));
    if is_valid_request_path(path) {
        let normalized = normalize_path(path);
        let resource = bounded(&normalized, MAX_RESOURCE_LEN);
        detail.insert("api:hasResource".into(), json!(resource));
    }
    json!({
        "@context": { "api": API_NAMESPACE },
        "@type": "api:Error",
        "api:hasTitle": reason.title(),
        "api:hasErrorDetail": [detail],
    })
    .to_string()
}

fn bounded(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}
