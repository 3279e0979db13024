//! ONE Record access tokens for the tests: an RS256 signer with its JWKS
//! (for Envoy's `jwt_authn`, `local_jwks`), tokens signed here, unsigned
//! ones, and the `jwt_authn` filter that verifies them in front of ours.

use openssl::base64;
use openssl::hash::{MessageDigest, hash};
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use serde_json::{Value, json};

/// The issuer the tokens name and `jwt_authn` expects.
pub const ISSUER: &str = "https://idp.example.com";
/// The `jwt_authn` provider name.
pub const PROVIDER: &str = "onerecord";
/// Where `jwt_authn` keeps the verified payload (the filter's defaults).
pub const FILTER: &str = "envoy.filters.http.jwt_authn";
pub const PAYLOAD_KEY: &str = "jwt_payload";

pub struct TokenIssuer {
    key: PKey<Private>,
    kid: String,
}

impl TokenIssuer {
    pub fn generate(kid: &str) -> TokenIssuer {
        let rsa = Rsa::generate(2048).expect("RSA key");
        TokenIssuer {
            key: PKey::from_rsa(rsa).expect("PKey"),
            kid: kid.to_string(),
        }
    }

    /// The public key as a JWKS (RFC 7517).
    pub fn jwks(&self) -> Value {
        let rsa = self.key.rsa().expect("RSA");
        json!({ "keys": [{
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
            "n": b64url(&rsa.n().to_vec()), "e": b64url(&rsa.e().to_vec()),
        }]})
    }

    /// `claims` signed with RS256.
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": self.kid });
        let input = format!(
            "{}.{}",
            b64url(header.to_string().as_bytes()),
            b64url(claims.to_string().as_bytes())
        );
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key).expect("signer");
        let signature = signer.sign_oneshot_to_vec(input.as_bytes()).expect("sign");
        format!("{input}.{}", b64url(&signature))
    }
}

/// `claims` with `alg: none` and no signature.
pub fn unsigned(claims: &Value) -> String {
    let header = json!({ "alg": "none", "typ": "JWT" });
    format!(
        "{}.{}.",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

/// ONE Record claims for `agent`, valid for ten minutes from `now`, bound
/// to the certificate `der` when given (RFC 8705 `cnf.x5t#S256`).
pub fn claims(agent: &str, bound_to: Option<&[u8]>, now: u64) -> Value {
    let mut claims = json!({
        "iss": ISSUER, "sub": agent, "exp": now + 600, "iat": now,
        "logistics_agent_uri": agent,
    });
    if let Some(der) = bound_to {
        claims["cnf"] = json!({ "x5t#S256": x5t_s256(der) });
    }
    claims
}

/// RFC 8705 §3.1: base64url (no padding) of the SHA-256 of the DER.
pub fn x5t_s256(der: &[u8]) -> String {
    b64url(&hash(MessageDigest::sha256(), der).expect("sha256"))
}

pub fn b64url(bytes: &[u8]) -> String {
    base64::encode_block(bytes)
        .replace('+', "-")
        .replace('/', "_")
        .trim_end_matches('=')
        .to_string()
}

/// Envoy's `jwt_authn` filter verifying tokens of `issuer` against its
/// JWKS, keeping the payload where the filter reads it. `missing` is the
/// requirement beside the provider: `allow_missing` (a request without a
/// token passes unverified; a bad token is refused) or
/// `allow_missing_or_failed` (a bad token passes too, without a payload).
pub fn jwt_authn_filter(issuer: &TokenIssuer, missing: &str) -> Value {
    json!({
        "name": FILTER,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication",
            "providers": { PROVIDER: {
                "issuer": ISSUER,
                "local_jwks": { "inline_string": issuer.jwks().to_string() },
                "payload_in_metadata": PAYLOAD_KEY,
            }},
            "rules": [{
                "match": { "prefix": "/" },
                "requires": { "requires_any": { "requirements": [
                    { "provider_name": PROVIDER },
                    { missing: {} },
                ]}},
            }],
        }
    })
}

/// Puts `filter` first in every HTTP filter chain of `bootstrap`.
pub fn insert_in_front(bootstrap: &mut Value, filter: &Value) {
    let listeners = bootstrap["static_resources"]["listeners"]
        .as_array_mut()
        .expect("listeners");
    for listener in listeners {
        for chain in listener["filter_chains"].as_array_mut().expect("chains") {
            for network in chain["filters"].as_array_mut().expect("filters") {
                if let Some(http) = network["typed_config"]["http_filters"].as_array_mut() {
                    http.insert(0, filter.clone());
                }
            }
        }
    }
}
