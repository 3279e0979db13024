//! Binding the ONE Record access token to the client certificate: the
//! payload Envoy's `jwt_authn` verified and kept in dynamic metadata, read
//! in a bounded way ([`payload`]), checked against the verified client
//! (RFC 8705 `cnf.x5t#S256`, `logistics_agent_uri` against the URI SANs).
//! The filter never sees the token itself, only what `jwt_authn` verified.

pub mod payload;
mod uri;

use crate::config::{AgentMatch, TokenBindingMode};
use crate::fingerprint::Fingerprint;
use crate::reason::Reason;
use crate::trust::VerifiedClient;
pub use payload::{Claim, MAX_PAYLOAD_BYTES, PayloadError, TokenPayload};

/// The verified token's payload as the filter found it for one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum TokenFacts {
    /// Not read: no selected rule binds the token.
    #[default]
    NotRead,
    /// No verified payload in the metadata (`jwt_authn` found no token,
    /// or let the request through without one).
    Absent,
    /// The payload `jwt_authn` verified.
    Verified(TokenPayload),
    /// The metadata could not be read or decoded: a check that cannot be
    /// made.
    Unreadable,
}

/// What binding requires of one request: the strictest of its rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BindingSettings {
    pub mode: TokenBindingMode,
    /// The token must carry `cnf.x5t#S256`.
    pub require_cnf: bool,
    pub agent_match: AgentMatch,
}

/// A token bound to the verified client: what the backend is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundToken {
    /// The token's `logistics_agent_uri`, one of the client's identities.
    pub logistics_agent_uri: String,
}

/// What binding concluded, for the counters and the access log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindingResult {
    /// A token was present and bound to the client certificate.
    Verified,
    /// Binding was optional and the request had no token.
    Absent,
    /// Binding failed with this reason.
    Failed(Reason),
}

impl BindingResult {
    /// `verified`, `absent` or the reason's code.
    pub fn code(self) -> &'static str {
        match self {
            BindingResult::Verified => "verified",
            BindingResult::Absent => "absent",
            BindingResult::Failed(reason) => reason.code(),
        }
    }
}

/// The binding of `token` to `client` under `settings`: `Ok(None)` when
/// binding is optional and there is no token.
pub fn bind(
    token: &TokenFacts,
    client: &VerifiedClient,
    settings: BindingSettings,
) -> Result<Option<BoundToken>, Reason> {
    let payload = match token {
        TokenFacts::Verified(payload) => payload,
        TokenFacts::Absent if settings.mode == TokenBindingMode::Optional => return Ok(None),
        TokenFacts::Absent => return Err(Reason::TokenRequired),
        TokenFacts::NotRead | TokenFacts::Unreadable => {
            return Err(Reason::TokenPayloadUnavailable);
        }
    };
    match &payload.cnf_x5t_s256 {
        Claim::Absent if !settings.require_cnf => {}
        Claim::Text(thumbprint) if *thumbprint == x5t_s256(&client.leaf_sha256) => {}
        _ => return Err(Reason::TokenCertificateMismatch),
    }
    let agent = match &payload.logistics_agent_uri {
        Claim::Absent => return Err(Reason::TokenAgentMissing),
        Claim::Invalid => return Err(Reason::TokenAgentMismatch),
        Claim::Text(agent) => agent,
    };
    let matches = |san: &String| match settings.agent_match {
        AgentMatch::Exact => san == agent,
        AgentMatch::Host => uri::same_origin_host(san, agent),
    };
    if !client.uri_sans.iter().any(matches) {
        return Err(Reason::TokenAgentMismatch);
    }
    Ok(Some(BoundToken {
        logistics_agent_uri: agent.clone(),
    }))
}

/// RFC 8705 §3.1 `x5t#S256`: base64url (no padding) of the SHA-256 of
/// the certificate's DER, which the leaf fingerprint already is.
pub fn x5t_s256(leaf_sha256: &Fingerprint) -> String {
    use base64ct::Encoding;
    base64ct::Base64UrlUnpadded::encode_string(&leaf_sha256.0)
}

#[cfg(test)]
mod tests;
