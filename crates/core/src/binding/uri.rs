//! The part of a URI that `"agent_match": "host"` compares: scheme, host
//! and port (RFC 3986 §3). Strict on purpose: a URI with userinfo, a
//! percent-encoded or otherwise unusual host, or a malformed port is not
//! read at all, so it matches nothing.

/// Whether `a` and `b` name the same scheme, host and port (scheme and host
/// ASCII case-insensitively, a missing port as the scheme's default).
pub fn same_origin_host(a: &str, b: &str) -> bool {
    match (Origin::parse(a), Origin::parse(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    fn parse(uri: &str) -> Option<Origin> {
        let (scheme, rest) = uri.split_once(':')?;
        let mut chars = scheme.chars();
        let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return None;
        }
        let scheme = scheme.to_ascii_lowercase();
        let rest = rest.strip_prefix("//")?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = rest.get(..end)?;
        if authority.contains('@') {
            return None;
        }
        let (host, port) = split_port(authority)?;
        if !valid_host(host) {
            return None;
        }
        let port = match port {
            Some(port) => Some(port),
            None => default_port(&scheme),
        };
        Some(Origin {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

/// The host and the explicit port (`None` when absent or empty).
fn split_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if authority.starts_with('[') {
        let close = authority.find(']')?;
        let (host, after) = authority.split_at(close + 1);
        match after {
            "" => (host, ""),
            _ => (host, after.strip_prefix(':')?),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, port),
            None => (authority, ""),
        }
    };
    if port.is_empty() {
        return Some((host, None));
    }
    if port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((host, Some(port.parse().ok()?)))
}

/// A DNS name or IPv4 address (letters, digits, `-`, `.`) or a bracketed
/// IPv6 literal; nothing percent-encoded.
fn valid_host(host: &str) -> bool {
    if let Some(literal) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !literal.is_empty()
            && literal
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
    }
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'))
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::same_origin_host;

    #[test]
    fn scheme_and_host_compare_case_insensitively_paths_do_not_matter() {
        assert!(same_origin_host(
            "https://1r.example.com/logistics-agents/airline-1",
            "HTTPS://1R.Example.COM/logistics-agents/other"
        ));
        assert!(same_origin_host(
            "https://1r.example.com",
            "https://1r.example.com:443/x"
        ));
        assert!(same_origin_host(
            "https://[2001:db8::1]:8443/a",
            "https://[2001:DB8::1]:8443/b"
        ));
    }

    #[test]
    fn other_scheme_host_or_port_differs() {
        let san = "https://1r.example.com/logistics-agents/airline-1";
        for other in [
            "http://1r.example.com/logistics-agents/airline-1",
            "https://1r.example.com.evil.test/logistics-agents/airline-1",
            "https://1r.example.com:8443/logistics-agents/airline-1",
            "https://evil.test/1r.example.com",
            "https://1r.example.com./logistics-agents/airline-1",
        ] {
            assert!(!same_origin_host(san, other), "{other}");
        }
    }

    #[test]
    fn userinfo_and_odd_hosts_match_nothing() {
        let san = "https://1r.example.com/x";
        for trick in [
            "https://1r.example.com@evil.test/x",
            "https://evil.test@1r.example.com/x",
            "https://user:pw@1r.example.com/x",
            "https://1r%2Eexample.com/x",
            "https://1r.example.com:x/x",
            "https://1r.example.com:99999/x",
            "https://1r.example.com:+443/x",
            "https:1r.example.com/x",
            "1r.example.com/x",
            "https:///x",
            "https://1r.example.com\\@evil.test/x",
        ] {
            assert!(!same_origin_host(san, trick), "{trick}");
        }
        // The same trick on both sides matches nothing either.
        let trick = "https://a@1r.example.com/x";
        assert!(!same_origin_host(trick, trick));
    }

    #[test]
    fn a_scheme_without_a_default_port_needs_equal_ports() {
        assert!(same_origin_host("urn-like://h/x", "URN-LIKE://H/y"));
        assert!(!same_origin_host("foo://h:1/x", "foo://h/x"));
    }
}
