//! `explain` selects rules as the filter does: by normalised path and
//! method, on every reading of the path.

use super::{Setup, pki};
use serde_json::json;
use std::path::Path;

#[test]
fn explain_selects_rules_by_normalised_path_and_method() {
    let k = pki();
    let config = format!(
        r#"{{"trusted_ca_sha256":["{}"],"rules":[
            {{"name":"delegations-write","path_prefix":"/access-delegations","methods":["POST","PATCH"],"mtls":"required"}},
            {{"name":"status","path_exact":"/status"}},
            {{"name":"partners","path_prefix":"/partners","allowed_clients":{{"uri_san":["https://1r.example.com/logistics-agents/client-1"]}}}}]}}"#,
        k.root.sha256_hex()
    );
    let s = Setup::new(&config);
    let chain = s.chain("chain.pem", &[&k.leaf, &k.inter]);
    let chain_full = s.chain("full.pem", &[&k.leaf, &k.inter, &k.root]);
    let intruder = s.chain("intruder.pem", &[&k.other_leaf, &k.other_root]);
    let check = |method: &str, path: &str, chain: Option<&Path>, rule, reason| {
        let r = s.explain(chain, &["--method", method, "--path", path, "--json"]);
        let v = r.json();
        let what = format!("{method} {path} {chain:?}: {v}");
        assert_eq!(v["rule"].as_str(), rule, "{what}");
        assert_eq!(v["reason"].as_str(), reason, "{what}");
        assert_eq!(r.code, if reason.is_some() { 1 } else { 0 }, "{what}");
    };
    let required = Some("client_certificate_required");
    let write = Some("delegations-write");
    check("GET", "/access-delegations/1", None, None, None);
    check("POST", "/access-delegations/1", None, write, required);
    check(
        "patch",
        "/access%2Ddelegations//./1?x=1",
        None,
        write,
        required,
    );
    check(
        "POST",
        "/access-delegations",
        Some(&chain_full),
        write,
        None,
    );
    check("GET", "/status", None, Some("status"), None);
    check("GET", "/status/x", None, None, None);
    let partners = Some("partners");
    check("GET", "/partners/1", None, partners, required);
    check("GET", "/partners/1", Some(&chain_full), partners, None);
    check(
        "GET",
        "/partners/1",
        Some(&intruder),
        partners,
        Some("untrusted_ca"),
    );
    // Leaf and intermediate only, and the root is not configured: no anchor.
    check(
        "GET",
        "/partners/1",
        Some(&chain),
        partners,
        Some("untrusted_ca"),
    );

    // A route's metadata overrides the rules.
    let r = s.explain(
        None,
        &["--path", "/status", "--route-mtls", "required", "--json"],
    );
    assert_eq!(r.json()["reason"], "client_certificate_required");
    let r = s.explain(
        None,
        &["--path", "/status", "--route-mtls", "yes", "--json"],
    );
    assert_eq!(r.json()["reason"], "route_metadata_invalid");
}

#[test]
fn explain_applies_rules_to_every_reading_of_the_path() {
    let k = pki();
    let config = format!(
        r#"{{"trusted_ca_sha256":["{}"],"rules":[
            {{"name":"public","path_prefix":"/public","mtls":"optional"}},
            {{"name":"delegations","path_prefix":"/access-delegations","mtls":"required"}},
            {{"name":"admin","path_exact":"/admin","methods":["GET"],"mtls":"required"}}]}}"#,
        k.root.sha256_hex()
    );
    let s = Setup::new(&config);
    let check = |method: &str, path: &str, rule: Option<&str>, reason: Option<&str>| {
        let r = s.explain(None, &["--method", method, "--path", path, "--json"]);
        let v = r.json();
        assert_eq!(v["rule"].as_str(), rule, "{method} {path}: {v}");
        assert_eq!(v["reason"].as_str(), reason, "{method} {path}: {v}");
    };
    let required = Some("client_certificate_required");
    for path in [
        "/ACCESS-DELEGATIONS",
        "/;x/access-delegations",
        "/x%2F..%2Faccess-delegations",
        "/x/..\\access-delegations",
        "/public/..;/access-delegations",
    ] {
        check("GET", path, Some("delegations"), required);
    }
    check("HEAD", "/Admin/", Some("admin"), required);
    let r = s.explain(
        None,
        &["--path", "/public/..;/access-delegations", "--json"],
    );
    assert_eq!(r.json()["selected_rules"], json!(["public", "delegations"]));
    let r = s.explain(None, &["--path", "/public/..;/access-delegations"]);
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("selected_rules") && l.ends_with("public, delegations")),
        "{}",
        r.stdout
    );
    let r = s.explain(None, &["--path", "/public/1"]);
    assert!(!r.stdout.contains("selected_rules"), "{}", r.stdout);
    check("GET", "/public/1", Some("public"), None);
    for path in ["/a b", "nope", "/a%zz", "/caf\u{e9}"] {
        check("GET", path, None, Some("request_path_invalid"));
    }
}
