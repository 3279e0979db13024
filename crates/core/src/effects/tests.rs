use super::reply::MAX_RESOURCE_LEN;
use super::*;
use crate::config::{Mode, TlsVersion};
use crate::decision::{Decision, Verdict};
use crate::fingerprint::Fingerprint;
use crate::reason::Reason;
use crate::trust::VerifiedClient;

fn decision(verdict: Verdict, mode: Mode) -> Decision {
    Decision {
        verdict,
        mode,
        rule: None,
        tls_version: Some(TlsVersion::Tls13),
        client: None,
        ignored_certificate: None,
        detail: None,
    }
}

#[test]
fn deny_body_is_a_one_record_error() {
    let reply = deny_response(
        Reason::UntrustedCa,
        "/logistics-objects/1?x=<script>",
        "x-onerecord-",
    );
    assert_eq!(reply.status, 403);
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
    assert_eq!(body["@context"]["api"], API_NAMESPACE);
    assert_eq!(body["@type"], "api:Error");
    assert!(
        body["api:hasTitle"]
            .as_str()
            .unwrap()
            .starts_with("Forbidden")
    );
    let details = body["api:hasErrorDetail"].as_array().unwrap();
    assert_eq!(details.len(), 1);
    assert_eq!(details[0]["@type"], "api:ErrorDetail");
    assert_eq!(details[0]["api:hasCode"], "403");
    assert_eq!(details[0]["api:hasMessage"], Reason::UntrustedCa.message());
    assert_eq!(details[0]["api:hasResource"], "/logistics-objects/1");
    assert!(!reply.body.contains("<script>"));
}

#[test]
fn resource_is_bounded() {
    let long = format!("/{}", "a".repeat(2000));
    let body: serde_json::Value =
        serde_json::from_str(&error_body(Reason::TlsRequired, &long)).unwrap();
    let resource = body["api:hasErrorDetail"][0]["api:hasResource"]
        .as_str()
        .unwrap();
    assert_eq!(resource.len(), MAX_RESOURCE_LEN);
}

#[test]
fn an_invalid_path_is_never_echoed() {
    for path in [
        "/caf\u{e9}\"\n<script>",
        "/\u{fffd}secret",
        "",
        "no-slash",
        "/a%zz",
    ] {
        let text = error_body(Reason::RequestPathInvalid, path);
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        let detail = &body["api:hasErrorDetail"][0];
        assert_eq!(
            detail["api:hasResource"],
            serde_json::Value::Null,
            "{path:?}"
        );
        assert_eq!(
            detail["api:hasMessage"],
            Reason::RequestPathInvalid.message()
        );
        assert!(!text.contains("script") && !text.contains("secret") && !text.contains("zz"));
    }
}

#[test]
fn annotations_for_allow_without_client() {
    let a = annotations(&decision(Verdict::Allow, Mode::Enforce), "x-onerecord-");
    assert_eq!(
        a,
        vec![
            ("x-onerecord-tls-version".to_string(), "TLSv1.3".to_string()),
            ("x-onerecord-mtls".to_string(), "none".to_string()),
        ]
    );
}

#[test]
fn annotations_for_verified_client_in_audit() {
    let mut d = decision(Verdict::Deny(Reason::ClientNotAllowed), Mode::Audit);
    d.rule = Some("access-delegations".into());
    d.client = Some(VerifiedClient {
        leaf_sha256: Fingerprint([1; 32]),
        subject: "CN=client\r\nx-evil: 1,O=Example".into(),
        uri_sans: vec!["https://a.example/1".into(), "urn:x,y".into()],
        dns_sans: vec![],
        organizations: vec!["Example".into()],
        anchor_sha256: Fingerprint([2; 32]),
        path_sha256: vec![Fingerprint([1; 32]), Fingerprint([2; 32])],
    });
    let a = annotations(&d, "x-1r-");
    let get = |n: &str| a.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(get("x-1r-mtls"), Some("verified"));
    assert_eq!(get("x-1r-client-sha256"), Some("01".repeat(32).as_str()));
    assert_eq!(
        get("x-1r-client-subject"),
        Some("CN=client%0D%0Ax-evil: 1,O=Example")
    );
    assert_eq!(
        get("x-1r-client-uri-san"),
        Some("https://a.example/1,urn:x%2Cy")
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
}

#[test]
fn header_safe_escapes_controls_percent_and_non_ascii() {
    assert_eq!(header_safe("a%b\u{7f}\u{e9}\t"), "a%25b%7F%C3%A9%09");
}
