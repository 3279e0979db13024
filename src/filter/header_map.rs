//! The proxy-wasm header map wire format: a u32 count, then a (key length,
//! value length) u32 pair per entry, then each key and value NUL-terminated.
//! Reading is bounds-checked: the bytes come from the host, but a bad map
//! must become an error, not a panic.

/// Header names and values as the host gave them (not necessarily UTF-8).
pub type HeaderPairs = Vec<(Vec<u8>, Vec<u8>)>;

pub fn serialize_pairs(pairs: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(pairs.len() as u32).to_le_bytes());
    for (k, v) in pairs {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    }
    for (k, v) in pairs {
        out.extend_from_slice(k.as_bytes());
        out.push(0);
        out.extend_from_slice(v.as_bytes());
        out.push(0);
    }
    out
}

fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    usize::try_from(u32::from_le_bytes(raw)).ok()
}

/// `len` bytes at `at`, which must be followed by a NUL.
fn nul_terminated(bytes: &[u8], at: usize, len: usize) -> Option<Vec<u8>> {
    let end = at.checked_add(len)?;
    match bytes.get(end) {
        Some(0) => Some(bytes.get(at..end)?.to_vec()),
        _ => None,
    }
}

pub fn deserialize_pairs(bytes: &[u8]) -> Option<HeaderPairs> {
    if bytes.is_empty() {
        return Some(Vec::new());
    }
    let count = u32_at(bytes, 0)?;
    let mut sizes_at = 4usize;
    let mut data_at = count.checked_mul(8)?.checked_add(4)?;
    let mut out = Vec::with_capacity(count.min(1024));
    for _ in 0..count {
        let key_len = u32_at(bytes, sizes_at)?;
        let value_len = u32_at(bytes, sizes_at + 4)?;
        sizes_at += 8;
        let key = nul_terminated(bytes, data_at, key_len)?;
        data_at = data_at.checked_add(key_len)?.checked_add(1)?;
        let value = nul_terminated(bytes, data_at, value_len)?;
        data_at = data_at.checked_add(value_len)?.checked_add(1)?;
        out.push((key, value));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_pairs() {
        let pairs = vec![
            (":path".to_string(), "/a".to_string()),
            ("x-y".to_string(), String::new()),
        ];
        let bytes = serialize_pairs(&pairs);
        let back = deserialize_pairs(&bytes).unwrap();
        let back: Vec<(String, String)> = back
            .into_iter()
            .map(|(k, v)| (String::from_utf8(k).unwrap(), String::from_utf8(v).unwrap()))
            .collect();
        assert_eq!(back, pairs);
    }

    #[test]
    fn truncated_or_lying_maps_are_errors_not_panics() {
        let bytes = serialize_pairs(&[("a".to_string(), "b".to_string())]);
        for cut in 1..bytes.len() {
            assert_eq!(deserialize_pairs(&bytes[..cut]), None, "cut at {cut}");
        }
        assert_eq!(deserialize_pairs(&[0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(deserialize_pairs(&[]), Some(Vec::new()));
    }
}
