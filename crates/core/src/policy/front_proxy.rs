//! Behind a trusted front proxy: when, and only when, the connection's own
//! peer certificate (verified by Envoy at the handshake) is one of
//! `trusted_proxies`, the client's facts are the proxy's: its XFCC element
//! about the client and the TLS version it reports. Any other peer is
//! judged on its own handshake, and those headers are never read as its.

use super::Policy;
use crate::config::{ForwardClientCert, TrustedProxies};
use crate::facts::{ConnectionFacts, PeerFacts, RequestFacts};
use crate::fingerprint::Fingerprint;
use crate::reason::Reason;
use crate::xfcc::{self, XfccError};

/// The client as a trusted proxy reported it, for one request: every
/// request through a proxy may carry another client, so none of it is
/// remembered per connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxied {
    /// The proxy's certificate (the handshake's peer): part of every key
    /// a verdict on this client is remembered under.
    pub proxy: Fingerprint,
    /// The client's TLS version, as the proxy's header says it.
    pub tls_version: Option<String>,
    /// The client's certificate: its element's `Hash` as the leaf binding,
    /// the element itself as the XFCC to verify; `None`: the client
    /// presented none.
    pub peer: Option<PeerFacts>,
}

impl Policy {
    /// The trusted proxy the connection's peer is, if it is one.
    pub fn trusted_proxy(&self, connection: &ConnectionFacts) -> Option<Fingerprint> {
        let proxies = self.config.trusted_proxies.as_ref()?;
        connection.tls_version.as_ref()?;
        let digest = connection.peer.as_ref()?.sha256_digest.as_deref()?;
        let digest = Fingerprint::parse(digest).ok()?;
        proxies
            .lists(&digest, connection.peer_uri_san.as_deref())
            .then_some(digest)
    }

    /// The client behind the trusted proxy `proxy`; `Err` when the proxy's
    /// report cannot be read (the request is denied for that reason).
    pub(super) fn proxied_client(
        &self,
        proxy: Fingerprint,
        proxies: &TrustedProxies,
        connection: &ConnectionFacts,
        request: &RequestFacts,
    ) -> Result<Proxied, Reason> {
        let tls_version = match request.forwarded_tls_version.as_slice() {
            [one] if one.is_empty() || one == "-" => None,
            [one] => Some(one.clone()),
            // The proxy sets exactly one; none or several is a proxy that
            // does not (or a client that got one through).
            _ => return Err(Reason::ConnectionFactsUnavailable),
        };
        let header = connection.peer.as_ref().and_then(|p| p.xfcc.as_deref());
        let element = match header {
            None => None,
            Some(header) => client_element(header, &proxy, proxies.forward_client_cert)
                .map_err(|_| Reason::PeerChainUnavailable)?,
        };
        let peer = match element {
            None => None,
            Some(element) => {
                let parsed =
                    xfcc::parse_last_element(element).map_err(|_| Reason::PeerChainUnavailable)?;
                Some(PeerFacts {
                    sha256_digest: parsed.hash,
                    certificate_pem: None,
                    xfcc: Some(element.to_string()),
                })
            }
        };
        Ok(Proxied {
            proxy,
            tls_version,
            peer,
        })
    }
}

/// Why the XFCC header is not what a trusted proxy and this Envoy write.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum NotForwarded {
    Malformed(XfccError),
    /// With `APPEND_FORWARD` the last element must be this Envoy's about
    /// the proxy: its `Hash` is the proxy's certificate.
    NotAboutTheProxy,
}

/// The text of the element the proxy wrote about the client; `None` when
/// it wrote none (the client presented no certificate).
pub(super) fn client_element<'a>(
    header: &'a str,
    proxy: &Fingerprint,
    forwarding: ForwardClientCert,
) -> Result<Option<&'a str>, NotForwarded> {
    let (before, last) = xfcc::last_two_elements(header).map_err(NotForwarded::Malformed)?;
    match forwarding {
        ForwardClientCert::ForwardOnly => Ok(Some(last)),
        ForwardClientCert::AppendForward => {
            let ours = xfcc::parse_last_element(last).map_err(NotForwarded::Malformed)?;
            let about_proxy = ours
                .hash
                .as_deref()
                .and_then(|h| Fingerprint::parse(h).ok())
                .is_some_and(|h| h == *proxy);
            if !about_proxy {
                return Err(NotForwarded::NotAboutTheProxy);
            }
            Ok(before)
        }
    }
}
