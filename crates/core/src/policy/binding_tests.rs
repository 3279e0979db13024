//! Token binding in the policy: after the client is verified, on the
//! cached fast path too, with its reply, annotations and access-log value.

use super::cache_tests::{on_connection, peer, request, without_certificate};
use super::test_fixture::{now, pki, remembering};
use super::*;
use crate::binding::{TokenFacts, TokenPayload, x5t_s256};
use crate::effects::{Effect, Resource};
use crate::facts::Facts;
use onerecord_tls_policy_testkit::pinned::Pki;
use serde_json::json;

const AGENT: &str = "https://1r.example.com/logistics-agents/client-1";

/// mTLS optional globally; `/access-delegations` binds the token as `mode`.
fn binding_policy(mode: &str) -> String {
    format!(
        r#","mtls":"optional","require_cnf":true,"rules":[{{"name":"delegations","path_prefix":"/access-delegations","token_binding":"{mode}"}}]"#
    )
}

fn with_token(mut facts: Facts, payload: serde_json::Value) -> Facts {
    facts.request.token =
        TokenFacts::Verified(TokenPayload::from_json(payload.to_string().as_bytes()).unwrap());
    facts
}

/// A token for the pinned leaf: its agent, and RFC 8705's thumbprint
/// computed here from the certificate's DER.
fn bound_payload(k: &Pki) -> serde_json::Value {
    let thumbprint = onerecord_tls_policy_testkit::jwt::x5t_s256(&k.leaf.der());
    json!({ "iss": "https://idp.example.com", "exp": 1, "logistics_agent_uri": AGENT, "cnf": { "x5t#S256": thumbprint } })
}

#[test]
fn a_bound_token_passes_and_is_annotated_and_logged() {
    let k = pki();
    let mut p = remembering(&k.root, &binding_policy("required"));
    let facts = with_token(
        request(peer(&[&k.leaf, &k.inter, &k.root]), now()),
        bound_payload(&k),
    );
    let decided = p.policy.decide_with(&facts, &mut p.state);
    let decision = &decided.decision;
    assert_eq!(decision.deny_reason(), None);
    let client = decision.client.as_ref().unwrap();
    assert_eq!(decision.token.as_ref().unwrap().logistics_agent_uri, AGENT);
    assert_eq!(
        bound_payload(&k)["cnf"]["x5t#S256"],
        x5t_s256(&client.leaf_sha256)
    );
    let plan = p
        .policy
        .plan(decided, &Resource::of(&facts), None, &mut p.state);
    let Effect::Forward(rendered) = &plan.effect else {
        panic!("{plan:?}")
    };
    let annotations: Vec<(&str, &str)> = rendered
        .annotations
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert!(annotations.contains(&("x-onerecord-logistics-agent", AGENT)));
    assert!(annotations.contains(&("x-onerecord-token-binding", "verified")));
    assert!(
        plan.access_log().ends_with(";token_binding=verified"),
        "{}",
        plan.access_log()
    );
}

#[test]
fn no_token_on_a_required_rule_is_a_401_with_the_one_record_title() {
    let k = pki();
    let mut p = remembering(&k.root, &binding_policy("required"));
    let facts = request(peer(&[&k.leaf, &k.inter, &k.root]), now());
    let mut absent = facts.clone();
    absent.request.token = TokenFacts::Absent;
    let decided = p.policy.decide_with(&absent, &mut p.state);
    assert_eq!(decided.decision.deny_reason(), Some(Reason::TokenRequired));
    let plan = p
        .policy
        .plan(decided, &Resource::of(&facts), None, &mut p.state);
    let Effect::Reply {
        response,
        access_log,
    } = &plan.effect
    else {
        panic!("{plan:?}")
    };
    assert_eq!(response.status, 401);
    assert!(
        response
            .headers
            .contains(&("www-authenticate".into(), "Bearer".into()))
    );
    let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["api:hasTitle"], "Not authenticated or expired token");
    assert_eq!(body["api:hasErrorDetail"][0]["api:hasCode"], "401");
    assert!(
        access_log.ends_with(";token_binding=token_required"),
        "{access_log}"
    );
    // Not read at all is no token either: the check cannot be made.
    assert_eq!(
        p.decide(&facts).deny_reason(),
        Some(Reason::TokenPayloadUnavailable)
    );
}

#[test]
fn optional_binding_passes_without_a_token_and_checks_one_that_is_present() {
    let k = pki();
    let mut p = remembering(&k.root, &binding_policy("optional"));
    let mut absent = request(peer(&[&k.leaf, &k.inter, &k.root]), now());
    absent.request.token = TokenFacts::Absent;
    let decision = p.decide(&absent);
    assert_eq!(decision.deny_reason(), None);
    assert_eq!(decision.token, None);
    assert_eq!(decision.token_binding, Some(BindingResult::Absent));
    let mut other_agent = bound_payload(&k);
    other_agent["logistics_agent_uri"] = json!("https://1r.example.com/logistics-agents/client-2");
    assert_eq!(
        p.decide(&with_token(absent.clone(), other_agent))
            .deny_reason(),
        Some(Reason::TokenAgentMismatch)
    );
}

#[test]
fn binding_implies_mtls_required() {
    let k = pki();
    let p = remembering(&k.root, &binding_policy("optional")).policy;
    let mut facts = super::tests::facts(Some("TLSv1.3"), "/access-delegations/1", "GET");
    facts.request.token = TokenFacts::Absent;
    assert_eq!(
        p.decide(&facts).deny_reason(),
        Some(Reason::ClientCertificateRequired)
    );
    facts.request.path = "/elsewhere".into();
    assert_eq!(p.decide(&facts).deny_reason(), None);
    assert!(!p.reads_token(&facts.request), "no binding rule selected");
    facts.request.path = "/Access-Delegations/1".into();
    assert!(p.reads_token(&facts.request));
}

#[test]
fn the_token_is_checked_per_request_on_the_connections_remembered_verdict() {
    let k = pki();
    let mut p = remembering(&k.root, &binding_policy("required"));
    let full = on_connection(7, peer(&[&k.leaf, &k.inter, &k.root]));
    let first = p.decide(&with_token(request(full.clone(), now()), bound_payload(&k)));
    assert_eq!(first.deny_reason(), None);

    let bare = without_certificate(full);
    assert!(
        !p.needs_certificate(&bare, now()),
        "the memo holds the certificate"
    );
    let mut stolen = bound_payload(&k);
    stolen["cnf"]["x5t#S256"] = json!(onerecord_tls_policy_testkit::jwt::b64url(&[7; 32]));
    assert_eq!(
        p.decide(&with_token(request(bare.clone(), now()), stolen))
            .deny_reason(),
        Some(Reason::TokenCertificateMismatch)
    );
    let mut no_agent = bound_payload(&k);
    no_agent
        .as_object_mut()
        .unwrap()
        .remove("logistics_agent_uri");
    assert_eq!(
        p.decide(&with_token(request(bare.clone(), now()), no_agent))
            .deny_reason(),
        Some(Reason::TokenAgentMissing)
    );
    assert_eq!(
        p.decide(&with_token(request(bare, now()), bound_payload(&k))),
        first
    );
    assert_eq!(
        p.take_chain_verification(),
        Some(ChainVerification::Verified),
        "one full verification"
    );
    assert!(p.take_chain_verification().is_none());
}

#[test]
fn audit_mode_forwards_a_binding_failure_without_the_agent() {
    let k = pki();
    let extra = format!(r#"{},"mode":"audit""#, binding_policy("required"));
    let mut p = remembering(&k.root, &extra);
    let mut other_agent = bound_payload(&k);
    other_agent["logistics_agent_uri"] = json!("urn:someone-else");
    let facts = with_token(
        request(peer(&[&k.leaf, &k.inter, &k.root]), now()),
        other_agent,
    );
    let decided = p.policy.decide_with(&facts, &mut p.state);
    let plan = p
        .policy
        .plan(decided, &Resource::of(&facts), None, &mut p.state);
    let rendered = plan.rendered().unwrap();
    assert!(
        rendered
            .annotations
            .iter()
            .all(|(n, _)| n != "x-onerecord-logistics-agent" && n != "x-onerecord-token-binding")
    );
    assert!(rendered.annotations.contains(&(
        "x-onerecord-policy".into(),
        "audit-deny; reason=token_agent_mismatch".into()
    )));
}
