//! The deny itself: what its body holds, the annotation prefix, and that
//! the filter keeps serving.

use onerecord_tls_policy_testkit as support;
use openssl::ssl::SslVersion;
use serde_json::json;
use std::time::Duration;
use support::client::{connect_plain, plain_send};
use support::http::Request;
use support::onerecord::{assert_allowed, assert_denied, assert_denied_with_prefix, deny_reason};
use support::policies::{DELEGATION, OBJECT, delegations_policy};
use support::stack::Stack;

#[test]
fn deny_body_never_echoes_request_content() {
    let s = Stack::start(json!({}));
    let req = Request::get("/logistics-objects/shipment-1?token=SECRETQUERY")
        .header("x-evil", "<script>SECRETHEADER</script>")
        .header("x-onerecord-mtls", "SECRETFORGED")
        .header("x-forwarded-client-cert", "Hash=SECRETXFCC");
    let resp = plain_send(s.plain(), &req);
    assert_denied(&resp, "tls_required", OBJECT);
    let everything = format!("{:?}{}", resp.headers, resp.text());
    for secret in [
        "SECRETQUERY",
        "SECRETHEADER",
        "SECRETFORGED",
        "SECRETXFCC",
        "<script>",
    ] {
        assert!(
            !everything.contains(secret),
            "the deny echoes {secret}: {everything}"
        );
    }
}

#[test]
fn custom_annotation_prefix_names_every_header() {
    let s = Stack::start(json!({ "annotation_prefix": "x-1r-" }));
    let resp = plain_send(s.plain(), &Request::get(OBJECT));
    assert_denied_with_prefix(&resp, "x-1r-", "tls_required", OBJECT);
    assert_eq!(
        deny_reason(&resp),
        None,
        "the default-prefix header must not be sent too"
    );

    let req = Request::get(OBJECT)
        .header("x-1r-mtls", "verified")
        .header("x-1r-client-sha256", &"ab".repeat(32));
    let echo = assert_allowed(&s.client().version(SslVersion::TLS1_2).send(s.tls(), &req));
    let ours = echo.with_prefix("x-1r-");
    assert_eq!(
        ours.get("x-1r-tls-version"),
        Some(&vec!["TLSv1.2".to_string()]),
        "{ours:#?}"
    );
    assert_eq!(
        ours.get("x-1r-mtls"),
        Some(&vec!["none".to_string()]),
        "{ours:#?}"
    );
    assert_eq!(
        ours.len(),
        2,
        "forged x-1r-* reached the upstream: {ours:#?}"
    );
}

#[test]
fn filter_keeps_serving_after_denies() {
    let s = Stack::start(delegations_policy());
    // One keep-alive TLS connection, deny and allow interleaved, idle gaps between.
    let mut conn = s.client().open(s.tls());
    for round in 0..3 {
        assert_denied(
            &conn.get(DELEGATION),
            "client_certificate_required",
            DELEGATION,
        );
        std::thread::sleep(Duration::from_millis(150));
        let echo = assert_allowed(&conn.get(OBJECT));
        assert_eq!(echo.get("x-onerecord-mtls"), Some("none"), "round {round}");
        std::thread::sleep(Duration::from_millis(150));
    }
    // Plaintext denies, on one connection, then fresh connections of both kinds.
    let mut plain = connect_plain(s.plain());
    for _ in 0..3 {
        assert_denied(&plain.get(OBJECT), "tls_required", OBJECT);
    }
    for _ in 0..3 {
        assert_denied(
            &plain_send(s.plain(), &Request::get(OBJECT)),
            "tls_required",
            OBJECT,
        );
        assert_allowed(&s.client().get(s.tls(), OBJECT));
    }
    assert_eq!(s.upstream.count(), 6);
}
