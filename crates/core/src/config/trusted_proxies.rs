//! `trusted_proxies`: the front proxies (an edge Envoy tier, an Istio
//! ingress gateway) whose XFCC element and TLS-version header this filter
//! reads as the client's, when the connection's own verified peer
//! certificate is one of them.

use super::json::{as_str, fingerprints, kind, present, reject_unknown, strings};
use super::{ConfigError, err};
use crate::fingerprint::Fingerprint;
use serde_json::Value;

pub const DEFAULT_TLS_VERSION_HEADER: &str = "x-forwarded-tls-version";

/// How this Envoy's HTTP connection manager forwards XFCC, which says
/// where the proxy's element is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ForwardClientCert {
    /// This Envoy appends an element about the proxy itself: the client's
    /// is the one just before it.
    AppendForward,
    /// This Envoy forwards the header as the proxy sent it: the client's
    /// is the last element.
    ForwardOnly,
}

impl ForwardClientCert {
    pub fn as_str(self) -> &'static str {
        match self {
            ForwardClientCert::AppendForward => "APPEND_FORWARD",
            ForwardClientCert::ForwardOnly => "FORWARD_ONLY",
        }
    }
}

/// Which peers are trusted front proxies, and how they forward the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedProxies {
    /// The peer certificate's URI SAN (as Envoy reports its first one),
    /// e.g. the ingress gateway's SPIFFE ID.
    pub uri_san: Vec<String>,
    /// The peer certificate's SHA-256 fingerprint.
    pub sha256: Vec<Fingerprint>,
    /// The request header the proxy sets to the client's TLS version
    /// (lowercase, as Envoy keeps names).
    pub tls_version_header: String,
    pub forward_client_cert: ForwardClientCert,
}

impl TrustedProxies {
    /// Whether a peer with this certificate digest and first URI SAN is listed.
    pub fn lists(&self, sha256: &Fingerprint, uri_san: Option<&str>) -> bool {
        self.sha256.contains(sha256) || uri_san.is_some_and(|u| self.uri_san.iter().any(|t| t == u))
    }
}

pub(super) fn read(v: &Value, annotation_prefix: &str) -> Result<TrustedProxies, ConfigError> {
    let field = "trusted_proxies";
    let object = v
        .as_object()
        .ok_or_else(|| err(field, format!("must be an object, got {}", kind(v))))?;
    reject_unknown(
        object,
        &["peers", "tls_version_header", "forward_client_cert"],
        "trusted_proxies.",
    )?;
    let peers_field = "trusted_proxies.peers";
    let peers = present(object, "peers")
        .ok_or_else(|| err(peers_field, "is required: the proxies' uri_san or sha256"))?;
    let peers = peers.as_object().ok_or_else(|| {
        err(
            peers_field,
            format!("must be an object, got {}", kind(peers)),
        )
    })?;
    reject_unknown(peers, &["uri_san", "sha256"], "trusted_proxies.peers.")?;
    let uri_san = match present(peers, "uri_san") {
        Some(v) => strings(v, "trusted_proxies.peers.uri_san")?,
        None => Vec::new(),
    };
    let sha256 = match present(peers, "sha256") {
        Some(v) => fingerprints(v, "trusted_proxies.peers.sha256")?,
        None => Vec::new(),
    };
    if uri_san.is_empty() && sha256.is_empty() {
        return Err(err(
            peers_field,
            "must list at least one uri_san or sha256: no peer would be trusted",
        ));
    }
    let tls_version_header = match present(object, "tls_version_header") {
        Some(v) => header_name(
            as_str(v, "trusted_proxies.tls_version_header")?,
            annotation_prefix,
        )?,
        None => DEFAULT_TLS_VERSION_HEADER.to_string(),
    };
    let forward_client_cert = match present(object, "forward_client_cert") {
        None => ForwardClientCert::AppendForward,
        Some(v) => match as_str(v, "trusted_proxies.forward_client_cert")? {
            "APPEND_FORWARD" => ForwardClientCert::AppendForward,
            "FORWARD_ONLY" => ForwardClientCert::ForwardOnly,
            other => {
                return Err(err(
                    "trusted_proxies.forward_client_cert",
                    format!(
                        "must be \"APPEND_FORWARD\" or \"FORWARD_ONLY\" (this Envoy's forward_client_cert_details), got {other:?}"
                    ),
                ));
            }
        },
    };
    Ok(TrustedProxies {
        uri_san,
        sha256,
        tls_version_header,
        forward_client_cert,
    })
}

/// A lowercase header name the filter does not strip or own.
fn header_name(name: &str, annotation_prefix: &str) -> Result<String, ConfigError> {
    let field = "trusted_proxies.tls_version_header";
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(err(
            field,
            format!("must be a lowercase header name (letters, digits, '-'), got {name:?}"),
        ));
    }
    if name.starts_with(annotation_prefix) || name == "x-forwarded-client-cert" {
        return Err(err(
            field,
            format!("{name:?} is a header the filter itself sets or reads for the handshake"),
        ));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    const FP: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn parse(proxies: &str) -> Result<Config, ConfigError> {
        Config::parse(format!(r#"{{"trusted_proxies":{proxies}}}"#).as_bytes())
    }

    #[test]
    fn proxies_parse_with_defaults() {
        let text = format!(r#"{{"peers":{{"uri_san":["spiffe://c/gw"],"sha256":["{FP}"]}}}}"#);
        let proxies = parse(&text).unwrap().trusted_proxies.unwrap();
        assert_eq!(proxies.uri_san, ["spiffe://c/gw"]);
        assert_eq!(proxies.sha256, [Fingerprint::parse(FP).unwrap()]);
        assert_eq!(proxies.tls_version_header, DEFAULT_TLS_VERSION_HEADER);
        assert_eq!(
            proxies.forward_client_cert,
            ForwardClientCert::AppendForward
        );
        assert!(proxies.lists(&Fingerprint([9; 32]), Some("spiffe://c/gw")));
        assert!(!proxies.lists(&Fingerprint([9; 32]), Some("spiffe://c/other")));
        assert!(!proxies.lists(&Fingerprint([9; 32]), None));
        let text = r#"{"peers":{"uri_san":["u"]},"tls_version_header":"x-client-tls","forward_client_cert":"FORWARD_ONLY"}"#;
        let proxies = parse(text).unwrap().trusted_proxies.unwrap();
        assert_eq!(proxies.tls_version_header, "x-client-tls");
        assert_eq!(proxies.forward_client_cert, ForwardClientCert::ForwardOnly);
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            ("[]", "trusted_proxies"),
            ("{}", "trusted_proxies.peers"),
            (r#"{"peers":{}}"#, "trusted_proxies.peers"),
            (r#"{"peers":{"uri_san":[]}}"#, "trusted_proxies.peers"),
            (
                r#"{"peers":{"uri_san":[""]}}"#,
                "trusted_proxies.peers.uri_san[0]",
            ),
            (
                r#"{"peers":{"sha256":["zz"]}}"#,
                "trusted_proxies.peers.sha256[0]",
            ),
            (
                r#"{"peers":{"spiffe":["u"]}}"#,
                "trusted_proxies.peers.spiffe",
            ),
            (r#"{"peers":{"uri_san":["u"]},"x":1}"#, "trusted_proxies.x"),
            (
                r#"{"peers":{"uri_san":["u"]},"tls_version_header":"X-TLS"}"#,
                "trusted_proxies.tls_version_header",
            ),
            (
                r#"{"peers":{"uri_san":["u"]},"tls_version_header":"x-onerecord-tls"}"#,
                "trusted_proxies.tls_version_header",
            ),
            (
                r#"{"peers":{"uri_san":["u"]},"forward_client_cert":"SANITIZE_SET"}"#,
                "trusted_proxies.forward_client_cert",
            ),
        ];
        for (text, field) in cases {
            assert_eq!(parse(text).unwrap_err().field, field, "{text}");
        }
    }
}
