//! What a verification costs: signatures computed once, the budget, and
//! chains built to exhaust it.

use super::*;
use onerecord_tls_policy_testkit::pki::{
    CertSpec, Issued, KeyKind, generate_key, issue, issue_with_key, self_signed,
};
use std::time::{SystemTime, UNIX_EPOCH};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn settings(anchors: &[&Issued], max_chain_length: usize) -> TrustSettings {
    TrustSettings {
        trusted_ca_sha256: anchors
            .iter()
            .map(|c| Fingerprint::of_der(&c.der()))
            .collect(),
        ca_certificates_der: anchors.iter().map(|c| c.der()).collect(),
        revoked_sha256: Vec::new(),
        max_chain_length,
        clock_skew_seconds: 60,
        profile: Default::default(),
    }
}

fn counted(
    settings: &TrustSettings,
    leaf: &Issued,
    others: &[&Issued],
    at: u64,
) -> (Result<usize, Reason>, VerificationCost) {
    let chain = PresentedChain {
        leaf: leaf.der(),
        others: others.iter().map(|c| c.der()).collect(),
    };
    let verification = TrustStore::new(settings).verify_counted(&chain, at);
    let result = verification
        .result
        .map(|(client, _)| client.path_sha256.len());
    (result, verification.cost)
}

#[test]
fn webpki_reuses_the_signatures_pruning_checked() {
    let root = self_signed(&CertSpec::ca("Root CA").key(KeyKind::Rsa(2048)));
    let inter = issue(&CertSpec::ca("Intermediate CA"), &root);
    let leaf = issue(&CertSpec::client("client-1"), &inter);
    let (result, cost) = counted(&settings(&[&root], 5), &leaf, &[&inter], now());
    assert_eq!(result, Ok(3));
    // Two signatures on the path, each computed once and looked up twice.
    assert_eq!((cost.signatures_computed, cost.signature_lookups), (2, 4));
    assert_eq!(cost.candidate_paths, 1);
    assert!(!cost.exhausted);
}

#[test]
fn the_clock_skew_retry_computes_nothing_again() {
    let root = self_signed(&CertSpec::ca("Root CA"));
    let inter = issue(&CertSpec::ca("Intermediate CA"), &root);
    // Expired 30 s ago: the first attempt fails, the retry 60 s earlier passes.
    let leaf = issue(&CertSpec::client("client-1").validity(-3600, -30), &inter);
    let (result, cost) = counted(&settings(&[&root], 5), &leaf, &[&inter], now());
    assert_eq!(result, Ok(3));
    assert_eq!(cost.signatures_computed, 2);
}

/// Leaf + `levels` intermediates, each renewed once (same name and key),
/// under a root pinned together with a cross-signed predecessor.
fn renewed_chain(levels: usize) -> (Issued, Vec<Issued>, Vec<Issued>) {
    let old_root = self_signed(&CertSpec::ca("Old Root CA"));
    let root = self_signed(&CertSpec::ca("Root CA"));
    let mut presented = Vec::new();
    let mut issuer_pair: Vec<&Issued> = vec![&root];
    let mut owned: Vec<Vec<Issued>> = Vec::new();
    for level in 0..levels {
        let spec = CertSpec::ca(&format!("Intermediate CA {level}"));
        let key = generate_key(KeyKind::P256);
        let signer = issuer_pair.first().copied().unwrap();
        let twins = vec![
            issue_with_key(&spec, key.clone(), Some(signer)),
            issue_with_key(&spec, key, Some(signer)),
        ];
        owned.push(twins);
        issuer_pair = owned.last().unwrap().iter().collect();
    }
    let leaf = issue(&CertSpec::client("client-1"), issuer_pair[0]);
    for twins in owned.into_iter().rev() {
        presented.extend(twins);
    }
    // The cross-signed certificate: the root's subject and key under the old root.
    let cross = issue_with_key(&CertSpec::ca("Root CA"), root.key.clone(), Some(&old_root));
    (leaf, presented, vec![root, old_root, cross])
}

#[test]
fn renewed_intermediates_and_a_cross_signed_root_stay_within_budget() {
    for (levels, max) in [(2, 5), (3, 8)] {
        let (leaf, presented, roots) = renewed_chain(levels);
        let [root, old_root, cross] = &roots[..] else {
            unreachable!()
        };
        let mut sent: Vec<&Issued> = presented.iter().collect();
        if sent.len() + 2 <= max {
            sent.push(cross);
        }
        let (result, cost) = counted(&settings(&[root, old_root], max), &leaf, &sent, now());
        assert_eq!(result, Ok(levels + 2), "{levels} levels");
        // One signature per certificate: the twins share their key.
        assert_eq!(cost.signatures_computed, 2 * levels + 1 + (max - 5) / 3);
        let budget = budget::Budget::for_chain_length(max);
        assert!(cost.signatures_computed <= budget.signatures && !cost.exhausted);
    }
}

/// A CA that rolled its key over (two configured intermediates of one name,
/// both verified under the pinned root) and `forged` presented certificates
/// naming it: each is a distinct check under each of the two keys, the most
/// signatures a client can make the filter compute (every one under a key
/// it did not choose).
fn rollover_with_forgeries(
    forged: usize,
    max_chain_length: usize,
) -> (TrustSettings, PresentedChain) {
    let root = self_signed(&CertSpec::ca("Root CA"));
    let old = issue(&CertSpec::ca("Issuing CA"), &root);
    let new = issue(&CertSpec::ca("Issuing CA"), &root);
    let bare = |name: &str| CertSpec::ca(name).without_key_identifiers();
    let fake = self_signed(&bare("Issuing CA"));
    let forgeries: Vec<Issued> = (0..forged)
        .map(|_| issue(&bare("Forged CA"), &fake))
        .collect();
    let leaf = issue(
        &CertSpec::client("client-1").without_key_identifiers(),
        &forgeries[0],
    );
    let settings = TrustSettings {
        trusted_ca_sha256: vec![Fingerprint::of_der(&root.der())],
        ca_certificates_der: vec![root.der(), old.der(), new.der()],
        revoked_sha256: Vec::new(),
        max_chain_length,
        clock_skew_seconds: 60,
        profile: Default::default(),
    };
    let chain = PresentedChain {
        leaf: leaf.der(),
        others: forgeries.iter().map(Issued::der).collect(),
    };
    (settings, chain)
}

#[test]
fn a_chain_built_to_exhaust_the_budget_is_refused_as_such() {
    let (settings, chain) = rollover_with_forgeries(7, 8);
    let verification = TrustStore::new(&settings).verify_counted(&chain, now());
    assert_eq!(
        verification.result.map(|_| ()),
        Err(Reason::VerificationBudgetExceeded)
    );
    // 2 under the root, then 2 per forgery until the budget ends it.
    assert!(verification.cost.exhausted);
    assert_eq!(
        verification.cost.signatures_computed,
        budget::Budget::for_chain_length(8).signatures
    );

    // As many as may be presented (twice the length, leaf included): the
    // budget, not the count presented, bounds what is computed.
    let (settings, chain) = rollover_with_forgeries(15, 8);
    let verification = TrustStore::new(&settings).verify_counted(&chain, now());
    assert_eq!(
        verification.result.map(|_| ()),
        Err(Reason::VerificationBudgetExceeded)
    );
    assert_eq!(
        verification.cost.signatures_computed,
        budget::Budget::for_chain_length(8).signatures
    );

    // Fewer fit the budget and end as what they are: signed by no issuer.
    let (settings, chain) = rollover_with_forgeries(3, 5);
    let verification = TrustStore::new(&settings).verify_counted(&chain, now());
    assert_eq!(verification.result.map(|_| ()), Err(Reason::UntrustedCa));
    assert_eq!(verification.cost.signatures_computed, 2 + 2 * 3);
    assert!(!verification.cost.exhausted);
}

/// webpki's own limit of 100 signature checks, memo hits included, ends a
/// search over many orderings of certificates that all chain by name.
#[test]
fn many_orderings_end_at_webpkis_limit_without_computing_more() {
    let root = self_signed(&CertSpec::ca("Root CA"));
    let trusted = self_signed(&CertSpec::ca("Envoy-trusted CA"));
    let leaf = issue(&CertSpec::client("client-1"), &trusted);
    let bare = || CertSpec::ca("Envoy-trusted CA").without_key_identifiers();
    let fake_root = self_signed(&CertSpec::ca("Root CA").without_key_identifiers());
    let mut certs: Vec<Issued> = (0..6).map(|_| self_signed(&bare())).collect();
    certs.push(issue(&bare(), &fake_root));
    let sent: Vec<&Issued> = certs.iter().collect();
    let (result, cost) = counted(&settings(&[&root], 8), &leaf, &sent, now());
    assert_eq!(result, Err(Reason::VerificationBudgetExceeded));
    assert_eq!(
        cost.signatures_computed, 1,
        "only the forgery under the root"
    );
    assert!(cost.signature_lookups > 100, "{cost:?}");

    // Three copies have few enough orderings: webpki reports the bad signature.
    let (result, cost) = counted(&settings(&[&root], 5), &leaf, &sent[3..], now());
    assert_eq!(result, Err(Reason::CertificateInvalid));
    assert_eq!(cost.signatures_computed, 1);
}

#[test]
fn a_failure_is_stable_until_the_next_validity_change() {
    let root = self_signed(&CertSpec::ca("Root CA"));
    // Valid from an hour from now: not yet valid, even with 60 s of skew.
    let inter = issue(&CertSpec::ca("Intermediate CA").validity(3600, 7200), &root);
    let leaf = issue(&CertSpec::client("client-1"), &inter);
    let at = now();
    let chain = PresentedChain {
        leaf: leaf.der(),
        others: vec![inter.der()],
    };
    let store = TrustStore::new(&settings(&[&root], 5));
    let verification = store.verify_counted(&chain, at);
    assert_eq!(verification.result, Err(Reason::CertificateNotYetValid));
    let not_before = u64::try_from(
        x509_parser::parse_x509_certificate(&inter.der())
            .unwrap()
            .1
            .validity()
            .not_before
            .timestamp(),
    )
    .unwrap();
    // The skewed search (now + 60 s) sees it valid from 60 s before notBefore.
    assert_eq!(verification.failure_stable_until, not_before - 60);
    let later = store.verify_counted(&chain, not_before - 60);
    assert!(later.result.is_ok(), "{:?}", later.result);

    // A chain refused before any time comparison stays refused.
    let garbage = PresentedChain {
        leaf: b"junk".to_vec(),
        others: Vec::new(),
    };
    let refused = store.verify_counted(&garbage, at);
    assert_eq!(refused.result, Err(Reason::CertificateInvalid));
    assert_eq!(refused.failure_stable_until, u64::MAX);
}
