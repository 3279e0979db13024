//! The decision in Envoy's access log (filter state), and allows logged
//! once Envoy logs wasm at debug.

use onerecord_tls_policy::filter::access_log::FILTER_STATE_KEY;
use onerecord_tls_policy_testkit as support;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};
use support::bootstrap::EnvoySpec;
use support::client::plain_send;
use support::envoy::Envoy;
use support::http::Request;
use support::onerecord::{assert_allowed, assert_denied};
use support::policies::{DELEGATION, OBJECT, delegations_policy};
use support::stack::Stack;
use support::tempdir::TempDir;

/// One JSON line per request: path, status and the filter's decision value.
pub(crate) fn decision_format() -> Value {
    json!({
        "path": "%REQ(:PATH)%",
        "status": "%RESPONSE_CODE%",
        "onerecord": format!("%FILTER_STATE({FILTER_STATE_KEY}:PLAIN)%"),
    })
}

/// Stops `envoy` (it flushes access logs every 10 s, and on exit) and
/// returns the log at `path`, as text and one JSON value a line.
pub(crate) fn entries_after_stop(envoy: Envoy, path: &Path) -> (String, Vec<Value>) {
    envoy.stop();
    let text = std::fs::read_to_string(path).expect("access log written");
    let lines = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    (text, lines)
}

/// A stack for `spec` that allowed the client on DELEGATION and denied
/// plaintext on OBJECT.
fn allow_and_deny(spec: EnvoySpec) -> Stack {
    let s = Stack::start_spec(spec);
    let client = s.client().cert(&s.pki.client).chain(&[&s.pki.client_ca]);
    assert_allowed(&client.get(s.tls(), DELEGATION));
    assert_denied(
        &plain_send(s.plain(), &Request::get(OBJECT)),
        "tls_required",
        OBJECT,
    );
    s
}

#[test]
fn the_access_log_prints_the_decision() {
    let logs = TempDir::new("access-log");
    let log = logs.join("access.json");
    let spec = EnvoySpec::new(&delegations_policy()).access_log(&log, decision_format());
    let s = allow_and_deny(spec);
    let client_sha256 = s.pki.client.sha256_hex();
    // The path's earliest notAfter: the client's (its CA lives longer).
    let epoch = openssl::asn1::Asn1Time::from_unix(0).unwrap();
    let to_client = epoch.diff(s.pki.client.cert.not_after()).unwrap();
    let not_after = onerecord_tls_policy_core::rfc3339::format_rfc3339(
        u64::try_from(i64::from(to_client.days) * 86_400 + i64::from(to_client.secs)).unwrap(),
    );
    let anchor_sha256 = Stack::client_ca_sha256();
    let Stack { envoy, .. } = s;
    let (text, lines) = entries_after_stop(envoy, &log);
    let entry = |path: &str| -> &Value {
        let mut found = lines.iter().filter(|l| l["path"] == path);
        let entry = found
            .next()
            .unwrap_or_else(|| panic!("no entry for {path}: {text}"));
        assert!(found.next().is_none(), "{path} logged twice: {text}");
        entry
    };
    let allowed = entry(DELEGATION);
    assert_eq!(allowed["status"], 200);
    assert_eq!(
        allowed["onerecord"],
        format!(
            "decision=allow;reason=-;rule=access-delegations;client_sha256={client_sha256};anchor_sha256={anchor_sha256};not_after={not_after}"
        )
    );
    let denied = entry(OBJECT);
    assert_eq!(denied["status"], 403);
    assert_eq!(
        denied["onerecord"],
        "decision=deny;reason=tls_required;rule=-;client_sha256=-;anchor_sha256=-;not_after=-"
    );
}

/// Allowed requests log at debug. The filter asks Envoy's level before it
/// builds a line, so the line appears exactly when an operator turns the
/// wasm logger to debug at run time, from the next request on.
#[test]
fn allows_are_logged_once_envoy_logs_wasm_at_debug() {
    const ALLOW_LINE: &str = "onerecord-tls-policy: allow rule=access-delegations";
    let s = Stack::start_spec(EnvoySpec::new(&delegations_policy()));
    let client = s.client().cert(&s.pki.client).chain(&[&s.pki.client_ca]);
    let denied_line = |path: &str| {
        format!("onerecord-tls-policy: deny reason=tls_required rule=- tls=- path={path}")
    };

    assert_allowed(&client.get(s.tls(), DELEGATION));
    let plain = |path: &str| plain_send(s.plain(), &Request::get(path));
    assert_denied(
        &plain("/logistics-objects/at-info"),
        "tls_required",
        "/logistics-objects/at-info",
    );
    wait_for_log(&s.envoy, &denied_line("/logistics-objects/at-info"));
    assert!(
        !s.envoy.log().contains(ALLOW_LINE),
        "at info no allow is logged:\n{}",
        s.envoy.log_tail(20)
    );

    let changed = s.envoy.admin_post("/logging?wasm=debug");
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_allowed(&client.get(s.tls(), DELEGATION));
    wait_for_log(&s.envoy, ALLOW_LINE);

    let changed = s.envoy.admin_post("/logging?wasm=info");
    assert_eq!(changed.status, 200, "{}", changed.text());
    let before = s.envoy.log().matches(ALLOW_LINE).count();
    assert_allowed(&client.get(s.tls(), DELEGATION));
    assert_denied(
        &plain("/logistics-objects/back-at-info"),
        "tls_required",
        "/logistics-objects/back-at-info",
    );
    // The deny after the allow is written, so the allow would be too.
    wait_for_log(&s.envoy, &denied_line("/logistics-objects/back-at-info"));
    assert_eq!(
        s.envoy.log().matches(ALLOW_LINE).count(),
        before,
        "back at info"
    );
}

fn wait_for_log(envoy: &Envoy, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !envoy.log().contains(text) {
        assert!(
            Instant::now() < deadline,
            "no log line with {text:?}:\n{}",
            envoy.log_tail(30)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `access_log_filter_state: false`: the same decisions, none in the log.
#[test]
fn without_the_filter_state_the_log_has_no_decision_and_requests_are_decided_alike() {
    let logs = TempDir::new("access-log-off");
    let log = logs.join("access.json");
    let mut policy = delegations_policy();
    policy["access_log_filter_state"] = json!(false);
    let spec = EnvoySpec::new(&policy).access_log(&log, decision_format());
    let s = allow_and_deny(spec);
    let Stack { envoy, .. } = s;
    let (text, lines) = entries_after_stop(envoy, &log);
    assert_eq!(lines.len(), 2, "{text}");
    for line in &lines {
        assert_eq!(line["onerecord"], Value::Null, "{text}");
    }
}
