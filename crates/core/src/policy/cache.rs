//! The verdict cache: client-chain verifications, so that a client sending
//! the same certificates again skips XFCC decoding, PEM/base64 and path
//! building, and one whose chain failed does not make the filter fail it
//! again at full cost on every request.
//!
//! One cache per [`Policy`](super::Policy), so per configuration and per VM:
//! a configuration reload builds a new policy and with it an empty cache.
//! Wasm VMs are single-threaded, hence `RefCell` rather than a lock.
//!
//! Two keys, each bounded, least recently used first out:
//!
//! - by content: a SipHash, under a key drawn at random per cache, of the
//!   bytes Envoy reported before any decoding: `connection.peer_certificate`
//!   and the whole `x-forwarded-client-cert` header. Equal bytes mean equal
//!   inputs to verification; any other byte (another chain, a decoy
//!   appended) is another key. This serves a client's new connections.
//! - by connection: Envoy's `connection.id`, unique for the life of the
//!   process. A connection's client certificate and chain are fixed at its
//!   handshake, so later requests on it need neither the certificate nor the
//!   XFCC header: the filter reads them only when this index cannot decide.
//!
//! Successes and denials are kept apart, four indexes of up to
//! `verdict_cache_size` entries each, so that a client making up new failing
//! chains can push out only other failures, never a verified client.
//!
//! A hit is still checked against the handshake's own digest by the caller,
//! so even a colliding key can only ever yield the identity (or the denial)
//! of the certificate the client proved it holds. A denial is kept only with
//! the window in which it cannot change (see [`CachedDenial`]), and only for
//! the chain verification proper: what the filter could not read (an XFCC
//! header that does not parse, a missing digest) is decided again each time.

use crate::facts::PeerFacts;
use crate::fingerprint::Fingerprint;
use crate::lru::Lru;
use crate::reason::Reason;
use crate::trust::{PathValidity, VerifiedClient};
use std::cell::{Cell, RefCell};
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};

/// What a successful verification established, as far as it holds for any
/// later request presenting the same bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CachedVerdict {
    pub client: VerifiedClient,
    pub validity: PathValidity,
}

/// A failed chain verification of the handshake's leaf, and the time window
/// (Unix seconds, `since` inclusive, `until` exclusive) in which no validity
/// comparison it depends on turns: inside it a full verification would fail
/// the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct CachedDenial {
    pub reason: Reason,
    pub leaf_sha256: Fingerprint,
    pub since: u64,
    pub until: u64,
}

impl CachedDenial {
    pub(super) fn holds_at(&self, now_unix: u64) -> bool {
        self.since <= now_unix && now_unix < self.until
    }
}

/// What a request's decision did about the client's chain: a full
/// verification ran, with this result. A cache hit is no verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainVerification {
    Verified,
    Failed(Reason),
}

impl ChainVerification {
    /// `verified`, or the reason's code: the metric's `result` label.
    pub fn code(self) -> &'static str {
        match self {
            ChainVerification::Verified => "verified",
            ChainVerification::Failed(reason) => reason.code(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct CacheKey(u64);

/// Counters for tests, benchmarks and operators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Verifications remembered by content.
    pub entries: usize,
    /// Lookups by content that found an entry.
    pub hits: u64,
    /// Lookups by content that found none.
    pub misses: u64,
    /// Entries by content pushed out to make room.
    pub evictions: u64,
    /// Lookups by connection that found an entry.
    pub connection_hits: u64,
    /// Denials remembered by content.
    pub denials: usize,
    /// Lookups (by content or connection) that found a denial.
    pub denial_hits: u64,
}

#[derive(Clone)]
pub(super) struct VerdictCache {
    capacity: usize,
    hasher: RandomState,
    by_content: RefCell<Lru<CacheKey, CachedVerdict>>,
    by_connection: RefCell<Lru<u64, CachedVerdict>>,
    denied_by_content: RefCell<Lru<CacheKey, CachedDenial>>,
    denied_by_connection: RefCell<Lru<u64, CachedDenial>>,
    stats: Cell<CacheStats>,
    /// The full verification the last decision ran, for the metric.
    last_verification: Cell<Option<ChainVerification>>,
}

impl VerdictCache {
    /// Room for `capacity` verdicts in each index; 0 disables the cache.
    pub(super) fn new(capacity: usize) -> Self {
        VerdictCache {
            capacity,
            hasher: RandomState::new(),
            by_content: RefCell::new(Lru::new(capacity)),
            by_connection: RefCell::new(Lru::new(capacity)),
            denied_by_content: RefCell::new(Lru::new(capacity)),
            denied_by_connection: RefCell::new(Lru::new(capacity)),
            stats: Cell::new(CacheStats::default()),
            last_verification: Cell::new(None),
        }
    }

    /// The key for this peer's certificate bytes; `None` when the cache is off.
    pub(super) fn key(&self, peer: &PeerFacts) -> Option<CacheKey> {
        if self.capacity == 0 {
            return None;
        }
        let mut hasher = self.hasher.build_hasher();
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
    pub(super) fn get(&self, key: CacheKey) -> Option<CachedVerdict> {
        let found = self
            .by_content
            .try_borrow_mut()
            .ok()
            .and_then(|mut lru| lru.get(key).cloned());
        if found.is_some() {
            self.count(|s| s.hits = s.hits.saturating_add(1));
        }
        found
    }

    /// The denial stored under `key`, now the most recently used; counts a
    /// miss when there is none (looked up after [`get`](Self::get)).
    pub(super) fn get_denial(&self, key: CacheKey) -> Option<CachedDenial> {
        let found = self
            .denied_by_content
            .try_borrow_mut()
            .ok()
            .and_then(|mut lru| lru.get(key).copied());
        self.count(|s| match found {
            Some(_) => s.denial_hits = s.denial_hits.saturating_add(1),
            None => s.misses = s.misses.saturating_add(1),
        });
        found
    }

    /// Stores `verdict`, evicting the least recently used entry when full.
    pub(super) fn insert(&self, key: CacheKey, verdict: CachedVerdict) {
        self.remove_denial(key);
        let Ok(mut lru) = self.by_content.try_borrow_mut() else {
            return;
        };
        let evicted = lru.insert(key, verdict);
        let entries = lru.len();
        self.count(|s| {
            s.entries = entries;
            if evicted {
                s.evictions = s.evictions.saturating_add(1);
            }
        });
    }

    /// Stores a denial under `key`, in place of any verdict.
    pub(super) fn insert_denial(&self, key: CacheKey, denial: CachedDenial) {
        self.remove(key);
        if let Ok(mut lru) = self.denied_by_content.try_borrow_mut() {
            lru.insert(key, denial);
            let denials = lru.len();
            self.count(|s| s.denials = denials);
        }
    }

    /// Forgets `key` (its verification no longer succeeds).
    pub(super) fn remove(&self, key: CacheKey) {
        if let Ok(mut lru) = self.by_content.try_borrow_mut() {
            lru.remove(key);
            let entries = lru.len();
            self.count(|s| s.entries = entries);
        }
    }

    /// Forgets the denial under `key`.
    pub(super) fn remove_denial(&self, key: CacheKey) {
        if let Ok(mut lru) = self.denied_by_content.try_borrow_mut() {
            lru.remove(key);
            let denials = lru.len();
            self.count(|s| s.denials = denials);
        }
    }

    /// The verdict remembered for this connection, now the most recently used.
    pub(super) fn get_connection(&self, id: u64) -> Option<CachedVerdict> {
        let found = self
            .by_connection
            .try_borrow_mut()
            .ok()
            .and_then(|mut lru| lru.get(id).cloned());
        if found.is_some() {
            self.count(|s| s.connection_hits = s.connection_hits.saturating_add(1));
        }
        found
    }

    /// The denial remembered for this connection, now the most recently used.
    pub(super) fn get_connection_denial(&self, id: u64) -> Option<CachedDenial> {
        let found = self
            .denied_by_connection
            .try_borrow_mut()
            .ok()
            .and_then(|mut lru| lru.get(id).copied());
        if found.is_some() {
            self.count(|s| {
                s.connection_hits = s.connection_hits.saturating_add(1);
                s.denial_hits = s.denial_hits.saturating_add(1);
            });
        }
        found
    }

    /// The verdict remembered for this connection, without counting or
    /// reordering: for deciding which facts to fetch.
    pub(super) fn peek_connection<T>(
        &self,
        id: u64,
        look: impl FnOnce(&CachedVerdict) -> T,
    ) -> Option<T> {
        let lru = self.by_connection.try_borrow().ok()?;
        lru.peek(id).map(look)
    }

    /// The denial remembered for this connection, without counting or reordering.
    pub(super) fn peek_connection_denial(&self, id: u64) -> Option<CachedDenial> {
        let lru = self.denied_by_connection.try_borrow().ok()?;
        lru.peek(id).copied()
    }

    pub(super) fn insert_connection(&self, id: u64, verdict: CachedVerdict) {
        self.remove_connection_denial(id);
        if let Ok(mut lru) = self.by_connection.try_borrow_mut() {
            lru.insert(id, verdict);
        }
    }

    pub(super) fn insert_connection_denial(&self, id: u64, denial: CachedDenial) {
        self.remove_connection(id);
        if let Ok(mut lru) = self.denied_by_connection.try_borrow_mut() {
            lru.insert(id, denial);
        }
    }

    pub(super) fn remove_connection(&self, id: u64) {
        if let Ok(mut lru) = self.by_connection.try_borrow_mut() {
            lru.remove(id);
        }
    }

    pub(super) fn remove_connection_denial(&self, id: u64) {
        if let Ok(mut lru) = self.denied_by_connection.try_borrow_mut() {
            lru.remove(id);
        }
    }

    pub(super) fn stats(&self) -> CacheStats {
        self.stats.get()
    }

    /// Notes that a full verification ran, for [`take_verification`](Self::take_verification).
    pub(super) fn note_verification(&self, verification: ChainVerification) {
        self.last_verification.set(Some(verification));
    }

    pub(super) fn take_verification(&self) -> Option<ChainVerification> {
        self.last_verification.take()
    }

    fn count(&self, update: impl FnOnce(&mut CacheStats)) {
        let mut stats = self.stats.get();
        update(&mut stats);
        self.stats.set(stats);
    }
}

impl fmt::Debug for VerdictCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerdictCache")
            .field("capacity", &self.capacity)
            .field("stats", &self.stats.get())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(n: u8) -> CachedVerdict {
        CachedVerdict {
            client: VerifiedClient {
                leaf_sha256: Fingerprint([n; 32]),
                subject: format!("CN=client-{n}"),
                uri_sans: Vec::new(),
                dns_sans: Vec::new(),
                organizations: Vec::new(),
                anchor_sha256: Fingerprint([0; 32]),
                path_sha256: vec![Fingerprint([n; 32]), Fingerprint([0; 32])],
            },
            validity: PathValidity {
                not_before: 0,
                not_after: 100,
            },
        }
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
        let cache = VerdictCache::new(4);
        let key = |cert, xfcc| cache.key(&peer(cert, xfcc)).unwrap();
        assert_eq!(key(Some("a"), Some("b")), key(Some("a"), Some("b")));
        assert_ne!(key(Some("a"), Some("b")), key(Some("a"), Some("c")));
        assert_ne!(key(Some("ab"), None), key(None, Some("ab")));
        assert_ne!(key(Some("ab"), Some("")), key(Some("a"), Some("b")));
        // The digest is checked per request, not keyed; so is the connection.
        let mut other = peer(Some("a"), Some("b"));
        other.sha256_digest = Some("00".into());
        other.connection_id = Some(7);
        assert_eq!(cache.key(&other), Some(key(Some("a"), Some("b"))));
    }

    #[test]
    fn least_recently_used_goes_first() {
        let cache = VerdictCache::new(2);
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
        let cache = VerdictCache::new(2);
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
        let cache = VerdictCache::new(2);
        let denial = CachedDenial {
            reason: Reason::UntrustedCa,
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

        cache.insert_connection(7, verdict(1));
        cache.insert_connection_denial(7, denial);
        assert_eq!(cache.peek_connection(7, |_| ()), None);
        assert_eq!(cache.get_connection_denial(7), Some(denial));
        cache.insert_connection(7, verdict(1));
        assert_eq!(cache.peek_connection_denial(7), None);
    }

    #[test]
    fn denials_have_their_own_room() {
        let cache = VerdictCache::new(1);
        let denial = |n: u8| CachedDenial {
            reason: Reason::UntrustedCa,
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
        let cache = VerdictCache::new(0);
        assert_eq!(cache.key(&peer(Some("a"), None)), None);
        cache.insert(CacheKey(1), verdict(1));
        assert_eq!(cache.get(CacheKey(1)), None);
        assert_eq!(cache.stats().entries, 0);
    }
}
