//! Configurations Envoy must refuse, naming the field, and `--mode validate`.

use onerecord_tls_policy_testkit as support;
use serde_json::json;
use support::bootstrap::EnvoySpec;
use support::stack::Stack;

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
