//! Chains longer than the policy allows, up to what Envoy's handshake takes.

use onerecord_tls_policy_testkit as support;

use super::{Offline, Target, facts_for, get, no_identity, pki, policy, spec, try_get};
use onerecord_tls_policy::reason::Reason;
use openssl::ssl::SslVersion;
use serde_json::json;
use std::collections::BTreeMap;
use support::pki::{CertSpec, Issued, self_signed};
use support::policies::{DELEGATION, OBJECT};
use support::vm::{self};

/// `count` distinct self-signed CA certificates, for padding chains.
fn fillers(count: usize) -> Vec<Issued> {
    (0..count)
        .map(|i| self_signed(&CertSpec::ca(&format!("Filler CA {i}"))))
        .collect()
}

#[test]
fn chain_of_50_certificates_is_denied_chain_too_long() {
    let t = Target::start(spec(&policy(json!({}))));
    let p = pki();
    let padding = fillers(48);
    let mut chain: Vec<&Issued> = vec![&p.client_ca];
    chain.extend(&padding);
    assert_eq!(chain.len() + 1, 50);

    // Envoy's handshake takes it (the certificate message is ~25 KiB).
    for (version, name) in [
        (SslVersion::TLS1_2, "TLSv1.2"),
        (SslVersion::TLS1_3, "TLSv1.3"),
    ] {
        let client = t.presenting(&p.client, &chain).version(version);
        t.expect_deny("chain_too_long", DELEGATION, || {
            get(&client, t.tls(), DELEGATION)
        });
        let mut unverified = no_identity(None);
        unverified.insert("x-onerecord-tls-version".into(), vec![name.into()]);
        t.expect_allow(&unverified, || get(&client, t.tls(), OBJECT));
    }

    let offline = Offline::new(&policy(json!({})));
    let mut presented = vec![&p.client];
    presented.extend(&chain);
    offline.assert_refused(
        &facts_for(&presented),
        Reason::ChainTooLong,
        "50 certificates",
    );
    t.assert_vm_intact();
}

/// Presenting more than twice `max_chain_length` certificates is `chain_too_long`
/// (README, "Decisions and deny reasons") at any length Envoy lets through,
/// including beyond the 64 certificates the XFCC parser reads.
#[test]
fn chain_beyond_64_certificates_is_denied_chain_too_long() {
    let t = Target::start(spec(&policy(json!({}))));
    let p = pki();
    let padding = fillers(249);
    let offline = Offline::new(&policy(json!({})));
    // TLS 1.2: with TLS 1.3 Envoy 1.40 closes the connection instead of
    // writing the answer for some chains of this size (see
    // `certificate_message_over_100_kib_is_refused_at_the_handshake`).
    for total in [65, 250] {
        let chain: Vec<&Issued> = padding.iter().take(total - 1).collect();
        let client = t.presenting(&p.client, &chain).version(SslVersion::TLS1_2);
        t.expect_deny("chain_too_long", DELEGATION, || {
            get(&client, t.tls(), DELEGATION)
        });

        let mut presented = vec![&p.client];
        presented.extend(&chain);
        offline.assert_refused(
            &facts_for(&presented),
            Reason::ChainTooLong,
            &format!("{total} certificates"),
        );
    }
    t.assert_vm_intact();
}

#[test]
fn certificate_message_over_100_kib_is_refused_at_the_handshake() {
    let t = Target::start(spec(&policy(json!({}))));
    let p = pki();
    let padding = fillers(270);
    let chain: Vec<&Issued> = padding.iter().collect();
    let bytes: usize = chain.iter().map(|c| c.der().len() + 3).sum();
    assert!(bytes > 100 * 1024, "{bytes} bytes");
    // BoringSSL's limit on one handshake message (EXCESSIVE_MESSAGE_SIZE).
    for version in [SslVersion::TLS1_2, SslVersion::TLS1_3] {
        let client = t.presenting(&p.client, &chain).version(version);
        t.expect_handshake_refused(&client, "connection_error");
    }
    assert_eq!(t.s.upstream.count(), 1, "only the warm-up request");

    // With TLS 1.3, chains of roughly 60 to 150 certificates (a certificate
    // message of 25 to 60 KiB) pass the handshake, the filter denies, and
    // Envoy then fails to write the answer ("internal error" on the TLS
    // socket) and closes the connection. The client sees no response; the
    // deny still stands and nothing reaches the upstream.
    let chain: Vec<&Issued> = padding.iter().take(99).collect();
    let client = t.presenting(&p.client, &chain).version(SslVersion::TLS1_3);
    let before = vm::counters(&t.s.envoy);
    match try_get(&client, t.tls(), DELEGATION) {
        Ok(resp) => assert_eq!(resp.status, 403, "{resp:#?}"),
        Err(e) => assert!(e.contains("closed") || e.contains("reset"), "{e}"),
    }
    let denied = |c: &BTreeMap<String, u64>| {
        c.iter()
            .filter(|(n, _)| n.starts_with("wasmcustom.") && n.contains(".denied_total"))
            .map(|(_, v)| v)
            .sum::<u64>()
    };
    assert_eq!(denied(&vm::counters(&t.s.envoy)), denied(&before) + 1);
    assert_eq!(t.s.upstream.count(), 1, "only the warm-up request");
    t.assert_vm_intact();
}
