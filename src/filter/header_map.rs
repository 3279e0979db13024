//! The proxy-wasm header map wire format: a u32 count, then a (key length,
//! value length) u32 pair per entry, then each key and value NUL-terminated.
//! Reading is bounds-checked: the bytes come from the host, but a bad map
//! must become an error, not a panic.

use std::ops::Range;

/// A header map as the host sent it: one buffer, checked once, with lookups
/// and iteration borrowing from it (a request's XFCC header is kilobytes;
/// nothing is copied unless a caller needs it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeaderMap {
    bytes: Vec<u8>,
    /// Where each name and value sits in `bytes`, in the host's order.
    entries: Vec<(Range<usize>, Range<usize>)>,
}

impl HeaderMap {
    /// `None` when the bytes are not a well-formed map.
    pub fn parse(bytes: Vec<u8>) -> Option<HeaderMap> {
        let entries = locate(&bytes)?;
        Some(HeaderMap { bytes, entries })
    }

    /// The map holding `pairs`, as the host would send it.
    pub fn from_pairs(pairs: &[(String, String)]) -> HeaderMap {
        HeaderMap::parse(serialize_pairs(pairs)).unwrap_or_default()
    }

    /// Every header, in order; names and values as the host gave them (not
    /// necessarily UTF-8).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries.iter().filter_map(|(name, value)| {
            Some((
                self.bytes.get(name.clone())?,
                self.bytes.get(value.clone())?,
            ))
        })
    }

    /// The first value of `name` (as Envoy's `get_header_map_value` answers).
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.iter()
            .find(|(key, _)| *key == name.as_bytes())
            .map(|(_, value)| value)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

pub fn serialize_pairs(pairs: &[(String, String)]) -> Vec<u8> {
    serialize_fields(pairs)
}

/// The wire form of `pairs` whatever their bytes (the host's need not be UTF-8).
pub fn serialize_fields<K: AsRef<[u8]>, V: AsRef<[u8]>>(pairs: &[(K, V)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&(k.as_ref().len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.as_ref().len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_ref());
        out.push(0);
        out.extend_from_slice(v.as_ref());
        out.push(0);
    }
    out
}

fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(raw)).ok()
}

/// The range of `len` bytes at `at`, which must be followed by a NUL.
fn nul_terminated(bytes: &[u8], at: usize, len: usize) -> Option<Range<usize>> {
    let end = at.checked_add(len)?;
    match bytes.get(end) {
        Some(0) => Some(at..end),
        _ => None,
    }
}

fn locate(bytes: &[u8]) -> Option<Vec<(Range<usize>, Range<usize>)>> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let count = u32_at(bytes, 0)?;
    let mut sizes_at = 4usize;
    let mut data_at = count.checked_mul(8)?.checked_add(4)?;
    let mut out = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let key_len = u32_at(bytes, sizes_at)?;
        let value_len = u32_at(bytes, sizes_at.checked_add(4)?)?;
        sizes_at = sizes_at.checked_add(8)?;
        let key = nul_terminated(bytes, data_at, key_len)?;
        data_at = key.end.checked_add(1)?;
        let value = nul_terminated(bytes, data_at, value_len)?;
        data_at = value.end.checked_add(1)?;
        out.push((key, value));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(map: &HeaderMap) -> Vec<(String, String)> {
        map.iter()
            .map(|(k, v)| {
                (
                    String::from_utf8(k.to_vec()).unwrap(),
                    String::from_utf8(v.to_vec()).unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn round_trips_pairs_and_finds_the_first_value() {
        let sent = vec![
            (":path".to_string(), "/a".to_string()),
            ("x-y".to_string(), String::new()),
            ("x-y".to_string(), "second".to_string()),
        ];
        let map = HeaderMap::from_pairs(&sent);
        assert_eq!(pairs(&map), sent);
        assert_eq!(map.len(), 3);
        assert_eq!(map.get(":path"), Some(&b"/a"[..]));
        assert_eq!(map.get("x-y"), Some(&b""[..]));
        assert_eq!(map.get("x-z"), None);
    }

    #[test]
    fn truncated_or_lying_maps_are_errors_not_panics() {
        let bytes = serialize_pairs(&[("a".to_string(), "b".to_string())]);
        for cut in 1..bytes.len() {
            assert_eq!(
                HeaderMap::parse(bytes[..cut].to_vec()),
                None,
                "cut at {cut}"
            );
        }
        assert_eq!(HeaderMap::parse(vec![0xff, 0xff, 0xff, 0xff]), None);
        let mut unterminated = bytes.clone();
        let last = unterminated.len() - 1;
        unterminated[last] = b'x';
        assert_eq!(HeaderMap::parse(unterminated), None);
        assert!(HeaderMap::parse(Vec::new()).unwrap().is_empty());
    }
}
