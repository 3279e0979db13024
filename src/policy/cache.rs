//! The verdict cache: successful client-chain verifications, so that a client
//! sending the same certificates again skips XFCC decoding, PEM/base64 and
//! path building.
//!
//! One cache per [`Policy`](super::Policy), so per configuration and per VM:
//! a configuration reload builds a new policy and with it an empty cache.
//! Wasm VMs are single-threaded, hence `RefCell` rather than a lock.
//!
//! The key is a SipHash, under a key drawn at random per cache, of the bytes
//! Envoy reported before any decoding: `connection.peer_certificate` and the
//! whole `x-forwarded-client-cert` header. Equal bytes mean equal inputs to
//! verification; any other byte (another chain, a decoy appended) is another
//! key. A hit is still checked against the handshake's own digest by the
//! caller, so even a colliding key can only ever yield the identity of the
//! certificate the client proved it holds.
//!
//! Bounded, least recently used first out. Only successes are stored: a deny
//! is recomputed, never remembered, so no entry can turn one into an allow.

use crate::facts::PeerFacts;
use crate::trust::{PathValidity, VerifiedClient};
use std::cell::{Cell, RefCell};
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{BuildHasher, Hasher};

/// What a successful verification established, as far as it holds for any
/// later request presenting the same bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CachedVerdict {
    pub client: VerifiedClient,
    pub validity: PathValidity,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct CacheKey(u64);

/// Counters for tests, benchmarks and operators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    pub entries: usize,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
}

#[derive(Clone)]
pub(super) struct VerdictCache {
    capacity: usize,
    hasher: RandomState,
    lru: RefCell<Lru>,
    stats: Cell<CacheStats>,
}

#[derive(Clone, Default)]
struct Lru {
    entries: HashMap<CacheKey, Slot>,
    /// Last use → key; the first entry is the least recently used.
    recency: BTreeMap<u64, CacheKey>,
    clock: u64,
}

#[derive(Clone)]
struct Slot {
    verdict: CachedVerdict,
    last_used: u64,
}

impl VerdictCache {
    /// Room for `capacity` verdicts; 0 disables the cache.
    pub(super) fn new(capacity: usize) -> Self {
        VerdictCache {
            capacity,
            hasher: RandomState::new(),
            lru: RefCell::new(Lru::default()),
            stats: Cell::new(CacheStats::default()),
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
            .lru
            .try_borrow_mut()
            .ok()
            .and_then(|mut lru| lru.touch(key));
        self.count(|s| match found {
            Some(_) => s.hits = s.hits.saturating_add(1),
            None => s.misses = s.misses.saturating_add(1),
        });
        found
    }

    /// Stores `verdict`, evicting the least recently used entry when full.
    pub(super) fn insert(&self, key: CacheKey, verdict: CachedVerdict) {
        if self.capacity == 0 {
            return;
        }
        let Ok(mut lru) = self.lru.try_borrow_mut() else {
            return;
        };
        lru.remove(key);
        let evicted = lru.entries.len() >= self.capacity && lru.evict_oldest();
        lru.insert(key, verdict);
        let entries = lru.entries.len();
        self.count(|s| {
            s.entries = entries;
            if evicted {
                s.evictions = s.evictions.saturating_add(1);
            }
        });
    }

    /// Forgets `key` (its verification no longer succeeds).
    pub(super) fn remove(&self, key: CacheKey) {
        if let Ok(mut lru) = self.lru.try_borrow_mut() {
            lru.remove(key);
            let entries = lru.entries.len();
            self.count(|s| s.entries = entries);
        }
    }

    pub(super) fn stats(&self) -> CacheStats {
        self.stats.get()
    }

    fn count(&self, update: impl FnOnce(&mut CacheStats)) {
        let mut stats = self.stats.get();
        update(&mut stats);
        self.stats.set(stats);
    }
}

impl Lru {
    fn touch(&mut self, key: CacheKey) -> Option<CachedVerdict> {
        let now = self.tick();
        let slot = self.entries.get_mut(&key)?;
        self.recency.remove(&slot.last_used);
        slot.last_used = now;
        self.recency.insert(now, key);
        Some(slot.verdict.clone())
    }

    fn insert(&mut self, key: CacheKey, verdict: CachedVerdict) {
        let now = self.tick();
        self.recency.insert(now, key);
        self.entries.insert(
            key,
            Slot {
                verdict,
                last_used: now,
            },
        );
    }

    fn remove(&mut self, key: CacheKey) {
        if let Some(slot) = self.entries.remove(&key) {
            self.recency.remove(&slot.last_used);
        }
    }

    fn evict_oldest(&mut self) -> bool {
        match self.recency.pop_first() {
            Some((_, key)) => self.entries.remove(&key).is_some(),
            None => false,
        }
    }

    /// A fresh use stamp; 2^64 uses outlast any VM.
    fn tick(&mut self) -> u64 {
        self.clock = self.clock.wrapping_add(1);
        self.clock
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
    use crate::fingerprint::Fingerprint;

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
        // The digest and Envoy's verdict are checked per request, not keyed.
        let mut other = peer(Some("a"), Some("b"));
        other.sha256_digest = Some("00".into());
        other.certificate_valid = Some(false);
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
    fn size_zero_disables_it() {
        let cache = VerdictCache::new(0);
        assert_eq!(cache.key(&peer(Some("a"), None)), None);
        cache.insert(CacheKey(1), verdict(1));
        assert_eq!(cache.get(CacheKey(1)), None);
        assert_eq!(cache.stats().entries, 0);
    }
}
