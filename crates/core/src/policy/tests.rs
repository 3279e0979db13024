use super::*;
use crate::facts::{ConnectionFacts, Facts, PeerFacts, RequestFacts, Unavailable};

pub(super) const FP: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

pub(super) fn policy(json: &str) -> Policy {
    Policy::new(Config::parse(json.as_bytes()).unwrap())
}

pub(super) fn facts(tls: Option<&str>, path: &str, method: &str) -> Facts {
    Facts {
        request: RequestFacts {
            path: path.into(),
            method: method.into(),
            ..RequestFacts::default()
        },
        connection: Ok(ConnectionFacts {
            peer_uri_san: None,
            id: None,
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

/// Facts for a client-certificate connection, at the real time (test
/// certificates are issued relative to it).
pub(super) fn with_peer(peer: PeerFacts) -> Facts {
    let mut f = facts(Some("TLSv1.3"), "/access-delegations/1", "GET");
    f.now_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
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

pub(super) mod with_certificates {
    use super::*;

    use crate::policy::test_fixture::pki;
    use onerecord_tls_policy_testkit::pki::{Issued, pem_bundle};

    /// Envoy's XFCC element for a client presenting `chain`.
    fn xfcc(leaf: &Issued, chain: &[&Issued]) -> String {
        let ders: Vec<Vec<u8>> = chain.iter().map(|c| c.der()).collect();
        crate::xfcc::envoy_format::element(&leaf.der(), &ders)
    }

    pub(in crate::policy) fn peer(leaf: &Issued, chain: &[&Issued]) -> PeerFacts {
        PeerFacts {
            sha256_digest: Some(leaf.sha256_hex()),
            certificate_pem: None,
            xfcc: Some(xfcc(leaf, chain)),
        }
    }

    fn policy_pinning(anchor: &Issued, extra: &str) -> Policy {
        policy(&format!(
            r#"{{"trusted_ca_sha256":["{}"],"rules":[{{"name":"delegations","path_prefix":"/access-delegations","mtls":"required"}}]{extra}}}"#,
            anchor.sha256_hex()
        ))
    }

    #[test]
    fn verified_client_is_allowed_with_identity() {
        let k = pki();
        let p = policy_pinning(&k.root, "");
        let d = p.decide(&with_peer(peer(&k.leaf, &[&k.leaf, &k.inter, &k.root])));
        assert_eq!(d.deny_reason(), None);
        let client = d.client.expect("verified client");
        assert_eq!(client.leaf_sha256.to_hex(), k.leaf.sha256_hex());
        assert_eq!(client.anchor_sha256.to_hex(), k.root.sha256_hex());
        assert_eq!(client.organizations, vec!["Example Airline"]);
    }

    #[test]
    fn peer_certificate_property_is_preferred_and_must_match_the_digest() {
        let k = pki();
        let p = policy_pinning(&k.root, "");
        let mut facts_ = peer(&k.leaf, &[&k.leaf, &k.inter, &k.root]);
        facts_.certificate_pem = Some(k.leaf.pem());
        assert_eq!(p.decide(&with_peer(facts_.clone())).deny_reason(), None);

        // The PEM Envoy reports is another certificate than the handshake digest says.
        facts_.certificate_pem = Some(k.other_leaf.pem());
        assert_eq!(
            p.decide(&with_peer(facts_)).deny_reason(),
            Some(Reason::CertificateMismatch)
        );
    }

    #[test]
    fn xfcc_cert_or_hash_not_matching_the_connection_is_a_mismatch() {
        let k = pki();
        let p = policy_pinning(&k.root, "");
        let mut f = peer(&k.leaf, &[&k.leaf, &k.inter, &k.root]);
        f.sha256_digest = Some(k.other_leaf.sha256_hex());
        assert_eq!(
            p.decide(&with_peer(f)).deny_reason(),
            Some(Reason::CertificateMismatch)
        );

        let mut f = peer(&k.leaf, &[&k.leaf, &k.inter, &k.root]);
        f.xfcc = Some(
            f.xfcc
                .unwrap()
                .replace(&k.leaf.sha256_hex(), &k.other_leaf.sha256_hex()),
        );
        assert_eq!(
            p.decide(&with_peer(f)).deny_reason(),
            Some(Reason::CertificateMismatch)
        );
    }

    #[test]
    fn only_the_last_xfcc_element_counts() {
        let k = pki();
        let p = policy_pinning(&k.root, "");
        let mut f = peer(&k.other_leaf, &[&k.other_leaf, &k.other_root]);
        // A forwarded element from elsewhere, then Envoy's own for this connection.
        let own = xfcc(&k.leaf, &[&k.leaf, &k.inter, &k.root]);
        f.xfcc = Some(format!("{},{own}", f.xfcc.unwrap()));
        f.sha256_digest = Some(k.leaf.sha256_hex());
        assert_eq!(p.decide(&with_peer(f)).deny_reason(), None);
    }

    #[test]
    fn decoy_anchor_appended_to_a_foreign_chain_is_untrusted() {
        let k = pki();
        let p = policy_pinning(&k.root, "");
        let f = peer(
            &k.other_leaf,
            &[&k.other_leaf, &k.other_root, &k.inter, &k.root],
        );
        assert_eq!(
            p.decide(&with_peer(f)).deny_reason(),
            Some(Reason::UntrustedCa)
        );
    }

    #[test]
    fn missing_chain_is_peer_chain_unavailable_unless_the_config_completes_it() {
        let k = pki();
        let mut f = peer(&k.leaf, &[]);
        f.xfcc = None;
        f.certificate_pem = Some(k.leaf.pem());
        let p = policy_pinning(&k.root, "");
        assert_eq!(
            p.decide(&with_peer(f.clone())).deny_reason(),
            Some(Reason::PeerChainUnavailable)
        );

        let bundle = serde_json::to_string(&pem_bundle(&[&k.inter, &k.root])).unwrap();
        let p = policy_pinning(&k.root, &format!(r#","ca_certificates_pem":{bundle}"#));
        assert_eq!(p.decide(&with_peer(f)).deny_reason(), None);
    }

    #[test]
    fn more_certificates_than_the_parser_takes_is_chain_too_long() {
        let k = pki();
        let p = policy_pinning(&k.root, "");
        let mut chain = vec![&k.leaf];
        chain.extend(std::iter::repeat_n(&k.inter, crate::xfcc::MAX_CERTIFICATES));
        let f = peer(&k.leaf, &chain);
        assert_eq!(
            p.decide(&with_peer(f)).deny_reason(),
            Some(Reason::ChainTooLong)
        );
    }

    #[test]
    fn malformed_xfcc_denies_where_mtls_is_required() {
        let k = pki();
        let p = policy_pinning(&k.root, "");
        let mut f = peer(&k.leaf, &[&k.leaf, &k.inter, &k.root]);
        f.xfcc = Some("Hash=\"unterminated".into());
        assert_eq!(
            p.decide(&with_peer(f)).deny_reason(),
            Some(Reason::PeerChainUnavailable)
        );
    }

    #[test]
    fn allow_list_hit_and_miss() {
        let k = pki();
        let hit = policy_pinning(
            &k.root,
            r#","allowed_clients":{"subject_organization":["Example Airline"]}"#,
        );
        let miss = policy_pinning(
            &k.root,
            r#","allowed_clients":{"dns_san":["someone.example"]}"#,
        );
        let f = with_peer(peer(&k.leaf, &[&k.leaf, &k.inter, &k.root]));
        assert_eq!(hit.decide(&f).deny_reason(), None);
        assert_eq!(
            miss.decide(&f).deny_reason(),
            Some(Reason::ClientNotAllowed)
        );
        let by_hash = policy_pinning(
            &k.root,
            &format!(
                r#","allowed_clients":{{"sha256":["{}"]}}"#,
                k.leaf.sha256_hex()
            ),
        );
        assert_eq!(by_hash.decide(&f).deny_reason(), None);
    }

    #[test]
    fn optional_route_passes_an_untrusted_client_without_identity() {
        let k = pki();
        let p = policy_pinning(&k.root, "");
        let mut f = with_peer(peer(&k.other_leaf, &[&k.other_leaf, &k.other_root]));
        f.request.path = "/logistics-objects/1".into();
        let d = p.decide(&f);
        assert_eq!(d.deny_reason(), None);
        assert_eq!(d.client, None);
        assert_eq!(d.ignored_certificate, Some(Reason::UntrustedCa));
    }
}
