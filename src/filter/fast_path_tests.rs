//! The keep-alive fast path through a mock host: what a later request on a
//! connection reads, and that reading less never decides differently.

use super::mock::MockHost;
use super::properties::{
    CONNECTION_ID, PEER_CERTIFICATE, PEER_CERTIFICATE_VALID, PEER_DIGEST, ROUTE_MTLS, TLS_VERSION,
    dotted,
};
use super::{Action, on_request_headers};
use crate::config::Config;
use crate::filter::test_client::presenting;
use crate::policy::{Decision, Policy};
use crate::reason::Reason;
use crate::state::State;
use onerecord_tls_policy_testkit::pinned::{Pki, pki_with_leaf as pki, policy_json};
use onerecord_tls_policy_testkit::pki::{CertSpec, Issued};
use onerecord_tls_policy_testkit::unix_now as now;

fn policy(root: &Issued, extra: &str) -> Policy {
    Policy::new(Config::parse(policy_json(root, extra).as_bytes()).unwrap())
}
use std::rc::Rc;

/// A request as Envoy 1.40 shows it on connection `id` (none: not readable),
/// the client presenting its whole chain (the pinned root is only named by
/// its fingerprint in the configuration).
fn request(k: &Pki, id: Option<u64>, at: u64) -> MockHost {
    let mut host = presenting(k, at);
    if let Some(id) = id {
        host.set_property(&dotted(CONNECTION_ID), &id.to_le_bytes());
    }
    // Envoy says "not validated" on every resumed session: not asked.
    host.set_property(&dotted(PEER_CERTIFICATE_VALID), &[0]);
    host
}

fn reads(host: &MockHost) -> Vec<String> {
    host.reads.borrow().clone()
}

fn send(host: &mut MockHost, p: &Policy, memo: &mut State) -> (Action, Decision) {
    let plan = on_request_headers(host, p, memo);
    (Action::after(&plan), plan.decision)
}

#[test]
fn a_later_request_on_a_connection_reads_only_its_id() {
    let k = pki(CertSpec::client("client-1"));
    let (p, mut memo) = (policy(&k.root, ""), State::new(16));

    let mut first = request(&k, Some(7), now());
    let (action, cold) = send(&mut first, &p, &mut memo);
    assert_eq!(action, Action::Continue);
    assert!(cold.client.is_some());
    assert!(reads(&first).contains(&dotted(PEER_CERTIFICATE)));

    let mut second = request(&k, Some(7), now());
    second
        .headers
        .push(("x-onerecord-client-sha256".into(), "forged".into()));
    let (action, warm) = send(&mut second, &p, &mut memo);
    assert_eq!(action, Action::Continue);
    assert_eq!(warm, cold, "the same decision, read from less");
    // The second map read checks that the forged header is gone.
    assert_eq!(
        reads(&second),
        [
            "headers",
            dotted(ROUTE_MTLS).as_str(),
            dotted(CONNECTION_ID).as_str(),
            "headers"
        ],
        "no handshake fact, no certificate"
    );
    assert_eq!(
        second.header("x-onerecord-client-sha256"),
        [k.leaf.sha256_hex()],
        "client-sent annotations are still stripped"
    );
    assert_eq!(first.headers, second.headers, "the same annotations");
    assert_eq!(memo.stats().connection_hits, 1);
}

#[test]
fn a_new_connection_reads_its_handshake_and_certificate_again() {
    let k = pki(CertSpec::client("client-1"));
    let (p, mut memo) = (policy(&k.root, ""), State::new(16));
    send(&mut request(&k, Some(7), now()), &p, &mut memo);

    let mut other = request(&k, Some(8), now());
    let (action, decision) = send(&mut other, &p, &mut memo);
    assert_eq!(action, Action::Continue);
    assert!(decision.client.is_some());
    let read = reads(&other);
    for fact in [
        dotted(TLS_VERSION).as_str(),
        dotted(PEER_DIGEST).as_str(),
        dotted(PEER_CERTIFICATE).as_str(),
    ] {
        assert!(read.contains(&fact.to_string()), "{fact} in {read:?}");
    }
    let stats = memo.stats();
    assert_eq!(
        (stats.hits, stats.misses),
        (1, 1),
        "verified once, by content"
    );
}

#[test]
fn a_certificate_expiring_on_an_open_connection_is_denied() {
    let k = pki(CertSpec::client("short-lived").validity(-3600, 100));
    let (p, mut memo) = (policy(&k.root, ""), State::new(16));
    let t0 = now();
    assert_eq!(
        send(&mut request(&k, Some(7), t0), &p, &mut memo).0,
        Action::Continue
    );

    for read_again in [true, false] {
        let mut later = request(&k, Some(7), t0 + 200);
        let (action, decision) = send(&mut later, &p, &mut memo);
        assert_eq!(action, Action::Pause);
        assert_eq!(decision.deny_reason(), Some(Reason::CertificateExpired));
        assert_eq!(
            reads(&later).contains(&dotted(PEER_CERTIFICATE)),
            read_again,
            "outside the remembered window the certificate is read and verified \
             again; the denial it ends in is the connection's from then on"
        );
    }
}

#[test]
fn a_later_request_on_a_failed_connection_reads_only_its_id() {
    let k = pki(CertSpec::client("client-1"));
    let stranger = pki(CertSpec::client("client-2"));
    let (p, mut memo) = (policy(&stranger.root, ""), State::new(16));

    let mut first = request(&k, Some(7), now());
    let (action, cold) = send(&mut first, &p, &mut memo);
    assert_eq!(action, Action::Pause);
    assert_eq!(cold.deny_reason(), Some(Reason::UntrustedCa));
    assert!(reads(&first).contains(&dotted(PEER_CERTIFICATE)));

    for _ in 0..3 {
        let mut later = request(&k, Some(7), now());
        let (action, warm) = send(&mut later, &p, &mut memo);
        assert_eq!(action, Action::Pause);
        assert_eq!(warm, cold, "the same decision, read from less");
        assert_eq!(
            reads(&later),
            [
                "headers",
                dotted(ROUTE_MTLS).as_str(),
                dotted(CONNECTION_ID).as_str()
            ],
            "no handshake fact, no certificate, no XFCC"
        );
    }
    let stats = memo.stats();
    assert_eq!((stats.denial_hits, stats.connection_hits), (3, 3));
}

#[test]
fn a_reload_forgets_connections_and_a_new_revocation_denies_on_them() {
    let k = pki(CertSpec::client("client-1"));
    let (p, mut memo) = (policy(&k.root, ""), State::new(16));
    assert_eq!(
        send(&mut request(&k, Some(7), now()), &p, &mut memo).0,
        Action::Continue
    );

    // A reload builds a new policy and a new state (as `configure` does).
    let revoked = policy(
        &k.root,
        &format!(r#","revoked_sha256":["{}"]"#, k.inter.sha256_hex()),
    );
    let mut same_connection = request(&k, Some(7), now());
    let (action, decision) = send(&mut same_connection, &revoked, &mut State::new(16));
    assert_eq!(action, Action::Pause);
    assert_eq!(decision.deny_reason(), Some(Reason::CertificateRevoked));
}

#[test]
fn without_a_readable_connection_id_every_request_reads_everything() {
    let k = pki(CertSpec::client("client-1"));
    let (p, mut memo) = (policy(&k.root, ""), State::new(16));
    for _ in 0..2 {
        let mut host = request(&k, None, now());
        assert_eq!(send(&mut host, &p, &mut memo).0, Action::Continue);
        assert!(reads(&host).contains(&dotted(TLS_VERSION)));
        assert!(reads(&host).contains(&dotted(PEER_CERTIFICATE)));
    }
    assert_eq!(memo.remembered_connections(), 0);
    // A malformed id is no id.
    let mut host = request(&k, None, now());
    host.set_property(&dotted(CONNECTION_ID), &[1, 2, 3]);
    assert_eq!(send(&mut host, &p, &mut memo).0, Action::Continue);
    assert_eq!(memo.remembered_connections(), 0);
}

#[test]
fn verdict_cache_size_zero_does_not_read_the_connection_id() {
    let k = pki(CertSpec::client("client-1"));
    let p = policy(&k.root, r#","verdict_cache_size":0"#);
    let mut memo = p.new_state();
    for _ in 0..2 {
        let mut host = request(&k, Some(7), now());
        assert_eq!(send(&mut host, &p, &mut memo).0, Action::Continue);
        assert!(!reads(&host).contains(&dotted(CONNECTION_ID)));
        assert!(reads(&host).contains(&dotted(PEER_CERTIFICATE)));
    }
}

#[test]
fn a_plaintext_connection_is_remembered_and_denied_every_time() {
    let (p, mut memo) = (Policy::new(Config::default()), State::new(16));
    for n in 0..2 {
        let mut host = MockHost::plaintext();
        host.set_property(&dotted(CONNECTION_ID), &9u64.to_le_bytes());
        let (action, decision) = send(&mut host, &p, &mut memo);
        assert_eq!(action, Action::Pause);
        assert_eq!(decision.deny_reason(), Some(Reason::TlsRequired));
        let read_version = reads(&host).contains(&dotted(TLS_VERSION));
        assert_eq!(read_version, n == 0, "request {n}");
    }
}

#[test]
fn a_route_that_needs_no_certificate_still_reports_the_remembered_client() {
    let k = pki(CertSpec::client("client-1"));
    let p = policy(&k.root, "");
    let mut memo = State::new(16);
    send(&mut request(&k, Some(7), now()), &p, &mut memo);
    let mut optional = request(&k, Some(7), now());
    optional.set_property(dotted(ROUTE_MTLS).as_str(), b"optional");
    let (action, decision) = send(&mut optional, &p, &mut memo);
    assert_eq!(action, Action::Continue);
    assert_eq!(
        decision.client.map(|c| c.leaf_sha256.to_hex()),
        Some(k.leaf.sha256_hex())
    );
    assert!(!reads(&optional).contains(&dotted(PEER_CERTIFICATE)));
}

#[test]
fn a_connection_reuses_its_rendering_only_for_an_equal_decision() {
    let k = pki(CertSpec::client("client-1"));
    let rules = r#","rules":[{"name":"access-delegations","path_prefix":"/access-delegations"}]"#;
    let (p, mut memo) = (policy(&k.root, rules), State::new(16));
    let at = |path: &str| {
        let mut host = request(&k, Some(7), now());
        host.headers.retain(|(name, _)| name != ":path");
        host.headers.push((":path".into(), path.into()));
        host
    };
    let mut run = |path: &str| {
        let mut host = at(path);
        let plan = on_request_headers(&mut host, &p, &mut memo);
        assert_eq!(Action::after(&plan), Action::Continue);
        (plan.rendered().cloned().expect("forwarded"), host)
    };
    let (first, _) = run("/logistics-objects/1");
    let (second, _) = run("/logistics-objects/2");
    assert!(Rc::ptr_eq(&first, &second), "the same decision: reused");

    let (ruled, host) = run("/access-delegations/1");
    assert!(!Rc::ptr_eq(&first, &ruled), "another rule: rendered anew");
    assert_eq!(host.header("x-onerecord-rule"), ["access-delegations"]);
    assert!(ruled.access_log.contains("rule=access-delegations"));

    let (back, host) = run("/logistics-objects/3");
    assert!(host.header("x-onerecord-rule").is_empty());
    assert_eq!(*back, *first);
}
