//! A host that reports given [`Facts`] the way Envoy's properties and
//! headers carry them: the inverse of gathering, for the fuzzers.

use super::MockHost;
use crate::config::DEFAULT_TLS_VERSION_HEADER;
use crate::facts::Facts;
use crate::filter::XFCC_HEADER;
use crate::filter::properties::{
    PEER_CERTIFICATE, PEER_DIGEST, PEER_URI_SAN, ROUTE_MTLS, TLS_VERSION, dotted,
};

impl MockHost {
    /// Serves `facts`: the clock, the route metadata, the connection's
    /// properties (unreadable connection facts fail the TLS version read),
    /// and `:path`, `:method`, `:authority`, the XFCC header and the
    /// default TLS-version header of trusted proxies.
    pub fn serving(facts: &Facts) -> Self {
        let mut host = MockHost {
            now: facts.now_unix,
            ..MockHost::default()
        };
        if let Some(route) = &facts.request.route_mtls {
            host.set_property(&dotted(ROUTE_MTLS), route.as_bytes());
        }
        match &facts.connection {
            Err(_) => host.failing_properties.push(dotted(TLS_VERSION)),
            Ok(connection) => {
                if let Some(tls) = &connection.tls_version {
                    host.set_property(&dotted(TLS_VERSION), tls.as_bytes());
                }
                if let Some(uri) = &connection.peer_uri_san {
                    host.set_property(&dotted(PEER_URI_SAN), uri.as_bytes());
                }
                if let Some(peer) = &connection.peer {
                    if let Some(digest) = &peer.sha256_digest {
                        host.set_property(&dotted(PEER_DIGEST), digest.as_bytes());
                    }
                    if let Some(pem) = &peer.certificate_pem {
                        host.set_property(&dotted(PEER_CERTIFICATE), pem.as_bytes());
                    }
                }
            }
        }
        host.headers
            .push((":path".into(), facts.request.path.clone()));
        host.headers
            .push((":method".into(), facts.request.method.clone()));
        for value in &facts.request.forwarded_tls_version {
            host.headers
                .push((DEFAULT_TLS_VERSION_HEADER.into(), value.clone()));
        }
        if !facts.request.authority.is_empty() {
            host.headers
                .push((":authority".into(), facts.request.authority.clone()));
        }
        if let Some(xfcc) = facts
            .connection
            .as_ref()
            .ok()
            .and_then(|c| c.peer.as_ref())
            .and_then(|p| p.xfcc.clone())
        {
            host.headers.push((XFCC_HEADER.into(), xfcc));
        }
        host
    }
}

/// Whether [`MockHost::serving`] reports exactly `facts` (Envoy has no way
/// to say some of them).
pub fn representable(facts: &Facts) -> bool {
    let Ok(connection) = &facts.connection else {
        return false;
    };
    // Served without `connection.id`: the facts must not name one.
    if connection.id.is_some() {
        return false;
    }
    match &connection.tls_version {
        None => connection.peer.is_none(),
        Some(v) if v.is_empty() => false,
        Some(_) => connection
            .peer
            .as_ref()
            // Envoy says "a client certificate" with a non-empty digest.
            .is_none_or(|p| {
                p.certificate_pem.as_deref() != Some("")
                    && p.sha256_digest.as_deref().is_some_and(|d| !d.is_empty())
            }),
    }
}
