//! OCSP against a real Envoy and OpenSSL's own responder: a good client
//! passes and is not asked about again until nextUpdate, a revoked one is
//! refused, a responder that cannot answer is `revocation_status_unknown`
//! in hard mode and a counted pass in soft mode, an answer near its end is
//! refreshed while traffic goes on, a delegated responder is believed
//! only with the issuer's grant. Each test runs its own Envoy and
//! responder.

mod any_responder;
mod delegated;
mod failures;
mod refresh;

use crate::observability::access_log::{decision_format, entries_after_stop};
use onerecord_tls_policy_testkit as support;
use serde_json::{Value, json};
use support::bootstrap::EnvoySpec;
use support::fixture::TestPki;
use support::http::Response;
use support::ocsp_responder::{OcspResponder, free_port};
use support::onerecord::{assert_denied, deny_reason};
use support::pki::{CertSpec, Issued, issue};
use support::policies::{pinned_client_ca, with};
use support::stack::Stack;
use support::tempdir::TempDir;

const PATH: &str = "/logistics-objects/1";

fn root() -> &'static Issued {
    &TestPki::shared().client_ca
}

/// A client of the pinned root whose AIA names the responder on `port`.
fn client(name: &str, port: u16) -> Issued {
    issue(
        &CertSpec::client(name).extension("authorityInfoAccess", &OcspResponder::aia(port)),
        root(),
    )
}

/// mTLS required, OCSP in `mode` through cluster `ocsp`, `extra` fields
/// of `ocsp` added.
fn policy_with(mode: &str, extra: Value) -> Value {
    let mut ocsp = json!({ "mode": mode, "cluster": "ocsp", "timeout_ms": 1000 });
    if let (Some(ocsp), Some(extra)) = (ocsp.as_object_mut(), extra.as_object()) {
        ocsp.extend(extra.clone());
    }
    with(
        with(pinned_client_ca(), json!({ "mtls": "required" })),
        json!({ "ocsp": ocsp }),
    )
}

fn policy(mode: &str) -> Value {
    policy_with(mode, json!({}))
}

/// Envoy as `spec` says, with `cluster` as cluster `ocsp`.
fn start_spec(spec: EnvoySpec, cluster: Value) -> Stack {
    Stack::start_edited(spec, move |bootstrap, _| {
        bootstrap["static_resources"]["clusters"]
            .as_array_mut()
            .expect("clusters")
            .push(cluster);
    })
}

/// Envoy with the policy and `cluster` as cluster `ocsp`.
fn start(mode: &str, cluster: Value) -> Stack {
    start_spec(EnvoySpec::new(&policy(mode)), cluster)
}

/// A counter of the filter's from `/stats` (0 when not there yet).
fn counter(s: &Stack, name: &str) -> u64 {
    let name = format!("wasmcustom.onerecord_tls_policy.{name}");
    support::vm::counters(&s.envoy)
        .get(&name)
        .copied()
        .unwrap_or(0)
}

/// The filter's OCSP counters and log lines, for a failure message.
fn diagnose(s: &Stack) -> String {
    let stats = s.envoy.admin_get("/stats").text();
    let counters: Vec<&str> = stats.lines().filter(|l| l.contains("ocsp")).collect();
    let log = s.envoy.log();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("OCSP") || l.contains("ocsp"))
        .collect();
    format!("{counters:#?}\n{lines:#?}")
}

/// Asserts `resp` is the filter's ONE Record deny for `reason`, with the
/// OCSP counters and log lines in the message when it is not.
fn assert_refused(s: &Stack, resp: &Response, reason: &str, what: &str) {
    if (resp.status, deny_reason(resp)) != (403, Some(reason)) {
        panic!("{what}: expected 403 {reason}: {resp:#?}\n{}", diagnose(s));
    }
    assert_denied(resp, reason, PATH);
}

fn asked(s: &Stack, result: &str) -> u64 {
    counter(s, &format!("ocsp_responses_total.result.{result}"))
}

fn paused(s: &Stack) -> u64 {
    counter(s, "ocsp_paused_requests_total")
}

fn get(s: &Stack, leaf: &Issued) -> Response {
    s.client().cert(leaf).get(s.tls(), PATH)
}

/// The access log's `onerecord` values, one per request, after Envoy stops.
fn logged_values(s: Stack, log: &std::path::Path) -> Vec<String> {
    let Stack { envoy, .. } = s;
    let (_, lines) = entries_after_stop(envoy, log);
    lines
        .iter()
        .map(|l| l["onerecord"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_good_client_passes_and_is_asked_about_once() {
    let port = free_port();
    let good = client("ocsp-good", port);
    let responder = OcspResponder::start(port, root(), 60, &[(&good, false)]);
    let logs = TempDir::new("ocsp-access-log");
    let log = logs.join("access.json");
    let spec = EnvoySpec::new(&policy("hard")).access_log(&log, decision_format());
    let s = start_spec(spec, responder.cluster("ocsp"));

    let resp = get(&s, &good);
    assert_eq!(resp.status, 200, "{}", diagnose(&s));
    assert_eq!(s.upstream.count(), 1);
    // More requests on new connections: the cached answer decides them.
    for _ in 0..3 {
        assert_eq!(get(&s, &good).status, 200);
    }
    let mut connection = s.client().cert(&good).connect(s.tls()).expect("connect");
    for _ in 0..3 {
        assert_eq!(connection.get(PATH).status, 200);
    }
    assert_eq!(s.upstream.count(), 7);
    assert_eq!(responder.requests(), 1, "the responder was asked once");
    assert_eq!(asked(&s, "good"), 1, "one query per VM until nextUpdate");
    assert_eq!(paused(&s), 1, "only the first request waited");
    assert!(counter(&s, "ocsp_cache_hits_total") >= 7);
    let values = logged_values(s, &log);
    assert_eq!(values.len(), 7, "each request logged once: {values:#?}");
    for value in &values {
        assert!(
            value.starts_with("decision=allow;") && value.ends_with(";ocsp=good"),
            "{value}"
        );
    }
}

#[test]
fn a_revoked_client_is_refused() {
    let port = free_port();
    let revoked = client("ocsp-revoked", port);
    let responder = OcspResponder::start(port, root(), 60, &[(&revoked, true)]);
    let s = start("soft", responder.cluster("ocsp"));
    for _ in 0..2 {
        let resp = get(&s, &revoked);
        assert_refused(&s, &resp, "certificate_revoked", "soft mode, revoked");
    }
    assert_eq!(s.upstream.count(), 0);
    assert_eq!(asked(&s, "revoked"), 1);
    assert_eq!(responder.requests(), 1);
}
