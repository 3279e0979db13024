//! The `token_payload` target's checks: the verified token payload read
//! from arbitrary bytes, as JSON (the CLI) and as Envoy's serialisation of
//! the metadata value (the filter), then bound to a fixed client.
//!
//! Invariants:
//! - neither reader panics, and both refuse more than `MAX_PAYLOAD_BYTES`;
//! - a claim read as text is non-empty and has no control character;
//! - a JSON object Envoy can serialise reads the same through Envoy's
//!   serialisation as through JSON;
//! - binding succeeds only with a `logistics_agent_uri` that is exactly one
//!   of the client's URI SANs and, when present, the client's thumbprint.

use onerecord_tls_policy::binding::payload::envoy_serialization;
use onerecord_tls_policy::binding::{
    BindingSettings, Claim, MAX_PAYLOAD_BYTES, TokenFacts, TokenPayload, bind, x5t_s256,
};
use onerecord_tls_policy::config::{AgentMatch, TokenBindingMode};
use onerecord_tls_policy::fingerprint::Fingerprint;
use onerecord_tls_policy::trust::VerifiedClient;

const AGENT: &str = "https://1r.example.com/logistics-agents/airline-1";

pub fn check(data: &[u8]) {
    let from_json = TokenPayload::from_json(data);
    let from_envoy = TokenPayload::from_envoy(data);
    if data.len() > MAX_PAYLOAD_BYTES {
        assert!(from_json.is_err() && from_envoy.is_err());
    }
    for payload in [&from_json, &from_envoy].into_iter().flatten() {
        check_claims(payload);
        check_binding(payload);
    }
    if let Ok(payload) = &from_json
        && let Ok(value) = serde_json::from_slice::<serde_json::Value>(data)
        && let Some(wire) = envoy_serialization(&value)
        && wire.len() <= MAX_PAYLOAD_BYTES
    {
        assert_eq!(
            TokenPayload::from_envoy(&wire).as_ref(),
            Ok(payload),
            "Envoy's serialisation reads otherwise"
        );
    }
}

fn check_claims(payload: &TokenPayload) {
    for claim in [&payload.logistics_agent_uri, &payload.cnf_x5t_s256] {
        if let Claim::Text(text) = claim {
            assert!(!text.is_empty() && !text.chars().any(char::is_control));
        }
    }
}

fn client() -> VerifiedClient {
    VerifiedClient {
        leaf_sha256: Fingerprint::of_der(b"leaf"),
        subject: "CN=airline-1".into(),
        uri_sans: vec![AGENT.into()],
        dns_sans: Vec::new(),
        organizations: Vec::new(),
        anchor_sha256: Fingerprint::of_der(b"root"),
        path_sha256: Vec::new(),
        path_links: Vec::new(),
        ocsp_queries: Vec::new(),
        not_after: i64::MAX,
    }
}

fn check_binding(payload: &TokenPayload) {
    let client = client();
    let token = TokenFacts::Verified(payload.clone());
    for require_cnf in [false, true] {
        let settings = BindingSettings {
            mode: TokenBindingMode::Required,
            require_cnf,
            agent_match: AgentMatch::Exact,
        };
        if let Ok(bound) = bind(&token, &client, settings) {
            let bound = bound.expect("a verified payload binds or fails");
            assert_eq!(bound.logistics_agent_uri, AGENT);
            match &payload.cnf_x5t_s256 {
                Claim::Text(t) => assert_eq!(*t, x5t_s256(&client.leaf_sha256)),
                Claim::Absent => assert!(!require_cnf),
                Claim::Invalid => panic!("an invalid cnf bound"),
            }
        }
        let host = BindingSettings {
            agent_match: AgentMatch::Host,
            ..settings
        };
        // Host matching never panics, whatever the claim.
        let _ = bind(&token, &client, host);
    }
}
