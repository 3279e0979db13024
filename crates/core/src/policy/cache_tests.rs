//! The verdict cache seen through `decide`: a hit must decide exactly as a
//! full verification would.

use super::test_fixture::{Peer, Remembering, now, pki, pki_with_leaf, remembering};
use super::*;
use crate::facts::{ConnectionFacts, RequestFacts};
use crate::xfcc::envoy_format;
use onerecord_tls_policy_testkit::pki::{CertSpec, Issued, issue, self_signed};

/// What Envoy reports for a client presenting `chain`.
pub(super) fn peer(chain: &[&Issued]) -> Peer {
    let ders: Vec<Vec<u8>> = chain.iter().map(|c| c.der()).collect();
    Peer {
        id: None,
        facts: envoy_format::peer_facts(&ders).unwrap(),
    }
}

pub(super) fn request(peer: Peer, at: u64) -> Facts {
    Facts {
        request: RequestFacts {
            path: "/access-delegations/1".into(),
            method: "GET".into(),
            ..RequestFacts::default()
        },
        connection: Ok(ConnectionFacts {
            peer_uri_san: None,
            id: peer.id,
            tls_version: Some("TLSv1.3".into()),
            peer: Some(peer.facts),
        }),
        now_unix: at,
    }
}

pub(super) fn reason(p: &mut Remembering, peer: Peer, at: u64) -> Option<Reason> {
    p.decide(&request(peer, at)).deny_reason()
}

pub(super) fn stats(p: &Remembering) -> (usize, u64, u64) {
    let s = p.verdict_cache_stats();
    (s.entries, s.hits, s.misses)
}

#[test]
fn a_second_request_is_a_hit_with_the_same_decision() {
    let k = pki();
    let mut p = remembering(&k.root, "");
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
    let mut p = remembering(&k.root, "");
    let chain = || peer(&[&k.other_leaf, &k.other_root, &k.root]);
    assert_eq!(reason(&mut p, chain(), now()), Some(Reason::UntrustedCa));
    assert_eq!(
        p.take_chain_verification(),
        Some(ChainVerification::Failed(Reason::UntrustedCa))
    );
    assert_eq!(reason(&mut p, chain(), now()), Some(Reason::UntrustedCa));
    assert_eq!(p.take_chain_verification(), None, "a hit, no verification");
    let s = p.verdict_cache_stats();
    assert_eq!(
        (s.entries, s.denials, s.denial_hits, s.misses),
        (0, 1, 1, 1)
    );

    // The same bytes under another handshake's digest: what the full
    // verification says first, never the remembered reason.
    let mut swapped = chain();
    swapped.facts.sha256_digest = Some(k.leaf.sha256_hex());
    assert_eq!(
        reason(&mut p, swapped, now()),
        Some(Reason::CertificateMismatch)
    );
    let mut missing = chain();
    missing.facts.sha256_digest = None;
    assert_eq!(
        reason(&mut p, missing, now()),
        Some(Reason::ConnectionFactsUnavailable)
    );
    assert_eq!(p.take_chain_verification(), None);
    // A reload starts empty: the next request verifies again.
    let mut reloaded = remembering(&k.root, "");
    assert_eq!(
        reason(&mut reloaded, chain(), now()),
        Some(Reason::UntrustedCa)
    );
    assert!(reloaded.take_chain_verification().is_some());
}

#[test]
fn what_could_not_be_read_is_not_remembered() {
    let k = pki();
    let mut p = remembering(&k.root, "");
    let mut broken = peer(&[&k.leaf, &k.inter, &k.root]);
    broken.facts.xfcc = Some(format!(
        "\"unterminated;{}",
        broken.facts.xfcc.unwrap_or_default()
    ));
    for _ in 0..2 {
        assert_eq!(
            reason(&mut p, broken.clone(), now()),
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
    let mut p = remembering(&root, r#","clock_skew_seconds":60"#);
    let t0 = now();
    let chain = || on_connection(3, peer(&[&leaf, &inter, &root]));
    assert_eq!(
        reason(&mut p, chain(), t0),
        Some(Reason::CertificateNotYetValid)
    );
    assert!(p.take_chain_verification().is_some());
    // Remembered, by connection and by content, while nothing can change.
    assert!(!p.needs_certificate(&without_certificate(chain()), not_before - 61));
    assert_eq!(
        reason(&mut p, without_certificate(chain()), not_before - 61),
        Some(Reason::CertificateNotYetValid)
    );
    assert_eq!(p.take_chain_verification(), None);
    // From notBefore - skew a full verification decides, and allows.
    assert!(p.needs_certificate(&without_certificate(chain()), not_before - 60));
    assert_eq!(reason(&mut p, chain(), not_before - 60), None);
    assert_eq!(
        p.take_chain_verification(),
        Some(ChainVerification::Verified)
    );
    // A clock going back is outside the window too.
    let mut q = remembering(&root, r#","clock_skew_seconds":60"#);
    assert!(reason(&mut q, chain(), t0).is_some());
    assert!(q.needs_certificate(&without_certificate(chain()), t0 - 1));
}

#[test]
fn a_certificate_expiring_after_a_hit_is_denied_as_expired() {
    let k = pki_with_leaf(CertSpec::client("short-lived").validity(-3600, 100));
    let mut p = remembering(&k.root, r#","clock_skew_seconds":60"#);
    let mut cached = remembering(&k.root, r#","clock_skew_seconds":60"#);
    let mut uncached = remembering(
        &k.root,
        r#","clock_skew_seconds":60,"verdict_cache_size":0"#,
    );
    let t0 = now();
    let chain = || peer(&[&k.leaf, &k.inter, &k.root]);
    assert_eq!(reason(&mut p, chain(), t0), None);
    assert_eq!(stats(&p).0, 1);
    assert_eq!(
        reason(&mut p, chain(), t0 + 100 + 60 + 5),
        Some(Reason::CertificateExpired)
    );
    assert_eq!(stats(&p), (0, 1, 1), "the hit was re-verified and dropped");

    // Every instant around the end of the leaf, skew included, decides as
    // without a cache, whatever the cache holds from the instant before.
    assert_eq!(reason(&mut cached, chain(), t0), None);
    for at in (t0..t0 + 300)
        .step_by(7)
        .chain([t0 + 100, t0 + 160, t0 + 161])
    {
        assert_eq!(
            reason(&mut cached, chain(), at),
            reason(&mut uncached, chain(), at),
            "at now + {}",
            at - t0
        );
    }
}

#[test]
fn a_certificate_becoming_valid_within_the_skew_decides_as_uncached() {
    let k = pki_with_leaf(CertSpec::client("early").validity(30, 86_400));
    let mut cached = remembering(&k.root, "");
    let mut uncached = remembering(&k.root, r#","verdict_cache_size":0"#);
    let t0 = now();
    let chain = || peer(&[&k.leaf, &k.inter, &k.root]);
    for at in [t0 - 60, t0, t0 + 29, t0 + 31, t0 + 32, t0 - 40] {
        assert_eq!(
            reason(&mut cached, chain(), at),
            reason(&mut uncached, chain(), at),
            "at now {:+}",
            at as i64 - t0 as i64
        );
    }
    assert_eq!(
        reason(&mut cached, chain(), t0),
        None,
        "allowed within the skew"
    );
}

#[test]
fn a_reload_drops_the_cache_and_a_new_revocation_denies() {
    let k = pki();
    let mut p = remembering(&k.root, "");
    let chain = || peer(&[&k.leaf, &k.inter, &k.root]);
    assert_eq!(reason(&mut p, chain(), now()), None);
    assert_eq!(stats(&p).0, 1);

    let mut reloaded = Remembering::new(Policy::new(p.policy.config.clone()));
    assert_eq!(stats(&reloaded), (0, 0, 0));
    assert_eq!(reason(&mut reloaded, chain(), now()), None);
    assert_eq!(stats(&reloaded), (1, 0, 1), "a miss: nothing carried over");

    for revoked in [&k.leaf, &k.inter, &k.root] {
        let extra = format!(r#","revoked_sha256":["{}"]"#, revoked.sha256_hex());
        let mut revoking = remembering(&k.root, &extra);
        assert_eq!(
            reason(&mut revoking, chain(), now()),
            Some(Reason::CertificateRevoked)
        );
    }
    // The old policy, still serving in-flight requests, keeps its own verdicts.
    assert_eq!(reason(&mut p, chain(), now()), None);
}

#[test]
fn the_same_leaf_with_another_chain_is_another_key() {
    let k = pki();
    let mut p = remembering(&k.root, r#","max_chain_length":3"#);
    let good = || peer(&[&k.leaf, &k.inter, &k.root]);
    assert_eq!(reason(&mut p, good(), now()), None);
    assert_eq!(reason(&mut p, good(), now()), None);
    assert_eq!(stats(&p), (1, 1, 1));

    // Decoys appended: more certificates than twice `max_chain_length`.
    let decoys: Vec<Issued> = (0..3)
        .map(|i| self_signed(&CertSpec::ca(&format!("Decoy {i}"))))
        .collect();
    let mut sent = vec![&k.leaf, &k.inter, &k.root, &k.other_root];
    sent.extend(&decoys);
    assert_eq!(
        reason(&mut p, peer(&sent), now()),
        Some(Reason::ChainTooLong)
    );
    // The chain swapped for one without the intermediate.
    let short = peer(&[&k.leaf, &k.root]);
    assert_eq!(reason(&mut p, short, now()), Some(Reason::UntrustedCa));
    // The same certificates in another order verify, under their own key.
    let reordered = peer(&[&k.leaf, &k.root, &k.inter]);
    assert_eq!(reason(&mut p, reordered, now()), None);
    assert_eq!(stats(&p), (2, 1, 4));

    // The leaf alone in `connection.peer_certificate`, the chain gone from XFCC.
    let mut no_chain = good();
    no_chain.facts.xfcc = None;
    assert_eq!(
        reason(&mut p, no_chain, now()),
        Some(Reason::PeerChainUnavailable)
    );
}

#[test]
fn a_hit_is_checked_against_the_handshake() {
    let k = pki();
    let mut p = remembering(&k.root, "");
    let other_leaf = issue(&CertSpec::client("client-2"), &k.inter);
    let good = || peer(&[&k.leaf, &k.inter, &k.root]);
    assert_eq!(reason(&mut p, good(), now()), None);

    let mut mismatch = good();
    mismatch.facts.sha256_digest = Some(other_leaf.sha256_hex());
    assert_eq!(
        reason(&mut p, mismatch, now()),
        Some(Reason::CertificateMismatch)
    );
    let mut no_digest = good();
    no_digest.facts.sha256_digest = None;
    assert_eq!(
        reason(&mut p, no_digest, now()),
        Some(Reason::ConnectionFactsUnavailable)
    );
    assert_eq!(stats(&p), (1, 2, 1), "both were hits");
    assert_eq!(reason(&mut p, good(), now()), None);
}

#[test]
fn rules_and_allow_lists_apply_after_a_hit() {
    let k = pki();
    let extra = r#","rules":[{"name":"partners","path_prefix":"/partners","allowed_clients":{"dns_san":["partner.example"]}}]"#;
    let mut p = remembering(&k.root, extra);
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
    let mut p = remembering(&k.root, r#","verdict_cache_size":2"#);
    let leaves: Vec<Issued> = ["a", "b", "c"]
        .iter()
        .map(|name| issue(&CertSpec::client(name), &k.inter))
        .collect();
    let [a, b, c] = [0, 1, 2].map(|i| peer(&[&leaves[i], &k.inter, &k.root]));
    let decide = |p: &mut Remembering, f: &Peer| reason(p, f.clone(), now());
    for f in [&a, &b, &a, &c] {
        assert_eq!(decide(&mut p, f), None);
    }
    let s = p.verdict_cache_stats();
    assert_eq!((s.entries, s.hits, s.misses, s.evictions), (2, 1, 3, 1));
    assert_eq!(decide(&mut p, &a), None);
    assert_eq!(decide(&mut p, &c), None);
    assert_eq!(stats(&p), (2, 3, 3), "a and c stayed");
    assert_eq!(decide(&mut p, &b), None);
    assert_eq!(stats(&p), (2, 3, 4), "b was evicted");
}

#[test]
fn size_zero_disables_the_cache() {
    let k = pki();
    let mut p = remembering(&k.root, r#","verdict_cache_size":0"#);
    for _ in 0..2 {
        assert_eq!(
            reason(&mut p, peer(&[&k.leaf, &k.inter, &k.root]), now()),
            None
        );
    }
    assert_eq!(stats(&p), (0, 0, 0));
}

/// What the filter sends on a connection it has decided before: the
/// handshake facts, without the certificate.
pub(super) fn on_connection(id: u64, mut peer: Peer) -> Peer {
    peer.id = Some(id);
    peer
}

pub(super) fn without_certificate(mut peer: Peer) -> Peer {
    peer.facts.certificate_pem = None;
    peer.facts.xfcc = None;
    peer
}
