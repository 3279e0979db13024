//! OCSP seen through `decide`: a certificate the cache has no answer for
//! is asked about, a cached answer decides every request (remembered
//! verdicts included), hard and soft modes differ on failures only.

use super::cache_tests::{on_connection, peer, request};
use super::test_fixture::{Remembering, now, pki_with_leaf, policy};
use super::*;
use crate::ocsp::{OcspAnswer, OcspStatus, Signer};
use onerecord_tls_policy_testkit::pinned::Pki;
use onerecord_tls_policy_testkit::pki::CertSpec;

fn with_aia() -> Pki {
    pki_with_leaf(
        CertSpec::client("client-1")
            .extension("authorityInfoAccess", "OCSP;URI:http://ocsp.test:9999/"),
    )
}

fn ocsp(k: &Pki, mode: &str, check: &str) -> Remembering {
    Remembering::new(policy(
        &k.root,
        &format!(r#","ocsp":{{"mode":"{mode}","cluster":"ocsp","check":"{check}"}}"#),
    ))
}

fn decided(p: &mut Remembering, k: &Pki, at: u64) -> Decided {
    let facts = request(on_connection(3, peer(&[&k.leaf, &k.inter, &k.root])), at);
    p.policy.decide_with(&facts, &mut p.state)
}

fn store(p: &mut Remembering, query: &crate::ocsp::CertQuery, status: OcspStatus, at: u64) {
    let answer = OcspAnswer {
        status,
        this_update: at as i64 - 10,
        next_update: Some(at as i64 + 600),
        signer: Signer::Issuer,
    };
    p.state.ocsp.store(query.key(), &answer, at, 3600);
}

#[test]
fn a_missing_answer_asks_for_the_leaf_and_a_good_one_then_decides_every_request() {
    let k = with_aia();
    let mut p = ocsp(&k, "hard", "leaf");
    let t = now();
    let first = decided(&mut p, &k, t);
    assert_eq!(
        first.decision.deny_reason(),
        Some(Reason::RevocationStatusUnknown)
    );
    assert_eq!(first.ocsp.used, Some("pending"));
    assert_eq!(first.ocsp.ask.len(), 1);
    let query = first.ocsp.ask[0].clone();
    assert_eq!(query.urls, vec!["http://ocsp.test:9999/"]);
    store(&mut p, &query, OcspStatus::Good, t);

    // The same connection (its remembered verdict) and the cache answer.
    let second = decided(&mut p, &k, t + 1);
    assert_eq!(second.decision.deny_reason(), None);
    assert_eq!(second.ocsp.used, Some("good"));
    assert!(second.ocsp.cache_hit && second.ocsp.ask.is_empty());
    assert!(second.ocsp.refresh.is_empty());
    // Shortly before nextUpdate: still good, refreshed in the background.
    let late = decided(&mut p, &k, t + 590);
    assert_eq!(late.decision.deny_reason(), None);
    assert_eq!(late.ocsp.refresh.len(), 1);
    // Past it: asked again.
    assert_eq!(decided(&mut p, &k, t + 601).ocsp.ask.len(), 1);
}

#[test]
fn a_revoked_answer_denies_the_open_connection() {
    let k = with_aia();
    let mut p = ocsp(&k, "soft", "leaf");
    let t = now();
    let query = decided(&mut p, &k, t).ocsp.ask[0].clone();
    store(&mut p, &query, OcspStatus::Good, t);
    assert_eq!(decided(&mut p, &k, t).decision.deny_reason(), None);
    store(
        &mut p,
        &query,
        OcspStatus::Revoked {
            at: 1,
            reason: None,
        },
        t,
    );
    let d = decided(&mut p, &k, t + 1);
    assert_eq!(d.decision.deny_reason(), Some(Reason::CertificateRevoked));
    assert_eq!(d.ocsp.used, Some("revoked"));
}

#[test]
fn a_failure_is_unknown_in_hard_mode_and_a_counted_pass_in_soft_mode() {
    let k = with_aia();
    for (mode, expected) in [
        ("hard", Some(Reason::RevocationStatusUnknown)),
        ("soft", None),
    ] {
        let mut p = ocsp(&k, mode, "leaf");
        let t = now();
        let query = decided(&mut p, &k, t).ocsp.ask[0].clone();
        p.state.ocsp.store_failure(query.key(), t);
        let d = decided(&mut p, &k, t + 1);
        assert_eq!(d.decision.deny_reason(), expected, "{mode}");
        assert_eq!(d.ocsp.used, Some("failed"));
        assert_eq!(d.ocsp.soft_failure, mode == "soft");
        assert!(d.ocsp.ask.is_empty());
    }
}

#[test]
fn chain_asks_for_every_certificate_below_the_anchor_and_off_asks_nothing() {
    let k = with_aia();
    let mut p = ocsp(&k, "hard", "chain");
    // The intermediate has no AIA: its status cannot be had.
    let d = decided(&mut p, &k, now());
    assert_eq!(
        d.decision.deny_reason(),
        Some(Reason::RevocationStatusUnknown)
    );
    assert_eq!(d.ocsp.used, Some("failed"));

    let mut off = Remembering::new(policy(&k.root, ""));
    let d = decided(&mut off, &k, now());
    assert_eq!(d.decision.deny_reason(), None);
    assert_eq!(d.ocsp, OcspOutcome::default());
}

#[test]
fn the_access_log_value_carries_the_status_used() {
    use crate::effects::Resource;
    let k = with_aia();
    for (mode, status, logged) in [
        ("hard", Some(OcspStatus::Good), Some("good")),
        ("soft", None, Some("failed")),
        ("off", None, None),
    ] {
        let mut p = ocsp(&k, mode, "leaf");
        let t = now();
        if let Some(query) = decided(&mut p, &k, t).ocsp.ask.first().cloned() {
            match status {
                Some(status) => store(&mut p, &query, status, t),
                None => {
                    p.state.ocsp.store_failure(query.key(), t);
                }
            }
        }
        let facts = request(on_connection(3, peer(&[&k.leaf, &k.inter, &k.root])), t + 1);
        let decided = p.policy.decide_with(&facts, &mut p.state);
        assert_eq!(decided.decision.ocsp, logged, "{mode}");
        assert_eq!(decided.decision.deny_reason(), None, "{mode}");
        let plan = p
            .policy
            .plan(decided, &Resource::of(&facts), None, &mut p.state);
        let value = plan.access_log();
        assert!(value.starts_with("decision=allow;"), "{value}");
        match logged {
            Some(word) => assert!(value.ends_with(&format!(";ocsp={word}")), "{value}"),
            None => assert!(!value.contains("ocsp="), "{value}"),
        }
    }
}
