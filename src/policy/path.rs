//! Path normalisation for rule matching, so `/access%2Ddelegations` or
//! `/./access-delegations` cannot step around a rule that requires mTLS.

/// Drops query and fragment, decodes percent-encoded unreserved characters,
/// merges repeated slashes and resolves `.` and `..` segments.
/// Encoded reserved characters (such as `%2F`) stay encoded, in upper case.
pub fn normalize_path(raw: &str) -> String {
    let end = raw.find(['?', '#']).unwrap_or(raw.len());
    let path = raw.get(..end).unwrap_or(raw);
    let decoded = decode_unreserved(path);
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(decoded.len() + 1);
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    let trailing = decoded.ends_with('/') || decoded.ends_with("/.") || decoded.ends_with("/..");
    if out.is_empty() || (trailing && !segments.is_empty()) {
        out.push('/');
    }
    out
}

fn decode_unreserved(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            // Exactly two hex digits: `from_str_radix` alone would take `+1`.
            let hex = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(value) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                if value.is_ascii_alphanumeric() || matches!(value, b'-' | b'.' | b'_' | b'~') {
                    out.push(char::from(value));
                } else {
                    out.push('%');
                    out.push_str(&format!("{value:02X}"));
                }
                i += 3;
                continue;
            }
        }
        // Not a valid escape: keep the byte as it is (the path is UTF-8 text).
        let ch_len = path
            .get(i..)
            .and_then(|rest| rest.chars().next())
            .map_or(1, char::len_utf8);
        if let Some(piece) = path.get(i..i + ch_len) {
            out.push_str(piece);
        }
        i += ch_len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize_path;

    #[test]
    fn strips_query_and_fragment() {
        assert_eq!(
            normalize_path("/logistics-objects/1?embedded=true"),
            "/logistics-objects/1"
        );
        assert_eq!(normalize_path("/a#frag"), "/a");
    }

    #[test]
    fn decodes_unreserved_only() {
        assert_eq!(
            normalize_path("/access%2Ddelegations/x"),
            "/access-delegations/x"
        );
        assert_eq!(
            normalize_path("/%61ccess-delegations"),
            "/access-delegations"
        );
        assert_eq!(normalize_path("/a%2fb"), "/a%2Fb");
        assert_eq!(normalize_path("/a%zz"), "/a%zz");
        assert_eq!(normalize_path("/a%"), "/a%");
        assert_eq!(normalize_path("/a%+1"), "/a%+1");
    }

    #[test]
    fn resolves_dot_segments_and_slashes() {
        assert_eq!(
            normalize_path("//access-delegations"),
            "/access-delegations"
        );
        assert_eq!(
            normalize_path("/./access-delegations"),
            "/access-delegations"
        );
        assert_eq!(
            normalize_path("/x/../access-delegations/"),
            "/access-delegations/"
        );
        assert_eq!(normalize_path("/../../etc"), "/etc");
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_path("/"), "/");
        assert_eq!(
            normalize_path("/%2e%2e/access-delegations"),
            "/access-delegations"
        );
    }

    #[test]
    fn keeps_non_ascii_text_intact() {
        assert_eq!(normalize_path("/caf\u{e9}/%C3%A9"), "/caf\u{e9}/%C3%A9");
    }
}
