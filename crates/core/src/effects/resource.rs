//! `api:hasResource` of a deny reply: the absolute URI of the request
//! (scheme, authority, normalised path), built only from parts that are
//! valid URI syntax, so nothing the client sent is echoed raw.

use crate::facts::Facts;
use crate::policy::path::{is_valid_request_path, normalize_path};

/// Longest URI echoed back in `api:hasResource`.
pub const MAX_RESOURCE_LEN: usize = 512;

/// Longest authority (`host[:port]`) accepted: a DNS name is at most 253.
const MAX_AUTHORITY_LEN: usize = 261;

/// What a reply says the request was about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource<'a> {
    /// `https` when the connection is TLS, else `http`.
    pub secure: bool,
    /// `:authority` as the client sent it.
    pub authority: &'a str,
    /// `:path` as the client sent it.
    pub path: &'a str,
}

impl<'a> Resource<'a> {
    /// The request `facts` describe.
    pub fn of(facts: &'a Facts) -> Resource<'a> {
        let secure = facts
            .connection
            .as_ref()
            .map_or(true, |c| c.tls_version.is_some());
        Resource {
            secure,
            authority: &facts.request.authority,
            path: &facts.request.path,
        }
    }

    /// The absolute URI, at most [`MAX_RESOURCE_LEN`] long; `None` when the
    /// authority or the path is not valid URI syntax (nothing is echoed).
    pub fn uri(&self) -> Option<String> {
        if !is_valid_request_path(self.path) {
            return None;
        }
        let authority = authority(self.authority)?;
        let scheme = if self.secure { "https" } else { "http" };
        let uri = format!("{scheme}://{authority}{}", normalize_path(self.path));
        Some(bounded(uri))
    }
}

/// The authority lowercased (host names compare case-insensitively), when
/// it is a host name, an IPv4 address or a bracketed IPv6 literal, with an
/// optional port. Anything else (userinfo, percent-escapes, spaces,
/// quotes) is refused rather than escaped: no client needs it.
fn authority(text: &str) -> Option<String> {
    if text.is_empty() || text.len() > MAX_AUTHORITY_LEN {
        return None;
    }
    let (host, port) = match text.strip_prefix('[') {
        Some(rest) => {
            let (literal, after) = rest.split_once(']')?;
            let ok = !literal.is_empty()
                && literal
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
            if !ok {
                return None;
            }
            match after {
                "" => (text, None),
                _ => (
                    text.get(..text.len() - after.len())?,
                    Some(after.strip_prefix(':')?),
                ),
            }
        }
        None => {
            let (host, port) = match text.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (text, None),
            };
            let ok = !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_');
            if !ok {
                return None;
            }
            (host, port)
        }
    };
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut out = host.to_ascii_lowercase();
    if let Some(port) = port {
        out.push(':');
        out.push_str(port);
    }
    Some(out)
}

/// `uri` cut to [`MAX_RESOURCE_LEN`], never inside a percent-escape (the
/// text is ASCII: the path was checked, the authority too).
fn bounded(mut uri: String) -> String {
    if uri.len() <= MAX_RESOURCE_LEN {
        return uri;
    }
    uri.truncate(MAX_RESOURCE_LEN);
    let tail = uri.len().saturating_sub(2);
    if let Some(at) = uri.get(tail..).and_then(|t| t.find('%')) {
        uri.truncate(tail + at);
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(authority: &str, path: &str) -> Option<String> {
        Resource {
            secure: true,
            authority,
            path,
        }
        .uri()
    }

    #[test]
    fn the_uri_is_scheme_authority_and_normalised_path() {
        assert_eq!(
            uri(
                "OneRecord.Example.com:8443",
                "/a/./b/../logistics-objects/1?q=<x>"
            )
            .as_deref(),
            Some("https://onerecord.example.com:8443/a/logistics-objects/1")
        );
        assert_eq!(
            uri("[::1]:10000", "/x").as_deref(),
            Some("https://[::1]:10000/x")
        );
        assert_eq!(uri("127.0.0.1", "/").as_deref(), Some("https://127.0.0.1/"));
        let plain = Resource {
            secure: false,
            authority: "h",
            path: "/p",
        };
        assert_eq!(plain.uri().as_deref(), Some("http://h/p"));
    }

    #[test]
    fn an_authority_that_is_not_a_host_is_never_echoed() {
        for authority in [
            "",
            "user@host",
            "host\"><script>",
            "host:port",
            "host:123456",
            "host:",
            ":80",
            "ho st",
            "h%41st",
            "[::1",
            "[zz]",
            "[::1]x",
            "caf\u{e9}.example",
            "a/b",
        ] {
            assert_eq!(uri(authority, "/x"), None, "{authority:?}");
        }
        assert_eq!(uri(&"a".repeat(MAX_AUTHORITY_LEN + 1), "/x"), None);
    }

    #[test]
    fn the_uri_is_bounded_and_not_cut_inside_an_escape() {
        let long = format!("/{}", "a".repeat(2000));
        assert_eq!(uri("h", &long).unwrap().len(), MAX_RESOURCE_LEN);
        for pad in 0..3 {
            let path = format!(
                "/{}{}",
                "b".repeat(MAX_RESOURCE_LEN - 30 + pad),
                "%2F".repeat(20)
            );
            let cut = uri("h", &path).unwrap();
            assert!(cut.len() <= MAX_RESOURCE_LEN && cut.len() + 2 >= MAX_RESOURCE_LEN);
            let last = cut.rfind('%').unwrap();
            assert_eq!(cut.len() - last, 3, "{cut}");
        }
    }
}
