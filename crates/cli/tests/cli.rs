//! The operator CLI (`crates/cli`), run as a built binary
//! against generated PKIs: fingerprints, configuration checks, and `explain`,
//! whose verdict must be the one `Policy::decide` gives for the same facts.
// Test code: it may unwrap and panic (the workspace lints are for the shipped crates).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use onerecord_tls_policy_testkit::{pki, unix_now};

use onerecord_tls_policy_core::config::{Config, Mode};
use onerecord_tls_policy_core::facts::{ConnectionFacts, Facts, PeerFacts, RequestFacts};
use onerecord_tls_policy_core::policy::{Decision, Policy};
use onerecord_tls_policy_core::rfc3339::format_rfc3339;
use openssl::hash::MessageDigest;
use pki::{CertSpec, Issued, issue, pem_bundle, self_signed};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const BIN: &str = env!("CARGO_BIN_EXE_onerecord-tls-policy");

// ------------------------------------------------------------------ harness

/// A directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let path = std::env::temp_dir().join(format!(
            "onerecord-cli-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(BIN).args(args).output().unwrap();
    Run {
        code: status.code().expect("exit code"),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The pinned PKI (root → intermediate → client-1) and a foreign one.
struct Pki {
    root: Issued,
    inter: Issued,
    leaf: Issued,
    other_root: Issued,
    other_leaf: Issued,
}

fn pki() -> Pki {
    let root = self_signed(&CertSpec::ca("Pinned Root"));
    let inter = issue(&CertSpec::ca("Pinned Intermediate"), &root);
    let leaf = issue(
        &CertSpec::client("client-1").dns_sans(&["client-1.example.com"]),
        &inter,
    );
    let other_root = self_signed(&CertSpec::ca("Other Root").organization(Some("Elsewhere")));
    let other_leaf = issue(&CertSpec::client("intruder"), &other_root);
    Pki {
        root,
        inter,
        leaf,
        other_root,
        other_leaf,
    }
}

/// A configuration pinning `root`, requiring mTLS under `/access-delegations`.
fn config_pinning(root: &Issued, extra: &str) -> String {
    format!(
        r#"{{"trusted_ca_sha256":["{}"],"rules":[{{"name":"access-delegations","path_prefix":"/access-delegations","mtls":"required"}}]{extra}}}"#,
        root.sha256_hex()
    )
}

/// `openssl x509 -fingerprint -sha256`, from the openssl crate's digest.
fn openssl_fingerprint(cert: &Issued) -> String {
    let digest = cert.cert.digest(MessageDigest::sha256()).unwrap();
    digest
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `openssl x509 -fingerprint` output normalised to the config's form.
fn normalised(openssl: &str) -> String {
    openssl.replace(':', "").to_lowercase()
}

// -------------------------------------------------------------- fingerprint

#[test]
fn fingerprint_prints_what_openssl_prints_normalised() {
    let k = pki();
    let dir = Scratch::new();
    let bundle = dir.write("bundle.pem", pem_bundle(&[&k.leaf, &k.inter, &k.root]));

    let r = run(&["fingerprint", p(&bundle)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    for (line, cert) in lines.iter().zip([&k.leaf, &k.inter, &k.root]) {
        let (digest, subject) = line.split_once("  ").unwrap();
        assert_eq!(digest, normalised(&openssl_fingerprint(cert)));
        assert_eq!(digest, cert.sha256_hex());
        assert!(subject.contains("CN="), "{line}");
    }
    assert_eq!(
        lines[2].split_once("  ").unwrap().1,
        "O=Test PKI,CN=Pinned Root"
    );

    let r = run(&["fingerprint", "--colons", p(&bundle)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let first = r.stdout.lines().next().unwrap();
    assert_eq!(
        first.split_once("  ").unwrap().0,
        openssl_fingerprint(&k.leaf)
    );
}

#[test]
fn fingerprint_reads_der_and_skips_keys_next_to_certificates() {
    let k = pki();
    let dir = Scratch::new();
    let der = dir.write("root.der", k.root.der());
    let r = run(&["fingerprint", p(&der)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with(&k.root.sha256_hex()), "{}", r.stdout);

    let combined = dir.write("combined.pem", k.leaf.key_pem() + &k.leaf.pem());
    let r = run(&["fingerprint", p(&combined)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1);
    assert!(r.stdout.starts_with(&k.leaf.sha256_hex()));
    assert!(
        r.stderr.contains("skipped PEM block 1 (PRIVATE KEY)"),
        "{}",
        r.stderr
    );
}

#[test]
fn fingerprint_refuses_what_is_not_a_certificate() {
    let k = pki();
    let dir = Scratch::new();
    let cases = [
        (
            dir.write("key.pem", k.leaf.key_pem()),
            "contains no certificate, only PEM blocks of type PRIVATE KEY",
        ),
        (dir.write("text.txt", "hello\n"), "contains no certificate"),
        (dir.write("empty.pem", ""), "contains no certificate"),
        (
            dir.write(
                "garbage.pem",
                "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n",
            ),
            "PEM block 1 is not a valid X.509 certificate",
        ),
        (
            dir.write("cut.pem", &k.leaf.pem()[..200]),
            "PEM block 1 cannot be read",
        ),
        (dir.0.join("missing.pem"), "cannot read"),
    ];
    for (path, message) in cases {
        let r = run(&["fingerprint", p(&path)]);
        assert_eq!(r.code, 2, "{}: {}", path.display(), r.stdout);
        assert!(r.stdout.is_empty());
        assert!(
            r.stderr.starts_with("error: ") && r.stderr.contains(message),
            "{}: {}",
            path.display(),
            r.stderr
        );
    }
}

// ------------------------------------------------------------- check-config

#[test]
fn check_config_summarises_a_valid_configuration() {
    let k = pki();
    let dir = Scratch::new();
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
}

#[test]
fn check_config_prints_the_filters_message_naming_the_field() {
    let dir = Scratch::new();
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

    let r = run(&["check-config", p(&dir.0.join("missing.json"))]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);
}

// ------------------------------------------------------------------ explain

/// Files for one PKI: the configuration and chains, in a scratch directory.
struct Setup {
    dir: Scratch,
    config: PathBuf,
}

impl Setup {
    fn new(config: &str) -> Setup {
        let dir = Scratch::new();
        let config = dir.write("config.json", config);
        Setup { dir, config }
    }

    fn chain(&self, name: &str, certs: &[&Issued]) -> PathBuf {
        self.dir.write(name, pem_bundle(certs))
    }

    fn explain(&self, chain: Option<&Path>, extra: &[&str]) -> Run {
        let mut args = vec!["explain", "--config", p(&self.config)];
        if let Some(chain) = chain {
            args.extend(["--chain", p(chain)]);
        }
        args.extend(extra);
        run(&args)
    }
}

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

#[test]
fn check_config_refuses_rule_paths_that_can_never_match() {
    let dir = Scratch::new();
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
    ] {
        assert!(keys.contains(&key), "{key} missing from {v}");
    }
    assert_eq!(keys.len(), 13, "{v}");
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
        ["dns_san", "organization", "sha256", "subject", "uri_san"]
    );

    let r = s.explain(None, &["--json", "--path", "/access-delegations"]);
    let v = r.json();
    assert_eq!(v["client"], Value::Null);
    assert_eq!(v["anchor_sha256"], Value::Null);
    assert_eq!(v["path_sha256"], json!([]));
    assert!(v["message"].as_str().unwrap().contains("mutual TLS"));
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

// ------------------------------------------------ one code path with decide

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
        })),
        "anchor_sha256": d.client.as_ref().map(|c| c.anchor_sha256.to_hex()),
        "path_sha256": d.client.as_ref().map_or(Vec::new(), |c| {
            c.path_sha256.iter().map(|f| f.to_hex()).collect()
        }),
        "ignored_certificate": d.ignored_certificate.map(|r| r.code()),
        "at": format_rfc3339(now),
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
                        method_overrides: Vec::new(),
                        route_mtls: None,
                    },
                    connection: Ok(ConnectionFacts {
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
