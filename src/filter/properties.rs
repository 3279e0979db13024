//! The Envoy properties the filter reads, by path: named once here for the
//! glue, the test host, fuzzing and the hostcall counter.

use crate::policy::ROUTE_METADATA_NAMESPACE;

/// A property path, as `proxy_get_property` takes it.
pub type Path = &'static [&'static str];

/// `connection.tls_version`: empty or absent on plaintext.
pub const TLS_VERSION: Path = &["connection", "tls_version"];
/// `connection.sha256_peer_certificate_digest`: the client certificate's
/// digest (lowercase hex), empty or absent without one.
pub const PEER_DIGEST: Path = &["connection", "sha256_peer_certificate_digest"];
/// `connection.peer_certificate`: the client certificate as PEM.
pub const PEER_CERTIFICATE: Path = &["connection", "peer_certificate"];
/// `connection.uri_san_peer_certificate`: the peer certificate's first URI
/// SAN, read to recognise a trusted front proxy.
pub const PEER_URI_SAN: Path = &["connection", "uri_san_peer_certificate"];
/// `connection.id`: 8 little-endian bytes, unique for the process's life.
pub const CONNECTION_ID: Path = &["connection", "id"];
/// The route's own mTLS requirement, under the filter's metadata namespace.
pub const ROUTE_MTLS: Path = &[
    "xds",
    "route_metadata",
    "filter_metadata",
    ROUTE_METADATA_NAMESPACE,
    "mtls",
];

/// Dynamic metadata `filter_metadata.<filter>.<key>`, where `jwt_authn`
/// (`payload_in_metadata`) keeps the verified token payload.
pub fn token_payload(metadata: &crate::config::TokenMetadata) -> [&str; 4] {
    [
        "metadata",
        "filter_metadata",
        metadata.filter.as_str(),
        metadata.key.as_str(),
    ]
}

/// `connection.peer_certificate_valid`: false on every resumed TLS session
/// (envoy#21235), so never read; named for the tests that check it is not.
pub const PEER_CERTIFICATE_VALID: Path = &["connection", "peer_certificate_valid"];

/// The path with `.` between segments, as logs and test hosts show it.
pub fn dotted(path: Path) -> String {
    path.join(".")
}
