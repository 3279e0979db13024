//! `fingerprint`: the SHA-256 pins, as openssl prints them normalised.

use super::{normalised, openssl_fingerprint, p, pki, run};
use onerecord_tls_policy_testkit::pki::pem_bundle;
use onerecord_tls_policy_testkit::tempdir::TempDir;

#[test]
fn fingerprint_prints_what_openssl_prints_normalised() {
    let k = pki();
    let dir = TempDir::new("cli");
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
    let dir = TempDir::new("cli");
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
    let dir = TempDir::new("cli");
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
        (dir.join("missing.pem"), "cannot read"),
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
