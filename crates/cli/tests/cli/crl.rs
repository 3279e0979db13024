//! CRLs in the CLI: `explain --crl` gives the filter's verdict with the
//! revoking entry's reason code; `check-config` lists the configured CRLs.

use super::{Setup, config_pinning, p, pki, run};
use onerecord_tls_policy_testkit::crl::CrlSpec;
use onerecord_tls_policy_testkit::pki::{CertSpec, issue};

#[test]
fn explain_applies_crls_and_names_the_revoked_certificate() {
    let k = pki();
    let s = Setup::new(&config_pinning(&k.root, ""));
    let chain = s.chain("chain.pem", &[&k.leaf, &k.inter, &k.root]);
    let path = ["--path", "/access-delegations/1"];

    let listing = CrlSpec::default()
        .number(Some(7))
        .revoke_serial(
            onerecord_tls_policy_testkit::crl::serial_contents(&k.leaf),
            Some(5),
        )
        .sign(&k.inter);
    let crl = s.dir.write("inter.crl", listing.pem());
    let r = s.explain(Some(&chain), &[path[0], path[1], "--crl", p(&crl)]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("reason          certificate_revoked"),
        "{}",
        r.stdout
    );
    let revoked = r.stdout.lines().find(|l| l.starts_with("revoked")).unwrap();
    assert!(revoked.contains("reason cessationOfOperation"), "{revoked}");
    assert!(revoked.contains("number 07"), "{revoked}");
    assert!(revoked.contains("CN=Pinned Intermediate"), "{revoked}");

    // Another client of the same CA, and the root's CRL (DER) listing nobody.
    let other = issue(&CertSpec::client("client-2"), &k.inter);
    let other_chain = s.chain("other.pem", &[&other, &k.inter, &k.root]);
    let root_crl = s
        .dir
        .write("root.crl", CrlSpec::default().sign(&k.root).der);
    let r = s.explain(
        Some(&other_chain),
        &[
            path[0],
            path[1],
            "--crl",
            p(&crl),
            "--crl",
            p(&root_crl),
            "--json",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let json = r.json();
    assert_eq!(json["verdict"], "allow");
    assert_eq!(json["crls"].as_array().unwrap().len(), 2);
    assert!(json["client"]["not_after"].as_str().unwrap().ends_with('Z'));

    // A CRL nobody known signed is an error, not a silent no-op.
    let forged = s.dir.write(
        "forged.crl",
        CrlSpec::default().sign_as(&k.inter, &k.other_root).pem(),
    );
    let r = s.explain(Some(&chain), &[path[0], path[1], "--crl", p(&forged)]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("not signed by the key of"),
        "{}",
        r.stderr
    );
}

#[test]
fn check_config_lists_the_crls() {
    let k = pki();
    let crl = CrlSpec::default()
        .number(Some(0x2a))
        .revoke(&k.leaf)
        .sign(&k.inter);
    let cas = format!("{}{}", k.root.pem(), k.inter.pem());
    let extra = format!(
        r#","ca_certificates_pem":{},"crls_pem":{},"crl_sources":[{{"cluster":"crl","path":"/root.crl"}}]"#,
        serde_json::to_string(&cas).unwrap(),
        serde_json::to_string(&crl.pem()).unwrap()
    );
    let s = Setup::new(&config_pinning(&k.root, &extra));
    let r = run(&["check-config", p(&s.config)]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("crls_pem            1 CRL(s)"),
        "{}",
        r.stdout
    );
    let listed = r
        .stdout
        .lines()
        .find(|l| l.starts_with("  0. O=Test PKI"))
        .unwrap();
    assert!(
        listed.contains("number 2a") && listed.contains("1 entry"),
        "{listed}"
    );
    assert!(
        listed.contains("thisUpdate 20") && listed.contains("nextUpdate 20"),
        "{listed}"
    );
    assert!(
        r.stdout
            .contains("0. cluster crl, crl/root.crl, every 300s"),
        "{}",
        r.stdout
    );
}
