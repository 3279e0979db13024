//! The token payload through the glue: read from the metadata only where
//! a selected rule binds the token, in Envoy's serialisation, with the
//! claims read one by one when Envoy cannot serialise the payload.

use super::mock::MockHost;
use super::on_request_headers;
use crate::binding::payload::envoy_serialization;
use crate::binding::x5t_s256;
use crate::config::Config;
use crate::filter::test_client::presenting;
use crate::fingerprint::Fingerprint;
use crate::policy::Policy;
use crate::reason::Reason;
use crate::state::State;
use onerecord_tls_policy_testkit::pinned::{Pki, pki, policy_json};
use onerecord_tls_policy_testkit::unix_now as now;
use serde_json::{Value, json};

const PAYLOAD: &str = "metadata.filter_metadata.envoy.filters.http.jwt_authn.jwt_payload";
const AGENT: &str = "https://1r.example.com/logistics-agents/client-1";

fn policy(k: &Pki) -> Policy {
    let extra = r#","mtls":"optional","rules":[{"name":"delegations","path_prefix":"/access-delegations","token_binding":"required","require_cnf":true}]"#;
    Policy::new(Config::parse(policy_json(&k.root, extra).as_bytes()).unwrap())
}

fn request(k: &Pki, path: &str) -> MockHost {
    let mut host = presenting(k, now());
    host.headers.retain(|(name, _)| name != ":path");
    host.headers.push((":path".into(), path.into()));
    host
}

fn bound(k: &Pki) -> Value {
    let thumbprint = x5t_s256(&Fingerprint::of_der(&k.leaf.der()));
    json!({ "iss": "https://idp", "exp": 1, "logistics_agent_uri": AGENT, "cnf": { "x5t#S256": thumbprint } })
}

fn reads_payload(host: &MockHost) -> bool {
    host.reads.borrow().iter().any(|r| r.starts_with(PAYLOAD))
}

#[test]
fn a_bound_payload_in_envoys_serialisation_is_annotated() {
    let k = pki();
    let mut host = request(&k, "/access-delegations/1");
    host.headers
        .push(("x-onerecord-logistics-agent".into(), "urn:forged".into()));
    host.headers
        .push(("x-onerecord-token-binding".into(), "verified".into()));
    host.set_property(PAYLOAD, &envoy_serialization(&bound(&k)).unwrap());
    let plan = on_request_headers(&mut host, &policy(&k), &mut State::new(16));
    assert_eq!(plan.decision.deny_reason(), None);
    assert_eq!(host.header("x-onerecord-logistics-agent"), vec![AGENT]);
    assert_eq!(host.header("x-onerecord-token-binding"), vec!["verified"]);
}

#[test]
fn the_payload_is_read_only_where_a_rule_binds_the_token() {
    let k = pki();
    let mut host = request(&k, "/elsewhere");
    host.set_property(PAYLOAD, &envoy_serialization(&bound(&k)).unwrap());
    let plan = on_request_headers(&mut host, &policy(&k), &mut State::new(16));
    assert_eq!(plan.decision.deny_reason(), None);
    assert!(!reads_payload(&host));
    assert!(host.header("x-onerecord-logistics-agent").is_empty());

    let mut host = request(&k, "/access-delegations/1");
    let plan = on_request_headers(&mut host, &policy(&k), &mut State::new(16));
    assert_eq!(plan.decision.deny_reason(), Some(Reason::TokenRequired));
    assert!(reads_payload(&host));
    assert_eq!(host.sent.as_ref().unwrap().0, 401);
}

#[test]
fn a_payload_envoy_cannot_serialise_is_read_claim_by_claim() {
    let k = pki();
    let thumbprint = bound(&k)["cnf"]["x5t#S256"].as_str().unwrap().to_string();
    let mut host = request(&k, "/access-delegations/1");
    host.failing_properties.push(PAYLOAD.into());
    host.set_property(&format!("{PAYLOAD}.logistics_agent_uri"), AGENT.as_bytes());
    host.set_property(&format!("{PAYLOAD}.cnf.x5t#S256"), thumbprint.as_bytes());
    let plan = on_request_headers(&mut host, &policy(&k), &mut State::new(16));
    assert_eq!(plan.decision.deny_reason(), None);
    assert_eq!(host.header("x-onerecord-logistics-agent"), vec![AGENT]);

    let mut host = request(&k, "/access-delegations/1");
    host.failing_properties.push(PAYLOAD.into());
    host.set_property(&format!("{PAYLOAD}.logistics_agent_uri"), AGENT.as_bytes());
    let plan = on_request_headers(&mut host, &policy(&k), &mut State::new(16));
    assert_eq!(
        plan.decision.deny_reason(),
        Some(Reason::TokenCertificateMismatch)
    );
}

#[test]
fn a_payload_in_no_known_serialisation_is_refused() {
    let k = pki();
    let mut host = request(&k, "/access-delegations/1");
    host.set_property(PAYLOAD, bound(&k).to_string().as_bytes());
    let plan = on_request_headers(&mut host, &policy(&k), &mut State::new(16));
    assert_eq!(
        plan.decision.deny_reason(),
        Some(Reason::TokenPayloadUnavailable)
    );
}
