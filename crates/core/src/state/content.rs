//! The verdicts remembered by content: client-chain verifications, so that
//! a client sending the same certificates again, on any connection, skips
//! XFCC decoding, PEM/base64 and path building, and one whose chain failed
//! does not make the filter fail it again at full cost on every request.
//!
//! The key is a SipHash, under a key drawn at random per [`State`](super::State),
//! of the bytes Envoy reported before any decoding:
//! `connection.peer_certificate` and the whole `x-forwarded-client-cert`
//! header. Equal bytes mean equal inputs to verification; any other byte
//! (another chain, a decoy appended) is another key.
//!
//! Successes and denials are kept apart, each up to `verdict_cache_size`
//! entries, least recently used first out, so that a client making up new
//! failing chains can push out only other failures, never a verified client.
//!
//! A hit is still checked against the handshake's own digest by the policy,
//! so even a colliding key can only ever yield the identity (or the denial)
//! of the certificate the client proved it holds. A denial is kept only with
//! the window in which it cannot change (see [`CachedDenial`]), and only for
//! the chain verification proper: what the filter could not read (an XFCC
//! header that does not parse, a missing digest) is decided again each time.

use super::CacheStats;
use crate::facts::PeerFacts;
use crate::fingerprint::Fingerprint;
use crate::lru::Lru;
use crate::reason::Reason;
use crate::trust::{PathValidity, VerifiedClient};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::rc::Rc;

/// What a successful verification established, as far as it holds for any
/// later request presenting the same bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CachedVerdict {
    pub client: Rc<VerifiedClient>,
    pub validity: PathValidity,
}

/// A failed chain verification of the handshake's leaf, and the time window
/// (Unix seconds, `since` inclusive, `until` exclusive) in which no validity
/// comparison it depends on turns: inside it a full verification would fail
/// the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CachedDenial {
    pub reason: Reason,
    /// What exactly the chain broke (`Verification::detail`).
    pub detail: Option<&'static str>,
    pub leaf_sha256: Fingerprint,
    pub since: u64,
    pub until: u64,
}

impl CachedDenial {
    pub(crate) fn holds_at(&self, now_unix: u64) -> bool {
        self.since <= now_unix && now_unix < self.until
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey(u64);

#[derive(Clone, Debug)]
pub(crate) struct ByContent {
    capacity: usize,
    hasher: RandomState,
    verified: Lru<CacheKey, Rc<CachedVerdict>>,
    denied: Lru<CacheKey, CachedDenial>,
    /// Its share of the counters (the connection lookups are counted apart).
    stats: CacheStats,
}

impl ByContent {
    /// Room for `capacity` verdicts and as many denials; 0 turns it off.
    pub(crate) fn new(capacity: usize) -> Self {
        ByContent {
            capacity,
            hasher: RandomState::new(),
            verified: Lru::new(capacity),
            denied: Lru::new(capacity),
            stats: CacheStats::default(),
        }
    }

    /// The key for this peer's certificate bytes, as reported by the
    /// handshake or by the trusted proxy `proxy`; `None` when it is off.
    pub(crate) fn key(&self, peer: &PeerFacts, proxy: Option<&Fingerprint>) -> Option<CacheKey> {
        if self.capacity == 0 {
            return None;
        }
        let mut hasher = self.hasher.build_hasher();
        match proxy {
            Some(proxy) => {
                hasher.write_u8(1);
                hasher.write(&proxy.0);
            }
            None => hasher.write_u8(0),
        }
        for part in [peer.certificate_pem.as_deref(), peer.xfcc.as_deref()] {
            // Presence and length first, so no two inputs share a byte stream.
            match part {
                Some(text) => {
                    hasher.write_u8(1);
                    hasher.write_usize(text.len());
                    hasher.write(text.as_bytes());
                }
                None => hasher.write_u8(0),
            }
        }
        Some(CacheKey(hasher.finish()))
    }

    /// The verdict stored under `key`, now the most recently used.
    pub(crate) fn get(&mut self, key: CacheKey) -> Option<Rc<CachedVerdict>> {
        let found = self.verified.get(key).cloned();
        if found.is_some() {
            self.stats.hits = self.stats.hits.saturating_add(1);
        }
        found
    }

    /// The denial stored under `key`, now the most recently used; counts a
    /// miss when there is none (looked up after [`get`](Self::get)).
    pub(crate) fn get_denial(&mut self, key: CacheKey) -> Option<CachedDenial> {
        let found = self.denied.get(key).copied();
        match found {
            Some(_) => self.stats.denial_hits = self.stats.denial_hits.saturating_add(1),
            None => self.stats.misses = self.stats.misses.saturating_add(1),
        }
        found
    }

    /// Stores `verdict`, evicting the least recently used entry when full.
    pub(crate) fn insert(&mut self, key: CacheKey, verdict: Rc<CachedVerdict>) {
        self.remove_denial(key);
        if self.verified.insert(key, verdict) {
            self.stats.evictions = self.stats.evictions.saturating_add(1);
        }
        self.stats.entries = self.verified.len();
    }

    /// Stores a denial under `key`, in place of any verdict.
    pub(crate) fn insert_denial(&mut self, key: CacheKey, denial: CachedDenial) {
        self.remove(key);
        self.denied.insert(key, denial);
        self.stats.denials = self.denied.len();
    }

    /// Forgets `key` (its verification no longer succeeds).
    pub(crate) fn remove(&mut self, key: CacheKey) {
        self.verified.remove(key);
        self.stats.entries = self.verified.len();
    }

    /// Forgets the denial under `key`.
    pub(crate) fn remove_denial(&mut self, key: CacheKey) {
        self.denied.remove(key);
        self.stats.denials = self.denied.len();
    }

    pub(crate) fn stats(&self) -> CacheStats {
        self.stats
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn verdict(n: u8) -> Rc<CachedVerdict> {
        Rc::new(CachedVerdict {
            client: Rc::new(VerifiedClient {
                leaf_sha256: Fingerprint([n; 32]),
                subject: format!("CN=client-{n}"),
                uri_sans: Vec::new(),
                dns_sans: Vec::new(),
                organizations: Vec::new(),
                anchor_sha256: Fingerprint([0; 32]),
                path_sha256: vec![Fingerprint([n; 32]), Fingerprint([0; 32])],
                path_links: Vec::new(),
                ocsp_queries: Vec::new(),
                not_after: 100,
            }),
            validity: PathValidity {
                not_before: 0,
                not_after: 100,
            },
        })
    }

    fn peer(cert: Option<&str>, xfcc: Option<&str>) -> PeerFacts {
        PeerFacts {
            certificate_pem: cert.map(str::to_string),
            xfcc: xfcc.map(str::to_string),
            ..PeerFacts::default()
        }
    }

    #[test]
    fn keys_cover_every_byte_and_where_it_came_from() {
        let cache = ByContent::new(4);
        let key = |cert, xfcc| cache.key(&peer(cert, xfcc), None).unwrap();
        assert_eq!(key(Some("a"), Some("b")), key(Some("a"), Some("b")));
        assert_ne!(key(Some("a"), Some("b")), key(Some("a"), Some("c")));
        assert_ne!(key(Some("ab"), None), key(None, Some("ab")));
        assert_ne!(key(Some("ab"), Some("")), key(Some("a"), Some("b")));
        // The digest is checked per request, not keyed.
        let mut other = peer(Some("a"), Some("b"));
        other.sha256_digest = Some("00".into());
        assert_eq!(cache.key(&other, None), Some(key(Some("a"), Some("b"))));
    }

    #[test]
    fn least_recently_used_goes_first() {
        let mut cache = ByContent::new(2);
        let (a, b, c) = (CacheKey(1), CacheKey(2), CacheKey(3));
        cache.insert(a, verdict(1));
        cache.insert(b, verdict(2));
        assert_eq!(cache.get(a), Some(verdict(1)));
        cache.insert(c, verdict(3));
        assert_eq!(cache.get(b), None);
        assert_eq!(cache.get_denial(b), None);
        assert_eq!(cache.get(a), Some(verdict(1)));
        assert_eq!(cache.get(c), Some(verdict(3)));
        let stats = cache.stats();
        assert_eq!(stats.entries, 2);
        assert_eq!(stats.evictions, 1);
        assert_eq!((stats.hits, stats.misses), (3, 1));
    }

    #[test]
    fn replacing_and_removing_keep_one_entry_per_key() {
        let mut cache = ByContent::new(2);
        cache.insert(CacheKey(1), verdict(1));
        cache.insert(CacheKey(1), verdict(9));
        cache.insert(CacheKey(2), verdict(2));
        assert_eq!(cache.stats().evictions, 0);
        assert_eq!(cache.get(CacheKey(1)), Some(verdict(9)));
        cache.remove(CacheKey(1));
        assert_eq!(cache.get(CacheKey(1)), None);
        assert_eq!(cache.stats().entries, 1);
    }

    #[test]
    fn a_key_holds_a_verdict_or_a_denial_never_both() {
        let mut cache = ByContent::new(2);
        let denial = CachedDenial {
            reason: Reason::UntrustedCa,
            detail: None,
            leaf_sha256: Fingerprint([1; 32]),
            since: 10,
            until: 20,
        };
        cache.insert(CacheKey(1), verdict(1));
        cache.insert_denial(CacheKey(1), denial);
        assert_eq!(cache.get(CacheKey(1)), None);
        assert_eq!(cache.get_denial(CacheKey(1)), Some(denial));
        cache.insert(CacheKey(1), verdict(1));
        assert_eq!(cache.get_denial(CacheKey(1)), None);
        let stats = cache.stats();
        assert_eq!((stats.entries, stats.denials, stats.denial_hits), (1, 0, 1));
        assert!(denial.holds_at(10) && denial.holds_at(19));
        assert!(!denial.holds_at(9) && !denial.holds_at(20));
    }

    #[test]
    fn denials_have_their_own_room() {
        let mut cache = ByContent::new(1);
        let denial = |n: u8| CachedDenial {
            reason: Reason::UntrustedCa,
            detail: None,
            leaf_sha256: Fingerprint([n; 32]),
            since: 0,
            until: u64::MAX,
        };
        cache.insert(CacheKey(1), verdict(1));
        for n in 2..10 {
            cache.insert_denial(CacheKey(u64::from(n)), denial(n));
        }
        assert_eq!(cache.get(CacheKey(1)), Some(verdict(1)));
        assert_eq!(cache.stats().denials, 1);
    }

    #[test]
    fn size_zero_disables_it() {
        let mut cache = ByContent::new(0);
        assert_eq!(cache.key(&peer(Some("a"), None), None), None);
        cache.insert(CacheKey(1), verdict(1));
        assert_eq!(cache.get(CacheKey(1)), None);
        assert_eq!(cache.stats().entries, 0);
    }
}
