//! `explain`: the verdict for a chain, its identity and path, validity at
//! a given time, TLS first, chains completed from configured CAs, audit mode.

use super::{Setup, config_pinning, p, pki, run};
use onerecord_tls_policy_core::rfc3339::format_rfc3339;
use onerecord_tls_policy_testkit::pki::{CertSpec, issue, self_signed};
use onerecord_tls_policy_testkit::unix_now;
use serde_json::{Value, json};

#[test]
fn explain_allows_a_pinned_client_and_shows_identity_and_path() {
    let k = pki();
    let s = Setup::new(&config_pinning(&k.root, ""));
    let chain = s.chain("chain.pem", &[&k.leaf, &k.inter, &k.root]);

    let r = s.explain(Some(&chain), &["--path", "/access-delegations/1"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let line = |key: &str| {
        r.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("no {key} line in\n{}", r.stdout))
            .to_string()
    };
    assert!(line("verdict").ends_with(" allow"));
    assert!(line("rule").ends_with(" access-delegations"));
    assert!(line("tls_version").ends_with(" TLSv1.3"));
    assert!(line("mtls").ends_with(" verified"));
    assert!(line("client").ends_with(&k.leaf.sha256_hex()));
    assert!(line("subject").ends_with(" O=Example Airline,CN=client-1"));
    assert!(line("uri_san").ends_with(" https://1r.example.com/logistics-agents/client-1"));
    assert!(line("dns_san").ends_with(" client-1.example.com"));
    assert!(line("organization").ends_with(" Example Airline"));
    assert!(line("anchor").ends_with(&k.root.sha256_hex()));
    // The verified path, leaf → intermediate → anchor, with subjects.
    let path: Vec<&str> = r
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("path"))
        .collect();
    assert_eq!(path.len(), 3, "{}", r.stdout);
    for (line, (cert, role)) in path.iter().zip([
        (&k.leaf, "(leaf)"),
        (&k.inter, "(intermediate)"),
        (&k.root, "(pinned anchor)"),
    ]) {
        assert!(line.contains(&cert.sha256_hex()), "{line}");
        assert!(line.ends_with(role), "{line}");
    }
    assert!(path[2].contains("O=Test PKI,CN=Pinned Root"));

    // The subject `fingerprint` prints is the filter's form of it.
    let f = run(&["fingerprint", p(&chain)]);
    let fingerprint_subject = f.stdout.lines().next().unwrap().split_once("  ").unwrap().1;
    assert!(line("subject").ends_with(fingerprint_subject));

    let r = s.explain(Some(&chain), &["--path", "/access-delegations/1", "--json"]);
    assert_eq!(r.code, 0);
    let v = r.json();
    assert_eq!(v["verdict"], "allow");
    assert_eq!(v["reason"], Value::Null);
    assert_eq!(v["client"]["sha256"], k.leaf.sha256_hex());
    assert_eq!(v["client"]["subject"], "O=Example Airline,CN=client-1");
    assert_eq!(
        v["client"]["uri_san"],
        json!(["https://1r.example.com/logistics-agents/client-1"])
    );
    assert_eq!(v["client"]["dns_san"], json!(["client-1.example.com"]));
    assert_eq!(v["client"]["organization"], json!(["Example Airline"]));
    assert_eq!(v["anchor_sha256"], k.root.sha256_hex());
    assert_eq!(
        v["path_sha256"],
        json!([
            k.leaf.sha256_hex(),
            k.inter.sha256_hex(),
            k.root.sha256_hex()
        ])
    );
}

#[test]
fn explain_denies_clients_of_other_cas_and_the_decoy() {
    let k = pki();
    let s = Setup::new(&config_pinning(&k.root, ""));
    let foreign = s.chain("foreign.pem", &[&k.other_leaf, &k.other_root]);
    // The decoy: a foreign chain with the (public) pinned root appended.
    let decoy = s.chain("decoy.pem", &[&k.other_leaf, &k.other_root, &k.root]);
    for chain in [&foreign, &decoy] {
        let r = s.explain(Some(chain), &["--path", "/access-delegations", "--json"]);
        assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
        let v = r.json();
        assert_eq!(v["verdict"], "deny");
        assert_eq!(v["reason"], "untrusted_ca");
        assert_eq!(v["mtls"], "none");
        assert_eq!(v["client"], Value::Null);

        let text = s.explain(Some(chain), &["--path", "/access-delegations"]);
        assert_eq!(text.code, 1);
        assert!(text.stdout.contains("untrusted_ca"), "{}", text.stdout);
        assert!(text.stdout.contains("does not chain to a CA"));
    }

    // Where mTLS is optional the certificate is ignored, not fatal.
    let r = s.explain(Some(&decoy), &["--path", "/logistics-objects/1", "--json"]);
    assert_eq!(r.code, 0);
    let v = r.json();
    assert_eq!(v["verdict"], "allow");
    assert_eq!(v["ignored_certificate"], "untrusted_ca");
    assert_eq!(v["mtls"], "none");
}

#[test]
fn explain_checks_validity_at_the_given_time() {
    let root = self_signed(&CertSpec::ca("Pinned Root"));
    let short = issue(
        &CertSpec::client("short-lived").validity(-3600, 86_400),
        &root,
    );
    let s = Setup::new(&config_pinning(&root, ""));
    let chain = s.chain("chain.pem", &[&short, &root]);
    let args = |at: &str| ["--path", "/access-delegations", "--json", "--at", at].map(String::from);
    let explain = |at: &str| {
        let extra = args(at);
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        s.explain(Some(&chain), &extra)
    };

    let now = unix_now();
    let r = explain(&format_rfc3339(now));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["at"], format_rfc3339(now));

    // Two days on the leaf has expired (its CA has not).
    let r = explain(&format_rfc3339(now + 2 * 86_400));
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["reason"], "certificate_expired");

    // The same instant written with an offset.
    let later = format_rfc3339(now + 2 * 86_400 + 7200);
    let with_offset = format!("{}+02:00", later.trim_end_matches('Z'));
    let r = explain(&with_offset);
    assert_eq!(r.json()["at"], format_rfc3339(now + 2 * 86_400));
    assert_eq!(r.json()["reason"], "certificate_expired");

    // Before the leaf's notBefore (less the default 60 s skew).
    let r = explain(&format_rfc3339(now - 2 * 3600));
    assert_eq!(r.json()["reason"], "certificate_not_yet_valid");

    let r = explain("2030-02-30T00:00:00Z");
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not an RFC 3339 time"), "{}", r.stderr);
}

#[test]
fn explain_enforces_tls_before_anything_else() {
    let k = pki();
    let s = Setup::new(&config_pinning(&k.root, r#","min_tls_version":"TLSv1.2""#));
    let chain = s.chain("chain.pem", &[&k.leaf, &k.inter, &k.root]);

    let r = s.explain(None, &["--plaintext", "--json"]);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["reason"], "tls_required");
    assert_eq!(r.json()["tls_version"], Value::Null);

    for (version, expected) in [
        ("TLSv1.1", Some("tls_version_too_low")),
        ("TLSv1", Some("tls_version_too_low")),
        ("TLSv9", Some("tls_version_unrecognized")),
        ("TLSv1.2", None),
    ] {
        let r = s.explain(Some(&chain), &["--tls-version", version, "--json"]);
        let v = r.json();
        assert_eq!(v["reason"].as_str(), expected, "{version}");
        assert_eq!(r.code, if expected.is_some() { 1 } else { 0 }, "{version}");
    }
    let r = s.explain(Some(&chain), &["--tls-version", "TLSv1.1"]);
    assert!(r.stdout.contains("tls_version_too_low"), "{}", r.stdout);
}

#[test]
fn explain_completes_short_chains_from_configured_cas() {
    let k = pki();
    let extra = format!(
        r#","ca_certificates_pem":{}"#,
        serde_json::to_string(&k.root.pem()).unwrap()
    );
    let s = Setup::new(&config_pinning(&k.root, &extra));
    let chain = s.chain("chain.pem", &[&k.leaf, &k.inter]);
    let r = s.explain(Some(&chain), &["--path", "/access-delegations"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let anchor_line = r.stdout.lines().last().unwrap();
    assert!(anchor_line.contains(&k.root.sha256_hex()), "{}", r.stdout);
    // The anchor came from the configuration, yet it is labelled.
    assert!(anchor_line.contains("CN=Pinned Root"), "{}", r.stdout);
}

#[test]
fn explain_in_audit_mode_reports_audit_deny_and_exits_1() {
    let k = pki();
    let s = Setup::new(&config_pinning(&k.root, r#","mode":"audit""#));
    let r = s.explain(None, &["--path", "/access-delegations", "--json"]);
    assert_eq!(r.code, 1);
    let v = r.json();
    assert_eq!(v["verdict"], "audit-deny");
    assert_eq!(v["mode"], "audit");
    assert_eq!(v["reason"], "client_certificate_required");
    let r = s.explain(None, &["--path", "/access-delegations"]);
    assert!(r.stdout.contains("audit-deny"), "{}", r.stdout);

    let help = run(&["explain", "--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("audit-deny"), "{}", help.stdout);
}
