//! Audit mode: what enforce would deny passes, with the verdict.

use onerecord_tls_policy_testkit as support;
use openssl::ssl::SslVersion;
use serde_json::json;
use support::client::plain_send;
use support::http::Request;
use support::onerecord::{assert_allowed, assert_annotated};
use support::policies::{DELEGATION, OBJECT, delegations_policy};
use support::stack::Stack;

#[test]
fn audit_mode_passes_plaintext_with_the_verdict() {
    let s = Stack::start(json!({ "mode": "audit" }));
    let echo = assert_allowed(&plain_send(s.plain(), &Request::get(OBJECT)));
    assert_eq!(
        echo.get("x-onerecord-policy"),
        Some("audit-deny; reason=tls_required"),
        "{:#?}",
        echo.headers
    );
    assert_eq!(echo.get("x-onerecord-mtls"), Some("none"));
    assert_eq!(
        echo.get("x-onerecord-tls-version"),
        None,
        "plaintext has no TLS version to report"
    );
}

#[test]
fn audit_mode_passes_tls_1_1_with_the_verdict() {
    let s = Stack::start(json!({ "mode": "audit" }));
    let resp = s
        .client()
        .version(SslVersion::TLS1_1)
        .get(s.legacy(), OBJECT);
    let echo = assert_allowed(&resp);
    assert_eq!(
        echo.get("x-onerecord-policy"),
        Some("audit-deny; reason=tls_version_too_low"),
        "{:#?}",
        echo.headers
    );
    assert_eq!(echo.get("x-onerecord-tls-version"), Some("TLSv1.1"));
}

#[test]
fn audit_mode_adds_no_verdict_when_enforce_would_allow() {
    let s = Stack::start(json!({ "mode": "audit" }));
    let resp = s.client().version(SslVersion::TLS1_2).get(s.tls(), OBJECT);
    assert_annotated(&assert_allowed(&resp), "TLSv1.2", "none");
}

#[test]
fn audit_mode_passes_a_missing_client_certificate_with_the_verdict() {
    let mut config = delegations_policy();
    config["mode"] = json!("audit");
    let s = Stack::start(config);
    let echo = assert_allowed(&s.client().get(s.tls(), DELEGATION));
    assert_eq!(
        echo.get("x-onerecord-policy"),
        Some("audit-deny; reason=client_certificate_required")
    );
}
