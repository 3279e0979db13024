//! `check-config`: the summary of a valid configuration, and the filter's
//! own message for a bad one.

use super::{openssl_fingerprint, p, pki, run};
use onerecord_tls_policy_core::config::Config;
use onerecord_tls_policy_testkit::pki::pem_bundle;
use onerecord_tls_policy_testkit::tempdir::TempDir;

#[test]
fn check_config_summarises_a_valid_configuration() {
    let k = pki();
    let dir = TempDir::new("cli");
    let json = format!(
        r#"{{"mode":"audit","min_tls_version":"TLSv1.3","trusted_ca_sha256":["{}","{}"],
            "ca_certificates_pem":{},"revoked_sha256":["{}"],
            "rules":[{{"name":"access-delegations","path_prefix":"/access-delegations","methods":["post"],"mtls":"required"}},
                     {{"name":"status","path_exact":"/status"}}]}}"#,
        openssl_fingerprint(&k.root),
        k.other_root.sha256_hex(),
        serde_json::to_string(&pem_bundle(&[&k.root, &k.inter])).unwrap(),
        k.other_leaf.sha256_hex(),
    );
    let config = dir.write("config.json", json);
    let r = run(&["check-config", p(&config)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for expected in [
        "configuration OK",
        "audit",
        "TLSv1.3",
        "2 pinned CA(s), 1 of them in ca_certificates_pem",
        "2 certificate(s): 1 anchor(s), 1 intermediate(s)",
        "access-delegations: path_prefix /access-delegations, POST, mtls required",
        "status: path_exact /status, all methods, mtls from default",
    ] {
        assert!(r.stdout.contains(expected), "{expected:?} in\n{}", r.stdout);
    }
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("rules") && l.ends_with(" 2"))
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("revoked_sha256") && l.ends_with(" 1"))
    );

    // Empty configuration: all defaults, as in the filter.
    let empty = dir.write("empty.json", "");
    let r = run(&["check-config", p(&empty)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("enforce"));
    assert!(
        r.stdout.contains("trusted_proxies     not set"),
        "{}",
        r.stdout
    );

    let behind = dir.write(
        "behind.json",
        r#"{"trusted_proxies":{"peers":{"uri_san":["spiffe://c/gw"]},"forward_client_cert":"FORWARD_ONLY"}}"#,
    );
    let r = run(&["check-config", p(&behind)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let expected = "1 URI SAN(s), 0 fingerprint(s); TLS version from x-forwarded-tls-version, XFCC FORWARD_ONLY";
    assert!(r.stdout.contains(expected), "{}", r.stdout);
    let row = |stdout: &str, key: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(key))
            .map(|l| l.split_whitespace().last().unwrap_or_default().to_string())
    };
    assert_eq!(row(&r.stdout, "x509_profile").as_deref(), Some("strict"));
    assert_eq!(row(&r.stdout, "onerecord_profile").as_deref(), Some("off"));
    let profiles = dir.write(
        "profiles.json",
        r#"{"x509_profile":"compatible","onerecord_profile":true}"#,
    );
    let r = run(&["check-config", p(&profiles)]);
    assert_eq!(
        row(&r.stdout, "x509_profile").as_deref(),
        Some("compatible")
    );
    assert_eq!(row(&r.stdout, "onerecord_profile").as_deref(), Some("on"));
}

#[test]
fn check_config_prints_the_filters_message_naming_the_field() {
    let dir = TempDir::new("cli");
    for (json, field) in [
        (
            r#"{"rules":[{"name":"x","path_prefix":"/x","mtls":"yes"}]}"#,
            "rules[0].mtls",
        ),
        (r#"{"min_tls_version":"TLSv1.1"}"#, "min_tls_version"),
        (r#"{"trusted_ca_sha256":["abcd"]}"#, "trusted_ca_sha256[0]"),
        (r#"{"mtls":"required"}"#, "trusted_ca_sha256"),
        (r#"{"modee":"audit"}"#, "modee"),
    ] {
        let config = dir.write("bad.json", json);
        let r = run(&["check-config", p(&config)]);
        assert_eq!(r.code, 2, "{json}: {}", r.stdout);
        let expected = Config::parse(json.as_bytes()).unwrap_err();
        assert_eq!(expected.field, field);
        assert_eq!(r.stderr, format!("error: {expected}\n"), "{json}");
        assert!(r.stderr.contains(&format!("field `{field}`")));
        assert!(r.stdout.is_empty());
    }
    let not_json = dir.write("bad.json", "{not json");
    let r = run(&["check-config", p(&not_json)]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("invalid plugin configuration: not valid JSON")
    );

    let r = run(&["check-config", p(&dir.join("missing.json"))]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);
}

#[test]
fn check_config_refuses_rule_paths_that_can_never_match() {
    let dir = TempDir::new("cli");
    let config = dir.write(
        "bad.json",
        r#"{"rules":[{"name":"lo","path_prefix":"/logistics%2Dobjects"}]}"#,
    );
    let r = run(&["check-config", p(&config)]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr.contains(
            r#"field `rules[0].path_prefix`: "/logistics%2Dobjects" can never match: rules compare the normalised path; use "/logistics-objects""#
        ),
        "{}",
        r.stderr
    );
    let config = dir.write(
        "good.json",
        r#"{"rules":[{"name":"lo","path_prefix":"/Logistics-Objects","case_sensitive":true}]}"#,
    );
    let r = run(&["check-config", p(&config)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("lo: path_prefix /Logistics-Objects, case-sensitive, all methods"),
        "{}",
        r.stdout
    );
}
