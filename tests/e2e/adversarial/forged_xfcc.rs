//! Forged XFCC and annotations from clients without a certificate: over
//! plaintext, and over TLS under both XFCC settings.

use onerecord_tls_policy_testkit as support;

use super::{Target, no_identity, pki, policy, spec, xfcc_of};
use serde_json::json;
use support::client::plain_send;
use support::curl::Curl;
use support::forged::{forged, forged_curl};
use support::http::{Request, Response};
use support::policies::{ACTION, DELEGATION, OBJECT};

#[test]
fn forged_xfcc_over_plaintext_is_denied_tls_required() {
    for spec in [
        spec(&policy(json!({}))),
        spec(&policy(json!({}))).xfcc_append_forward(),
    ] {
        let t = Target::start(spec);
        let claim = xfcc_of(&pki().client);
        for path in [OBJECT, DELEGATION, ACTION] {
            let req = forged(Request::get(path)).header("x-forwarded-client-cert", &claim);
            t.expect_deny("tls_required", path, || plain_send(t.s.plain(), &req));
            t.expect_deny("tls_required", path, || {
                let resp = forged_curl(Curl::h2c(t.s.plain()))
                    .header("x-forwarded-client-cert", &claim)
                    .get(path);
                assert_eq!(resp.version, "HTTP/2");
                resp
            });
        }
        t.assert_vm_intact();
    }
}

#[test]
fn forged_xfcc_without_a_client_certificate_gains_nothing() {
    // SANITIZE_SET replaces a client's XFCC; APPEND_FORWARD keeps it only
    // when it appends its own element, i.e. for a client certificate.
    for spec in [
        spec(&policy(json!({}))),
        spec(&policy(json!({}))).xfcc_append_forward(),
    ] {
        let t = Target::start(spec);
        let claim = xfcc_of(&pki().client);
        let http1 = |path: &str| {
            let req = forged(Request::get(path)).header("x-forwarded-client-cert", &claim);
            t.s.client().send(t.tls(), &req)
        };
        let http2 = |path: &str| {
            let resp = t
                .h2_as(None)
                .header("x-forwarded-client-cert", &claim)
                .get(path);
            assert_eq!(resp.version, "HTTP/2");
            resp
        };
        for path in [DELEGATION, ACTION] {
            t.expect_deny("client_certificate_required", path, || http1(path));
            t.expect_deny("client_certificate_required", path, || http2(path));
        }
        for send in [&http1 as &dyn Fn(&str) -> Response, &http2] {
            let echo = t.expect_allow(&no_identity(None), || send(OBJECT));
            assert_eq!(echo.get("x-forwarded-client-cert"), None);
        }
        t.assert_vm_intact();
    }
}
