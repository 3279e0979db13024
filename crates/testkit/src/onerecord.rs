//! The filter's contract as assertions: what a deny looks like to the
//! client, and what an allowed request carries to the backend.

use super::http::Response;
use super::upstream::Echo;
use serde_json::Value;

pub const API_NAMESPACE: &str = "https://onerecord.iata.org/ns/api#";
pub const DEFAULT_PREFIX: &str = "x-onerecord-";

/// Asserts a deny with the default annotation prefix.
pub fn assert_denied(resp: &Response, code: &str, path: &str) {
    assert_denied_with_prefix(resp, DEFAULT_PREFIX, code, path);
}

/// Asserts a ONE Record deny: 403, JSON-LD headers, `<prefix>deny-reason:
/// code`, and a ONE Record 2.3.0 `api:Error` body (the harmonised title,
/// severity `api:ERROR`) with one `api:ErrorDetail` whose resource is the
/// absolute URI of `path`.
pub fn assert_denied_with_prefix(resp: &Response, prefix: &str, code: &str, path: &str) {
    let context = format!("response: {resp:#?}\nbody: {}", resp.text());
    assert_eq!(resp.status, 403, "expected 403 {code}; {context}");
    let media_type = resp
        .header("content-type")
        .map(|v| v.split(';').next().unwrap_or_default().trim());
    assert_eq!(media_type, Some("application/ld+json"), "{context}");
    assert_eq!(resp.header("content-language"), Some("en-US"), "{context}");
    assert_eq!(resp.header("cache-control"), Some("no-store"), "{context}");
    let reason_header = format!("{prefix}deny-reason");
    assert_eq!(
        resp.header_values(&reason_header),
        vec![code],
        "{reason_header}; {context}"
    );

    let body = resp.json();
    assert_eq!(
        body["@context"]["api"], API_NAMESPACE,
        "@context; {context}"
    );
    assert_eq!(
        body["@context"]["api:hasResource"]["@type"], "xsd:anyURI",
        "{context}"
    );
    assert_eq!(body["@context"]["@language"], "en-US", "{context}");
    assert_eq!(body["@type"], "api:Error", "{context}");
    assert_eq!(
        body["api:hasTitle"], FORBIDDEN_TITLE,
        "api:hasTitle; {context}"
    );
    assert_eq!(
        body["api:hasSeverity"]["@id"], "api:ERROR",
        "api:hasSeverity; {context}"
    );
    let detail = single_detail(&body["api:hasErrorDetail"], &context);
    assert_eq!(detail["@type"], "api:ErrorDetail", "{context}");
    assert_eq!(
        detail["api:hasCode"], "403",
        "api:hasCode is the status as a string; {context}"
    );
    assert!(
        non_empty_string(&detail["api:hasMessage"]),
        "api:hasMessage; {context}"
    );
    let resource = detail["api:hasResource"].as_str().unwrap_or_default();
    assert_eq!(
        resource_path(resource),
        Some(path),
        "api:hasResource is the absolute URI of {path}; {context}"
    );
}

/// The 403 title of the ONE Record API 2.3.0 guidelines.
pub const FORBIDDEN_TITLE: &str = "Not authorized to perform action";

/// The path of an absolute `http(s)://authority/path` URI.
pub fn resource_path(uri: &str) -> Option<&str> {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))?;
    let at = rest.find('/')?;
    (at > 0).then(|| rest.get(at..)).flatten()
}

/// `api:hasErrorDetail` as one object, or an array holding exactly one.
fn single_detail<'a>(value: &'a Value, context: &str) -> &'a Value {
    match value {
        Value::Object(_) => value,
        Value::Array(items) if items.len() == 1 && items[0].is_object() => &items[0],
        other => panic!("api:hasErrorDetail must be one api:ErrorDetail, got {other}; {context}"),
    }
}

fn non_empty_string(value: &Value) -> bool {
    value.as_str().is_some_and(|s| !s.trim().is_empty())
}

/// The deny reason a response carries, if any.
pub fn deny_reason(resp: &Response) -> Option<&str> {
    resp.header(&format!("{DEFAULT_PREFIX}deny-reason"))
}

/// Asserts the request reached the backend and returns what the backend saw.
pub fn assert_allowed(resp: &Response) -> Echo {
    assert_eq!(
        deny_reason(resp),
        None,
        "allowed response carries a deny reason: {resp:#?}"
    );
    Echo::of(resp)
}

/// Asserts the annotations of an allowed request under the default prefix:
/// the TLS version, the mTLS state, and no audit verdict.
pub fn assert_annotated(echo: &Echo, tls_version: &str, mtls: &str) {
    assert_eq!(
        echo.get("x-onerecord-tls-version"),
        Some(tls_version),
        "upstream headers: {:#?}",
        echo.headers
    );
    assert_eq!(
        echo.get("x-onerecord-mtls"),
        Some(mtls),
        "upstream headers: {:#?}",
        echo.headers
    );
    assert_eq!(
        echo.get("x-onerecord-policy"),
        None,
        "upstream headers: {:#?}",
        echo.headers
    );
}
