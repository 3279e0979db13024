//! Request forms an attacker would try against the path rules and the
//! annotation stripping, beyond those of `path_forms` and
//! `forged_annotations`: dot segments over empty segments, one kind of
//! separator at a time, a leading `//` a backend takes as an authority, an
//! encoded NUL, and the forms Envoy itself refuses or rewrites. Each case
//! checks what the recording upstream received.

use onerecord_tls_policy_testkit as support;

use serde_json::{Value, json};
use support::bootstrap::{EnvoySpec, HcmSettings};
use support::h2::{H2Connection, H2Request};
use support::http::{Request, Response};
use support::onerecord::{assert_allowed, assert_annotated, deny_reason};
use support::policies::{delegations_rule, pinned_client_ca, with};
use support::stack::{Stack, assert_refused};

/// A `public` optional rule listed first, then mTLS required on
/// `/access-delegations`, exactly `/admin`, and `DELETE` of objects.
fn policy() -> Value {
    let rules = json!([
        { "name": "public", "path_prefix": "/public", "mtls": "optional" },
        delegations_rule(),
        { "name": "admin", "path_exact": "/admin", "mtls": "required" },
        { "name": "delete-objects", "path_prefix": "/logistics-objects", "methods": ["DELETE"], "mtls": "required" },
    ]);
    with(pinned_client_ca(), json!({ "rules": rules }))
}

/// `GET path` without a certificate over HTTP/1.1 and HTTP/2.
fn anonymous_get(s: &Stack, path: &str) -> [Response; 2] {
    let h1 = s.client().send(s.tls(), &Request::get(path));
    let h2 = H2Connection::connect(&s.client(), s.tls())
        .send(&H2Request::get(path))
        .unwrap_or_else(|e| panic!("h2 GET {path}: {e:?}"));
    [h1, h2]
}

/// Envoy answered itself (`status`), before the filter; nothing forwarded.
fn assert_answered_by_envoy(s: &Stack, resp: &Response, status: u16, what: &str) {
    assert_eq!(resp.status, status, "{what}: {resp:#?}");
    assert_eq!(deny_reason(resp), None, "{what}: {resp:#?}");
    assert_eq!(s.upstream.count(), 0, "{what}: {:#?}", s.upstream.seen());
}

/// Each reads as a protected resource to a common backend behind an Envoy
/// that forwards the path as sent (RFC 3986 dot removal and the WHATWG URL
/// parser keep `//` as a segment `..` removes, the WHATWG parser takes `\`
/// but not `%5C` as `/`, and `new URL(req.url, base)` in Node reads a
/// leading `//` as an authority).
const BARE_FORMS: &[&str] = &[
    "/./access-delegations//..",
    "/./admin//..",
    "/.\\access-delegations/..%5C",
    "//public/access-delegations",
    "//public//admin",
    "/x/%2e%2E/access-delegations",
    "/x/%2E;/..;/access-delegations",
    "/x%2f..%2faccess-delegations",
];

#[test]
fn path_forms_around_the_rules_need_the_certificate_with_a_bare_connection_manager() {
    let s = Stack::start_spec(EnvoySpec::new(&policy()).hcm(HcmSettings::Bare));
    for path in BARE_FORMS {
        for resp in anonymous_get(&s, path) {
            let what = format!("{} GET {path}", resp.version);
            assert_refused(&s, &resp, "client_certificate_required", &what);
        }
    }
    // An encoded NUL ends the path for a backend in C: refused as such.
    for resp in anonymous_get(&s, "/admin%00") {
        let what = format!("{} GET /admin%00", resp.version);
        assert_refused(&s, &resp, "request_path_invalid", &what);
    }
    // Past 4096 bytes the path is not read at all; a long query is fine.
    let longest = "/public".to_string() + &"/a".repeat((4096 - 7) / 2);
    let too_long = longest.clone() + "/x";
    for resp in anonymous_get(&s, &too_long) {
        let what = format!("{} GET a {}-byte path", resp.version, too_long.len());
        assert_refused(&s, &resp, "request_path_invalid", &what);
    }
    let with_query = format!("{longest}?q={}", "x".repeat(5000));
    for resp in anonymous_get(&s, &with_query) {
        assert_annotated(&assert_allowed(&resp), "TLSv1.3", "none");
    }
    assert_eq!(s.upstream.take_seen().len(), 2);
    // The absolute form is read by its path.
    let absolute = Request::get("https://localhost/public/../access-delegations");
    let resp = s.client().send(s.tls(), &absolute);
    assert_refused(&s, &resp, "client_certificate_required", "absolute form");

    // Forms Envoy refuses on its own: a fragment, a lower-case method over
    // HTTP/1.1, an HTTP/2 `:path` without its leading `/`.
    for resp in anonymous_get(&s, "/public#/../access-delegations") {
        assert_answered_by_envoy(&s, &resp, 400, "fragment");
    }
    let lower = Request {
        method: "get".into(),
        ..Request::get("/access-delegations")
    };
    let resp = s.client().send(s.tls(), &lower);
    assert_answered_by_envoy(&s, &resp, 400, "method get");
    for path in [&b"access-delegations"[..], b"*"] {
        let sent = H2Connection::connect(&s.client(), s.tls()).send(&H2Request::new("GET", path));
        assert!(sent.is_err(), "h2 :path {path:?}: {sent:?}");
    }
    assert_eq!(s.upstream.count(), 0, "{:#?}", s.upstream.seen());

    // Double encoding is no common reading: forwarded as sent.
    let [h1, h2] = anonymous_get(&s, "/x%252F..%252Faccess-delegations");
    for resp in [h1, h2] {
        assert_annotated(&assert_allowed(&resp), "TLSv1.3", "none");
    }
    for seen in s.upstream.take_seen() {
        assert_eq!(seen.path, "/x%252F..%252Faccess-delegations");
    }
}

#[test]
fn annotation_trailers_on_a_request_without_a_body_are_removed() {
    // Trailers right after the headers: an empty chunked body over
    // HTTP/1.1, HEADERS then trailing HEADERS over HTTP/2.
    let s = Stack::start_spec(EnvoySpec::new(&policy()).hcm(HcmSettings::Bare).trailers());
    let raw = "GET /logistics-objects/1 HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n0\r\nx_onerecord_mtls: verified\r\nx-checksum: abc\r\n\r\n";
    let h1 = s.client().open(s.tls()).send_raw(raw.as_bytes());
    let req = H2Request::get("/logistics-objects/1")
        .trailer(b"x_onerecord_mtls", b"verified")
        .trailer(b"x-onerecord_client-sha256", b"forged")
        .trailer(b"x-checksum", b"abc");
    let h2 = H2Connection::connect(&s.client(), s.tls()).send(&req);
    for resp in [
        h1.expect("an HTTP/1.1 response"),
        h2.expect("an h2 response"),
    ] {
        let echo = assert_allowed(&resp);
        assert_annotated(&echo, "TLSv1.3", "none");
        let names: Vec<String> = echo.trailers().into_keys().collect();
        assert_eq!(
            names,
            ["x-checksum"],
            "{}: {:#?}",
            resp.version,
            echo.headers
        );
    }
    assert_eq!(s.upstream.count(), 2);
}

#[test]
fn normalizing_envoy_forwards_what_the_rules_saw() {
    // With the example settings Envoy resolves dots over the unmerged
    // segments and merges slashes itself: the backend gets the path the
    // filter matched, and refuses an encoded NUL before the filter.
    let s = Stack::start_spec(EnvoySpec::new(&policy()).hcm(HcmSettings::Normalizing));
    for resp in anonymous_get(&s, "/./access-delegations//..") {
        let what = format!("{} dots over //", resp.version);
        assert_refused(&s, &resp, "client_certificate_required", &what);
    }
    for resp in anonymous_get(&s, "/admin%00") {
        assert_answered_by_envoy(&s, &resp, 400, "encoded NUL");
    }
    for resp in anonymous_get(&s, "//public/access-delegations") {
        let echo = assert_allowed(&resp);
        assert_annotated(&echo, "TLSv1.3", "none");
        assert_eq!(echo.get("x-onerecord-rule"), Some("public"));
        assert_eq!(echo.path(), "/public/access-delegations");
    }
}

/// A `POST` that method-override middleware (ASP.NET Core
/// `UseHttpMethodOverride`, Express `method-override`, Rack, Laravel) turns
/// into the `DELETE` a rule protects: the rules match the method it names
/// too, whatever the header's case or `_` for `-`.
#[test]
fn a_method_override_meets_the_rule_of_the_method_it_names() {
    let s = Stack::start_spec(EnvoySpec::new(&policy()).hcm(HcmSettings::Bare));
    for header in [
        "x-http-method-override",
        "x-http-method",
        "x-method-override",
        "X-HTTP-Method-Override",
        "x_http_method_override",
    ] {
        let req = Request::post("/logistics-objects/1", b"{}").header(header, "delete");
        let resp = s.client().send(s.tls(), &req);
        assert_refused(&s, &resp, "client_certificate_required", header);
    }
    // With the client certificate the same request passes, under the rule.
    let req = Request::post("/logistics-objects/1", b"{}").header("x-http-method", "DELETE");
    let echo = assert_allowed(&s.client().cert(&s.pki.client).send(s.tls(), &req));
    assert_eq!(echo.get("x-onerecord-mtls"), Some("verified"));
}
