//! Which `:path` values can be read at all. RFC 3986 allows only printable
//! ASCII in an origin-form request target, with `%` always starting a
//! two-digit escape; anything else is refused rather than guessed at.

/// The longest path, before any query, the policy reads: rules are matched
/// against dozens of readings, each a pass over it, and IIS refuses longer
/// URLs by default (`maxUrl`).
pub const MAX_PATH_LEN: usize = 4096;

/// True when `raw` starts with `/`, holds only printable ASCII (0x21–0x7E)
/// and every `%` is followed by two hex digits, none an encoded NUL (a
/// backend in C reads `/admin%00` as `/admin`; Envoy's `normalize_path`
/// refuses it too), and its path is at most [`MAX_PATH_LEN`] bytes.
pub fn is_valid_request_path(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    let path_len = raw.find(['?', '#']).unwrap_or(raw.len());
    path_len <= MAX_PATH_LEN
        && bytes.first() == Some(&b'/')
        && bytes.iter().enumerate().all(|(i, &b)| match b {
            b'%' => bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit) && hex != b"00"),
            _ => (0x21..=0x7e).contains(&b),
        })
}

/// `raw` with every byte that makes it invalid percent-encoded (a `%` that
/// starts no escape becomes `%25`), NUL dropped and a leading `/` added
/// when missing: the valid path a configuration most likely meant.
pub fn encode_invalid(raw: &str) -> String {
    let without_nul = raw.replace('\0', "").replace("%00", "");
    let bytes = without_nul.as_bytes();
    let mut out = String::with_capacity(bytes.len() + 1);
    if bytes.first() != Some(&b'/') {
        out.push('/');
    }
    for (i, &b) in bytes.iter().enumerate() {
        let escape_start = b == b'%'
            && bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit));
        if escape_start || (b != b'%' && (0x21..=0x7e).contains(&b)) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
