//! `explain --ocsp-response`: a stored response checked as the filter
//! checks a responder's answer, and the verdict it gives.

use super::{Setup, config_pinning, p};
use onerecord_tls_policy_testkit::ocsp::{OcspSpec, Status};
use onerecord_tls_policy_testkit::pinned::pki_with_leaf;
use onerecord_tls_policy_testkit::pki::CertSpec;

#[test]
fn explain_checks_stored_ocsp_responses() {
    let k = pki_with_leaf(
        CertSpec::client("client-1")
            .extension("authorityInfoAccess", "OCSP;URI:http://ocsp.example/"),
    );
    let s = Setup::new(&config_pinning(
        &k.root,
        r#","ocsp":{"mode":"hard","cluster":"ocsp"}"#,
    ));
    let chain = s.chain("chain.pem", &[&k.leaf, &k.inter, &k.root]);
    let path = ["--path", "/access-delegations/1"];

    // No response: the filter would ask; offline the status is unknown.
    let r = s.explain(Some(&chain), &path);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("revocation_status_unknown"),
        "{}",
        r.stdout
    );

    let good = s
        .dir
        .write("good.der", OcspSpec::default().sign(&k.leaf, &k.inter));
    let r = s.explain(
        Some(&chain),
        &[path[0], path[1], "--ocsp-response", p(&good)],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains(": good for serial"), "{}", r.stdout);

    let revoked = s.dir.write(
        "revoked.der",
        OcspSpec::default()
            .status(Status::Revoked)
            .sign(&k.leaf, &k.inter),
    );
    let r = s.explain(
        Some(&chain),
        &[path[0], path[1], "--ocsp-response", p(&revoked)],
    );
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("certificate_revoked"), "{}", r.stdout);

    // Signed by the root, not the leaf's issuer: refused, status unknown.
    let forged = s.dir.write(
        "forged.der",
        OcspSpec::default().sign_with(&k.leaf, &k.inter, &k.root, &[]),
    );
    let r = s.explain(
        Some(&chain),
        &[path[0], path[1], "--ocsp-response", p(&forged)],
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("refused: the response is signed neither"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("revocation_status_unknown"),
        "{}",
        r.stdout
    );
}
