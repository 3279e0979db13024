//! Client-sent annotations and XFCC never reach the upstream.

use onerecord_tls_policy_testkit as support;
use openssl::ssl::SslVersion;
use serde_json::json;
use support::http::Request;
use support::onerecord::assert_allowed;
use support::policies::OBJECT;
use support::stack::Stack;
use support::upstream::Echo;

/// The forged annotations, one more under the prefix and a forged XFCC.
fn forged(req: Request) -> Request {
    support::forged::forged(req)
        .header("x-onerecord-anything-else", "1")
        .header(
            "x-forwarded-client-cert",
            "By=spiffe://evil;Hash=00;Subject=\"CN=admin\"",
        )
}

/// Only the filter's own annotations, with the filter's values.
fn assert_only_genuine_annotations(echo: &Echo, tls_version: &str) {
    let ours = echo.with_prefix("x-onerecord-");
    let expected: std::collections::BTreeMap<String, Vec<String>> = [
        ("x-onerecord-mtls".to_string(), vec!["none".to_string()]),
        (
            "x-onerecord-tls-version".to_string(),
            vec![tls_version.to_string()],
        ),
    ]
    .into();
    assert_eq!(ours, expected, "forged annotations reached the upstream");
    // Envoy's SANITIZE_SET drops a client-sent XFCC when there is no client certificate.
    assert_eq!(echo.get("x-forwarded-client-cert"), None);
}

#[test]
fn forged_annotations_never_reach_the_upstream_http1() {
    let s = Stack::start(json!({}));
    let resp = s
        .client()
        .version(SslVersion::TLS1_2)
        .send(s.tls(), &forged(Request::get(OBJECT)));
    assert_only_genuine_annotations(&assert_allowed(&resp), "TLSv1.2");
}

#[test]
fn forged_annotations_never_reach_the_upstream_http2() {
    let s = Stack::start(json!({}));
    let mut curl = s.h2().tls_version("1.3");
    for (name, value) in forged(Request::get(OBJECT)).headers {
        curl = curl.header(&name, &value);
    }
    let resp = curl.get(OBJECT);
    assert_eq!(resp.version, "HTTP/2");
    assert_only_genuine_annotations(&assert_allowed(&resp), "TLSv1.3");
}

#[test]
fn forged_audit_verdict_is_stripped_in_audit_mode() {
    let s = Stack::start(json!({ "mode": "audit" }));
    let req = Request::get(OBJECT).header("x-onerecord-policy", "audit-deny; reason=tls_required");
    let resp = s
        .client()
        .version(SslVersion::TLS1_3)
        .send(s.tls(), &forged(req));
    assert_only_genuine_annotations(&assert_allowed(&resp), "TLSv1.3");
}
