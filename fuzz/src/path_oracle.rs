//! How backends read a request path, and which rule each reading meets,
//! written from the README's description without the filter's code: the
//! targets check that the filter subjects a request to every rule some
//! backend's reading would select.

use onerecord_tls_policy::config::{AllowedClients, Config, MtlsRequirement, PathMatch, Rule};

/// One way a backend may read a path. Every backend drops query and
/// fragment, decodes escaped unreserved characters and merges slashes in
/// the path it routes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backend {
    /// `.` and `..` resolved (Envoy's `normalize_path`, most frameworks).
    pub resolves_dots: bool,
    /// `;` parameters dropped from every segment (Tomcat, Spring, Jetty).
    pub strips_params: bool,
    /// `\` taken as `/` (the WHATWG URL parser).
    pub decodes_backslash: bool,
    /// `%5C` taken as `/`, only by a backend that takes `\` as one.
    pub decodes_encoded_backslash: bool,
    /// `%2F` taken as `/`, `%3B` as `;` (a backend decoding the whole path).
    pub decodes_encoded_slash: bool,
    /// Two or more leading slashes start an authority the path follows
    /// (`new URL(req.url, base)`).
    pub reads_authority: bool,
    /// `..` resolved before slashes are merged, an empty segment being one
    /// it removes (RFC 3986 dot removal, the WHATWG URL parser).
    pub dots_before_merging: bool,
}

/// Every combination.
pub fn backends() -> impl Iterator<Item = Backend> {
    (0..128u8)
        .map(|bits| Backend {
            resolves_dots: bits & 1 != 0,
            strips_params: bits & 2 != 0,
            decodes_backslash: bits & 4 != 0,
            decodes_encoded_backslash: bits & 8 != 0,
            decodes_encoded_slash: bits & 16 != 0,
            reads_authority: bits & 32 != 0,
            dots_before_merging: bits & 64 != 0,
        })
        .filter(|b| b.decodes_backslash || !b.decodes_encoded_backslash)
}

/// RFC 3986 origin form: `/`, then printable ASCII where `%` opens `%XX`;
/// and no `%00` nor more than 4096 bytes before the query, which the README
/// says the filter refuses.
pub fn is_origin_form(raw: &str) -> bool {
    if raw.split(['?', '#']).next().unwrap_or("").len() > 4096 {
        return false;
    }
    let mut chars = raw.chars();
    if chars.next() != Some('/') {
        return false;
    }
    while let Some(c) = chars.next() {
        match c {
            '%' => {
                let (a, b) = (chars.next(), chars.next());
                if !(a.is_some_and(|a| a.is_ascii_hexdigit())
                    && b.is_some_and(|b| b.is_ascii_hexdigit()))
                    || (a, b) == (Some('0'), Some('0'))
                {
                    return false;
                }
            }
            '!'..='~' => {}
            _ => return false,
        }
    }
    true
}

#[derive(Clone, Copy, PartialEq)]
enum Token {
    Slash,
    Text(char),
    /// An escape the backend keeps, by value.
    Kept(u8),
}

/// The path `backend` acts on for `raw` (an origin-form path).
pub fn backend_path(raw: &str, backend: Backend) -> String {
    let path = raw.split(['?', '#']).next().unwrap_or("");
    let mut tokens = Vec::new();
    let mut chars = path.chars();
    while let Some(c) = chars.next() {
        let token = if c == '%' {
            let hex: String = chars.by_ref().take(2).collect();
            let value = u8::from_str_radix(&hex, 16).expect("origin form");
            let unreserved = value.is_ascii_alphanumeric() || b"-._~".contains(&value);
            match value {
                _ if unreserved => Token::Text(char::from(value)),
                b'/' | b';' if backend.decodes_encoded_slash => match value {
                    b'/' => Token::Slash,
                    _ => Token::Text(';'),
                },
                b'\\' if backend.decodes_encoded_backslash => Token::Slash,
                _ => Token::Kept(value),
            }
        } else if c == '/' || (c == '\\' && backend.decodes_backslash) {
            Token::Slash
        } else {
            Token::Text(c)
        };
        tokens.push(token);
    }
    if backend.reads_authority && tokens.starts_with(&[Token::Slash, Token::Slash]) {
        let host = tokens.iter().position(|t| *t != Token::Slash);
        let path = host.and_then(|h| {
            tokens[h..]
                .iter()
                .position(|t| *t == Token::Slash)
                .map(|p| h + p)
        });
        tokens = match path {
            Some(at) => tokens.split_off(at),
            None => vec![Token::Slash],
        };
    }
    let mut segments: Vec<String> = tokens
        .split(|t| *t == Token::Slash)
        .map(|segment| {
            let mut text = String::new();
            for token in segment {
                match token {
                    Token::Text(';') if backend.strips_params => break,
                    Token::Text(c) => text.push(*c),
                    Token::Kept(v) => text.push_str(&format!("%{v:02X}")),
                    Token::Slash => unreachable!(),
                }
            }
            text
        })
        .collect();
    // The leading empty segment before the first `/`.
    segments.remove(0);
    let ends_in_directory = segments
        .last()
        .is_some_and(|s| s.is_empty() || (backend.resolves_dots && (s == "." || s == "..")));
    let mut kept: Vec<String> = Vec::new();
    for segment in segments {
        if segment.is_empty() && !backend.dots_before_merging {
            continue;
        }
        if backend.resolves_dots && segment == "." {
            continue;
        }
        if backend.resolves_dots && segment == ".." {
            kept.pop();
            continue;
        }
        kept.push(segment);
    }
    kept.retain(|s| !s.is_empty());
    let mut out = format!("/{}", kept.join("/"));
    if ends_in_directory && !kept.is_empty() {
        out.push('/');
    }
    out
}

/// The first rule `reading` meets with `method`, as the README says rules
/// match: plain prefixes, exact paths with at most one trailing `/`, ASCII
/// case ignored unless the rule is case-sensitive, `GET` covering `HEAD`.
pub fn first_rule(rules: &[Rule], reading: &str, method: &str) -> Option<usize> {
    let method = method.to_ascii_uppercase();
    rules.iter().position(|rule| {
        let on_method = rule.methods.is_empty()
            || rule
                .methods
                .iter()
                .any(|m| *m == method || (m == "GET" && method == "HEAD"));
        let fold = |s: &str| {
            if rule.case_sensitive {
                s.to_string()
            } else {
                s.to_ascii_lowercase()
            }
        };
        let reading = fold(reading);
        let on_path = match &rule.path {
            PathMatch::Prefix(p) => reading.starts_with(&fold(p)),
            PathMatch::Exact(p) => reading == fold(p) || reading == format!("{}/", fold(p)),
        };
        on_method && on_path
    })
}

/// What every backend's reading selects, each pick once, in backend order.
pub fn picks(rules: &[Rule], raw: &str, method: &str) -> Vec<Option<usize>> {
    let mut out = Vec::new();
    for backend in backends() {
        let pick = first_rule(rules, &backend_path(raw, backend), method);
        if !out.contains(&pick) {
            out.push(pick);
        }
    }
    out
}

/// The allow-list a pick brings: its rule's own, else the global one.
pub fn allow_list(config: &Config, pick: Option<usize>) -> Option<&AllowedClients> {
    pick.map(|i| &config.rules[i])
        .and_then(|r| r.allowed_clients.as_ref())
        .or(config.allowed_clients.as_ref())
}

/// A pick's own `mtls`: its rule's, else the default.
pub fn own_requirement(config: &Config, pick: Option<usize>) -> MtlsRequirement {
    pick.and_then(|i| config.rules[i].mtls)
        .unwrap_or(config.mtls)
}

/// Whether a pick requires a client certificate (an allow-list implies it).
pub fn requires(config: &Config, pick: Option<usize>) -> bool {
    own_requirement(config, pick) == MtlsRequirement::Required || allow_list(config, pick).is_some()
}

/// The rule to report: the earliest picked rule that sets the strictest
/// requirement among all picks.
pub fn reported(config: &Config, picks: &[Option<usize>]) -> Option<usize> {
    let strictest = picks.iter().any(|&p| requires(config, p));
    picks
        .iter()
        .flatten()
        .copied()
        .filter(|&i| requires(config, Some(i)) == strictest)
        .min()
}
