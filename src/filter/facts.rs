//! Reads the facts the policy needs from the host, fetching the client
//! certificate facts only when the connection has one.

use super::{Host, HostError};
use crate::facts::{ConnectionFacts, Facts, PeerFacts, RequestFacts, Unavailable};
use crate::policy::ROUTE_METADATA_NAMESPACE;

/// The header Envoy sets with the client certificate details.
pub const XFCC_HEADER: &str = "x-forwarded-client-cert";

pub fn gather_facts(host: &dyn Host) -> Facts {
    let request = RequestFacts {
        path: host
            .request_header(":path")
            .ok()
            .flatten()
            .unwrap_or_default(),
        method: host
            .request_header(":method")
            .ok()
            .flatten()
            .unwrap_or_default(),
        route_mtls: route_mtls(host),
    };
    let (connection, now_unix) = match (connection_facts(host), host.now_unix()) {
        (Ok(connection), Ok(now)) => (Ok(connection), now),
        (Err(e), _) | (_, Err(e)) => (Err(Unavailable(e.0)), 0),
    };
    Facts {
        request,
        connection,
        now_unix,
    }
}

/// A route's own requirement. An unreadable value is reported as invalid
/// text, which the policy denies: the route asked for something we can't read.
fn route_mtls(host: &dyn Host) -> Option<String> {
    let path = [
        "xds",
        "route_metadata",
        "filter_metadata",
        ROUTE_METADATA_NAMESPACE,
        "mtls",
    ];
    match host.property(&path) {
        Ok(None) => None,
        Ok(Some(bytes)) => {
            Some(String::from_utf8(bytes).unwrap_or_else(|_| "<not a string>".to_string()))
        }
        Err(e) => Some(format!("<unreadable: {}>", e.0)),
    }
}

fn connection_facts(host: &dyn Host) -> Result<ConnectionFacts, HostError> {
    let tls_version =
        string_property(host, &["connection", "tls_version"])?.filter(|v| !v.is_empty());
    if tls_version.is_none() {
        return Ok(ConnectionFacts {
            tls_version,
            peer: None,
        });
    }
    let has_client_cert = bool_property(host, &["connection", "mtls"])?.unwrap_or(false);
    let peer = if has_client_cert {
        Some(peer_facts(host)?)
    } else {
        None
    };
    Ok(ConnectionFacts { tls_version, peer })
}

fn peer_facts(host: &dyn Host) -> Result<PeerFacts, HostError> {
    Ok(PeerFacts {
        sha256_digest: string_property(host, &["connection", "sha256_peer_certificate_digest"])?,
        certificate_pem: string_property(host, &["connection", "peer_certificate"])?
            .filter(|p| !p.is_empty()),
        certificate_valid: bool_property(host, &["connection", "peer_certificate_valid"])?,
        xfcc: host.request_header(XFCC_HEADER)?,
    })
}

fn string_property(host: &dyn Host, path: &[&str]) -> Result<Option<String>, HostError> {
    match host.property(path)? {
        None => Ok(None),
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| HostError(format!("property {} is not UTF-8", path.join(".")))),
    }
}

/// Envoy serialises booleans as one byte.
fn bool_property(host: &dyn Host, path: &[&str]) -> Result<Option<bool>, HostError> {
    match host.property(path)?.as_deref() {
        None => Ok(None),
        Some([0]) => Ok(Some(false)),
        Some([1]) => Ok(Some(true)),
        Some(other) => Err(HostError(format!(
            "property {} is not a boolean ({} bytes)",
            path.join("."),
            other.len()
        ))),
    }
}
