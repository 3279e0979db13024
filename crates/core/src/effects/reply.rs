//! The local reply to a denied request: the ONE Record 2.3.0 `api:Error`
//! (JSON-LD) with the reason's HTTP status (403, or 401 where a required
//! token is missing), and the deny-reason header.

use super::resource::Resource;
use crate::reason::Reason;
use serde_json::json;

/// The ONE Record API vocabulary.
pub const API_NAMESPACE: &str = "https://onerecord.iata.org/ns/api#";

/// XML Schema datatypes (`xsd:anyURI`).
pub const XSD_NAMESPACE: &str = "http://www.w3.org/2001/XMLSchema#";

/// The language of every message, in the context and `content-language`.
pub const LANGUAGE: &str = "en-US";

/// The 403 title as the ONE Record API 2.3.0 guidelines harmonise it.
pub const FORBIDDEN_TITLE: &str = "Not authorized to perform action";

/// The 401 title of the ONE Record API for a missing or expired token.
pub const UNAUTHENTICATED_TITLE: &str = "Not authenticated or expired token";

/// A local reply: status, headers, body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenyResponse {
    pub status: u32,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The reply for `reason` on the request to `resource`, with the status
/// the reason has ([`Reason::http_status`]).
pub fn deny_response(reason: Reason, resource: &Resource, annotation_prefix: &str) -> DenyResponse {
    let mut response = DenyResponse {
        status: reason.http_status(),
        headers: vec![
            (
                "content-type".to_string(),
                "application/ld+json".to_string(),
            ),
            ("content-language".to_string(), LANGUAGE.to_string()),
            ("cache-control".to_string(), "no-store".to_string()),
            (
                format!("{annotation_prefix}deny-reason"),
                reason.code().to_string(),
            ),
        ],
        body: error_body(reason, resource),
    };
    // RFC 9110 §15.5.2: a 401 names the scheme to authenticate with.
    if response.status == 401 {
        response
            .headers
            .push(("www-authenticate".to_string(), "Bearer".to_string()));
    }
    response
}

/// The `api:Error` title for an HTTP status.
pub fn title(status: u32) -> &'static str {
    match status {
        401 => UNAUTHENTICATED_TITLE,
        403 => FORBIDDEN_TITLE,
        _ => "Request refused",
    }
}

/// A ONE Record `api:Error` of severity `api:ERROR` with one
/// `api:ErrorDetail`: the status as `api:hasCode`, the reason's message,
/// and the request's absolute URI as `api:hasResource` (typed
/// `xsd:anyURI`), left out when the request has none that is valid URI
/// syntax. Serialised by serde, so nothing reaches the body unescaped.
pub fn error_body(reason: Reason, resource: &Resource) -> String {
    let status = reason.http_status();
    let mut detail = serde_json::Map::new();
    detail.insert("@type".into(), json!("api:ErrorDetail"));
    detail.insert("api:hasCode".into(), json!(status.to_string()));
    detail.insert("api:hasMessage".into(), json!(reason.message()));
    if let Some(uri) = resource.uri() {
        detail.insert("api:hasResource".into(), json!(uri));
    }
    json!({
        "@context": {
            "api": API_NAMESPACE,
            "xsd": XSD_NAMESPACE,
            "api:hasResource": { "@type": "xsd:anyURI" },
            "@language": LANGUAGE,
        },
        "@type": "api:Error",
        "api:hasTitle": title(status),
        "api:hasSeverity": { "@id": "api:ERROR" },
        "api:hasErrorDetail": [detail],
    })
    .to_string()
}
