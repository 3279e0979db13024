//! The readings of a request path: the forms common backends may give the
//! same `:path`. Every reading drops query and fragment, decodes escaped
//! unreserved characters, upper-cases the hex of kept escapes and merges
//! repeated slashes. They differ in four choices: which of `\`, `%5C` and
//! `%2F` are read as `/` (`%3B` as `;` with `%2F`); a leading `//` read as
//! the start of an authority or not; `;` parameters removed from every
//! segment or not (before dot resolution, so `..;` is `..`); `.` and `..`
//! resolved after merging slashes, resolved over the unmerged segments (RFC
//! 3986 and the WHATWG URL parser: `..` removes an empty segment, so
//! `/a//..` is `/a/`), or not resolved.

/// The distinct readings of one path, the ordinary one (dots resolved,
/// nothing else decoded) first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Readings<'a> {
    /// A path with nothing to read differently: its only reading is itself
    /// without the query. No allocation.
    One(&'a str),
    Many(Vec<String>),
}

impl Readings<'_> {
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match self {
            Readings::One(path) => (Some(*path), &[][..]),
            Readings::Many(all) => (None, all.as_slice()),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }
}

/// Every distinct reading of `raw` (a valid request path, see
/// [`is_valid_request_path`](super::is_valid_request_path)).
pub fn readings(raw: &str) -> Readings<'_> {
    let path = without_query(raw);
    if is_plain(path) {
        return Readings::One(path);
    }
    let decoded = decode_unreserved(path);
    let separated = SEPARATOR_CHOICES
        .iter()
        .map(|&separators| decode_separators(&decoded, separators));
    let mut texts: Vec<String> = Vec::new();
    for text in std::iter::once(decoded.clone()).chain(separated) {
        let rest = after_authority(&text).map(str::to_string);
        for text in std::iter::once(text).chain(rest) {
            if !texts.contains(&text) {
                texts.push(text);
            }
        }
    }
    let mut out: Vec<String> = Vec::new();
    for text in &texts {
        for params in [false, true] {
            if params && !text.contains(';') {
                continue;
            }
            for dots in [Dots::Merged, Dots::Unmerged, Dots::Kept] {
                // Without an empty segment `..` could remove, the same as Merged.
                if dots == Dots::Unmerged
                    && !(text.contains("//") || (params && text.contains("/;")))
                {
                    continue;
                }
                let reading = join_segments(text, params, dots);
                if !out.contains(&reading) {
                    out.push(reading);
                }
            }
        }
    }
    Readings::Many(out)
}

/// The ordinary reading: query and fragment dropped, unreserved escapes
/// decoded (kept ones in upper case), slashes merged, `.` and `..` resolved.
/// This is the path the deny body names.
pub fn normalize_path(raw: &str) -> String {
    join_segments(&decode_unreserved(without_query(raw)), false, Dots::Merged)
}

/// The reading with every choice made: separators decoded, `;` parameters
/// removed, dot segments resolved. A configured path must already be this.
pub fn canonical_path(raw: &str) -> String {
    let decoded = decode_unreserved(without_query(raw));
    join_segments(
        &decode_separators(&decoded, ALL_SEPARATORS),
        true,
        Dots::Merged,
    )
}

/// How `.` and `..` are read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dots {
    /// Resolved after empty segments are dropped.
    Merged,
    /// Resolved with empty segments kept as segments a `..` removes.
    Unmerged,
    /// Kept as names.
    Kept,
}

fn without_query(raw: &str) -> &str {
    let end = raw.find(['?', '#']).unwrap_or(raw.len());
    raw.get(..end).unwrap_or(raw)
}

/// Nothing any reading would change: no escape, parameter, backslash,
/// empty segment or dot segment.
fn is_plain(path: &str) -> bool {
    !path.bytes().any(|b| matches!(b, b'%' | b';' | b'\\'))
        && !path.contains("//")
        && !path.split('/').any(|s| s == "." || s == "..")
}

/// Joins the segments of `text` with single slashes, keeping a trailing one.
fn join_segments(text: &str, params: bool, dots: Dots) -> String {
    let resolve = dots != Dots::Kept;
    let mut segments: Vec<&str> = Vec::new();
    let mut last = "";
    // The first piece is what precedes the leading `/`: no segment.
    for (i, whole) in text.split('/').enumerate() {
        let segment = if params {
            whole.split(';').next().unwrap_or_default()
        } else {
            whole
        };
        last = segment;
        match segment {
            "" if dots == Dots::Unmerged && i > 0 => segments.push(""),
            "" => {}
            "." if resolve => {}
            ".." if resolve => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    // Empty segments kept for `..` are merged away now.
    segments.retain(|s| !s.is_empty());
    let trailing = last.is_empty() || (resolve && matches!(last, "." | ".."));
    let mut out = String::with_capacity(text.len() + 1);
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    if out.is_empty() || (trailing && !segments.is_empty()) {
        out.push('/');
    }
    out
}

/// Which separators a backend takes as `/`.
#[derive(Clone, Copy)]
struct Separators {
    backslash: bool,
    /// `%5C`; only with `backslash` (a backend decoding `%5C` to a separator
    /// takes a raw `\` as one too).
    encoded_backslash: bool,
    /// `%2F`, and `%3B` as `;`: a backend decoding the whole path first.
    encoded_slash: bool,
}

const ALL_SEPARATORS: Separators = Separators {
    backslash: true,
    encoded_backslash: true,
    encoded_slash: true,
};

/// The combinations backends make: `\` alone (the WHATWG URL parser),
/// `%2F` alone (Go's decoded `URL.Path`), and the others.
const SEPARATOR_CHOICES: [Separators; 5] = [
    Separators {
        backslash: true,
        encoded_backslash: false,
        encoded_slash: false,
    },
    Separators {
        backslash: true,
        encoded_backslash: true,
        encoded_slash: false,
    },
    Separators {
        backslash: false,
        encoded_backslash: false,
        encoded_slash: true,
    },
    Separators {
        backslash: true,
        encoded_backslash: false,
        encoded_slash: true,
    },
    ALL_SEPARATORS,
];

/// What follows the authority when `text` starts with two separators: a
/// backend that resolves its request target against a base URL (Node's
/// `new URL(req.url, base)`) takes `//public/access-delegations` as host
/// `public` and path `/access-delegations` (and skips any further slashes
/// before the host).
fn after_authority(text: &str) -> Option<&str> {
    let rest = text.strip_prefix("//")?.trim_start_matches('/');
    Some(rest.find('/').and_then(|at| rest.get(at..)).unwrap_or("/"))
}

/// The separators chosen as `/` (`%3B` as `;` with `%2F`). In decoded text
/// every `%` starts an upper-case escape, so matching at each `%` is exact.
fn decode_separators(text: &str, separators: Separators) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let (piece, len) = match rest.get(..3) {
            Some("%2F") if separators.encoded_slash => ('/', 3),
            Some("%3B") if separators.encoded_slash => (';', 3),
            Some("%5C") if separators.encoded_backslash => ('/', 3),
            _ if c == '\\' && separators.backslash => ('/', 1),
            _ => (c, c.len_utf8()),
        };
        out.push(piece);
        rest = rest.get(len..).unwrap_or_default();
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
