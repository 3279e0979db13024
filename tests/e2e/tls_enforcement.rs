//! The filter against a real Envoy: TLS version floor, mTLS requirements,
//! the ONE Record deny, backend annotations, audit mode, bad configuration.
//! Each test runs its own Envoy and upstream, so they run in parallel.

use onerecord_tls_policy_testkit as support;

use openssl::ssl::SslVersion;
use serde_json::{Value, json};
use std::time::Duration;
use support::bootstrap::EnvoySpec;
use support::client::{connect_plain, plain_send};
use support::http::Request;
use support::onerecord::{
    assert_allowed, assert_annotated, assert_denied, assert_denied_with_prefix, deny_reason,
};
use support::stack::Stack;
use support::upstream::Echo;

const OBJECT: &str = "/logistics-objects/shipment-1";
const DELEGATION: &str = "/access-delegations/delegation-1";

/// A policy requiring mTLS under `/access-delegations`, trusting the test client CA.
fn delegations_rule() -> Value {
    let ca = Stack::client_ca_sha256();
    json!({
        "trusted_ca_sha256": [ca],
        "rules": [{ "name": "access-delegations", "path_prefix": "/access-delegations", "mtls": "required" }]
    })
}

// --- plaintext ---------------------------------------------------------

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

// --- forged annotations --------------------------------------------------

/// Client-sent headers that look like the filter's own, in several spellings.
fn forged(req: Request) -> Request {
    req.header("x-onerecord-mtls", "verified")
        .header("X-OneRecord-MTLS", "verified")
        .header("x-onerecord-client-sha256", &"ab".repeat(32))
        .header("x-onerecord-client-subject", "CN=admin")
        .header(
            "x-onerecord-client-uri-san",
            "https://1r.example.com/logistics-agents/admin",
        )
        .header("x-onerecord-trust-anchor-sha256", &"cd".repeat(32))
        .header("x-onerecord-tls-version", "TLSv1.3")
        .header("x-onerecord-policy", "allow")
        .header("x-onerecord-rule", "none")
        .header("x-onerecord-deny-reason", "none")
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

// --- audit mode ----------------------------------------------------------

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
    let mut config = delegations_rule();
    config["mode"] = json!("audit");
    let s = Stack::start(config);
    let echo = assert_allowed(&s.client().get(s.tls(), DELEGATION));
    assert_eq!(
        echo.get("x-onerecord-policy"),
        Some("audit-deny; reason=client_certificate_required")
    );
}

// --- mTLS requirements ---------------------------------------------------

#[test]
fn global_mtls_required_denies_a_client_without_certificate() {
    let ca = Stack::client_ca_sha256();
    let s = Stack::start(json!({ "mtls": "required", "trusted_ca_sha256": [ca] }));
    assert_denied(
        &s.client().get(s.tls(), OBJECT),
        "client_certificate_required",
        OBJECT,
    );
    let resp = s.h2().get(OBJECT);
    assert_eq!(resp.version, "HTTP/2");
    assert_denied(&resp, "client_certificate_required", OBJECT);
    assert_eq!(s.upstream.count(), 0);
}

#[test]
fn rule_requires_mtls_only_under_its_prefix() {
    let s = Stack::start(delegations_rule());
    assert_denied(
        &s.client().get(s.tls(), DELEGATION),
        "client_certificate_required",
        DELEGATION,
    );
    assert_denied(
        &s.client().get(s.tls(), "/access-delegations"),
        "client_certificate_required",
        "/access-delegations",
    );
    let echo = assert_allowed(&s.client().get(s.tls(), OBJECT));
    assert_eq!(echo.get("x-onerecord-mtls"), Some("none"));
    assert_eq!(s.upstream.count(), 1);
}

#[test]
fn rule_cannot_be_bypassed_by_path_spelling() {
    let s = Stack::start(delegations_rule());
    for path in [
        "//access-delegations/delegation-1",
        "/access-delegations//delegation-1",
        "/logistics-objects/../access-delegations/delegation-1",
        "/./access-delegations/delegation-1",
        "/access-delegations/delegation-1?via=query",
        "/access%2Ddelegations/delegation-1",
        "/%61ccess-delegations/delegation-1",
    ] {
        let resp = s.client().get(s.tls(), path);
        assert_eq!(
            resp.status,
            403,
            "{path} reached the backend: {}",
            resp.text()
        );
        assert_eq!(
            deny_reason(&resp),
            Some("client_certificate_required"),
            "{path}"
        );
    }
    // Envoy itself rejects a fragment in the request target.
    let resp = s
        .client()
        .get(s.tls(), "/access-delegations/delegation-1#fragment");
    assert_eq!(resp.status, 400, "{resp:?}");
    assert_eq!(s.upstream.count(), 0, "seen: {:#?}", s.upstream.seen());
}

#[test]
fn rule_with_methods_applies_only_to_those_methods() {
    let ca = Stack::client_ca_sha256();
    let s = Stack::start(json!({
        "trusted_ca_sha256": [ca],
        "rules": [{ "name": "object-writes", "path_prefix": "/logistics-objects", "methods": ["post"], "mtls": "required" }]
    }));
    let resp = s.client().send(s.tls(), &Request::post(OBJECT, b"{}"));
    assert_denied(&resp, "client_certificate_required", OBJECT);
    assert_allowed(&s.client().get(s.tls(), OBJECT));
}

#[test]
fn forged_xfcc_does_not_satisfy_required_mtls() {
    let s = Stack::start(delegations_rule());
    // What Envoy would have set for the genuine client, sent by a client without a certificate.
    let pem: String = s
        .pki
        .client
        .pem()
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    let xfcc = format!(
        "Hash={};Cert=\"{pem}\";Subject=\"CN=airline-1\"",
        s.pki.client.sha256_hex()
    );
    let req = Request::get(DELEGATION).header("x-forwarded-client-cert", &xfcc);
    assert_denied(
        &s.client().send(s.tls(), &req),
        "client_certificate_required",
        DELEGATION,
    );
    assert_eq!(s.upstream.count(), 0);
}

#[test]
fn route_metadata_requires_mtls() {
    let ca = Stack::client_ca_sha256();
    let spec = EnvoySpec::new(&json!({ "trusted_ca_sha256": [ca] }))
        .route_mtls("/action-requests", json!("required"));
    let s = Stack::start_spec(spec);
    let path = "/action-requests/request-1";
    assert_denied(
        &s.client().get(s.tls(), path),
        "client_certificate_required",
        path,
    );
    assert_denied(&s.h2().get(path), "client_certificate_required", path);
    assert_annotated(
        &assert_allowed(&s.client().get(s.tls(), OBJECT)),
        "TLSv1.3",
        "none",
    );
}

#[test]
fn invalid_route_metadata_fails_closed() {
    let spec = EnvoySpec::new(&json!({})).route_mtls("/action-requests", json!("sometimes"));
    let s = Stack::start_spec(spec);
    let path = "/action-requests/request-1";
    assert_denied(
        &s.client().get(s.tls(), path),
        "route_metadata_invalid",
        path,
    );
    assert_eq!(s.upstream.count(), 0);
}

#[test]
fn verified_client_certificate_passes_a_required_rule() {
    let mut config = delegations_rule();
    // The client sends only its leaf, as most do; the anchor comes from the config.
    config["ca_certificates_pem"] = json!(support::fixture::TestPki::shared().client_ca.pem());
    let s = Stack::start(config);
    let client = s.client().cert(&s.pki.client);
    let echo = assert_allowed(&client.get(s.tls(), DELEGATION));
    assert_eq!(
        echo.get("x-onerecord-mtls"),
        Some("verified"),
        "{:#?}",
        echo.headers
    );
    assert_eq!(
        echo.get("x-onerecord-client-sha256"),
        Some(s.pki.client.sha256_hex().as_str())
    );
    assert_eq!(
        echo.get("x-onerecord-trust-anchor-sha256"),
        Some(Stack::client_ca_sha256().as_str())
    );
    assert_eq!(echo.get("x-onerecord-policy"), None);

    // Outside the rule the certificate is still verified and reported, over HTTP/2 too.
    let resp = s
        .h2()
        .client_cert(&s.files.client_cert, &s.files.client_key)
        .get(OBJECT);
    assert_eq!(resp.version, "HTTP/2");
    let echo = assert_allowed(&resp);
    assert_eq!(
        echo.get("x-onerecord-mtls"),
        Some("verified"),
        "{:#?}",
        echo.headers
    );
    assert_eq!(
        echo.get("x-onerecord-client-sha256"),
        Some(s.pki.client.sha256_hex().as_str())
    );
}

#[test]
fn client_presenting_its_pinned_ca_is_verified_without_a_ca_bundle() {
    let s = Stack::start(delegations_rule());
    let client = s.client().cert(&s.pki.client).chain(&[&s.pki.client_ca]);
    let echo = assert_allowed(&client.get(s.tls(), DELEGATION));
    assert_eq!(
        echo.get("x-onerecord-mtls"),
        Some("verified"),
        "{:#?}",
        echo.headers
    );
    assert_eq!(
        echo.get("x-onerecord-trust-anchor-sha256"),
        Some(Stack::client_ca_sha256().as_str())
    );
}

#[test]
fn leaf_alone_without_a_ca_bundle_is_untrusted() {
    // Nothing pinned is available to anchor at: the chain cannot be verified.
    let s = Stack::start(delegations_rule());
    let resp = s.client().cert(&s.pki.client).get(s.tls(), DELEGATION);
    assert_denied(&resp, "untrusted_ca", DELEGATION);
}

// --- the deny itself -----------------------------------------------------

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
    let s = Stack::start(delegations_rule());
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

// --- configuration errors -------------------------------------------------

/// Envoy must refuse the plugin configuration: exit 1 at startup, saying
/// which plugin failed, with the filter's own log line naming `field`.
fn assert_refused(config: &str, field: &str) {
    let exited = Stack::start_expecting_exit(EnvoySpec::raw(config));
    let tail = support::envoy::tail(&exited.log, 30);
    assert_eq!(
        exited.status.code(),
        Some(1),
        "exit status for {config}; log:\n{tail}"
    );
    assert!(
        exited
            .log
            .contains("Unable to create Wasm plugin onerecord_tls_policy"),
        "for {config}; log:\n{tail}"
    );
    let named = format!("`{field}`");
    assert!(
        exited.log.lines().any(|l| l.contains("wasm log")
            && l.contains("invalid plugin configuration")
            && l.contains(&named)),
        "no filter log line naming {named} for {config}; log:\n{tail}"
    );
}

#[test]
fn unknown_mode_is_refused() {
    assert_refused(r#"{"mode":"block"}"#, "mode");
}

#[test]
fn min_tls_below_1_2_is_refused() {
    assert_refused(r#"{"min_tls_version":"TLSv1.1"}"#, "min_tls_version");
}

#[test]
fn unknown_field_is_refused() {
    assert_refused(r#"{"typo_field":1}"#, "typo_field");
}

#[test]
fn required_mtls_without_trusted_ca_is_refused() {
    assert_refused(r#"{"mtls":"required"}"#, "trusted_ca_sha256");
}

#[test]
fn rule_error_is_refused_naming_the_rule_field() {
    assert_refused(
        r#"{"rules":[{"name":"x","path_prefix":"no-slash"}]}"#,
        "rules[0].path_prefix",
    );
}

#[test]
fn validate_mode_checks_the_plugin_configuration() {
    let dir = support::tempdir::TempDir::new("validate");
    let good = Stack::bootstrap_file(
        &dir,
        "good.yaml",
        EnvoySpec::new(&json!({ "mode": "audit" })),
    );
    let (status, output) = support::envoy::validate(&good);
    assert!(
        status.success(),
        "validate rejected a good config:\n{output}"
    );

    let bad = Stack::bootstrap_file(&dir, "bad.yaml", EnvoySpec::raw(r#"{"mode":"block"}"#));
    let (status, output) = support::envoy::validate(&bad);
    assert!(
        !status.success(),
        "validate accepted a bad plugin config:\n{output}"
    );
    assert!(
        output.contains("`mode`"),
        "validate output does not name the field:\n{output}"
    );
}
