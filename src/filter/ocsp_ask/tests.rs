//! OCSP through the mock host: a request waits for its answer and is
//! decided once, later requests ride the cache, failures are counted and
//! decided by the mode.

use crate::effects::metrics::{
    OCSP_CACHE_HITS, OCSP_PAUSED, OCSP_SOFT_FAILURES, ocsp_counter_name,
};
use crate::filter::mock::MockHost;
use crate::filter::properties::{CONNECTION_ID, dotted};
use crate::filter::test_client::presenting;
use crate::filter::{Action, Headers, Plugin, configure};
use onerecord_tls_policy_testkit::ocsp::{OcspSpec, Status};
use onerecord_tls_policy_testkit::pinned::{Pki, pki_with_leaf, policy_json};
use onerecord_tls_policy_testkit::pki::CertSpec;
use onerecord_tls_policy_testkit::unix_now;

fn pki() -> Pki {
    pki_with_leaf(CertSpec::client("client-1").extension(
        "authorityInfoAccess",
        "OCSP;URI:http://ocsp.test:8888/status",
    ))
}

fn plugin(host: &mut MockHost, k: &Pki, mode: &str) -> Plugin {
    let extra =
        format!(r#","ocsp":{{"mode":"{mode}","cluster":"ocsp_responders","timeout_ms":700}}"#);
    configure(host, Ok(policy_json(&k.root, &extra).into_bytes())).expect("loads")
}

/// A request from `k.leaf` on connection `id`, counters carried over.
fn request(k: &Pki, id: u64, from: &mut MockHost) -> MockHost {
    let mut host = presenting(k, unix_now());
    host.counters = std::mem::take(&mut from.counters);
    host.set_property(&dotted(CONNECTION_ID), &id.to_le_bytes());
    host
}

fn waiting(headers: Headers) -> Vec<crate::filter::ocsp_ask::Asking> {
    match headers {
        Headers::Waiting(asking) => asking,
        Headers::Done(action, outcome, _) => panic!("decided at once: {action:?} {outcome:?}"),
    }
}

/// The deny reply's reason header.
fn deny_reason(host: &MockHost) -> String {
    let (code, headers, _) = host.sent.clone().expect("a reply");
    assert_eq!(code, 403);
    headers
        .iter()
        .find(|(name, _)| name.ends_with("deny-reason"))
        .map(|(_, value)| value.clone())
        .expect("a deny-reason header")
}

#[test]
fn a_request_waits_for_its_answer_and_later_ones_ride_the_cache() {
    let k = pki();
    let mut host = MockHost::default();
    let mut p = plugin(&mut host, &k, "hard");
    let mut first = request(&k, 1, &mut host);
    let mut asking = waiting(p.on_request_headers_asking(&mut first));
    assert_eq!(asking.len(), 1);
    let (token, cluster, headers) = first.http_calls[0].clone();
    assert_eq!(cluster, "ocsp_responders");
    for expected in [
        (":method", "POST"),
        (":path", "/status"),
        (":authority", "ocsp.test:8888"),
        ("content-type", "application/ocsp-request"),
    ] {
        assert!(
            headers.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} in {headers:?}"
        );
    }
    let body = &first.http_bodies[0].1;
    assert!(openssl::ocsp::OcspRequest::from_der(body).is_ok());
    assert_eq!(first.sent, None);

    // Not this request's token: nothing.
    assert!(
        p.on_ocsp_response(&mut first, &mut asking, (token + 7, Some(200), b""), false)
            .is_none()
    );
    let good = OcspSpec::default().sign(&k.leaf, &k.inter);
    let (action, forwarded) = p
        .on_ocsp_response(&mut first, &mut asking, (token, Some(200), &good), false)
        .unwrap();
    assert_eq!(action, Action::Continue);
    assert!(forwarded.is_some());
    assert_eq!(first.resumed, 1);
    assert_eq!(first.sent, None);
    // A second answer to the same token decides nothing again.
    assert!(
        p.on_ocsp_response(&mut first, &mut asking, (token, Some(200), &good), false)
            .is_none()
    );
    assert_eq!(first.resumed, 1);
    assert_eq!(first.counter(&ocsp_counter_name("good")), Some(1));

    // The same connection and a new one: the cache answers, nothing asked.
    for id in [1, 2] {
        let mut later = request(&k, id, &mut first);
        match p.on_request_headers_asking(&mut later) {
            Headers::Done(Action::Continue, _, Some(_)) => {}
            other => panic!("not forwarded at once: {other:?}"),
        }
        assert!(later.http_calls.is_empty());
        first = later;
    }
    // The request that waited, decided again from the cache, and the two later.
    assert_eq!(first.counter(OCSP_CACHE_HITS), Some(3));
    assert_eq!(first.counter(OCSP_PAUSED), Some(1), "only the first waited");
}

/// A fresh VM's first request, answered with `status` and `body`.
fn first_answered(k: &Pki, mode: &str, status: Option<u32>, body: &[u8]) -> (Action, MockHost) {
    let mut host = MockHost::default();
    let mut p = plugin(&mut host, k, mode);
    let mut h = request(k, 1, &mut host);
    let mut asking = waiting(p.on_request_headers_asking(&mut h));
    let token = asking[0].token;
    let (action, _) = p
        .on_ocsp_response(&mut h, &mut asking, (token, status, body), false)
        .unwrap();
    (action, h)
}

#[test]
fn failures_deny_in_hard_mode_and_pass_counted_in_soft_mode() {
    let k = pki();
    let revoked = OcspSpec::default()
        .status(Status::Revoked)
        .sign(&k.leaf, &k.inter);
    let stale = OcspSpec::default()
        .times(-7200, Some(-60))
        .sign(&k.leaf, &k.inter);
    let other_serial = OcspSpec::default()
        .serial(vec![1, 2, 3])
        .sign(&k.leaf, &k.inter);
    let try_later = OcspSpec::default()
        .response_status(3)
        .sign(&k.leaf, &k.inter);
    let cases: [(Option<u32>, &[u8], &str); 6] = [
        // Within a second of timeout_ms (the clock is in seconds): a timeout.
        (None, b"", "timeout"),
        (Some(503), b"", "error"),
        (Some(200), &try_later, "error"),
        (Some(200), &stale, "bad_response"),
        (Some(200), &other_serial, "bad_response"),
        (Some(200), b"garbage", "bad_response"),
    ];
    for mode in ["hard", "soft"] {
        for (status, body, result) in cases {
            let (action, h) = first_answered(&k, mode, status, body);
            assert_eq!(
                h.counter(&ocsp_counter_name(result)),
                Some(1),
                "{mode} {result}"
            );
            if mode == "hard" {
                assert_eq!(action, Action::Pause, "{result}");
                assert_eq!(deny_reason(&h), "revocation_status_unknown", "{result}");
                assert_eq!(h.resumed, 0);
            } else {
                assert_eq!(action, Action::Continue, "{result}");
                assert_eq!(h.resumed, 1);
                assert_eq!(h.counter(OCSP_SOFT_FAILURES), Some(1));
            }
        }
    }
    // Revoked is a deny in either mode.
    for mode in ["hard", "soft"] {
        let (action, h) = first_answered(&k, mode, Some(200), &revoked);
        assert_eq!(action, Action::Pause);
        assert_eq!(deny_reason(&h), "certificate_revoked");
    }
}

#[test]
fn a_responder_that_cannot_be_asked_is_decided_at_once() {
    let k = pki();
    let mut host = MockHost::default();
    let mut p = plugin(&mut host, &k, "hard");
    let mut h = request(&k, 1, &mut host);
    h.fail_http_calls = true;
    match p.on_request_headers_asking(&mut h) {
        Headers::Done(Action::Pause, _, None) => {}
        other => panic!("not denied at once: {other:?}"),
    }
    assert_eq!(h.counter(&ocsp_counter_name("error")), Some(1));
}

#[test]
fn a_good_answer_near_its_end_is_refreshed_from_the_root_context_and_nobody_waits() {
    let k = pki();
    let mut host = MockHost::default();
    let mut p = plugin(&mut host, &k, "hard");
    let t0 = unix_now();
    let mut first = request(&k, 1, &mut host);
    let mut asking = waiting(p.on_request_headers_asking(&mut first));
    let token = first.http_calls[0].0;
    let good = OcspSpec::default().sign(&k.leaf, &k.inter);
    p.on_ocsp_response(&mut first, &mut asking, (token, Some(200), &good), false)
        .unwrap();

    // Within the last tenth of its hour: decided from the cache at once,
    // and a refresh queued, not sent from the request.
    let mut late = request(&k, 2, &mut first);
    late.now = t0 + 3_400;
    assert!(matches!(
        p.on_request_headers_asking(&mut late),
        Headers::Done(Action::Continue, _, Some(_))
    ));
    assert!(late.http_calls.is_empty());
    let mut root = MockHost {
        now: t0 + 3_400,
        counters: std::mem::take(&mut late.counters),
        ..MockHost::default()
    };
    p.on_tick(&mut root);
    assert_eq!(
        root.http_calls.len(),
        1,
        "the refresh, from the root context"
    );
    let (refresh, cluster, _) = root.http_calls[0].clone();
    assert_eq!(cluster, "ocsp_responders");
    // The responder's next answer, produced then, valid for another hour.
    let renewed = OcspSpec::default()
        .times(3_300, Some(7_200))
        .sign(&k.leaf, &k.inter);
    assert!(p.on_http_call_response(&mut root, refresh, Some(200), &renewed));
    assert_eq!(root.counter(&ocsp_counter_name("good")), Some(2));

    // Past the first answer's end: the renewed one decides, nothing waits.
    let mut after = request(&k, 3, &mut root);
    after.now = t0 + 3_700;
    assert!(matches!(
        p.on_request_headers_asking(&mut after),
        Headers::Done(Action::Continue, _, Some(_))
    ));
    assert!(after.http_calls.is_empty());
    assert_eq!(after.counter(OCSP_PAUSED), Some(1), "only the first waited");
}
