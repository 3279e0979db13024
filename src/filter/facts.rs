//! Reads the facts the policy needs from the host, and no more: the request
//! headers once, `connection.id` when connections are remembered, then what
//! the policy says it needs ([`Policy::needs`]): the handshake facts once per
//! connection, and the client certificate (PEM and XFCC) only when the
//! connection's remembered verdict cannot decide without it.

use super::forged;
use super::header_map::HeaderMap;
use super::properties;
use super::{Host, HostError};
use crate::binding::{Claim, TokenFacts, TokenPayload, payload};
use crate::config::TokenMetadata;
use crate::facts::{
    ConnectionFacts, Facts, Handshake, HandshakePeer, PeerFacts, RequestFacts, Unavailable,
};
use crate::policy::Policy;
use crate::state::State;

/// The header Envoy sets with the client certificate details.
pub const XFCC_HEADER: &str = "x-forwarded-client-cert";

/// The facts of one request, and the request headers they came from (the
/// filter strips client-sent annotations from the same map).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gathered {
    pub facts: Facts,
    pub headers: Result<HeaderMap, HostError>,
}

/// The facts of the request on `host`, read as `policy` needs them with
/// what `state` remembers (which this does not change).
pub fn gather_facts(host: &dyn Host, policy: &Policy, state: &State) -> Gathered {
    let headers = host.request_headers();
    let text = |name: &str| request_text(headers.as_ref().ok(), name);
    let mut request = RequestFacts {
        path: text(":path"),
        method: text(":method"),
        method_overrides: headers.as_ref().map(method_overrides).unwrap_or_default(),
        route_mtls: route_mtls(host),
        authority: text(":authority"),
        forwarded_tls_version: forwarded_tls_version(headers.as_ref().ok(), policy),
        token: TokenFacts::NotRead,
    };
    if policy.reads_token(&request) {
        request.token = token_facts(host, &policy.config.token_metadata);
    }
    let facts = match host.now_unix() {
        Err(e) => Facts {
            request,
            connection: Err(Unavailable(e.0)),
            now_unix: 0,
        },
        Ok(now_unix) => {
            let connection = headers
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|map| connection_facts(host, map, policy, state, now_unix))
                .map_err(|e| Unavailable(e.0));
            Facts {
                request,
                connection,
                now_unix,
            }
        }
    };
    Gathered { facts, headers }
}

/// The values of the trusted proxies' TLS-version header, when any are
/// configured; whether they are believed is the policy's decision.
fn forwarded_tls_version(headers: Option<&HeaderMap>, policy: &Policy) -> Vec<String> {
    let (Some(headers), Some(proxies)) = (headers, &policy.config.trusted_proxies) else {
        return Vec::new();
    };
    let name = proxies.tls_version_header.as_bytes();
    headers
        .iter()
        .filter(|(key, _)| *key == name)
        .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
        .collect()
}

/// Headers by which a client may ask the backend for another method.
const METHOD_OVERRIDE_HEADERS: [&[u8]; 3] = [
    b"x-http-method-override",
    b"x-http-method",
    b"x-method-override",
];

/// Every value of a method-override header, names compared as a backend
/// reads them (ASCII case-insensitively, `_` as `-`).
fn method_overrides(headers: &HeaderMap) -> Vec<String> {
    headers
        .iter()
        .filter(|(name, _)| {
            METHOD_OVERRIDE_HEADERS.iter().any(|known| {
                name.len() == known.len()
                    && name
                        .iter()
                        .zip(known.iter())
                        .all(|(&n, &k)| forged::fold(n) == k)
            })
        })
        .map(|(_, value)| String::from_utf8_lossy(value).trim().to_string())
        .collect()
}

/// A pseudo-header as text. Bytes that are not UTF-8 stay visible (as
/// U+FFFD) rather than making the value "": the policy refuses such a path
/// instead of reading "/". Missing is "", which is no valid path either.
fn request_text(headers: Option<&HeaderMap>, name: &str) -> String {
    headers
        .and_then(|map| map.get(name))
        .map(|value| String::from_utf8_lossy(value).into_owned())
        .unwrap_or_default()
}

/// The token payload `jwt_authn` verified, in one read. Envoy fails that
/// read for a payload it cannot serialise (a `null` claim): the payload is
/// there, so the two claims the binding needs are read one by one.
fn token_facts(host: &dyn Host, metadata: &TokenMetadata) -> TokenFacts {
    let path = properties::token_payload(metadata);
    match host.property(&path) {
        Ok(None) => TokenFacts::Absent,
        Ok(Some(bytes)) => match TokenPayload::from_envoy(&bytes) {
            Ok(payload) => TokenFacts::Verified(payload),
            Err(e) => {
                log::warn!(
                    "onerecord-tls-policy: the verified token payload is unreadable ({e:?})"
                );
                TokenFacts::Unreadable
            }
        },
        Err(_) => {
            let claim = |member: &[&str]| {
                let full: Vec<&str> = path.iter().chain(member).copied().collect();
                match host.property(&full) {
                    Ok(None) => Claim::Absent,
                    Ok(Some(bytes)) => payload::text_claim(&bytes),
                    Err(_) => Claim::Invalid,
                }
            };
            TokenFacts::Verified(TokenPayload {
                logistics_agent_uri: claim(&[payload::AGENT_CLAIM]),
                cnf_x5t_s256: claim(&[payload::CNF_CLAIM, payload::THUMBPRINT_MEMBER]),
            })
        }
    }
}

/// A route's own requirement. An unreadable value is reported as invalid
/// text, which the policy denies: the route asked for something we can't read.
fn route_mtls(host: &dyn Host) -> Option<String> {
    match host.property(properties::ROUTE_MTLS) {
        Ok(None) => None,
        Ok(Some(bytes)) => {
            Some(String::from_utf8(bytes).unwrap_or_else(|_| "<not a string>".to_string()))
        }
        Err(e) => Some(format!("<unreadable: {}>", e.0)),
    }
}

fn connection_facts(
    host: &dyn Host,
    headers: &HeaderMap,
    policy: &Policy,
    state: &State,
    now_unix: u64,
) -> Result<ConnectionFacts, HostError> {
    // The memo is an optimisation: an unreadable id only means reading the
    // handshake facts again.
    let id = if state.remembers_connections() {
        connection_id(host)
    } else {
        None
    };
    let needs = policy.needs(state, id, now_unix);
    let handshake = match needs.handshake {
        Some(remembered) => remembered,
        None => handshake(host, policy)?,
    };
    let peer_uri_san = handshake.peer.as_ref().and_then(|p| p.uri_san.clone());
    let peer = match handshake.peer {
        None => None,
        Some(presented) => {
            let mut peer = PeerFacts {
                sha256_digest: Some(presented.sha256_digest),
                certificate_pem: None,
                xfcc: None,
            };
            if needs.certificate {
                peer.certificate_pem =
                    string_property(host, properties::PEER_CERTIFICATE)?.filter(|p| !p.is_empty());
                peer.xfcc = headers
                    .get(XFCC_HEADER)
                    .map(|value| {
                        String::from_utf8(value.to_vec()).map_err(|_| {
                            HostError(format!("request header {XFCC_HEADER} is not UTF-8"))
                        })
                    })
                    .transpose()?;
            }
            Some(peer)
        }
    };
    Ok(ConnectionFacts {
        id,
        tls_version: handshake.tls_version,
        peer,
        peer_uri_san,
    })
}

/// The handshake facts, read from the host. A client certificate is
/// recognised by its digest: Envoy reports none (or an empty one) without.
/// Its URI SAN is read only when trusted proxies are named by one.
fn handshake(host: &dyn Host, policy: &Policy) -> Result<Handshake, HostError> {
    let tls_version = string_property(host, properties::TLS_VERSION)?.filter(|v| !v.is_empty());
    if tls_version.is_none() {
        return Ok(Handshake::default());
    }
    let digest = string_property(host, properties::PEER_DIGEST)?.filter(|d| !d.is_empty());
    let by_uri_san = policy
        .config
        .trusted_proxies
        .as_ref()
        .is_some_and(|p| !p.uri_san.is_empty());
    let peer = match digest {
        None => None,
        Some(sha256_digest) => Some(HandshakePeer {
            sha256_digest,
            uri_san: match by_uri_san {
                true => string_property(host, properties::PEER_URI_SAN)?.filter(|u| !u.is_empty()),
                false => None,
            },
        }),
    };
    Ok(Handshake { tls_version, peer })
}

/// `connection.id`, which Envoy serialises as 8 little-endian bytes.
fn connection_id(host: &dyn Host) -> Option<u64> {
    let bytes = host.property(properties::CONNECTION_ID).ok()??;
    let raw: [u8; 8] = bytes.as_slice().try_into().ok()?;
    Some(u64::from_le_bytes(raw))
}

fn string_property(host: &dyn Host, path: &[&str]) -> Result<Option<String>, HostError> {
    match host.property(path)? {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| HostError(format!("property {} is not UTF-8", path.join(".")))),
    }
}

#[cfg(test)]
mod tests {
    use super::{method_overrides, request_text};
    use crate::config::Config;
    use crate::facts::{ConnectionFacts, Facts, RequestFacts};
    use crate::filter::header_map::{HeaderMap, serialize_pairs};
    use crate::policy::Policy;
    use crate::reason::Reason;

    /// A header map as Envoy serialises it, with `:path` ending in a raw
    /// 0xFF byte (what HTTP/2 forwards when `normalize_path` is off).
    fn headers_with_raw_byte() -> HeaderMap {
        let mut bytes = serialize_pairs(&[
            (":path".into(), "/access-delegations/Z".into()),
            (":method".into(), "GET".into()),
        ]);
        let at = bytes.iter().position(|&b| b == b'Z').unwrap();
        bytes[at] = 0xff;
        HeaderMap::parse(bytes).unwrap()
    }

    #[test]
    fn a_path_that_is_not_utf8_is_denied_not_read_as_root() {
        let headers = headers_with_raw_byte();
        let path = request_text(Some(&headers), ":path");
        assert_eq!(path, "/access-delegations/\u{fffd}");
        let policy = Policy::new(Config::parse(br#"{"rules":[]}"#).unwrap());
        let facts = Facts {
            request: RequestFacts {
                path,
                method: request_text(Some(&headers), ":method"),
                ..RequestFacts::default()
            },
            connection: Ok(ConnectionFacts {
                peer_uri_san: None,
                id: None,
                tls_version: Some("TLSv1.3".into()),
                peer: None,
            }),
            now_unix: 1_800_000_000,
        };
        assert_eq!(
            policy.decide(&facts).deny_reason(),
            Some(Reason::RequestPathInvalid)
        );
    }

    #[test]
    fn a_missing_path_is_empty() {
        assert_eq!(
            request_text(Some(&headers_with_raw_byte()), ":authority"),
            ""
        );
        assert_eq!(request_text(None, ":path"), "");
    }

    #[test]
    fn method_overrides_are_read_as_a_backend_reads_their_names() {
        let headers = HeaderMap::from_pairs(&[
            (":method".into(), "POST".into()),
            ("x-http-method-override".into(), " DELETE ".into()),
            ("X_HTTP_Method".into(), "put".into()),
            ("x-method-override".into(), "PATCH".into()),
            ("x-http-method-overrides".into(), "GET".into()),
            ("x-method".into(), "GET".into()),
        ]);
        assert_eq!(method_overrides(&headers), ["DELETE", "put", "PATCH"]);
    }
}
