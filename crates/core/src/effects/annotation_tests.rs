//! The annotations in both formats; the dictionary read back with an
//! independent RFC 8941 parser (`sfv`), as a backend would read it.

use super::tests::decision;
use super::*;
use crate::config::{AnnotationFormat, Mode};
use crate::decision::{Decision, Verdict};
use crate::fingerprint::Fingerprint;
use crate::reason::Reason;
use crate::trust::VerifiedClient;
use sfv::{BareItem, ListEntry, Parser};

fn verified(subject: &str, uri_sans: &[&str]) -> std::rc::Rc<VerifiedClient> {
    std::rc::Rc::new(VerifiedClient {
        leaf_sha256: Fingerprint([1; 32]),
        subject: subject.into(),
        uri_sans: uri_sans.iter().map(|u| u.to_string()).collect(),
        dns_sans: vec![],
        organizations: vec!["Example".into()],
        anchor_sha256: Fingerprint([2; 32]),
        path_sha256: vec![Fingerprint([1; 32]), Fingerprint([2; 32])],
        path_links: Vec::new(),
        ocsp_queries: Vec::new(),
        not_after: 1_000,
    })
}

fn audit_deny_with_client() -> Decision {
    let mut d = decision(Verdict::Deny(Reason::ClientNotAllowed), Mode::Audit);
    d.rule = Some("access-delegations".into());
    d.client = Some(verified(
        "CN=client\r\nx-evil: 1,O=Ex\"am\\ple",
        &["https://a.example/1", "urn:x,y", "urn:\"q\""],
    ));
    d
}

/// The one dictionary header, parsed.
fn dictionary(d: &Decision, prefix: &str) -> sfv::Dictionary {
    let headers = annotations(d, prefix, AnnotationFormat::Dictionary);
    assert_eq!(headers.len(), 1, "{headers:?}");
    let (name, value) = &headers[0];
    assert_eq!(name, &format!("{prefix}facts"));
    Parser::new(value.as_str())
        .parse_dictionary()
        .unwrap_or_else(|e| panic!("{value:?} is not a dictionary: {e}"))
}

fn member<'a>(dict: &'a sfv::Dictionary, key: &str) -> Option<&'a ListEntry> {
    dict.iter()
        .find(|(k, _)| k.as_str() == key)
        .map(|(_, entry)| entry)
}

fn item<'a>(dict: &'a sfv::Dictionary, key: &str) -> &'a sfv::Item {
    match member(dict, key) {
        Some(ListEntry::Item(item)) => item,
        other => panic!("{key}: {other:?}"),
    }
}

fn token(dict: &sfv::Dictionary, key: &str) -> String {
    match &item(dict, key).bare_item {
        BareItem::Token(t) => t.as_str().to_string(),
        other => panic!("{key} is not a token: {other:?}"),
    }
}

fn string(dict: &sfv::Dictionary, key: &str) -> String {
    match &item(dict, key).bare_item {
        BareItem::String(s) => s.as_str().to_string(),
        other => panic!("{key} is not a string: {other:?}"),
    }
}

/// A parameter of the `policy` member.
fn param<'a>(dict: &'a sfv::Dictionary, key: &str) -> Option<&'a BareItem> {
    item(dict, "policy")
        .params
        .iter()
        .find(|(k, _)| k.as_str() == key)
        .map(|(_, v)| v)
}

#[test]
fn headers_for_allow_without_client() {
    let a = annotations(
        &decision(Verdict::Allow, Mode::Enforce),
        "x-onerecord-",
        AnnotationFormat::Headers,
    );
    assert_eq!(
        a,
        vec![
            ("x-onerecord-tls-version".to_string(), "TLSv1.3".to_string()),
            ("x-onerecord-mtls".to_string(), "none".to_string()),
        ]
    );
}

#[test]
fn headers_for_verified_client_in_audit() {
    let a = annotations(
        &audit_deny_with_client(),
        "x-1r-",
        AnnotationFormat::Headers,
    );
    let get = |n: &str| a.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(get("x-1r-mtls"), Some("verified"));
    assert_eq!(get("x-1r-client-sha256"), Some("01".repeat(32).as_str()));
    assert_eq!(
        get("x-1r-client-subject"),
        Some("CN=client%0D%0Ax-evil: 1,O=Ex\"am\\ple")
    );
    assert_eq!(
        get("x-1r-client-uri-san"),
        Some("https://a.example/1,urn:x%2Cy,urn:\"q\"")
    );
    assert_eq!(
        get("x-1r-trust-anchor-sha256"),
        Some("02".repeat(32).as_str())
    );
    assert_eq!(get("x-1r-rule"), Some("access-delegations"));
    assert_eq!(
        get("x-1r-policy"),
        Some("audit-deny; reason=client_not_allowed")
    );
    assert_eq!(get("x-1r-facts"), None);
}

#[test]
fn the_dictionary_carries_every_fact_a_parser_reads_back() {
    let d = audit_deny_with_client();
    let dict = dictionary(&d, "x-1r-");
    let keys: Vec<&str> = dict.keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "tls-version",
            "mtls",
            "client-sha256",
            "client-subject",
            "client-uri-san",
            "trust-anchor-sha256",
            "rule",
            "policy"
        ]
    );
    assert_eq!(token(&dict, "tls-version"), "TLSv1.3");
    assert_eq!(token(&dict, "mtls"), "verified");
    assert_eq!(string(&dict, "client-sha256"), "01".repeat(32));
    // Quotes and backslashes survive as themselves; controls as in the headers.
    assert_eq!(
        string(&dict, "client-subject"),
        "CN=client%0D%0Ax-evil: 1,O=Ex\"am\\ple"
    );
    let Some(ListEntry::InnerList(uris)) = member(&dict, "client-uri-san") else {
        panic!("client-uri-san is not an inner list");
    };
    let uris: Vec<String> = uris
        .items
        .iter()
        .map(|i| i.bare_item.as_string().map(|s| s.as_str().to_string()))
        .collect::<Option<_>>()
        .expect("every URI is a string");
    // No comma encoding needed: each URI is its own string.
    assert_eq!(uris, ["https://a.example/1", "urn:x,y", "urn:\"q\""]);
    assert_eq!(string(&dict, "trust-anchor-sha256"), "02".repeat(32));
    assert_eq!(string(&dict, "rule"), "access-delegations");
    assert_eq!(token(&dict, "policy"), "audit-deny");
    let reason = param(&dict, "reason").and_then(|v| v.as_token());
    assert_eq!(reason.map(|t| t.as_str()), Some("client_not_allowed"));
    assert_eq!(param(&dict, "detail"), None);
}

#[test]
fn the_dictionary_names_the_detail_and_the_bound_token() {
    let mut d = audit_deny_with_client();
    d.verdict = Verdict::Deny(Reason::CertificateProfileViolation);
    d.detail = Some("extended_key_usage_missing");
    d.token = Some(crate::binding::BoundToken {
        logistics_agent_uri: "https://1r.example.com/agents/\"a\"\u{e9}".into(),
    });
    let dict = dictionary(&d, "x-onerecord-");
    let detail = param(&dict, "detail").and_then(|v| v.as_string());
    assert_eq!(
        detail.map(|s| s.as_str()),
        Some("extended_key_usage_missing")
    );
    assert_eq!(
        string(&dict, "logistics-agent"),
        "https://1r.example.com/agents/\"a\"%C3%A9"
    );
    assert_eq!(token(&dict, "token-binding"), "verified");
}

#[test]
fn every_byte_a_certificate_can_hold_still_makes_a_valid_dictionary() {
    let all: String = (0u8..=0x7f)
        .map(char::from)
        .chain(['\u{e9}', '\u{fffd}'])
        .collect();
    let mut d = decision(Verdict::Allow, Mode::Enforce);
    d.client = Some(verified(&all, &[&all, ""]));
    let dict = dictionary(&d, "x-onerecord-");
    // The string a backend reads is the header format's value, byte for byte.
    let headers = annotations(&d, "x-onerecord-", AnnotationFormat::Headers);
    let subject = headers
        .iter()
        .find(|(k, _)| k == "x-onerecord-client-subject")
        .map(|(_, v)| v.clone());
    assert_eq!(Some(string(&dict, "client-subject")), subject);
    assert_eq!(string(&dict, "client-subject"), header_safe(&all));
}

#[test]
fn without_a_client_the_dictionary_says_none() {
    let dict = dictionary(&decision(Verdict::Allow, Mode::Enforce), "x-onerecord-");
    assert_eq!(dict.len(), 2);
    assert_eq!(token(&dict, "tls-version"), "TLSv1.3");
    assert_eq!(token(&dict, "mtls"), "none");
}
