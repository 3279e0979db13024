//! Why a request is denied: one enum, one place that maps each reason to its
//! code (header, log, metric label) and to the message the client reads.

/// A deny reason. `code()` is stable: operators alert on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    TlsRequired,
    TlsVersionTooLow,
    TlsVersionUnrecognized,
    ConnectionFactsUnavailable,
    RouteMetadataInvalid,
    ClientCertificateRequired,
    CertificateMismatch,
    PeerChainUnavailable,
    UntrustedCa,
    CertificateExpired,
    CertificateNotYetValid,
    CertificateRevoked,
    WeakKey,
    WeakSignatureAlgorithm,
    MissingClientAuthUsage,
    ChainTooLong,
    CertificateInvalid,
    ClientNotAllowed,
    RequestPathInvalid,
    VerificationBudgetExceeded,
    TokenRequired,
    TokenCertificateMismatch,
    TokenAgentMismatch,
    TokenAgentMissing,
    TokenPayloadUnavailable,
    CertificateProfileViolation,
    NameConstraintViolation,
    OnerecordProfileViolation,
    RevocationStatusUnknown,
}

impl Reason {
    /// Every reason, for metric definition and documentation checks.
    pub const ALL: [Reason; 29] = [
        Reason::TlsRequired,
        Reason::TlsVersionTooLow,
        Reason::TlsVersionUnrecognized,
        Reason::ConnectionFactsUnavailable,
        Reason::RouteMetadataInvalid,
        Reason::ClientCertificateRequired,
        Reason::CertificateMismatch,
        Reason::PeerChainUnavailable,
        Reason::UntrustedCa,
        Reason::CertificateExpired,
        Reason::CertificateNotYetValid,
        Reason::CertificateRevoked,
        Reason::WeakKey,
        Reason::WeakSignatureAlgorithm,
        Reason::MissingClientAuthUsage,
        Reason::ChainTooLong,
        Reason::CertificateInvalid,
        Reason::ClientNotAllowed,
        Reason::RequestPathInvalid,
        Reason::VerificationBudgetExceeded,
        Reason::TokenRequired,
        Reason::TokenCertificateMismatch,
        Reason::TokenAgentMismatch,
        Reason::TokenAgentMissing,
        Reason::TokenPayloadUnavailable,
        Reason::CertificateProfileViolation,
        Reason::NameConstraintViolation,
        Reason::OnerecordProfileViolation,
        Reason::RevocationStatusUnknown,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Reason::TlsRequired => "tls_required",
            Reason::TlsVersionTooLow => "tls_version_too_low",
            Reason::TlsVersionUnrecognized => "tls_version_unrecognized",
            Reason::ConnectionFactsUnavailable => "connection_facts_unavailable",
            Reason::RouteMetadataInvalid => "route_metadata_invalid",
            Reason::ClientCertificateRequired => "client_certificate_required",
            Reason::CertificateMismatch => "certificate_mismatch",
            Reason::PeerChainUnavailable => "peer_chain_unavailable",
            Reason::UntrustedCa => "untrusted_ca",
            Reason::CertificateExpired => "certificate_expired",
            Reason::CertificateNotYetValid => "certificate_not_yet_valid",
            Reason::CertificateRevoked => "certificate_revoked",
            Reason::WeakKey => "weak_key",
            Reason::WeakSignatureAlgorithm => "weak_signature_algorithm",
            Reason::MissingClientAuthUsage => "missing_client_auth_usage",
            Reason::ChainTooLong => "chain_too_long",
            Reason::CertificateInvalid => "certificate_invalid",
            Reason::ClientNotAllowed => "client_not_allowed",
            Reason::RequestPathInvalid => "request_path_invalid",
            Reason::VerificationBudgetExceeded => "verification_budget_exceeded",
            Reason::TokenRequired => "token_required",
            Reason::TokenCertificateMismatch => "token_certificate_mismatch",
            Reason::TokenAgentMismatch => "token_agent_mismatch",
            Reason::TokenAgentMissing => "token_agent_missing",
            Reason::TokenPayloadUnavailable => "token_payload_unavailable",
            Reason::CertificateProfileViolation => "certificate_profile_violation",
            Reason::NameConstraintViolation => "name_constraint_violation",
            Reason::OnerecordProfileViolation => "onerecord_profile_violation",
            Reason::RevocationStatusUnknown => "revocation_status_unknown",
        }
    }

    /// What the client should change, in words a client developer can act on.
    pub fn message(self) -> &'static str {
        match self {
            Reason::TlsRequired => {
                "This ONE Record endpoint is served over TLS only. Connect with https:// using TLS 1.2 or later."
            }
            Reason::TlsVersionTooLow => {
                "The TLS version of this connection is below the minimum this ONE Record server accepts. Upgrade the client to TLS 1.2 or later (or TLS 1.3 where the server requires it)."
            }
            Reason::TlsVersionUnrecognized => {
                "The TLS version of this connection could not be recognised. Connect with TLS 1.2 or TLS 1.3."
            }
            Reason::ConnectionFactsUnavailable => {
                "The server could not read the security properties of this connection, so the request was refused. Retry; if it persists, contact the server operator."
            }
            Reason::RouteMetadataInvalid => {
                "The server's security policy for this resource is misconfigured, so the request was refused. Contact the server operator."
            }
            Reason::ClientCertificateRequired => {
                "This resource requires mutual TLS. Present a client certificate issued by a CA on the ONE Record trusted list."
            }
            Reason::CertificateMismatch => {
                "The client certificate details forwarded for this connection do not match the certificate used in the TLS handshake. Reconnect presenting your certificate directly."
            }
            Reason::PeerChainUnavailable => {
                "The server could not obtain the client certificate chain needed to verify it. Contact the server operator."
            }
            Reason::UntrustedCa => {
                "The client certificate does not chain to a CA on this server's ONE Record trusted list. Use a certificate issued by a trusted CA and send the intermediate certificates with it."
            }
            Reason::CertificateExpired => {
                "A certificate in the client certificate chain has expired. Renew the client certificate (or its issuing CA certificate) and reconnect."
            }
            Reason::CertificateNotYetValid => {
                "A certificate in the client certificate chain is not valid yet. Check the certificate's validity period and the client's clock."
            }
            Reason::CertificateRevoked => {
                "A certificate in the client certificate chain has been revoked. Obtain a new client certificate."
            }
            Reason::WeakKey => {
                "A certificate in the client certificate chain uses a key that is too weak. Use RSA keys of at least 2048 bits, EC keys on P-256 or P-384, or Ed25519."
            }
            Reason::WeakSignatureAlgorithm => {
                "A certificate in the client certificate chain is signed with a weak algorithm (MD5 or SHA-1). Obtain a certificate signed with SHA-256 or stronger."
            }
            Reason::MissingClientAuthUsage => {
                "The client certificate is not issued for TLS client authentication. Use a certificate whose extended key usage includes clientAuth."
            }
            Reason::ChainTooLong => {
                "The client certificate chain is longer than this server accepts. Send only the certificates from your certificate up to the trusted CA."
            }
            Reason::CertificateInvalid => {
                "The client certificate chain could not be validated (malformed certificate, bad signature or broken CA constraints). Check the certificates you send."
            }
            Reason::ClientNotAllowed => {
                "The client certificate is valid but this client is not allowed to access this resource. Ask the server operator to grant access."
            }
            Reason::RequestPathInvalid => {
                "The request path could not be read as a URI path (bytes outside printable ASCII, a broken percent-escape, or no leading '/'). Percent-encode the path as RFC 3986 requires."
            }
            Reason::VerificationBudgetExceeded => {
                "Verifying the client certificate chain took more work than this server allows (too many candidate issuers). Send only the certificates from your certificate up to the trusted CA."
            }
            Reason::CertificateProfileViolation => {
                "A certificate in the client certificate chain does not conform to the RFC 5280 certificate profile this server enforces. Ask the issuing CA for a conforming certificate."
            }
            Reason::NameConstraintViolation => {
                "The client certificate carries a name that a CA in its chain is not permitted to certify. Use a certificate whose names lie within the issuing CA's name constraints."
            }
            Reason::OnerecordProfileViolation => {
                "The client certificate does not meet the ONE Record certificate policy: clientAuth extended key usage, critical key usage with digitalSignature, a URI SAN https://<host>/<company-id>, and SHA-256 or stronger signatures."
            }
            Reason::TokenRequired => {
                "This resource requires a valid ONE Record access token. Obtain a token from the authorization server and send it in the Authorization header."
            }
            Reason::TokenCertificateMismatch => {
                "The access token is not bound to the client certificate of this connection (its cnf x5t#S256 thumbprint is missing or differs). Use a token issued for this client certificate."
            }
            Reason::TokenAgentMismatch => {
                "The logistics agent the access token names is not an identity of the client certificate of this connection. Use a token issued for the organisation holding this certificate."
            }
            Reason::TokenAgentMissing => {
                "The access token has no logistics_agent_uri claim, which this ONE Record server needs to bind it to the client certificate. Obtain a token that carries the claim."
            }
            Reason::TokenPayloadUnavailable => {
                "The server could not read the verified access token for this request, so the request was refused. Retry; if it persists, contact the server operator."
            }
            Reason::RevocationStatusUnknown => {
                "The server cannot currently confirm that the certificates in the client certificate chain are not revoked (no current revocation list or OCSP answer from their CA). Retry later; if it persists, contact the server operator."
            }
        }
    }

    /// The HTTP status of the reply denying for this reason: the one place
    /// it is decided.
    pub fn http_status(self) -> u32 {
        match self {
            // Nothing authenticates the request: RFC 9110's 401, as ONE
            // Record answers a missing or expired token.
            Reason::TokenRequired => 401,
            _ => 403,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_and_messages_present() {
        let codes: HashSet<&str> = Reason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), Reason::ALL.len());
        for r in Reason::ALL {
            assert!(r.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!(r.message().len() > 40, "{r:?} needs an actionable message");
        }
    }
}
