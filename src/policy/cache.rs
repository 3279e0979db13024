//! The verdict cache: successful client-chain verifications, so that a client
//! sending the same certificates again skips XFCC decoding, PEM/base64 and
//! path building.
//!
//! One cache per [`Policy`](super::Policy), so per configuration and per VM:
//! a configuration reload builds a new policy and with it an empty cache.
//! Wasm VMs are single-threaded, hence `RefCell` rather than a lock.
//!
//! Two indexes, each bounded, least recently used first out:
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
//! A hit is still checked against the handshake's own digest by the caller,
//! so even a colliding key can only ever yield the identity of the
//! certificate the client proved it holds. Only successes are stored: a
//! deny is recomputed, never remembered, so no entry can turn one into an
//! allow.

use crate::facts::PeerFacts;
use crate::lru::Lru;
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
}

#[derive(Clone)]
pub(super) struct VerdictCache {
    capacity: usize,
    hasher: RandomState,
    by_content: RefCell<Lru<CacheKey, CachedVerdict>>,
    by_connection: RefCell<Lru<u64, CachedVerdict>>,
    stats: Cell<CacheStats>,
}

impl VerdictCache {
    /// Room for `capacity` verdicts in each index; 0 disables the cache.
    pub(super) fn new(capacity: usize) -> Self {
        VerdictCache {
            capacity,
            hasher: RandomState::new(),
            by_content: RefCell::new(Lru::new(capacity)),
            by_connection: RefCell::new(Lru::new(capacity)),
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
            .by_content
            .try_borrow_mut()
            .ok()
            .and_then(|mut lru| lru.get(key).cloned());
        self.count(|s| match found {
            Some(_) => s.hits = s.hits.saturating_add(1),
            None => s.misses = s.misses.saturating_add(1),
        });
        found
    }

    /// Stores `verdict`, evicting the least recently used entry when full.
    pub(super) fn insert(&self, key: CacheKey, verdict: CachedVerdict) {
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

    /// Forgets `key` (its verification no longer succeeds).
    pub(super) fn remove(&self, key: CacheKey) {
        if let Ok(mut lru) = self.by_content.try_borrow_mut() {
            lru.remove(key);
            let entries = lru.len();
            self.count(|s| s.entries = entries);
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

    pub(super) fn insert_connection(&self, id: u64, verdict: CachedVerdict) {
        if let Ok(mut lru) = self.by_connection.try_borrow_mut() {
            lru.insert(id, verdict);
        }
    }

    pub(super) fn remove_connection(&self, id: u64) {
        if let Ok(mut lru) = self.by_connection.try_borrow_mut() {
            lru.remove(id);
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
