//! A bounded map that forgets its least recently used entry first, for the
//! per-worker caches. Wasm VMs are single-threaded, so callers wrap it in a
//! `RefCell`; a lookup is a hash probe plus an ordered-map update.
//!
//! Keys are hashed with std's keyed SipHash unless the owner chooses
//! another hasher ([`Lru::with_hasher`]): only for keys no client chooses.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

#[derive(Clone, Debug)]
pub struct Lru<K, V, S = RandomState> {
    capacity: usize,
    entries: HashMap<K, Slot<V>, S>,
    /// Last use → key; the first entry is the least recently used.
    recency: BTreeMap<u64, K>,
    clock: u64,
}

#[derive(Clone, Debug)]
struct Slot<V> {
    value: V,
    last_used: u64,
}

impl<K: Copy + Eq + Hash, V> Lru<K, V> {
    /// Room for `capacity` entries; 0 keeps nothing.
    pub fn new(capacity: usize) -> Self {
        Lru::with_hasher(capacity, RandomState::new())
    }
}

impl<K: Copy + Eq + Hash, V, S: BuildHasher> Lru<K, V, S> {
    /// Room for `capacity` entries, keys hashed by `hasher`.
    pub fn with_hasher(capacity: usize, hasher: S) -> Self {
        Lru {
            capacity,
            entries: HashMap::with_hasher(hasher),
            recency: BTreeMap::new(),
            clock: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value under `key`, now the most recently used.
    pub fn get(&mut self, key: K) -> Option<&V> {
        let now = self.tick();
        let slot = self.entries.get_mut(&key)?;
        self.recency.remove(&slot.last_used);
        slot.last_used = now;
        self.recency.insert(now, key);
        Some(&slot.value)
    }

    /// The value under `key`, leaving the order as it is.
    pub fn peek(&self, key: K) -> Option<&V> {
        self.entries.get(&key).map(|slot| &slot.value)
    }

    /// The value under `key` to change in place, leaving the order as it is.
    pub fn peek_mut(&mut self, key: K) -> Option<&mut V> {
        self.entries.get_mut(&key).map(|slot| &mut slot.value)
    }

    /// Stores `value` under `key`; `true` when an older entry had to go.
    pub fn insert(&mut self, key: K, value: V) -> bool {
        if self.capacity == 0 {
            return false;
        }
        self.remove(key);
        let evicted = self.entries.len() >= self.capacity && self.evict_oldest();
        let now = self.tick();
        self.recency.insert(now, key);
        self.entries.insert(
            key,
            Slot {
                value,
                last_used: now,
            },
        );
        evicted
    }

    pub fn remove(&mut self, key: K) {
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

#[cfg(test)]
mod tests {
    use super::Lru;

    #[test]
    fn least_recently_used_goes_first() {
        let mut lru = Lru::new(2);
        assert!(!lru.insert(1, "a"));
        assert!(!lru.insert(2, "b"));
        assert_eq!(lru.get(1), Some(&"a"));
        assert!(lru.insert(3, "c"), "full: the oldest use goes");
        assert_eq!(lru.get(2), None);
        assert_eq!(lru.get(1), Some(&"a"));
        assert_eq!(lru.get(3), Some(&"c"));
        assert_eq!(lru.len(), 2);
    }

    #[test]
    fn peek_does_not_refresh() {
        let mut lru = Lru::new(2);
        lru.insert(1, "a");
        lru.insert(2, "b");
        assert_eq!(lru.peek(1), Some(&"a"));
        lru.insert(3, "c");
        assert_eq!(lru.peek(1), None, "1 was still the least recently used");
        assert_eq!(lru.peek(2), Some(&"b"));
        if let Some(value) = lru.peek_mut(2) {
            *value = "B";
        }
        assert_eq!(lru.get(2), Some(&"B"));
    }

    #[test]
    fn replacing_and_removing_keep_one_entry_per_key() {
        let mut lru = Lru::new(2);
        lru.insert(1, "a");
        assert!(!lru.insert(1, "z"), "replacing is not evicting");
        lru.insert(2, "b");
        assert_eq!(lru.get(1), Some(&"z"));
        lru.remove(1);
        assert_eq!(lru.get(1), None);
        assert_eq!(lru.len(), 1);
    }

    #[test]
    fn capacity_zero_keeps_nothing() {
        let mut lru = Lru::new(0);
        assert!(!lru.insert(1, "a"));
        assert_eq!(lru.get(1), None);
        assert_eq!(lru.len(), 0);
        assert_eq!(lru.capacity(), 0);
    }
}
