//! `explain` and `Policy::decide` are one code path: for the same facts
//! the CLI prints the decision `decide` returns.

use super::{Setup, config_pinning, pki};
use onerecord_tls_policy_core::config::{Config, Mode};
use onerecord_tls_policy_core::facts::{ConnectionFacts, Facts, PeerFacts, RequestFacts};
use onerecord_tls_policy_core::policy::{Decision, Policy};
use onerecord_tls_policy_core::rfc3339::format_rfc3339;
use onerecord_tls_policy_testkit::pki::{CertSpec, Issued, issue, pem_bundle};
use onerecord_tls_policy_testkit::unix_now;
use serde_json::{Value, json};

/// What Envoy hands the filter for a client presenting `chain`, built here
/// independently of the CLI: the leaf PEM and digest, and XFCC as Envoy
/// writes it.
fn envoy_peer(chain: &[&Issued]) -> PeerFacts {
    fn encode(pem: &str) -> String {
        pem.replace('\n', "%0A")
            .replace(' ', "%20")
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    }
    let leaf = chain[0];
    PeerFacts {
        sha256_digest: Some(leaf.sha256_hex()),
        certificate_pem: Some(leaf.pem()),
        xfcc: Some(format!(
            "Hash={};Cert=\"{}\";Chain=\"{}\";Subject=\"CN=x\";URI=",
            leaf.sha256_hex(),
            encode(&leaf.pem()),
            encode(&pem_bundle(chain))
        )),
    }
}

/// The JSON the CLI must print for a decision.
fn expected_json(d: &Decision, selected_rules: &[String], now: u64) -> Value {
    let verdict = match (d.deny_reason(), d.mode) {
        (None, _) => "allow",
        (Some(_), Mode::Enforce) => "deny",
        (Some(_), Mode::Audit) => "audit-deny",
    };
    json!({
        "verdict": verdict,
        "reason": d.deny_reason().map(|r| r.code()),
        "message": d.deny_reason().map(|r| r.message()),
        "detail": d.detail,
        "mode": if d.mode == Mode::Audit { "audit" } else { "enforce" },
        "rule": d.rule,
        "selected_rules": selected_rules,
        "tls_version": d.tls_version.map(|v| v.as_str()),
        "mtls": if d.client.is_some() { "verified" } else { "none" },
        "client": d.client.as_ref().map(|c| json!({
            "sha256": c.leaf_sha256.to_hex(),
            "subject": c.subject,
            "uri_san": c.uri_sans,
            "dns_san": c.dns_sans,
            "organization": c.organizations,
            "not_after": format_rfc3339(u64::try_from(c.not_after).unwrap()),
        })),
        "anchor_sha256": d.client.as_ref().map(|c| c.anchor_sha256.to_hex()),
        "path_sha256": d.client.as_ref().map_or(Vec::new(), |c| {
            c.path_sha256.iter().map(|f| f.to_hex()).collect()
        }),
        "ignored_certificate": d.ignored_certificate.map(|r| r.code()),
        "at": format_rfc3339(now),
        "token_binding": d.token_binding.map(|b| b.code()),
        "logistics_agent": d.token.as_ref().map(|t| &t.logistics_agent_uri),
        "crls": [],
        "revoked": null,
    })
}

#[test]
fn explain_verdict_is_policy_decide_for_the_same_facts() {
    let k = pki();
    let expired = issue(
        &CertSpec::client("expired").validity(-7200, -3600),
        &k.inter,
    );
    let no_client_auth = issue(
        &CertSpec::client("server").eku(Some(vec!["serverAuth"])),
        &k.inter,
    );
    let json_config = config_pinning(
        &k.root,
        &format!(
            r#","allowed_clients":{{"subject_organization":["Example Airline"]}},"revoked_sha256":["{}"]"#,
            k.other_root.sha256_hex()
        ),
    );
    let policy = Policy::new(Config::parse(json_config.as_bytes()).unwrap());
    let s = Setup::new(&json_config);
    let now = unix_now();

    let chains: Vec<(&str, Vec<&Issued>)> = vec![
        ("none", vec![]),
        ("pinned", vec![&k.leaf, &k.inter, &k.root]),
        ("leaf-only", vec![&k.leaf]),
        ("foreign", vec![&k.other_leaf, &k.other_root]),
        ("decoy", vec![&k.other_leaf, &k.other_root, &k.root]),
        ("expired", vec![&expired, &k.inter, &k.root]),
        ("server-cert", vec![&no_client_auth, &k.inter, &k.root]),
    ];
    let mut verdicts = std::collections::HashSet::new();
    for (name, chain) in &chains {
        let chain_file = (!chain.is_empty()).then(|| s.chain(&format!("{name}.pem"), chain));
        for (method, path) in [("GET", "/"), ("POST", "/access-delegations/7")] {
            for tls in [Some("TLSv1.3"), Some("TLSv1.1"), None] {
                let facts = Facts {
                    request: RequestFacts {
                        path: path.to_string(),
                        method: method.to_string(),
                        ..RequestFacts::default()
                    },
                    connection: Ok(ConnectionFacts {
                        peer_uri_san: None,
                        id: None,
                        tls_version: tls.map(str::to_string),
                        peer: tls.and((!chain.is_empty()).then(|| envoy_peer(chain))),
                    }),
                    now_unix: now,
                };
                let decision = policy.decide(&facts);
                let selected: Vec<String> = policy
                    .select_rules(path, method)
                    .map(|s| s.rules(&policy.config).map(|r| r.name.clone()).collect())
                    .unwrap_or_default();
                let at = format_rfc3339(now);
                let mut args = vec!["--method", method, "--path", path, "--at", &at, "--json"];
                match tls {
                    Some(version) => args.extend(["--tls-version", version]),
                    None => args.push("--plaintext"),
                }
                let r = s.explain(chain_file.as_deref().filter(|_| tls.is_some()), &args);
                let what = format!("{name} {method} {path} {tls:?}");
                assert_eq!(r.json(), expected_json(&decision, &selected, now), "{what}");
                assert_eq!(
                    r.code,
                    if decision.deny_reason().is_some() {
                        1
                    } else {
                        0
                    },
                    "{what}"
                );
                verdicts.insert(r.json()["reason"].to_string());
            }
        }
    }
    // The matrix covers allows and several distinct denies.
    for reason in [
        "null",
        "\"untrusted_ca\"",
        "\"certificate_expired\"",
        "\"missing_client_auth_usage\"",
        "\"tls_required\"",
        "\"tls_version_too_low\"",
        "\"client_certificate_required\"",
    ] {
        assert!(
            verdicts.contains(reason),
            "{reason} not covered: {verdicts:?}"
        );
    }
}
