use super::resource::MAX_RESOURCE_LEN;
use super::*;
use crate::config::{Mode, TlsVersion};
use crate::decision::{Decision, FactsSource, Verdict};
use crate::reason::Reason;

pub(super) fn decision(verdict: Verdict, mode: Mode) -> Decision {
    Decision {
        verdict,
        mode,
        rule: None,
        tls_version: Some(TlsVersion::Tls13),
        client: None,
        ignored_certificate: None,
        expiring: Default::default(),
        detail: None,
        token: None,
        token_binding: None,
        facts_from: FactsSource::Handshake,
        ocsp: None,
    }
}

fn resource<'a>(authority: &'a str, path: &'a str) -> Resource<'a> {
    Resource {
        secure: true,
        authority,
        path,
    }
}

/// The values of `property` on `node`: JSON-LD's one value or array of values.
fn values<'a>(node: &'a serde_json::Value, property: &str) -> Vec<&'a serde_json::Value> {
    match node.get(property) {
        None => Vec::new(),
        Some(serde_json::Value::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
    }
}

/// Asserts `body` is an `api:Error` as the ONE Record API 2.3.0 ontology
/// restricts it: exactly one `api:hasTitle` (string), at least one
/// `api:hasErrorDetail`, at most one `api:hasSeverity` (`api:ERROR` or
/// `api:WARNING`); each `api:ErrorDetail` with at most one `api:hasCode`,
/// `api:hasMessage` (strings) and `api:hasResource` (an absolute URI, typed
/// `xsd:anyURI` by the context), and nothing else.
fn assert_api_error(body: &serde_json::Value) {
    let context = &body["@context"];
    assert_eq!(context["api"], API_NAMESPACE);
    assert_eq!(context["xsd"], "http://www.w3.org/2001/XMLSchema#");
    assert_eq!(context["api:hasResource"]["@type"], "xsd:anyURI");
    assert_eq!(context["@language"], "en-US");
    assert_eq!(body["@type"], "api:Error");
    let known = [
        "@context",
        "@type",
        "api:hasTitle",
        "api:hasSeverity",
        "api:hasErrorDetail",
    ];
    for key in body.as_object().unwrap().keys() {
        assert!(known.contains(&key.as_str()), "unexpected {key}");
    }
    let titles = values(body, "api:hasTitle");
    assert_eq!(titles.len(), 1, "exactly one api:hasTitle");
    assert!(!titles[0].as_str().unwrap().is_empty());
    let severities = values(body, "api:hasSeverity");
    assert!(severities.len() <= 1, "at most one api:hasSeverity");
    for severity in severities {
        let id = severity["@id"].as_str().unwrap();
        assert!(["api:ERROR", "api:WARNING"].contains(&id), "{id}");
    }
    let details = values(body, "api:hasErrorDetail");
    assert!(!details.is_empty(), "at least one api:hasErrorDetail");
    for detail in details {
        assert_eq!(detail["@type"], "api:ErrorDetail");
        for key in detail.as_object().unwrap().keys() {
            let known = ["@type", "api:hasCode", "api:hasMessage", "api:hasResource"];
            assert!(known.contains(&key.as_str()), "unexpected {key}");
        }
        for property in ["api:hasCode", "api:hasMessage", "api:hasResource"] {
            let found = values(detail, property);
            assert!(found.len() <= 1, "at most one {property}");
            assert!(
                found.iter().all(|v| v.is_string()),
                "{property} is a string"
            );
        }
        if let Some(uri) = detail["api:hasResource"].as_str() {
            let (scheme, rest) = uri.split_once("://").unwrap();
            assert!(scheme == "https" || scheme == "http", "{uri}");
            assert!(!rest.starts_with('/') && rest.contains('/'), "{uri}");
            assert!(
                uri.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'"'),
                "{uri}"
            );
        }
    }
}

#[test]
fn deny_body_is_a_one_record_2_3_error() {
    let reply = deny_response(
        Reason::UntrustedCa,
        &resource("OneRecord.example:8443", "/logistics-objects/1?x=<script>"),
        "x-onerecord-",
    );
    assert_eq!(reply.status, 403);
    assert_eq!(reply.status, Reason::UntrustedCa.http_status());
    assert!(
        reply
            .headers
            .contains(&("content-type".into(), "application/ld+json".into()))
    );
    assert!(
        reply
            .headers
            .contains(&("content-language".into(), "en-US".into()))
    );
    assert!(
        reply
            .headers
            .contains(&("x-onerecord-deny-reason".into(), "untrusted_ca".into()))
    );
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_api_error(&body);
    assert_eq!(body["api:hasTitle"], "Not authorized to perform action");
    assert_eq!(body["api:hasSeverity"]["@id"], "api:ERROR");
    let details = body["api:hasErrorDetail"].as_array().unwrap();
    assert_eq!(details.len(), 1);
    assert_eq!(details[0]["api:hasCode"], "403");
    assert_eq!(details[0]["api:hasMessage"], Reason::UntrustedCa.message());
    assert_eq!(
        details[0]["api:hasResource"],
        "https://onerecord.example:8443/logistics-objects/1"
    );
    assert!(!reply.body.contains("<script>"));
}

#[test]
fn every_reason_has_a_valid_body_with_its_status() {
    for reason in Reason::ALL {
        let reply = deny_response(reason, &resource("h", "/x"), "x-onerecord-");
        let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_api_error(&body);
        assert_eq!(reply.status, reason.http_status());
        assert_eq!(
            body["api:hasErrorDetail"][0]["api:hasCode"],
            reason.http_status().to_string()
        );
    }
}

#[test]
fn resource_is_bounded() {
    let long = format!("/{}", "a".repeat(2000));
    let body: serde_json::Value =
        serde_json::from_str(&error_body(Reason::TlsRequired, &resource("h", &long))).unwrap();
    assert_api_error(&body);
    let uri = body["api:hasErrorDetail"][0]["api:hasResource"]
        .as_str()
        .unwrap();
    assert_eq!(uri.len(), MAX_RESOURCE_LEN);
}

#[test]
fn an_invalid_path_or_authority_is_never_echoed() {
    let cases = [
        ("h", "/caf\u{e9}\"\n<script>"),
        ("h", "/\u{fffd}secret"),
        ("h", ""),
        ("h", "no-slash"),
        ("h", "/a%zz"),
        ("<script>", "/ok"),
        ("secret@h", "/ok"),
        ("", "/ok"),
    ];
    for (authority, path) in cases {
        let text = error_body(Reason::RequestPathInvalid, &resource(authority, path));
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_api_error(&body);
        let detail = &body["api:hasErrorDetail"][0];
        assert_eq!(
            detail["api:hasResource"],
            serde_json::Value::Null,
            "{authority:?} {path:?}"
        );
        assert_eq!(
            detail["api:hasMessage"],
            Reason::RequestPathInvalid.message()
        );
        assert!(!text.contains("script") && !text.contains("secret") && !text.contains("zz"));
    }
}

#[test]
fn header_safe_escapes_controls_percent_and_non_ascii() {
    assert_eq!(header_safe("a%b\u{7f}\u{e9}\t"), "a%25b%7F%C3%A9%09");
}
