use super::payload::envoy_serialization;
use super::*;
use crate::fingerprint::Fingerprint;
use serde_json::json;

const AGENT: &str = "https://1r.example.com/logistics-agents/airline-1";

fn client() -> VerifiedClient {
    VerifiedClient {
        leaf_sha256: Fingerprint::of_der(b"leaf"),
        subject: "CN=airline-1".into(),
        uri_sans: vec!["urn:other".into(), AGENT.into()],
        dns_sans: Vec::new(),
        organizations: Vec::new(),
        anchor_sha256: Fingerprint::of_der(b"root"),
        path_sha256: Vec::new(),
        path_links: Vec::new(),
        ocsp_queries: Vec::new(),
        not_after: i64::MAX,
    }
}

fn settings(mode: TokenBindingMode) -> BindingSettings {
    BindingSettings {
        mode,
        require_cnf: false,
        agent_match: AgentMatch::Exact,
    }
}

fn token(payload: serde_json::Value) -> TokenFacts {
    TokenFacts::Verified(TokenPayload::from_json(payload.to_string().as_bytes()).unwrap())
}

fn bound(
    payload: serde_json::Value,
    settings: BindingSettings,
) -> Result<Option<BoundToken>, Reason> {
    bind(&token(payload), &client(), settings)
}

#[test]
fn the_thumbprint_is_base64url_of_the_leaf_sha256_without_padding() {
    // RFC 4648 test vector: SHA-256("abc").
    assert_eq!(
        x5t_s256(&Fingerprint::of_der(b"abc")),
        "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
    );
}

#[test]
fn a_bound_token_names_its_agent() {
    let thumbprint = x5t_s256(&client().leaf_sha256);
    let payload =
        json!({ "iss": "i", "logistics_agent_uri": AGENT, "cnf": { "x5t#S256": thumbprint } });
    for mode in [TokenBindingMode::Optional, TokenBindingMode::Required] {
        let strict = BindingSettings {
            require_cnf: true,
            ..settings(mode)
        };
        let token = bound(payload.clone(), strict).unwrap().unwrap();
        assert_eq!(token.logistics_agent_uri, AGENT);
    }
}

#[test]
fn no_token_is_401_when_required_and_passes_when_optional() {
    let c = client();
    assert_eq!(
        bind(
            &TokenFacts::Absent,
            &c,
            settings(TokenBindingMode::Required)
        ),
        Err(Reason::TokenRequired)
    );
    assert_eq!(Reason::TokenRequired.http_status(), 401);
    assert_eq!(
        bind(
            &TokenFacts::Absent,
            &c,
            settings(TokenBindingMode::Optional)
        ),
        Ok(None)
    );
    for unreadable in [TokenFacts::Unreadable, TokenFacts::NotRead] {
        for mode in [TokenBindingMode::Optional, TokenBindingMode::Required] {
            assert_eq!(
                bind(&unreadable, &c, settings(mode)),
                Err(Reason::TokenPayloadUnavailable)
            );
        }
    }
}

#[test]
fn a_thumbprint_of_another_certificate_is_a_mismatch() {
    let other = onerecord_tls_policy_testkit::jwt::x5t_s256(b"other");
    let own = x5t_s256(&client().leaf_sha256);
    for cnf in [
        json!({ "x5t#S256": other }),
        json!({ "x5t#S256": format!("{own}=") }),
        json!({ "x5t#S256": own.to_ascii_lowercase() }),
        json!({ "x5t#S256": client().leaf_sha256.to_hex() }),
        json!({ "x5t#S256": 1 }),
        json!({ "x5t#S256": null }),
        json!("not an object"),
        json!([own]),
    ] {
        let payload = json!({ "logistics_agent_uri": AGENT, "cnf": cnf });
        assert_eq!(
            bound(payload, settings(TokenBindingMode::Optional)),
            Err(Reason::TokenCertificateMismatch),
            "{cnf}"
        );
    }
}

#[test]
fn cnf_may_be_left_out_unless_required() {
    let payload = json!({ "logistics_agent_uri": AGENT });
    assert!(bound(payload.clone(), settings(TokenBindingMode::Required)).is_ok());
    let strict = BindingSettings {
        require_cnf: true,
        ..settings(TokenBindingMode::Required)
    };
    assert_eq!(
        bound(payload, strict),
        Err(Reason::TokenCertificateMismatch)
    );
    let empty_cnf = json!({ "logistics_agent_uri": AGENT, "cnf": {} });
    assert_eq!(
        bound(empty_cnf, strict),
        Err(Reason::TokenCertificateMismatch)
    );
}

#[test]
fn the_agent_must_be_a_uri_san_exactly() {
    let required = settings(TokenBindingMode::Required);
    assert_eq!(
        bound(json!({ "iss": "i" }), required),
        Err(Reason::TokenAgentMissing)
    );
    for other in [
        json!("https://1r.example.com/logistics-agents/airline-2"),
        json!("HTTPS://1r.example.com/logistics-agents/airline-1"),
        json!(format!("{AGENT}/")),
        json!(""),
        json!(format!("{AGENT}\n")),
        json!(7),
        json!([AGENT]),
        json!({ "uri": AGENT }),
        json!(null),
    ] {
        assert_eq!(
            bound(json!({ "logistics_agent_uri": other }), required),
            Err(Reason::TokenAgentMismatch),
            "{other}"
        );
    }
}

#[test]
fn host_matching_takes_another_path_on_the_same_host() {
    let host = BindingSettings {
        agent_match: AgentMatch::Host,
        ..settings(TokenBindingMode::Required)
    };
    let same_host = "https://1R.example.com/logistics-agents/airline-1/branch";
    let token = bound(json!({ "logistics_agent_uri": same_host }), host).unwrap();
    assert_eq!(token.unwrap().logistics_agent_uri, same_host);
    for other in [
        "https://1r.example.com.evil.test/logistics-agents/airline-1",
        "https://1r.example.com@evil.test/",
        "http://1r.example.com/logistics-agents/airline-1",
        "https://1r.example.com:8443/logistics-agents/airline-1",
    ] {
        assert_eq!(
            bound(json!({ "logistics_agent_uri": other }), host),
            Err(Reason::TokenAgentMismatch),
            "{other}"
        );
    }
}

#[test]
fn json_payloads_of_any_shape_are_read_without_failing_open() {
    for text in [
        "", "null", "1", "\"s\"", "[]", "[{}]", "{", "\u{0}", "{\"a\":}",
    ] {
        assert_eq!(
            TokenPayload::from_json(text.as_bytes()),
            Err(PayloadError::NotAnObject),
            "{text:?}"
        );
    }
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(TokenPayload::from_json(deep.as_bytes()).is_err());
    let deep_inside = format!(
        "{{\"logistics_agent_uri\":{}1{}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    assert!(TokenPayload::from_json(deep_inside.as_bytes()).is_err());
    let huge = format!(
        "{{\"logistics_agent_uri\":\"{AGENT}\",\"pad\":\"{}\"}}",
        "x".repeat(MAX_PAYLOAD_BYTES)
    );
    assert_eq!(
        TokenPayload::from_json(huge.as_bytes()),
        Err(PayloadError::TooLarge)
    );
    assert_eq!(TokenPayload::from_json(b"{}"), Ok(TokenPayload::default()));
}

#[test]
fn envoys_serialisation_reads_as_the_json_does() {
    let thumbprint = x5t_s256(&client().leaf_sha256);
    for payload in [
        json!({ "iss": "https://idp", "exp": 1_900_000_000, "logistics_agent_uri": AGENT,
                "cnf": { "x5t#S256": thumbprint }, "aud": ["a", "b"], "admin": false }),
        json!({ "logistics_agent_uri": AGENT }),
        json!({ "cnf": { "x5t#S256": thumbprint, "other": { "deep": [1, 2] } } }),
        json!({ "logistics_agent_uri": { "nested": AGENT } }),
        json!({ "logistics_agent_uri": 2.5, "cnf": "flat" }),
        json!({}),
    ] {
        let wire = envoy_serialization(&payload).unwrap();
        let from_envoy = TokenPayload::from_envoy(&wire).unwrap();
        let from_json = TokenPayload::from_json(payload.to_string().as_bytes()).unwrap();
        assert_eq!(from_envoy, from_json, "{payload}");
    }
    // Envoy cannot serialise a null, so the glue never gets one this way.
    assert_eq!(envoy_serialization(&json!({ "a": null })), None);
}

#[test]
fn malformed_serialisations_are_errors_not_panics() {
    let good = envoy_serialization(&json!({ "logistics_agent_uri": AGENT })).unwrap();
    for end in 0..good.len() {
        assert!(TokenPayload::from_envoy(&good[..end]).is_err(), "{end}");
    }
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(TokenPayload::from_envoy(&trailing).is_err());
    let mut no_nul = good.clone();
    let last = no_nul.len() - 1;
    no_nul[last] = b'x';
    assert!(TokenPayload::from_envoy(&no_nul).is_err());
    // A count far beyond what the bytes hold, and lengths that overflow.
    assert!(TokenPayload::from_envoy(&[0xff, 0xff, 0xff, 0xff]).is_err());
    let mut overflow = vec![1, 0, 0, 0];
    overflow.extend_from_slice(&[0xff; 8]);
    overflow.extend_from_slice(&[0; 4]);
    assert!(TokenPayload::from_envoy(&overflow).is_err());
    assert_eq!(
        TokenPayload::from_envoy(&vec![0; MAX_PAYLOAD_BYTES + 1]),
        Err(PayloadError::TooLarge)
    );
}
