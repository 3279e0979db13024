//! Path forms a backend maps to a protected resource though they differ
//! from the rule's spelling: case, `;` parameters, encoded and backslash
//! separators, a trailing `/` on an exact path, `HEAD` for `GET`, a `:path`
//! that is not UTF-8, and rewritten routes. Against a real Envoy with the
//! example connection manager settings, the hardened ones of
//! `envoy/envoy.yaml` and a bare connection manager, over HTTP/1.1 and
//! HTTP/2; each case checks what the recording upstream received.

use onerecord_tls_policy_testkit as support;

use serde_json::{Value, json};
use support::bootstrap::{EnvoySpec, HcmSettings};
use support::client::TlsClient;
use support::h2::{H2Connection, H2Request};
use support::http::{Request, Response};
use support::onerecord::{assert_allowed, assert_annotated, deny_reason};
use support::policies::{delegations_rule, pinned_client_ca, with};
use support::stack::{Stack, assert_refused};

/// Each reads as `/access-delegations` to some common backend.
const DELEGATION_FORMS: &[&str] = &[
    "/ACCESS-DELEGATIONS",
    "/Access-Delegations",
    "/%41ccess-delegations",
    "/;x/access-delegations",
    "/;/access-delegations",
    "/x/..;/access-delegations",
    "/.;/access-delegations",
    "/x%2F..%2Faccess-delegations",
    "/%2Faccess-delegations",
    "/x/..%5caccess-delegations",
];

/// The forms with an encoded `/` or `\`, which `UNESCAPE_AND_REDIRECT`
/// makes Envoy redirect to the unescaped, normalised path.
const ESCAPED_SEPARATORS: &[&str] = &[
    "/x%2F..%2Faccess-delegations",
    "/%2Faccess-delegations",
    "/x/..%5caccess-delegations",
];

/// mTLS required on `/access-delegations`, on exactly `/admin`, and for
/// `GET` under `/reports`; the client CA pinned and given.
fn policy() -> Value {
    let rules = json!([
        delegations_rule(),
        { "name": "admin", "path_exact": "/admin", "mtls": "required" },
        { "name": "reports", "path_prefix": "/reports", "methods": ["GET"], "mtls": "required" },
    ]);
    with(pinned_client_ca(), json!({ "rules": rules }))
}

/// `method` on `path` over HTTP/1.1 and over HTTP/2, each on a new connection.
fn both(s: &Stack, client: &TlsClient, method: &str, path: &str) -> [Response; 2] {
    let h1 = Request {
        method: method.to_string(),
        ..Request::get(path)
    };
    let h1 = client.send(s.tls(), &h1);
    let h2 = H2Connection::connect(client, s.tls())
        .send(&H2Request::new(method, path.as_bytes()))
        .unwrap_or_else(|e| panic!("h2 {method} {path}: {e:?}"));
    [h1, h2]
}

/// Forwarded for the verified client, under the rule `rule`.
fn assert_verified_under(resp: &Response, rule: &str, what: &str) {
    assert!(resp.status == 200, "{what}: {resp:#?}");
    let echo = assert_allowed(resp);
    assert_annotated(&echo, "TLSv1.3", "verified");
    assert_eq!(echo.get("x-onerecord-rule"), Some(rule), "{what}");
}

/// Every delegation form needs the certificate under each setting, unless
/// Envoy itself redirects it first (hardened settings, escaped separators).
fn delegation_forms_need_the_certificate(hcm: HcmSettings) {
    let s = Stack::start_spec(EnvoySpec::new(&policy()).hcm(hcm));
    let anonymous = s.client();
    let verified = s.client().cert(&s.pki.client);
    for path in DELEGATION_FORMS {
        let redirected = hcm == HcmSettings::Hardened && ESCAPED_SEPARATORS.contains(path);
        for resp in both(&s, &anonymous, "GET", path) {
            let what = format!("{hcm:?} {} {path} without a certificate", resp.version);
            match redirected {
                true => assert_redirected(&s, &resp, &what),
                false => assert_refused(&s, &resp, "client_certificate_required", &what),
            }
        }
        let before = s.upstream.count();
        for resp in both(&s, &verified, "GET", path) {
            let what = format!("{hcm:?} {} {path} with the certificate", resp.version);
            match redirected {
                true => assert_redirected(&s, &resp, &what),
                false => assert_verified_under(&resp, "access-delegations", &what),
            }
        }
        let forwarded = if redirected { 0 } else { 2 };
        assert_eq!(s.upstream.count(), before + forwarded, "{path}");
        // The filter reads the path in several ways but forwards it as is:
        // without normalisation, exactly as the client sent it.
        for seen in s.upstream.take_seen() {
            if hcm == HcmSettings::Bare {
                assert_eq!(seen.path, *path);
            }
        }
    }
}

/// Envoy's own answer to an escaped separator under `UNESCAPE_AND_REDIRECT`.
fn assert_redirected(s: &Stack, resp: &Response, what: &str) {
    assert_eq!(resp.status, 307, "{what}: {resp:#?}");
    assert_eq!(
        resp.header("location"),
        Some("/access-delegations"),
        "{what}"
    );
    assert_eq!(s.upstream.count(), 0, "{what}: {:#?}", s.upstream.seen());
}

#[test]
fn delegation_forms_need_the_certificate_with_the_example_settings() {
    delegation_forms_need_the_certificate(HcmSettings::Normalizing);
}

#[test]
fn delegation_forms_need_the_certificate_with_the_hardened_settings() {
    delegation_forms_need_the_certificate(HcmSettings::Hardened);
}

#[test]
fn delegation_forms_need_the_certificate_with_a_bare_connection_manager() {
    delegation_forms_need_the_certificate(HcmSettings::Bare);
}

#[test]
fn exact_paths_and_get_rules_cover_their_variants() {
    for hcm in [HcmSettings::Normalizing, HcmSettings::Bare] {
        let s = Stack::start_spec(EnvoySpec::new(&policy()).hcm(hcm));
        let anonymous = s.client();
        let verified = s.client().cert(&s.pki.client);
        let cases = [
            ("GET", "/admin/", "admin"),
            ("GET", "/admin;x", "admin"),
            ("GET", "/Admin", "admin"),
            ("HEAD", "/reports/1", "reports"),
        ];
        for (method, path, rule) in cases {
            for resp in both(&s, &anonymous, method, path) {
                let what = format!("{hcm:?} {} {method} {path}", resp.version);
                assert_refused(&s, &resp, "client_certificate_required", &what);
            }
            for resp in both(&s, &verified, method, path) {
                let what = format!("{hcm:?} {} {method} {path} verified", resp.version);
                assert_eq!(resp.status, 200, "{what}: {resp:#?}");
                assert_eq!(deny_reason(&resp), None, "{what}");
            }
            let seen = s.upstream.take_seen();
            assert_eq!(seen.len(), 2, "{seen:#?}");
            for request in seen {
                assert_eq!(request.method, method);
                let rule_header = request
                    .headers
                    .iter()
                    .find(|(n, _)| n == "x-onerecord-rule");
                assert_eq!(rule_header.map(|(_, v)| v.as_str()), Some(rule));
            }
        }
        // A POST under /reports is not a GET: no certificate needed.
        let resp = anonymous.send(s.tls(), &Request::post("/reports/1", b"{}"));
        assert_annotated(&assert_allowed(&resp), "TLSv1.3", "none");
    }
}

#[test]
fn a_path_that_is_not_utf8_is_refused_over_http2() {
    let s = Stack::start_spec(EnvoySpec::new(&policy()).hcm(HcmSettings::Bare));
    for client in [s.client(), s.client().cert(&s.pki.client)] {
        let req = H2Request::new("GET", b"/access-delegations/\xff");
        let resp = H2Connection::connect(&client, s.tls())
            .send(&req)
            .expect("an h2 response");
        assert_refused(
            &s,
            &resp,
            "request_path_invalid",
            "/access-delegations/\\xff",
        );
    }
}

#[test]
fn a_rewritten_route_is_protected_by_its_metadata() {
    // The rules see the path before the rewrite; route metadata applies to
    // whatever the route forwards.
    let spec = EnvoySpec::new(&policy()).route_rewrite(
        "/v1/delegations",
        "/access-delegations",
        Some(json!("required")),
    );
    let s = Stack::start_spec(spec);
    for resp in both(&s, &s.client(), "GET", "/v1/delegations/1") {
        let what = format!("{} rewritten route", resp.version);
        assert_refused(&s, &resp, "client_certificate_required", &what);
    }
    for resp in both(
        &s,
        &s.client().cert(&s.pki.client),
        "GET",
        "/v1/delegations/1",
    ) {
        let echo = assert_allowed(&resp);
        assert_annotated(&echo, "TLSv1.3", "verified");
        assert_eq!(echo.path(), "/access-delegations/1");
    }
}
