//! `explain --json` keys, and usage and input errors (exit 2).

use super::{Setup, config_pinning, p, pki, run};
use serde_json::{Value, json};

#[test]
fn explain_json_has_the_stable_keys() {
    let k = pki();
    let s = Setup::new(&config_pinning(&k.root, ""));
    let chain = s.chain("chain.pem", &[&k.leaf, &k.inter, &k.root]);
    let r = s.explain(Some(&chain), &["--json"]);
    assert_eq!(r.stdout.lines().count(), 1, "one JSON object: {}", r.stdout);
    let v = r.json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for key in [
        "verdict",
        "reason",
        "message",
        "detail",
        "mode",
        "rule",
        "selected_rules",
        "tls_version",
        "mtls",
        "client",
        "anchor_sha256",
        "path_sha256",
        "ignored_certificate",
        "at",
        "token_binding",
        "logistics_agent",
        "crls",
        "revoked",
    ] {
        assert!(keys.contains(&key), "{key} missing from {v}");
    }
    assert_eq!(keys.len(), 18, "{v}");
    let client: Vec<&str> = v["client"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut client_sorted = client.clone();
    client_sorted.sort_unstable();
    assert_eq!(
        client_sorted,
        [
            "dns_san",
            "not_after",
            "organization",
            "sha256",
            "subject",
            "uri_san"
        ]
    );

    let r = s.explain(None, &["--json", "--path", "/access-delegations"]);
    let v = r.json();
    assert_eq!(v["client"], Value::Null);
    assert_eq!(v["anchor_sha256"], Value::Null);
    assert_eq!(v["path_sha256"], json!([]));
    assert!(v["message"].as_str().unwrap().contains("mutual TLS"));
}

#[test]
fn explain_shows_what_a_refused_chain_broke() {
    use onerecord_tls_policy_testkit::pinned::pki_with_leaf;
    use onerecord_tls_policy_testkit::pki::CertSpec;
    let k = pki_with_leaf(CertSpec::client("client-1").eku(None));
    let s = Setup::new(&config_pinning(&k.root, ""));
    let chain = s.chain("chain.pem", &[&k.leaf, &k.inter, &k.root]);
    let args = ["--path", "/access-delegations/1"];
    let r = s.explain(Some(&chain), &args);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let line = |key: &str| {
        r.stdout
            .lines()
            .find(|l| l.starts_with(key))
            .map(str::to_string)
    };
    assert!(
        line("reason")
            .unwrap()
            .ends_with(" certificate_profile_violation")
    );
    assert!(
        line("detail")
            .unwrap()
            .ends_with(" extended_key_usage_missing")
    );
    let r = s.explain(Some(&chain), &[args[0], args[1], "--json"]);
    assert_eq!(r.json()["detail"], "extended_key_usage_missing");

    // compatible tolerates a leaf without EKU.
    let s = Setup::new(&config_pinning(&k.root, r#","x509_profile":"compatible""#));
    let chain = s.chain("chain.pem", &[&k.leaf, &k.inter, &k.root]);
    let r = s.explain(Some(&chain), &args);
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn explain_usage_and_input_errors_exit_2() {
    let k = pki();
    let s = Setup::new(&config_pinning(&k.root, ""));
    let chain = s.chain("chain.pem", &[&k.leaf]);
    let config = p(&s.config);
    let key = s.dir.write("key.pem", k.leaf.key_pem());
    let bad_config = s.dir.write("bad.json", r#"{"mode":"block"}"#);
    for args in [
        vec!["explain"],
        vec![
            "explain",
            "--config",
            config,
            "--plaintext",
            "--tls-version",
            "TLSv1.2",
        ],
        vec![
            "explain",
            "--config",
            config,
            "--plaintext",
            "--chain",
            p(&chain),
        ],
        vec!["explain", "--config", config, "--at", "tomorrow"],
        vec!["explain", "--config", config, "--chain", p(&key)],
        vec!["explain", "--config", p(&bad_config)],
        vec!["explain", "--config", config, "--bogus"],
        vec!["frobnicate"],
    ] {
        let r = run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains("error"), "{args:?}: {}", r.stderr);
    }
    let r = run(&["explain", "--config", p(&bad_config)]);
    assert!(
        r.stderr
            .contains("invalid plugin configuration: field `mode`")
    );
}
