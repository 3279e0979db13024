//! What Envoy told us about this connection and request: plain data,
//! gathered by the filter glue, read by the policy.

/// A fact the host could not tell us (a hostcall failed, not "absent").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable(pub String);

/// Facts about the request itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestFacts {
    /// `:path` as received (may include a query string). Empty when missing
    /// or unreadable, bytes that are not UTF-8 as U+FFFD: either way not a
    /// valid request path, which the policy denies (`request_path_invalid`).
    pub path: String,
    /// `:method` (empty when missing, bytes that are not UTF-8 as U+FFFD).
    pub method: String,
    /// The values of the method-override headers a client sent
    /// (`x-http-method-override`, `x-http-method`, `x-method-override`, in
    /// any case and with `_` for `-`): frameworks (ASP.NET Core, Express,
    /// Rack, Laravel) route a `POST` carrying one as that method, so rules
    /// match each of them too.
    pub method_overrides: Vec<String>,
    /// `xds.route_metadata` → `filter_metadata.onerecord_tls_policy.mtls`, when the route sets it.
    pub route_mtls: Option<String>,
}

/// Facts about the downstream connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionFacts {
    /// `connection.tls_version`; `None` on plaintext.
    pub tls_version: Option<String>,
    /// Client-certificate facts; `None` when no client certificate was presented.
    pub peer: Option<PeerFacts>,
}

/// Facts about a presented client certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerFacts {
    /// `connection.id`: Envoy's number for the downstream connection, unique
    /// for the life of the process; `None` when not read.
    pub connection_id: Option<u64>,
    /// `connection.sha256_peer_certificate_digest` (lowercase hex).
    pub sha256_digest: Option<String>,
    /// `connection.peer_certificate` (PEM), on Envoy versions that have it.
    /// Like `xfcc`, read only when the verdict cache cannot decide
    /// ([`Policy::needs_certificate`](crate::policy::Policy::needs_certificate)).
    pub certificate_pem: Option<String>,
    /// The `x-forwarded-client-cert` request header Envoy set.
    pub xfcc: Option<String>,
}

/// Everything `decide` reads. A fact the host failed to give is an `Err`,
/// which the policy turns into a deny (fail closed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    pub request: RequestFacts,
    pub connection: Result<ConnectionFacts, Unavailable>,
    /// Seconds since the Unix epoch, from the host clock.
    pub now_unix: u64,
}
