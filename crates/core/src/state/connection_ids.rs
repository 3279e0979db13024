//! The connection memo's hash. Envoy numbers its connections itself, one
//! after another, so no client can pick an id that collides with another's:
//! the keyed SipHash that guards the maps whose keys a client can grind
//! (fingerprints, chains) buys nothing here, and a warm request looks its
//! connection up several times. A multiply by an odd constant is a
//! bijection on the low bits (the table's bucket index), so ids in sequence
//! take distinct buckets, and it mixes the high bits the table tags with.

use std::hash::{BuildHasherDefault, Hasher};

/// 2^64 divided by the golden ratio, made odd: a multiplier whose high
/// bits depend on every bit of the id.
const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ConnectionIdHasher(u64);

impl Hasher for ConnectionIdHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Not reached by `u64` keys; kept total for any other `Hash`.
        for byte in bytes {
            self.write_u64(u64::from(*byte));
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = (self.0.rotate_left(5) ^ id).wrapping_mul(MULTIPLIER);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds a [`ConnectionIdHasher`] per lookup.
pub(crate) type ConnectionIds = BuildHasherDefault<ConnectionIdHasher>;

#[cfg(test)]
mod tests {
    use super::ConnectionIds;
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    #[test]
    fn ids_in_sequence_take_distinct_buckets_and_tags_vary() {
        let ids = ConnectionIds::default();
        for start in [0u64, 1, 4_096, u64::from(u32::MAX) - 100, u64::MAX - 8_192] {
            let hashes: Vec<u64> = (0..4_096)
                .map(|i| ids.hash_one(start.wrapping_add(i)))
                .collect();
            // A table of 4,096 buckets indexes by the low 12 bits.
            let buckets: HashSet<u64> = hashes.iter().map(|h| h & 0xfff).collect();
            assert_eq!(buckets.len(), 4_096, "from {start}");
            // The top 7 bits of the low 32 (the tag on a 32-bit target).
            let tags: HashSet<u64> = hashes.iter().map(|h| (h >> 25) & 0x7f).collect();
            assert!(tags.len() > 100, "from {start}: {} tags", tags.len());
        }
    }

    #[test]
    fn the_same_id_hashes_alike_and_others_apart() {
        let ids = ConnectionIds::default();
        assert_eq!(ids.hash_one(42u64), ids.hash_one(42u64));
        assert_ne!(ids.hash_one(42u64), ids.hash_one(43u64));
        assert_ne!(ids.hash_one(0u64), ids.hash_one(1u64 << 63));
    }
}
