//! `limbo`: x509-limbo cases run through the filter's decision, counted per
//! namespace: a chain the filter accepts that limbo refuses is a wrong
//! accept, and the exit status says there was a mismatch; a wrong reject the
//! ONE Record profile explains is counted apart and is none.

use super::{p, pki, run};
use onerecord_tls_policy_core::rfc3339::format_rfc3339;
use onerecord_tls_policy_testkit::pki::{CertSpec, issue, self_signed};
use onerecord_tls_policy_testkit::tempdir::TempDir;
use onerecord_tls_policy_testkit::unix_now;
use serde_json::{Value, json};

fn case(id: &str, expected: &str, chain: (&str, &str, &str), extra: Value) -> Value {
    let (root, inter, leaf) = chain;
    let mut case = json!({
        "id": id,
        "validation_kind": "SERVER",
        "trusted_certs": [root],
        "untrusted_intermediates": [inter],
        "peer_certificate": leaf,
        "validation_time": format_rfc3339(unix_now()),
        "extended_key_usage": [],
        "expected_result": expected,
        "expected_peer_name": null,
        "max_chain_depth": null,
        "crls": [],
        "features": [],
    });
    if let (Some(case), Some(extra)) = (case.as_object_mut(), extra.as_object()) {
        case.extend(extra.clone());
    }
    case
}

#[test]
fn limbo_counts_passes_wrong_accepts_and_skips_per_namespace() {
    let k = pki();
    let (root, inter, leaf) = (k.root.pem(), k.inter.pem(), k.leaf.pem());
    let chain = (root.as_str(), inter.as_str(), leaf.as_str());
    let other_leaf = k.other_leaf.pem();
    let foreign = (root.as_str(), inter.as_str(), other_leaf.as_str());
    let cases = json!({"version": 1, "testcases": [
        case("good::chain", "SUCCESS", chain, json!({})),
        case("good::foreign-refused", "FAILURE", foreign, json!({})),
        case("bad::accepted", "FAILURE", chain, json!({})),
        case("bad::crl", "FAILURE", chain, json!({"crls": ["-----BEGIN X509 CRL-----"]})),
        case("bad::server-eku", "SUCCESS", chain, json!({"extended_key_usage": ["serverAuth"]})),
        case("bad::name-only", "FAILURE", chain,
             json!({"expected_peer_name": {"kind": "DNS", "value": "other.example.com"}})),
    ]});
    let dir = TempDir::new("limbo");
    let file = dir.write("limbo-clientauth.json", cases.to_string());

    let r = run(&["limbo", "--verbose", p(&file)]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        row_of(&r.stdout, "good"),
        ["2", "0", "0", "0", "0"],
        "{}",
        r.stdout
    );
    assert_eq!(
        row_of(&r.stdout, "bad"),
        ["0", "1", "0", "0", "3"],
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("bad::accepted: wrong accept"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("bad::crl: skipped: needs CRL checking"));
    assert!(
        r.stdout
            .contains("bad::server-eku: skipped: asks for EKU serverAuth")
    );
    assert!(
        r.stdout
            .contains("bad::name-only: skipped: fails only on server-name matching")
    );

    // Read as labelled, the SERVER cases are left to the client-role file.
    let plain = dir.write("limbo.json", cases.to_string());
    let r = run(&["limbo", p(&plain)]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(row_of(&r.stdout, "total"), ["0", "0", "0", "0", "6"]);
}

#[test]
fn a_reject_the_profile_explains_is_no_mismatch_and_any_other_is() {
    let k = pki();
    let (root, inter) = (k.root.pem(), k.inter.pem());
    // A CA certificate as the client, which limbo accepts.
    let ca_as_leaf = (root.as_str(), root.as_str(), inter.as_str());
    let listed = case(
        "pathlen::validation-ignores-pathlen-in-leaf",
        "SUCCESS",
        ca_as_leaf,
        json!({}),
    );
    let dir = TempDir::new("limbo");
    let file = dir.write(
        "limbo-clientauth.json",
        json!({"testcases": [listed]}).to_string(),
    );
    let r = run(&["limbo", p(&file)]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(row_of(&r.stdout, "total"), ["0", "0", "0", "1", "0"]);
    assert!(
        r.stdout.contains(
            "pathlen::validation-ignores-pathlen-in-leaf: profile reject: certificate_invalid: \
             the leaf is a CA certificate"
        ),
        "{}",
        r.stdout
    );

    let unlisted = case("other::ca-as-leaf", "SUCCESS", ca_as_leaf, json!({}));
    let file = dir.write(
        "limbo-clientauth.json",
        json!({"testcases": [unlisted]}).to_string(),
    );
    let r = run(&["limbo", p(&file)]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(row_of(&r.stdout, "total"), ["0", "0", "1", "0", "0"]);
}

#[test]
fn limbos_depth_leaves_self_issued_intermediates_out() {
    let root = self_signed(&CertSpec::ca("Depth Root"));
    let ica = issue(&CertSpec::ca("Depth Intermediate"), &root);
    // The same name, a key of its own: self-issued.
    let renewed = issue(&CertSpec::ca("Depth Intermediate"), &ica);
    let lower = issue(&CertSpec::ca("Depth Lower"), &ica);
    let leaf = issue(&CertSpec::client("client-1"), &renewed);
    let lower_leaf = issue(&CertSpec::client("client-2"), &lower);
    let pem = |c: &onerecord_tls_policy_testkit::pki::Issued| c.pem();
    let (root, ica, renewed, lower) = (pem(&root), pem(&ica), pem(&renewed), pem(&lower));
    let (leaf, lower_leaf) = (pem(&leaf), pem(&lower_leaf));
    let depth_one = |id: &str, expected: &str, leaf: &str, intermediates: &[&str]| {
        case(
            id,
            expected,
            (root.as_str(), ica.as_str(), leaf),
            json!({"max_chain_depth": 1, "untrusted_intermediates": intermediates}),
        )
    };
    let cases = json!({"testcases": [
        // root → ICA → ICA (self-issued) → leaf: one intermediate as limbo counts.
        depth_one("depth::self-issued", "SUCCESS", &leaf, &[&ica, &renewed]),
        // root → ICA → lower → leaf: two.
        depth_one("depth::exhausted", "FAILURE", &lower_leaf, &[&ica, &lower]),
    ]});
    let dir = TempDir::new("limbo");
    let file = dir.write("limbo-clientauth.json", cases.to_string());
    let r = run(&["limbo", "--verbose", p(&file)]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(row_of(&r.stdout, "depth"), ["2", "0", "0", "0", "0"]);
}

fn row_of(stdout: &str, name: &str) -> Vec<String> {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} row in\n{stdout}"));
    line.split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect()
}

#[test]
fn limbo_without_testcases_says_it_is_not_a_limbo_file() {
    let dir = TempDir::new("limbo");
    let file = dir.write("x.json", "{}");
    let r = run(&["limbo", p(&file)]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no `testcases` array"), "{}", r.stderr);
}
