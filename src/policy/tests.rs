use super::*;
use crate::facts::{ConnectionFacts, Facts, PeerFacts, RequestFacts, Unavailable};

const FP: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

fn policy(json: &str) -> Policy {
    Policy::new(Config::parse(json.as_bytes()).unwrap())
}

fn facts(tls: Option<&str>, path: &str, method: &str) -> Facts {
    Facts {
        request: RequestFacts {
            path: path.into(),
            method: method.into(),
            route_mtls: None,
        },
        connection: Ok(ConnectionFacts {
            tls_version: tls.map(str::to_string),
            peer: None,
        }),
        now_unix: 1_800_000_000,
    }
}

fn reason(p: &Policy, f: &Facts) -> Option<Reason> {
    p.decide(f).deny_reason()
}

#[test]
fn plaintext_and_old_tls_are_denied() {
    let p = policy("");
    assert_eq!(
        reason(&p, &facts(None, "/", "GET")),
        Some(Reason::TlsRequired)
    );
    assert_eq!(
        reason(&p, &facts(Some("TLSv1"), "/", "GET")),
        Some(Reason::TlsVersionTooLow)
    );
    assert_eq!(
        reason(&p, &facts(Some("TLSv1.1"), "/", "GET")),
        Some(Reason::TlsVersionTooLow)
    );
    assert_eq!(
        reason(&p, &facts(Some("SSLv3"), "/", "GET")),
        Some(Reason::TlsVersionTooLow)
    );
    assert_eq!(reason(&p, &facts(Some("TLSv1.2"), "/", "GET")), None);
    assert_eq!(reason(&p, &facts(Some("TLSv1.3"), "/", "GET")), None);
    assert_eq!(
        reason(&p, &facts(Some("TLSv9"), "/", "GET")),
        Some(Reason::TlsVersionUnrecognized)
    );
}

#[test]
fn min_tls_1_3_denies_1_2() {
    let p = policy(r#"{"min_tls_version":"TLSv1.3"}"#);
    assert_eq!(
        reason(&p, &facts(Some("TLSv1.2"), "/", "GET")),
        Some(Reason::TlsVersionTooLow)
    );
    assert_eq!(reason(&p, &facts(Some("TLSv1.3"), "/", "GET")), None);
}

#[test]
fn unavailable_connection_facts_deny() {
    let p = policy("");
    let mut f = facts(Some("TLSv1.3"), "/", "GET");
    f.connection = Err(Unavailable("boom".into()));
    assert_eq!(reason(&p, &f), Some(Reason::ConnectionFactsUnavailable));
}

#[test]
fn audit_reports_but_does_not_reject() {
    let p = policy(r#"{"mode":"audit"}"#);
    let d = p.decide(&facts(None, "/", "GET"));
    assert_eq!(d.deny_reason(), Some(Reason::TlsRequired));
    assert!(!d.rejects());
    assert!(policy("").decide(&facts(None, "/", "GET")).rejects());
}

fn rules_policy() -> Policy {
    policy(&format!(
        r#"{{"trusted_ca_sha256":["{FP}"], "rules":[
            {{"name":"delegations","path_prefix":"/access-delegations","mtls":"required"}},
            {{"name":"post-actions","path_exact":"/action-requests","methods":["POST"],"mtls":"required"}},
            {{"name":"open","path_prefix":"/","mtls":"optional"}}]}}"#
    ))
}

#[test]
fn first_matching_rule_sets_the_requirement() {
    let p = rules_policy();
    let d = p.decide(&facts(Some("TLSv1.3"), "/access-delegations/1", "GET"));
    assert_eq!(d.deny_reason(), Some(Reason::ClientCertificateRequired));
    assert_eq!(d.rule.as_deref(), Some("delegations"));
    let d = p.decide(&facts(Some("TLSv1.3"), "/logistics-objects/1", "GET"));
    assert_eq!(d.deny_reason(), None);
    assert_eq!(d.rule.as_deref(), Some("open"));
    assert_eq!(
        reason(&p, &facts(Some("TLSv1.3"), "/action-requests", "post")),
        Some(Reason::ClientCertificateRequired)
    );
    assert_eq!(
        reason(&p, &facts(Some("TLSv1.3"), "/action-requests", "GET")),
        None
    );
    assert_eq!(
        reason(&p, &facts(Some("TLSv1.3"), "/action-requests/1", "POST")),
        None
    );
}

#[test]
fn encoded_or_dotted_paths_cannot_step_around_a_rule() {
    let p = rules_policy();
    for path in [
        "/access%2Ddelegations/1",
        "//access-delegations",
        "/./access-delegations",
        "/x/../access-delegations",
        "/access-delegations?x=1",
        "/%61ccess-delegations",
    ] {
        assert_eq!(
            reason(&p, &facts(Some("TLSv1.3"), path, "GET")),
            Some(Reason::ClientCertificateRequired),
            "{path}"
        );
    }
}

#[test]
fn route_metadata_overrides_rules_and_default() {
    let p = rules_policy();
    let mut f = facts(Some("TLSv1.3"), "/logistics-objects/1", "GET");
    f.request.route_mtls = Some("required".into());
    assert_eq!(reason(&p, &f), Some(Reason::ClientCertificateRequired));
    let mut f = facts(Some("TLSv1.3"), "/access-delegations/1", "GET");
    f.request.route_mtls = Some("optional".into());
    assert_eq!(reason(&p, &f), None);
    f.request.route_mtls = Some("Required".into());
    assert_eq!(reason(&p, &f), Some(Reason::RouteMetadataInvalid));
}

#[test]
fn allow_list_implies_a_client_certificate() {
    let p = policy(&format!(
        r#"{{"trusted_ca_sha256":["{FP}"],"allowed_clients":{{"subject_organization":["Example"]}}}}"#
    ));
    assert_eq!(
        reason(&p, &facts(Some("TLSv1.3"), "/", "GET")),
        Some(Reason::ClientCertificateRequired)
    );
}

fn with_peer(peer: PeerFacts) -> Facts {
    let mut f = facts(Some("TLSv1.3"), "/access-delegations/1", "GET");
    if let Ok(c) = f.connection.as_mut() {
        c.peer = Some(peer);
    }
    f
}

#[test]
fn a_peer_without_any_certificate_source_is_peer_chain_unavailable() {
    let p = rules_policy();
    let f = with_peer(PeerFacts {
        sha256_digest: Some(FP.into()),
        ..PeerFacts::default()
    });
    assert_eq!(reason(&p, &f), Some(Reason::PeerChainUnavailable));
}

#[test]
fn optional_routes_ignore_a_certificate_that_fails() {
    let p = rules_policy();
    let mut f = with_peer(PeerFacts {
        sha256_digest: Some(FP.into()),
        ..PeerFacts::default()
    });
    f.request.path = "/logistics-objects/1".into();
    let d = p.decide(&f);
    assert_eq!(d.deny_reason(), None);
    assert_eq!(d.client, None);
    assert_eq!(d.ignored_certificate, Some(Reason::PeerChainUnavailable));
}
