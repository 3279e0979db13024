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
    /// `:authority` (empty when missing): only for the deny reply's
    /// `api:hasResource`, which echoes it only when it is a valid host.
    pub authority: String,
    /// The values of `trusted_proxies.tls_version_header`, read only when
    /// trusted proxies are configured and believed only from one of them.
    pub forwarded_tls_version: Vec<String>,
    /// The token payload `jwt_authn` verified, read only when a selected
    /// rule binds the token ([`Policy::reads_token`](crate::policy::Policy::reads_token)).
    pub token: crate::binding::TokenFacts,
}

/// Facts about the downstream connection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionFacts {
    /// `connection.id`: Envoy's number for the downstream connection, unique
    /// for the life of the process; `None` when not read (the connection
    /// memo is off) or unreadable. What the policy remembers per connection
    /// is kept under it.
    pub id: Option<u64>,
    /// `connection.tls_version`; `None` on plaintext.
    pub tls_version: Option<String>,
    /// Client-certificate facts; `None` when no client certificate was presented.
    pub peer: Option<PeerFacts>,
    /// `connection.uri_san_peer_certificate` (the first URI SAN), read
    /// only when `trusted_proxies` names peers by URI SAN.
    pub peer_uri_san: Option<String>,
}

/// Facts about a presented client certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerFacts {
    /// `connection.sha256_peer_certificate_digest` (lowercase hex).
    pub sha256_digest: Option<String>,
    /// `connection.peer_certificate` (PEM), on Envoy versions that have it.
    /// Like `xfcc`, read only when the policy cannot decide without it
    /// ([`Policy::needs`](crate::policy::Policy::needs)).
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

/// What Envoy fixed at a connection's TLS handshake: it cannot change for
/// the connection's life (Envoy does not renegotiate downstream), so the
/// policy remembers it per connection and later requests need not read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Handshake {
    /// `connection.tls_version`; `None` on plaintext.
    pub tls_version: Option<String>,
    /// The client certificate, when one was presented.
    pub peer: Option<HandshakePeer>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HandshakePeer {
    /// `connection.sha256_peer_certificate_digest`.
    pub sha256_digest: String,
    /// `connection.uri_san_peer_certificate`, when it was read.
    pub uri_san: Option<String>,
}

impl Handshake {
    /// Whether `connection` reports this handshake.
    pub fn is_of(&self, connection: &ConnectionFacts) -> bool {
        self.tls_version == connection.tls_version
            && self.peer.as_ref().and_then(|p| p.uri_san.as_deref())
                == connection.peer_uri_san.as_deref()
            && self.peer.as_ref().map(|p| p.sha256_digest.as_str())
                == connection
                    .peer
                    .as_ref()
                    .and_then(|p| p.sha256_digest.as_deref())
    }

    /// The handshake `connection` reports; `None` for a peer without a
    /// digest, which the filter never reports and a memo could not restore.
    pub fn of(connection: &ConnectionFacts) -> Option<Handshake> {
        let peer = match &connection.peer {
            None => None,
            Some(peer) => Some(HandshakePeer {
                sha256_digest: peer.sha256_digest.clone()?,
                uri_san: connection.peer_uri_san.clone(),
            }),
        };
        Some(Handshake {
            tls_version: connection.tls_version.clone(),
            peer,
        })
    }
}
