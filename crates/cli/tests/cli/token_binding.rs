//! `explain --token-payload` and the binding in `check-config`: the
//! filter's verdict on a token payload, offline.

use super::{Setup, p, pki, run};
use onerecord_tls_policy_core::binding::x5t_s256;
use onerecord_tls_policy_core::fingerprint::Fingerprint;
use serde_json::json;

const AGENT: &str = "https://1r.example.com/logistics-agents/client-1";

fn config(root_sha256: &str) -> String {
    json!({
        "trusted_ca_sha256": [root_sha256],
        "rules": [
            { "name": "access-delegations", "path_prefix": "/access-delegations",
              "token_binding": "required", "require_cnf": true },
            { "name": "objects", "path_prefix": "/logistics-objects",
              "token_binding": "optional", "agent_match": "host" },
        ],
    })
    .to_string()
}

#[test]
fn explain_gives_the_filters_verdict_on_a_token_payload() {
    let k = pki();
    let s = Setup::new(&config(&k.root.sha256_hex()));
    let chain = s.chain("chain.pem", &[&k.leaf, &k.inter, &k.root]);
    let thumbprint = x5t_s256(&Fingerprint::of_der(&k.leaf.der()));
    let bound =
        json!({ "iss": "i", "logistics_agent_uri": AGENT, "cnf": { "x5t#S256": thumbprint } });
    let payload = s.dir.write("bound.json", bound.to_string());
    let path = ["--path", "/access-delegations/1", "--json"];

    let mut args = vec!["--token-payload", p(&payload)];
    args.extend(path);
    let v = s.explain(Some(&chain), &args).json();
    assert_eq!(v["verdict"], "allow", "{v}");
    assert_eq!(v["token_binding"], "verified");
    assert_eq!(v["logistics_agent"], AGENT);

    let r = s.explain(Some(&chain), &path);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["reason"], "token_required");

    let mut other = bound.clone();
    other["logistics_agent_uri"] = json!("https://1r.example.com/logistics-agents/client-2");
    let other = s.dir.write("other.json", other.to_string());
    let mut args = vec!["--token-payload", p(&other)];
    args.extend(path);
    assert_eq!(
        s.explain(Some(&chain), &args).json()["reason"],
        "token_agent_mismatch"
    );
    // Another path on the agent's host binds where the rule matches hosts.
    let text = s.explain(
        Some(&chain),
        &[
            "--token-payload",
            p(&other),
            "--path",
            "/logistics-objects/1",
        ],
    );
    assert_eq!(text.code, 0, "{}", text.stdout);
    assert!(
        text.stdout.contains("token_binding   verified"),
        "{}",
        text.stdout
    );

    let broken = s.dir.write("broken.json", "[1, 2");
    let r = s.explain(
        Some(&chain),
        &[
            "--token-payload",
            p(&broken),
            "--path",
            "/access-delegations/1",
            "--json",
        ],
    );
    assert_eq!(r.json()["reason"], "token_payload_unavailable");
    assert!(r.stderr.contains("not a token payload"), "{}", r.stderr);

    // No rule binds the token here: the payload is not read.
    let v = s
        .explain(
            Some(&chain),
            &["--token-payload", p(&broken), "--path", "/other", "--json"],
        )
        .json();
    assert_eq!(v["verdict"], "allow");
    assert_eq!(v["token_binding"], serde_json::Value::Null);
}

#[test]
fn check_config_shows_the_binding_per_rule() {
    let k = pki();
    let s = Setup::new(&config(&k.root.sha256_hex()));
    let r = run(&["check-config", p(&s.config)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for expected in [
        "access-delegations: path_prefix /access-delegations, all methods, mtls from default, token_binding required (cnf required, agent_match exact)",
        "objects: path_prefix /logistics-objects, all methods, mtls from default, token_binding optional (cnf checked when present, agent_match host)",
        "envoy.filters.http.jwt_authn / jwt_payload",
    ] {
        assert!(r.stdout.contains(expected), "{expected:?} in\n{}", r.stdout);
    }
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("token_binding") && l.ends_with("off"))
    );
}
