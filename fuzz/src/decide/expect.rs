//! The decision's invariants: the requirement the README specifies,
//! computed from the configuration and the path oracle's backend readings,
//! and what a verified client must be.

use crate::oracle::assert_verified_path;
use crate::path_oracle::{self, is_origin_form};
use onerecord_tls_policy::config::{
    AllowedClients, Config, Mode, MtlsRequirement, Rule, TlsVersion,
};
use onerecord_tls_policy::facts::{Facts, PeerFacts};
use onerecord_tls_policy::fingerprint::Fingerprint;
use onerecord_tls_policy::policy::{Decision, Policy, Verdict, is_allowed, normalize_path};
use onerecord_tls_policy::reason::Reason;
use onerecord_tls_policy::xfcc;

/// The requirement the README specifies, computed here from the
/// configuration and the path oracle's backend readings.
pub struct Expected<'a> {
    /// The reported rule.
    pub rule: Option<&'a Rule>,
    /// Every allow-list a verified client must be on.
    pub allowed: Vec<&'a AllowedClients>,
    pub required: Result<bool, Reason>,
}

pub fn expected<'a>(config: &'a Config, facts: &Facts) -> Expected<'a> {
    let path = &facts.request.path;
    if !is_origin_form(path) {
        return Expected {
            rule: None,
            allowed: Vec::new(),
            required: Err(Reason::RequestPathInvalid),
        };
    }
    let picks = path_oracle::picks(&config.rules, path, &facts.request.method);
    let rule = path_oracle::reported(config, &picks).map(|i| &config.rules[i]);
    let allowed: Vec<&AllowedClients> = picks
        .iter()
        .filter_map(|&p| path_oracle::allow_list(config, p))
        .collect();
    let own_required = |pick: Option<usize>| {
        path_oracle::own_requirement(config, pick) == MtlsRequirement::Required
    };
    let requirement = match facts.request.route_mtls.as_deref() {
        Some("required") => Ok(MtlsRequirement::Required),
        Some("optional") => Ok(MtlsRequirement::Optional),
        Some(_) => Err(Reason::RouteMetadataInvalid),
        None if picks.iter().any(|&p| own_required(p)) => Ok(MtlsRequirement::Required),
        None => Ok(MtlsRequirement::Optional),
    };
    Expected {
        rule,
        required: requirement.map(|r| r == MtlsRequirement::Required || !allowed.is_empty()),
        allowed,
    }
}

pub fn check_decision(policy: &Policy, facts: &Facts, decision: &Decision) {
    let config = &policy.config;
    let path = &facts.request.path;
    let normalized = normalize_path(path);
    assert!(normalized.starts_with('/') && !normalized.contains(['?', '#']));
    assert_eq!(
        normalize_path(&normalized),
        normalized,
        "normalisation is idempotent"
    );

    let expect = expected(config, facts);
    assert_eq!(
        decision.rule.as_deref(),
        expect.rule.map(|r| r.name.as_str()),
        "the reported rule"
    );
    assert_eq!(decision.mode, config.mode);
    assert!(!decision.rejects() || config.mode == Mode::Enforce);
    let deny =
        |reason: Reason| assert_eq!(decision.verdict, Verdict::Deny(reason), "facts {facts:?}");

    let connection = match &facts.connection {
        Err(_) => return deny(Reason::ConnectionFactsUnavailable),
        Ok(connection) => connection,
    };
    let Some(text) = connection.tls_version.as_deref() else {
        return deny(Reason::TlsRequired);
    };
    let Some(version) = TlsVersion::parse(text) else {
        return deny(Reason::TlsVersionUnrecognized);
    };
    assert_eq!(decision.tls_version, Some(version));
    if version < config.min_tls_version || version < TlsVersion::Tls12 {
        return deny(Reason::TlsVersionTooLow);
    }
    let required = match expect.required {
        Err(reason) => return deny(reason),
        Ok(required) => required,
    };
    let Some(peer) = &connection.peer else {
        if required {
            return deny(Reason::ClientCertificateRequired);
        }
        assert_eq!(decision.verdict, Verdict::Allow);
        assert!(decision.client.is_none() && decision.ignored_certificate.is_none());
        return;
    };

    match decision.verdict {
        Verdict::Allow => assert!(
            !required || decision.client.is_some(),
            "required, allowed without a client"
        ),
        Verdict::Deny(reason) => {
            assert!(required, "denied {reason:?} where mTLS is optional");
            assert!(decision.client.is_none());
            assert!(!matches!(
                reason,
                Reason::TlsRequired
                    | Reason::TlsVersionTooLow
                    | Reason::TlsVersionUnrecognized
                    | Reason::RouteMetadataInvalid
                    | Reason::RequestPathInvalid
                    | Reason::ClientCertificateRequired
            ));
        }
    }
    if decision.ignored_certificate.is_some() {
        assert!(!required && decision.client.is_none() && decision.verdict == Verdict::Allow);
    }
    if let Some(client) = &decision.client {
        check_client(config, facts, peer, client, &expect.allowed);
    }
}

pub fn check_client(
    config: &Config,
    facts: &Facts,
    peer: &PeerFacts,
    client: &onerecord_tls_policy::trust::VerifiedClient,
    allowed: &[&AllowedClients],
) {
    let digest = peer.sha256_digest.as_deref().map(Fingerprint::parse);
    assert_eq!(
        digest,
        Some(Ok(client.leaf_sha256)),
        "the handshake's certificate"
    );
    let element = peer
        .xfcc
        .as_deref()
        .map(|h| xfcc::parse_last_element(h).expect("parsed before"));
    if let Some(hash) = element.as_ref().and_then(|e| e.hash.as_deref()) {
        assert_eq!(
            Fingerprint::parse(hash),
            Ok(client.leaf_sha256),
            "XFCC Hash"
        );
    }
    let leaf_pem = peer
        .certificate_pem
        .as_deref()
        .or_else(|| element.as_ref().and_then(|e| e.cert.as_deref()))
        .expect("a leaf came from somewhere");
    let leaf = xfcc::pem_to_der_certificates(leaf_pem).expect("leaf PEM was read");
    assert_eq!(leaf.len(), 1);
    for list in allowed {
        assert!(
            is_allowed(client, list),
            "client not on an allow-list that applies"
        );
    }
    let chain = element
        .as_ref()
        .and_then(|e| e.chain.as_deref())
        .map(|pem| xfcc::pem_to_der_certificates(pem).expect("chain PEM was read"))
        .unwrap_or_default();
    let material: Vec<&[u8]> = leaf
        .iter()
        .chain(&chain)
        .chain(&config.trust.ca_certificates_der)
        .map(Vec::as_slice)
        .collect();
    assert_verified_path(client, &leaf[0], &material, &config.trust, facts.now_unix);
}
