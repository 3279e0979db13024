//! Plaintext and the TLS version floor.

use onerecord_tls_policy_testkit as support;
use openssl::ssl::SslVersion;
use serde_json::json;
use support::client::plain_send;
use support::http::Request;
use support::onerecord::{assert_allowed, assert_annotated, assert_denied};
use support::policies::OBJECT;
use support::stack::Stack;

#[test]
fn plaintext_http1_is_denied_tls_required() {
    let s = Stack::start(json!({}));
    let resp = plain_send(s.plain(), &Request::get(OBJECT));
    assert_eq!(resp.version, "HTTP/1.1");
    assert_denied(&resp, "tls_required", OBJECT);
    assert_eq!(
        s.upstream.count(),
        0,
        "a denied request must not reach the backend"
    );
}

#[test]
fn plaintext_http2_is_denied_tls_required() {
    let s = Stack::start(json!({}));
    let resp = support::curl::Curl::h2c(s.plain()).get(OBJECT);
    assert_eq!(resp.version, "HTTP/2");
    assert_denied(&resp, "tls_required", OBJECT);
    assert_eq!(s.upstream.count(), 0);
}

// --- TLS versions --------------------------------------------------------

#[test]
fn tls_1_0_is_denied_tls_version_too_low() {
    let s = Stack::start(json!({}));
    let client = s
        .client()
        .version(SslVersion::TLS1)
        .cipher_list("ECDHE-RSA-AES128-SHA:@SECLEVEL=0");
    let mut conn = client.open(s.legacy());
    assert_eq!(conn.tls_version(), Some("TLSv1"));
    assert_denied(&conn.get(OBJECT), "tls_version_too_low", OBJECT);
    assert_eq!(s.upstream.count(), 0);
}

#[test]
fn tls_1_1_is_denied_tls_version_too_low() {
    let s = Stack::start(json!({}));
    let client = s.client().version(SslVersion::TLS1_1);
    // The production-shaped listener refuses it at the handshake already.
    assert!(
        client.connect(s.tls()).is_err(),
        "TLS 1.1 handshake with the TLS 1.2+ listener succeeded"
    );
    let mut conn = client.open(s.legacy());
    assert_eq!(conn.tls_version(), Some("TLSv1.1"));
    assert_denied(&conn.get(OBJECT), "tls_version_too_low", OBJECT);
    assert_eq!(s.upstream.count(), 0);
}

#[test]
fn tls_1_2_is_allowed_and_annotated() {
    let s = Stack::start(json!({}));
    let mut conn = s.client().version(SslVersion::TLS1_2).open(s.tls());
    assert_eq!(conn.tls_version(), Some("TLSv1.2"));
    let echo = assert_allowed(&conn.get(OBJECT));
    assert_annotated(&echo, "TLSv1.2", "none");
    assert_eq!(echo.path(), OBJECT);
}

#[test]
fn tls_1_3_is_allowed_and_annotated() {
    let s = Stack::start(json!({}));
    let mut conn = s.client().version(SslVersion::TLS1_3).open(s.tls());
    assert_eq!(conn.tls_version(), Some("TLSv1.3"));
    assert_annotated(&assert_allowed(&conn.get(OBJECT)), "TLSv1.3", "none");
}

#[test]
fn tls_1_2_is_allowed_on_the_legacy_listener_too() {
    // The verdict follows the negotiated version, not the listener.
    let s = Stack::start(json!({}));
    let mut conn = s.client().version(SslVersion::TLS1_2).open(s.legacy());
    assert_annotated(&assert_allowed(&conn.get(OBJECT)), "TLSv1.2", "none");
}

#[test]
fn http2_over_tls_is_allowed_and_annotated() {
    let s = Stack::start(json!({}));
    let resp = s.h2().tls_version("1.2").get(OBJECT);
    assert_eq!(resp.version, "HTTP/2");
    assert_annotated(&assert_allowed(&resp), "TLSv1.2", "none");
    let resp = s.h2().tls_version("1.3").get(OBJECT);
    assert_annotated(&assert_allowed(&resp), "TLSv1.3", "none");
}

#[test]
fn min_tls_1_3_denies_tls_1_2_and_allows_tls_1_3() {
    let s = Stack::start(json!({ "min_tls_version": "TLSv1.3" }));
    let resp = s.client().version(SslVersion::TLS1_2).get(s.tls(), OBJECT);
    assert_denied(&resp, "tls_version_too_low", OBJECT);
    let resp = s.h2().tls_version("1.2").get(OBJECT);
    assert_eq!(resp.version, "HTTP/2");
    assert_denied(&resp, "tls_version_too_low", OBJECT);
    assert_eq!(s.upstream.count(), 0);

    let resp = s.client().version(SslVersion::TLS1_3).get(s.tls(), OBJECT);
    assert_annotated(&assert_allowed(&resp), "TLSv1.3", "none");
    let resp = s.h2().tls_version("1.3").get(OBJECT);
    assert_annotated(&assert_allowed(&resp), "TLSv1.3", "none");
}
