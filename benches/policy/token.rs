//! The warm path with the token bound to the client certificate.

use super::{Client, on_connection, request};
use criterion::Criterion;
use onerecord_tls_policy::binding::payload::envoy_serialization;
use onerecord_tls_policy::binding::{TokenFacts, TokenPayload, x5t_s256};
use onerecord_tls_policy::config::Config;
use onerecord_tls_policy::fingerprint::Fingerprint;
use onerecord_tls_policy::policy::Policy;
use onerecord_tls_policy_testkit::pki::KeyKind;
use std::hint::black_box;

/// The warm keep-alive path with the token bound (`token_binding`
/// required with `cnf`): the connection's verdict remembered, the payload
/// read from Envoy's serialisation and checked on every request.
pub fn token_binding(c: &mut Criterion) {
    let client = Client::new(KeyKind::P256, true);
    let json = format!(
        r#"{{"trusted_ca_sha256":["{}"],
            "rules":[{{"name":"access-delegations","path_prefix":"/access-delegations",
                       "token_binding":"required","require_cnf":true}}]}}"#,
        client.root.sha256_hex()
    );
    let policy = Policy::new(Config::parse(json.as_bytes()).expect("valid configuration"));
    let mut state = policy.new_state();
    let mut peer = client.peer();
    let leaf = client.chain.first().expect("a leaf");
    let payload = serde_json::json!({
        "iss": "https://idp.example.com", "exp": 1_900_000_000, "iat": 1_800_000_000,
        "sub": "https://1r.example.com/logistics-agents/forwarder-42",
        "logistics_agent_uri": "https://1r.example.com/logistics-agents/forwarder-42",
        "cnf": { "x5t#S256": x5t_s256(&Fingerprint::of_der(&leaf.der())) },
    });
    let wire = envoy_serialization(&payload).expect("serialisable");
    let token = || TokenFacts::Verified(TokenPayload::from_envoy(&wire).expect("readable"));
    let mut first = on_connection(request(Some("TLSv1.3"), Some(peer.clone())));
    first.request.token = token();
    assert!(
        policy
            .decide_with(&first, &mut state)
            .decision
            .token
            .is_some()
    );
    (peer.certificate_pem, peer.xfcc) = (None, None);
    let mut facts = on_connection(request(Some("TLSv1.3"), Some(peer)));
    facts.request.token = token();
    assert!(
        policy
            .decide_with(&facts, &mut state)
            .decision
            .token
            .is_some()
    );

    let mut group = c.benchmark_group("token-binding");
    group.bench_function("warm-connection/p256/chain3", |b| {
        b.iter(|| policy.decide_with(black_box(&facts), &mut state))
    });
    group.bench_function("payload/from_envoy", |b| {
        b.iter(|| TokenPayload::from_envoy(black_box(&wire)))
    });
    group.finish();
}
