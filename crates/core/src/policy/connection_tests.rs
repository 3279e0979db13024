//! The connection memo seen through `decide`: a later request on a
//! connection is decided without its certificate only while the verdict
//! remembered for it holds, and exactly as a full verification would.

use super::cache_tests::{on_connection, peer, reason, request, stats, without_certificate};
use super::test_fixture::{now, pki, pki_with_leaf, remembering};
use crate::reason::Reason;
use onerecord_tls_policy_testkit::pki::{CertSpec, issue};

#[test]
fn a_connection_decided_before_needs_no_certificate() {
    let k = pki();
    let mut p = remembering(&k.root, "");
    let full = on_connection(7, peer(&[&k.leaf, &k.inter, &k.root]));
    assert!(p.needs_certificate(&full, now()), "nothing known yet");
    let cold = p.decide(&request(full.clone(), now()));
    assert!(cold.client.is_some());

    let bare = without_certificate(full.clone());
    assert!(!p.needs_certificate(&bare, now()));
    assert_eq!(p.decide(&request(bare.clone(), now())), cold);
    assert_eq!(p.verdict_cache_stats().connection_hits, 1);
    assert_eq!(stats(&p), (1, 0, 1), "the content index was not asked");

    // Another connection of the same client is known by content only.
    let elsewhere = on_connection(8, peer(&[&k.leaf, &k.inter, &k.root]));
    assert!(p.needs_certificate(&elsewhere, now()));
    assert_eq!(p.decide(&request(elsewhere, now())), cold);
    assert_eq!(stats(&p), (1, 1, 1));
    assert!(!p.needs_certificate(&on_connection(8, bare), now()));
}

#[test]
fn a_connection_entry_holds_only_for_its_digest_window_and_revocations() {
    let k = pki_with_leaf(CertSpec::client("short-lived").validity(-3600, 100));
    let mut p = remembering(&k.root, "");
    let t0 = now();
    let full = on_connection(7, peer(&[&k.leaf, &k.inter, &k.root]));
    assert_eq!(reason(&mut p, full.clone(), t0), None);

    // Another digest on the id (which Envoy never reports) is not trusted
    // to the entry: without the certificate there is nothing to allow.
    let other = issue(&CertSpec::client("client-2"), &k.inter);
    let mut swapped = without_certificate(full.clone());
    swapped.facts.sha256_digest = Some(other.sha256_hex());
    assert!(p.needs_certificate(&swapped, t0));
    assert_eq!(
        reason(&mut p, swapped, t0),
        Some(Reason::PeerChainUnavailable)
    );
    // That deny dropped the entry: the next request verifies in full.
    assert!(p.needs_certificate(&without_certificate(full.clone()), t0));
    assert_eq!(reason(&mut p, full.clone(), t0), None);

    // Past the window the entry does not decide, and the full check denies.
    let late = t0 + 200;
    assert!(p.needs_certificate(&without_certificate(full.clone()), late));
    assert_eq!(
        reason(&mut p, full.clone(), late),
        Some(Reason::CertificateExpired)
    );
    assert!(p.needs_certificate(&without_certificate(full), t0));

    // A policy revoking the intermediate never reuses what another allowed.
    let mut revoked = remembering(
        &k.root,
        &format!(r#","revoked_sha256":["{}"]"#, k.inter.sha256_hex()),
    );
    let full = on_connection(9, peer(&[&k.leaf, &k.inter, &k.root]));
    assert_eq!(
        reason(&mut revoked, full.clone(), t0),
        Some(Reason::CertificateRevoked)
    );
    // That denial is the connection's now: decided without the certificate.
    assert!(!revoked.needs_certificate(&without_certificate(full.clone()), t0));
    assert_eq!(
        reason(&mut revoked, without_certificate(full), t0),
        Some(Reason::CertificateRevoked)
    );
}

#[test]
fn a_failed_connection_is_decided_without_its_certificate_on_any_route() {
    let k = pki();
    let mut p = remembering(
        &k.root,
        r#","rules":[{"name":"open","path_prefix":"/logistics-objects","mtls":"optional"}]"#,
    );
    let t0 = now();
    let full = on_connection(5, peer(&[&k.other_leaf, &k.other_root, &k.root]));
    assert_eq!(reason(&mut p, full.clone(), t0), Some(Reason::UntrustedCa));
    assert!(p.take_chain_verification().is_some());
    let bare = without_certificate(full);
    assert!(!p.needs_certificate(&bare, t0));
    let mut optional = request(bare.clone(), t0);
    optional.request.path = "/logistics-objects/1".into();
    let decision = p.decide(&optional);
    assert_eq!(decision.deny_reason(), None);
    assert_eq!(decision.client, None);
    assert_eq!(decision.ignored_certificate, Some(Reason::UntrustedCa));
    assert_eq!(reason(&mut p, bare.clone(), t0), Some(Reason::UntrustedCa));
    assert_eq!(p.take_chain_verification(), None);
    // Another digest on the id is not trusted to the remembered denial.
    let mut swapped = bare;
    swapped.facts.sha256_digest = Some(k.leaf.sha256_hex());
    assert!(p.needs_certificate(&swapped, t0));
}

#[test]
fn four_thousand_keep_alive_connections_stay_warm_at_the_default_size() {
    let k = pki();
    let second = issue(&CertSpec::client("client-2"), &k.inter);
    let mut p = remembering(&k.root, "");
    let capacity =
        crate::state::connection_memo_capacity(crate::config::DEFAULT_VERDICT_CACHE_SIZE);
    assert_eq!(capacity, 4096);
    assert_eq!(p.state.connection_capacity(), capacity);
    let clients = [
        peer(&[&k.leaf, &k.inter, &k.root]),
        peer(&[&second, &k.inter, &k.root]),
    ];
    let client_of = |id: u64| clients[(id % 2) as usize].clone();
    let ids = 1..=capacity as u64;

    // First round: each connection's first request, two clients verified
    // once each, every other connection known by content.
    for id in ids.clone() {
        assert_eq!(
            reason(&mut p, on_connection(id, client_of(id)), now()),
            None
        );
    }
    let (entries, hits, misses) = stats(&p);
    assert_eq!((entries, misses), (2, 2));
    assert_eq!(hits, capacity as u64 - 2);

    // Second round: every request decided by its connection, without the
    // certificate, no chain verified and the content index not asked.
    p.take_chain_verification();
    for id in ids.clone() {
        let bare = without_certificate(on_connection(id, client_of(id)));
        assert!(
            !p.needs_certificate(&bare, now()),
            "connection {id} fell off the warm path"
        );
        assert_eq!(reason(&mut p, bare, now()), None);
    }
    assert_eq!(p.take_chain_verification(), None);
    assert_eq!(stats(&p), (entries, hits, misses), "no lookup by content");
    assert_eq!(p.verdict_cache_stats().connection_hits, capacity as u64);

    // One more connection pushes out the least recently used (the first of
    // the second round), and only that one: the memo stays bounded.
    let next = capacity as u64 + 1;
    assert_eq!(
        reason(&mut p, on_connection(next, client_of(next)), now()),
        None
    );
    assert_eq!(p.state.remembered_connections(), capacity);
    let first = without_certificate(on_connection(1, client_of(1)));
    assert!(
        p.needs_certificate(&first, now()),
        "the oldest was pushed out"
    );
    let kept = without_certificate(on_connection(2, client_of(2)));
    assert!(!p.needs_certificate(&kept, now()));
    // Pushed out, it costs a lookup by content, not a verification.
    assert_eq!(reason(&mut p, on_connection(1, client_of(1)), now()), None);
    assert_eq!(p.take_chain_verification(), None);
    assert_eq!(p.state.remembered_connections(), capacity);
}
