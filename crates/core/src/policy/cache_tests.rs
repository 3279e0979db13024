//! The verdict cache seen through `decide`: a hit must decide exactly as a
//! full verification would.

use super::test_fixture::{now, pki, pki_with_leaf, policy};
use super::*;
use crate::facts::{ConnectionFacts, PeerFacts, RequestFacts};
use crate::xfcc::envoy_format;
use onerecord_tls_policy_testkit::pki::{CertSpec, Issued, issue, self_signed};

/// What Envoy reports for a client presenting `chain`.
fn peer(chain: &[&Issued]) -> PeerFacts {
    let ders: Vec<Vec<u8>> = chain.iter().map(|c| c.der()).collect();
    envoy_format::peer_facts(&ders).unwrap()
}

fn request(peer: PeerFacts, at: u64) -> Facts {
    Facts {
        request: RequestFacts {
            path: "/access-delegations/1".into(),
            method: "GET".into(),
            method_overrides: Vec::new(),
            route_mtls: None,
        },
        connection: Ok(ConnectionFacts {
            tls_version: Some("TLSv1.3".into()),
            peer: Some(peer),
        }),
        now_unix: at,
    }
}

fn reason(p: &Policy, peer: PeerFacts, at: u64) -> Option<Reason> {
    p.decide(&request(peer, at)).deny_reason()
}

fn stats(p: &Policy) -> (usize, u64, u64) {
    let s = p.verdict_cache_stats();
    (s.entries, s.hits, s.misses)
}

#[test]
fn a_second_request_is_a_hit_with_the_same_decision() {
    let k = pki();
    let p = policy(&k.root, "");
    let f = request(peer(&[&k.leaf, &k.inter, &k.root]), now());
    let cold = p.decide(&f);
    assert_eq!(cold.deny_reason(), None);
    assert!(cold.client.is_some());
    assert_eq!(stats(&p), (1, 0, 1));
    assert_eq!(p.decide(&f), cold);
    assert_eq!(stats(&p), (1, 1, 1));
}

#[test]
fn a_denial_is_remembered_by_content_and_checked_against_the_handshake() {
    let k = pki();
    let p = policy(&k.root, "");
    let chain = || peer(&[&k.other_leaf, &k.other_root, &k.root]);
    assert_eq!(reason(&p, chain(), now()), Some(Reason::UntrustedCa));
    assert_eq!(
        p.take_chain_verification(),
        Some(ChainVerification::Failed(Reason::UntrustedCa))
    );
    assert_eq!(reason(&p, chain(), now()), Some(Reason::UntrustedCa));
    assert_eq!(p.take_chain_verification(), None, "a hit, no verification");
    let s = p.verdict_cache_stats();
    assert_eq!(
        (s.entries, s.denials, s.denial_hits, s.misses),
        (0, 1, 1, 1)
    );

    // The same bytes under another handshake's digest: what the full
    // verification says first, never the remembered reason.
    let mut swapped = chain();
    swapped.sha256_digest = Some(k.leaf.sha256_hex());
    assert_eq!(
        reason(&p, swapped, now()),
        Some(Reason::CertificateMismatch)
    );
    let mut missing = chain();
    missing.sha256_digest = None;
    assert_eq!(
        reason(&p, missing, now()),
        Some(Reason::ConnectionFactsUnavailable)
    );
    assert_eq!(p.take_chain_verification(), None);
    // A reload starts empty: the next request verifies again.
    let reloaded = policy(&k.root, "");
    assert_eq!(reason(&reloaded, chain(), now()), Some(Reason::UntrustedCa));
    assert!(reloaded.take_chain_verification().is_some());
}

#[test]
fn what_could_not_be_read_is_not_remembered() {
    let k = pki();
    let p = policy(&k.root, "");
    let mut broken = peer(&[&k.leaf, &k.inter, &k.root]);
    broken.xfcc = Some(format!(
        "\"unterminated;{}",
        broken.xfcc.unwrap_or_default()
    ));
    for _ in 0..2 {
        assert_eq!(
            reason(&p, broken.clone(), now()),
            Some(Reason::PeerChainUnavailable)
        );
        assert_eq!(
            p.take_chain_verification(),
            Some(ChainVerification::Failed(Reason::PeerChainUnavailable))
        );
    }
    assert_eq!(p.verdict_cache_stats().denials, 0);
}

#[test]
fn a_denied_intermediate_becoming_valid_is_allowed_once_the_denial_expires() {
    let root = self_signed(&CertSpec::ca("Pinned Root"));
    let inter = issue(
        &CertSpec::ca("Pinned Intermediate").validity(3600, 7200),
        &root,
    );
    let leaf = issue(&CertSpec::client("client-1"), &inter);
    let not_before = x509_parser::parse_x509_certificate(&inter.der())
        .unwrap()
        .1
        .validity()
        .not_before
        .timestamp() as u64;
    let p = policy(&root, r#","clock_skew_seconds":60"#);
    let t0 = now();
    let chain = || on_connection(3, peer(&[&leaf, &inter, &root]));
    assert_eq!(
        reason(&p, chain(), t0),
        Some(Reason::CertificateNotYetValid)
    );
    assert!(p.take_chain_verification().is_some());
    // Remembered, by connection and by content, while nothing can change.
    assert!(!p.needs_certificate(&without_certificate(chain()), not_before - 61));
    assert_eq!(
        reason(&p, without_certificate(chain()), not_before - 61),
        Some(Reason::CertificateNotYetValid)
    );
    assert_eq!(p.take_chain_verification(), None);
    // From notBefore - skew a full verification decides, and allows.
    assert!(p.needs_certificate(&without_certificate(chain()), not_before - 60));
    assert_eq!(reason(&p, chain(), not_before - 60), None);
    assert_eq!(
        p.take_chain_verification(),
        Some(ChainVerification::Verified)
    );
    // A clock going back is outside the window too.
    let q = policy(&root, r#","clock_skew_seconds":60"#);
    assert!(reason(&q, chain(), t0).is_some());
    assert!(q.needs_certificate(&without_certificate(chain()), t0 - 1));
}

#[test]
fn a_certificate_expiring_after_a_hit_is_denied_as_expired() {
    let k = pki_with_leaf(CertSpec::client("short-lived").validity(-3600, 100));
    let p = policy(&k.root, r#","clock_skew_seconds":60"#);
    let cached = policy(&k.root, r#","clock_skew_seconds":60"#);
    let uncached = policy(
        &k.root,
        r#","clock_skew_seconds":60,"verdict_cache_size":0"#,
    );
    let t0 = now();
    let chain = || peer(&[&k.leaf, &k.inter, &k.root]);
    assert_eq!(reason(&p, chain(), t0), None);
    assert_eq!(stats(&p).0, 1);
    assert_eq!(
        reason(&p, chain(), t0 + 100 + 60 + 5),
        Some(Reason::CertificateExpired)
    );
    assert_eq!(stats(&p), (0, 1, 1), "the hit was re-verified and dropped");

    // Every instant around the end of the leaf, skew included, decides as
    // without a cache, whatever the cache holds from the instant before.
    assert_eq!(reason(&cached, chain(), t0), None);
    for at in (t0..t0 + 300)
        .step_by(7)
        .chain([t0 + 100, t0 + 160, t0 + 161])
    {
        assert_eq!(
            reason(&cached, chain(), at),
            reason(&uncached, chain(), at),
            "at now + {}",
            at - t0
        );
    }
}

#[test]
fn a_certificate_becoming_valid_within_the_skew_decides_as_uncached() {
    let k = pki_with_leaf(CertSpec::client("early").validity(30, 86_400));
    let cached = policy(&k.root, "");
    let uncached = policy(&k.root, r#","verdict_cache_size":0"#);
    let t0 = now();
    let chain = || peer(&[&k.leaf, &k.inter, &k.root]);
    for at in [t0 - 60, t0, t0 + 29, t0 + 31, t0 + 32, t0 - 40] {
        assert_eq!(
            reason(&cached, chain(), at),
            reason(&uncached, chain(), at),
            "at now {:+}",
            at as i64 - t0 as i64
        );
    }
    assert_eq!(
        reason(&cached, chain(), t0),
        None,
        "allowed within the skew"
    );
}

#[test]
fn a_reload_drops_the_cache_and_a_new_revocation_denies() {
    let k = pki();
    let p = policy(&k.root, "");
    let chain = || peer(&[&k.leaf, &k.inter, &k.root]);
    assert_eq!(reason(&p, chain(), now()), None);
    assert_eq!(stats(&p).0, 1);

    let reloaded = Policy::new(p.config.clone());
    assert_eq!(stats(&reloaded), (0, 0, 0));
    assert_eq!(reason(&reloaded, chain(), now()), None);
    assert_eq!(stats(&reloaded), (1, 0, 1), "a miss: nothing carried over");

    for revoked in [&k.leaf, &k.inter, &k.root] {
        let extra = format!(r#","revoked_sha256":["{}"]"#, revoked.sha256_hex());
        let revoking = policy(&k.root, &extra);
        assert_eq!(
            reason(&revoking, chain(), now()),
            Some(Reason::CertificateRevoked)
        );
    }
    // The old policy, still serving in-flight requests, keeps its own verdicts.
    assert_eq!(reason(&p, chain(), now()), None);
}

#[test]
fn the_same_leaf_with_another_chain_is_another_key() {
    let k = pki();
    let p = policy(&k.root, r#","max_chain_length":3"#);
    let good = || peer(&[&k.leaf, &k.inter, &k.root]);
    assert_eq!(reason(&p, good(), now()), None);
    assert_eq!(reason(&p, good(), now()), None);
    assert_eq!(stats(&p), (1, 1, 1));

    // The decoy appended: one certificate too many.
    let decoy = peer(&[&k.leaf, &k.inter, &k.root, &k.other_root]);
    assert_eq!(reason(&p, decoy, now()), Some(Reason::ChainTooLong));
    // The chain swapped for one without the intermediate.
    let short = peer(&[&k.leaf, &k.root]);
    assert_eq!(reason(&p, short, now()), Some(Reason::UntrustedCa));
    // The same certificates in another order verify, under their own key.
    let reordered = peer(&[&k.leaf, &k.root, &k.inter]);
    assert_eq!(reason(&p, reordered, now()), None);
    assert_eq!(stats(&p), (2, 1, 4));

    // The leaf alone in `connection.peer_certificate`, the chain gone from XFCC.
    let mut no_chain = good();
    no_chain.xfcc = None;
    assert_eq!(
        reason(&p, no_chain, now()),
        Some(Reason::PeerChainUnavailable)
    );
}

#[test]
fn a_hit_is_checked_against_the_handshake() {
    let k = pki();
    let p = policy(&k.root, "");
    let other_leaf = issue(&CertSpec::client("client-2"), &k.inter);
    let good = || peer(&[&k.leaf, &k.inter, &k.root]);
    assert_eq!(reason(&p, good(), now()), None);

    let mut mismatch = good();
    mismatch.sha256_digest = Some(other_leaf.sha256_hex());
    assert_eq!(
        reason(&p, mismatch, now()),
        Some(Reason::CertificateMismatch)
    );
    let mut no_digest = good();
    no_digest.sha256_digest = None;
    assert_eq!(
        reason(&p, no_digest, now()),
        Some(Reason::ConnectionFactsUnavailable)
    );
    assert_eq!(stats(&p), (1, 2, 1), "both were hits");
    assert_eq!(reason(&p, good(), now()), None);
}

#[test]
fn rules_and_allow_lists_apply_after_a_hit() {
    let k = pki();
    let extra = r#","rules":[{"name":"partners","path_prefix":"/partners","allowed_clients":{"dns_san":["partner.example"]}}]"#;
    let p = policy(&k.root, extra);
    let mut f = request(peer(&[&k.leaf, &k.inter, &k.root]), now());
    assert_eq!(p.decide(&f).deny_reason(), None);
    f.request.path = "/partners/1".into();
    let d = p.decide(&f);
    assert_eq!(d.deny_reason(), Some(Reason::ClientNotAllowed));
    assert_eq!(d.rule.as_deref(), Some("partners"));
    assert_eq!(stats(&p), (1, 1, 1));
}

#[test]
fn the_least_recently_used_client_is_evicted_at_capacity() {
    let k = pki();
    let p = policy(&k.root, r#","verdict_cache_size":2"#);
    let leaves: Vec<Issued> = ["a", "b", "c"]
        .iter()
        .map(|name| issue(&CertSpec::client(name), &k.inter))
        .collect();
    let [a, b, c] = [0, 1, 2].map(|i| peer(&[&leaves[i], &k.inter, &k.root]));
    let decide = |f: &PeerFacts| reason(&p, f.clone(), now());
    for f in [&a, &b, &a, &c] {
        assert_eq!(decide(f), None);
    }
    let s = p.verdict_cache_stats();
    assert_eq!((s.entries, s.hits, s.misses, s.evictions), (2, 1, 3, 1));
    assert_eq!(decide(&a), None);
    assert_eq!(decide(&c), None);
    assert_eq!(stats(&p), (2, 3, 3), "a and c stayed");
    assert_eq!(decide(&b), None);
    assert_eq!(stats(&p), (2, 3, 4), "b was evicted");
}

#[test]
fn size_zero_disables_the_cache() {
    let k = pki();
    let p = policy(&k.root, r#","verdict_cache_size":0"#);
    for _ in 0..2 {
        assert_eq!(reason(&p, peer(&[&k.leaf, &k.inter, &k.root]), now()), None);
    }
    assert_eq!(stats(&p), (0, 0, 0));
}

/// What the filter sends on a connection it has decided before: the
/// handshake facts, without the certificate.
fn on_connection(id: u64, mut peer: PeerFacts) -> PeerFacts {
    peer.connection_id = Some(id);
    peer
}

fn without_certificate(mut peer: PeerFacts) -> PeerFacts {
    peer.certificate_pem = None;
    peer.xfcc = None;
    peer
}

#[test]
fn a_connection_decided_before_needs_no_certificate() {
    let k = pki();
    let p = policy(&k.root, "");
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
    let p = policy(&k.root, "");
    let t0 = now();
    let full = on_connection(7, peer(&[&k.leaf, &k.inter, &k.root]));
    assert_eq!(reason(&p, full.clone(), t0), None);

    // Another digest on the id (which Envoy never reports) is not trusted
    // to the entry: without the certificate there is nothing to allow.
    let other = issue(&CertSpec::client("client-2"), &k.inter);
    let mut swapped = without_certificate(full.clone());
    swapped.sha256_digest = Some(other.sha256_hex());
    assert!(p.needs_certificate(&swapped, t0));
    assert_eq!(reason(&p, swapped, t0), Some(Reason::PeerChainUnavailable));
    // That deny dropped the entry: the next request verifies in full.
    assert!(p.needs_certificate(&without_certificate(full.clone()), t0));
    assert_eq!(reason(&p, full.clone(), t0), None);

    // Past the window the entry does not decide, and the full check denies.
    let late = t0 + 200;
    assert!(p.needs_certificate(&without_certificate(full.clone()), late));
    assert_eq!(
        reason(&p, full.clone(), late),
        Some(Reason::CertificateExpired)
    );
    assert!(p.needs_certificate(&without_certificate(full), t0));

    // A policy revoking the intermediate never reuses what another allowed.
    let revoked = policy(
        &k.root,
        &format!(r#","revoked_sha256":["{}"]"#, k.inter.sha256_hex()),
    );
    let full = on_connection(9, peer(&[&k.leaf, &k.inter, &k.root]));
    assert_eq!(
        reason(&revoked, full.clone(), t0),
        Some(Reason::CertificateRevoked)
    );
    // That denial is the connection's now: decided without the certificate.
    assert!(!revoked.needs_certificate(&without_certificate(full.clone()), t0));
    assert_eq!(
        reason(&revoked, without_certificate(full), t0),
        Some(Reason::CertificateRevoked)
    );
}

#[test]
fn a_failed_connection_is_decided_without_its_certificate_on_any_route() {
    let k = pki();
    let p = policy(
        &k.root,
        r#","rules":[{"name":"open","path_prefix":"/logistics-objects","mtls":"optional"}]"#,
    );
    let t0 = now();
    let full = on_connection(5, peer(&[&k.other_leaf, &k.other_root, &k.root]));
    assert_eq!(reason(&p, full.clone(), t0), Some(Reason::UntrustedCa));
    assert!(p.take_chain_verification().is_some());
    let bare = without_certificate(full);
    assert!(!p.needs_certificate(&bare, t0));
    let mut optional = request(bare.clone(), t0);
    optional.request.path = "/logistics-objects/1".into();
    let decision = p.decide(&optional);
    assert_eq!(decision.deny_reason(), None);
    assert_eq!(decision.client, None);
    assert_eq!(decision.ignored_certificate, Some(Reason::UntrustedCa));
    assert_eq!(reason(&p, bare.clone(), t0), Some(Reason::UntrustedCa));
    assert_eq!(p.take_chain_verification(), None);
    // Another digest on the id is not trusted to the remembered denial.
    let mut swapped = bare;
    swapped.sha256_digest = Some(k.leaf.sha256_hex());
    assert!(p.needs_certificate(&swapped, t0));
}
