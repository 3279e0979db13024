//! Client-sent annotations: the names a backend could read as one of the
//! filter's own, and their removal from the request headers or trailers.

use super::header_map::HeaderMap;
use super::{Host, HostError};

/// The request maps the filter strips.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestMap {
    Headers,
    Trailers,
}

/// Whether a backend could read `name` as a header under `prefix`: ASCII
/// case-insensitively, and with every `_` read as `-`, as CGI and WSGI do
/// (`x_onerecord_mtls` and `x-onerecord-mtls` are both
/// `HTTP_X_ONERECORD_MTLS` there). `prefix` is lowercase, which the
/// configuration guarantees.
pub fn is_annotation_name(name: &[u8], prefix: &[u8]) -> bool {
    name.get(..prefix.len())
        .is_some_and(|start| start.iter().zip(prefix).all(|(&n, &p)| fold(n) == p))
}

/// A header-name byte as CGI/WSGI-style backends read it: ASCII lowercase,
/// `_` as `-`.
pub(super) fn fold(byte: u8) -> u8 {
    match byte {
        b'_' => b'-',
        other => other.to_ascii_lowercase(),
    }
}

/// Removes every entry of `map` (as read in `entries`) whose name is under
/// `prefix`, passing each name back byte for byte, whatever its bytes. When
/// something was removed the map is read again, and any such name still
/// there is an error: a host that changed a name on the way must not leave
/// a forgery behind. Returns how many names were removed.
pub fn strip(
    host: &mut dyn Host,
    map: RequestMap,
    entries: &HeaderMap,
    prefix: &[u8],
) -> Result<usize, HostError> {
    let mut names: Vec<&[u8]> = Vec::new();
    for (name, _) in entries.iter() {
        if is_annotation_name(name, prefix) && !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() {
        return Ok(0);
    }
    for name in &names {
        match map {
            RequestMap::Headers => host.remove_request_header(name)?,
            RequestMap::Trailers => host.remove_request_trailer(name)?,
        }
    }
    let after = match map {
        RequestMap::Headers => host.request_headers()?,
        RequestMap::Trailers => host.request_trailers()?,
    };
    if after
        .iter()
        .any(|(name, _)| is_annotation_name(name, prefix))
    {
        return Err(HostError(format!(
            "a client-sent {} under the annotation prefix is still there after its removal",
            match map {
                RequestMap::Headers => "header",
                RequestMap::Trailers => "trailer",
            }
        )));
    }
    Ok(names.len())
}

#[cfg(test)]
mod tests {
    use super::is_annotation_name;

    #[test]
    fn names_match_case_insensitively_with_underscores_as_dashes() {
        let cases: [(&[u8], bool); 13] = [
            (b"x-onerecord-mtls", true),
            (b"x_onerecord_mtls", true),
            (b"x-onerecord_client-uri-san", true),
            (b"X_ONERECORD-POLICY", true),
            (b"x_OneRecord_", true),
            (b"x-onerecord-\xff", true),
            (b"x-onerecord", false),
            (b"x-onerecordmtls", false),
            (b"x.onerecord-mtls", false),
            (b"y-onerecord-mtls", false),
            (b"xx-onerecord-mtls", false),
            (b"", false),
            (b"\xffx-onerecord-", false),
        ];
        for (name, matches) in cases {
            assert_eq!(
                is_annotation_name(name, b"x-onerecord-"),
                matches,
                "{name:?}"
            );
        }
    }
}
