//! Certificates abusing the rules for CAs: roots and CAs as client
//! certificates, name constraints, path lengths, critical extensions.

use onerecord_tls_policy_testkit as support;

use super::{
    Annotations, Offline, Target, facts_for, get, identity, no_identity, pki, policy, spec,
};
use onerecord_tls_policy::reason::Reason;
use serde_json::{Value, json};
use support::bootstrap::EnvoySpec;
use support::pki::{CertSpec, Issued, issue, issue_with_key, pem_bundle, self_signed};
use support::policies::{DELEGATION, OBJECT};

/// Pins `roots` (also completing chains with them); Envoy trusts `envoy_trust`.
fn pinning(roots: &[&Issued], envoy_trust: &[&Issued]) -> (Value, EnvoySpec) {
    let pins: Vec<String> = roots.iter().map(|r| r.sha256_hex()).collect();
    let config = policy(json!({
        "trusted_ca_sha256": pins,
        "ca_certificates_pem": pem_bundle(roots),
    }));
    let spec = spec(&config).client_ca_pem(&pem_bundle(envoy_trust));
    (config, spec)
}

#[test]
fn pinned_root_presented_as_the_client_certificate_is_denied() {
    // A root that may sign with its key (digitalSignature): Envoy's handshake
    // accepts it as a client certificate, the filter does not.
    let signing_root = self_signed(
        &CertSpec::ca("Pinned Signing Root CA")
            .extension("keyUsage", "critical,digitalSignature,keyCertSign,cRLSign"),
    );
    let p = pki();
    let (config, spec) = pinning(
        &[&p.client_ca, &signing_root],
        &[&p.client_ca, &signing_root],
    );
    let t = Target::start(spec);
    t.expect_deny("certificate_invalid", DELEGATION, || {
        get(&t.presenting(&signing_root, &[]), t.tls(), DELEGATION)
    });
    t.expect_allow(&no_identity(None), || {
        get(&t.presenting(&signing_root, &[]), t.tls(), OBJECT)
    });
    // The usual root (keyCertSign and cRLSign only) never gets that far:
    // BoringSSL refuses a client certificate without digitalSignature
    // (KEY_USAGE_BIT_INCORRECT), whatever the validation settings.
    t.expect_handshake_refused(&t.presenting(&p.client_ca, &[]), "connection_error");

    let offline = Offline::new(&config);
    for root in [&signing_root, &p.client_ca] {
        offline.assert_refused(
            &facts_for(&[root]),
            Reason::CertificateInvalid,
            "root as leaf",
        );
    }
    t.assert_vm_intact();
}

#[test]
fn ca_certificate_presented_as_the_client_certificate_is_denied() {
    let p = pki();
    // cA=true under the pinned root, with everything a client certificate
    // has (digitalSignature, clientAuth): Envoy accepts it.
    let client_like_ca = issue(
        &CertSpec::ca("Client-like Sub CA")
            .eku(Some(vec!["clientAuth"]))
            .extension("keyUsage", "critical,digitalSignature,keyCertSign")
            .uri_sans(&["https://1r.example.com/logistics-agents/ca"]),
        &p.client_ca,
    );
    let plain_ca = issue(&CertSpec::ca("Plain Sub CA"), &p.client_ca);
    let config = policy(json!({}));
    let t = Target::start(spec(&config));
    for chain in [vec![], vec![&p.client_ca]] {
        t.expect_deny("certificate_invalid", DELEGATION, || {
            get(&t.presenting(&client_like_ca, &chain), t.tls(), DELEGATION)
        });
    }
    t.expect_allow(&no_identity(None), || {
        get(&t.presenting(&client_like_ca, &[]), t.tls(), OBJECT)
    });
    // Without digitalSignature BoringSSL refuses it at the handshake.
    t.expect_handshake_refused(&t.presenting(&plain_ca, &[]), "connection_error");

    let offline = Offline::new(&config);
    for ca in [&client_like_ca, &plain_ca] {
        offline.assert_refused(&facts_for(&[ca]), Reason::CertificateInvalid, "CA as leaf");
    }
    t.assert_vm_intact();
}

#[test]
fn name_constraint_violation_is_denied_with_its_own_reason() {
    let p = pki();
    let constrained_spec = CertSpec::ca("Constrained Root CA")
        .extension("nameConstraints", "critical,permitted;DNS:example.com");
    let constrained = self_signed(&constrained_spec);
    // The same name and key without the constraint: a trust store that holds
    // this copy (Envoy's, here) accepts what the pinned one forbids.
    let mut twin_spec = constrained_spec.clone();
    twin_spec.extra_extensions.clear();
    let twin = issue_with_key(&twin_spec, constrained.key.clone(), None);
    let outside = issue(
        &CertSpec::client("outside").dns_sans(&["client.evil.test"]),
        &constrained,
    );
    let inside = issue(
        &CertSpec::client("inside").dns_sans(&["client.example.com"]),
        &constrained,
    );

    // Envoy trusting the constrained root refuses the violation itself.
    let (_, strict) = pinning(&[&constrained], &[&constrained]);
    let t = Target::start(strict);
    t.expect_handshake_refused(&t.presenting(&outside, &[]), "fail_verify_error");
    t.assert_vm_intact();
    drop(t);

    // Envoy trusting the twin lets it through; the filter pins the original.
    let (config, lenient) = pinning(&[&constrained], &[&twin, &p.client_ca]);
    let t = Target::start(lenient);
    t.expect_deny("name_constraint_violation", DELEGATION, || {
        get(&t.presenting(&outside, &[]), t.tls(), DELEGATION)
    });
    let echo = t.expect_allow(&verified_by(&inside, "inside", &constrained), || {
        get(&t.presenting(&inside, &[]), t.tls(), DELEGATION)
    });
    assert_eq!(echo.get("x-onerecord-mtls"), Some("verified"));

    let offline = Offline::new(&config);
    offline.assert_refused(
        &facts_for(&[&outside]),
        Reason::NameConstraintViolation,
        "outside",
    );
    assert!(
        offline
            .decide(DELEGATION, Some(facts_for(&[&inside])))
            .client
            .is_some()
    );
    t.assert_vm_intact();
}

/// The annotations for `leaf` (`CertSpec::client(name)`) anchored at `anchor`.
fn verified_by(leaf: &Issued, name: &str, anchor: &Issued) -> Annotations {
    let mut expected = identity(leaf, name, Some("access-delegations"), "TLSv1.3");
    expected.insert(
        "x-onerecord-trust-anchor-sha256".into(),
        vec![anchor.sha256_hex()],
    );
    expected
}

#[test]
fn path_length_violation_is_denied_certificate_invalid() {
    let p = pki();
    // root → pathlen:0 intermediate → sub-CA → leaf: the sub-CA breaks the
    // intermediate's constraint.
    let limited_spec = CertSpec::ca("Path-limited Intermediate CA").path_len(Some(0));
    let limited = issue(&limited_spec, &p.client_ca);
    let sub = issue(&CertSpec::ca("Sub CA below the limit"), &limited);
    let leaf = issue(&CertSpec::client("too-deep"), &sub);
    // The same intermediate without the limit, for Envoy's trust store.
    let twin = issue_with_key(
        &limited_spec.clone().path_len(None),
        limited.key.clone(),
        Some(&p.client_ca),
    );

    let config = policy(json!({}));
    let t = Target::start(spec(&config));
    t.expect_handshake_refused(&t.presenting(&leaf, &[&sub, &limited]), "fail_verify_error");
    t.assert_vm_intact();
    drop(t);

    // Envoy finds the unlimited twin in its trust store; the client presents
    // the limited one, which is all the filter has.
    let t = Target::start(spec(&config).client_ca_pem(&pem_bundle(&[
        &p.client_ca,
        &p.other_root,
        &twin,
    ])));
    t.expect_deny("certificate_invalid", DELEGATION, || {
        get(&t.presenting(&leaf, &[&sub, &limited]), t.tls(), DELEGATION)
    });

    let offline = Offline::new(&config);
    let presented = facts_for(&[&leaf, &sub, &limited]);
    offline.assert_refused(&presented, Reason::CertificateInvalid, "intermediate limit");
    // The limit holds where the limited CA is itself the pinned anchor.
    let anchored = Offline::new(&json!({
        "mtls": "optional",
        "trusted_ca_sha256": [limited.sha256_hex()],
        "rules": [{ "name": "access-delegations", "path_prefix": "/access-delegations", "mtls": "required" }],
    }));
    anchored.assert_refused(&presented, Reason::CertificateInvalid, "anchor limit");
    t.assert_vm_intact();
}

#[test]
fn a_self_issued_intermediate_does_not_count_against_a_path_length() {
    let p = pki();
    // root → pathlen:0 intermediate → its renewal under the same name (a new
    // key, issued by the old one) → leaf: RFC 5280 does not count the renewal.
    let limited_spec = CertSpec::ca("Path-limited Intermediate CA").path_len(Some(0));
    let limited = issue(&limited_spec, &p.client_ca);
    let renewed = issue(&limited_spec, &limited);
    let leaf = issue(&CertSpec::client("renewed-issuer"), &renewed);
    // A CA under another name in the renewal's place is one too many.
    let other = issue(&CertSpec::ca("Sub CA below the limit"), &limited);
    let too_deep = issue(&CertSpec::client("too-deep"), &other);

    let config = policy(json!({}));
    let t = Target::start(spec(&config));
    t.expect_allow(&verified_by(&leaf, "renewed-issuer", &p.client_ca), || {
        get(
            &t.presenting(&leaf, &[&renewed, &limited]),
            t.tls(),
            DELEGATION,
        )
    });
    t.expect_handshake_refused(
        &t.presenting(&too_deep, &[&other, &limited]),
        "fail_verify_error",
    );
    t.assert_vm_intact();

    let offline = Offline::new(&config);
    offline.assert_refused(
        &facts_for(&[&too_deep, &other, &limited]),
        Reason::CertificateInvalid,
        "a CA below pathlen 0",
    );
}

#[test]
fn unknown_critical_extension_on_the_leaf_is_denied_certificate_invalid() {
    let p = pki();
    let leaf = issue(
        &CertSpec::client("critical-ext").extension("1.3.6.1.4.1.99999.1", "critical,DER:05:00"),
        &p.client_ca,
    );
    // The same extension, not critical, is ignored by everyone.
    let benign = issue(
        &CertSpec::client("benign-ext").extension("1.3.6.1.4.1.99999.1", "DER:05:00"),
        &p.client_ca,
    );
    let config = policy(json!({}));
    let t = Target::start(spec(&config));
    t.expect_handshake_refused(&t.presenting(&leaf, &[]), "fail_verify_error");
    t.expect_allow(&verified_by(&benign, "benign-ext", &p.client_ca), || {
        get(&t.presenting(&benign, &[]), t.tls(), DELEGATION)
    });
    t.assert_vm_intact();
    drop(t);

    // Told to accept untrusted chains, Envoy lets it through and reports it
    // invalid (`peer_certificate_valid`); the filter's own check is the
    // offline one below, where Envoy's verdict is unknown.
    let t = Target::start(spec(&config).accept_untrusted_client_certs());
    t.expect_deny("certificate_invalid", DELEGATION, || {
        get(&t.presenting(&leaf, &[]), t.tls(), DELEGATION)
    });
    t.expect_allow(&no_identity(None), || {
        get(&t.presenting(&leaf, &[]), t.tls(), OBJECT)
    });

    let offline = Offline::new(&config);
    offline.assert_refused(
        &facts_for(&[&leaf]),
        Reason::CertificateInvalid,
        "critical extension",
    );
    assert!(
        offline
            .decide(DELEGATION, Some(facts_for(&[&benign])))
            .client
            .is_some()
    );
    t.assert_vm_intact();
}
