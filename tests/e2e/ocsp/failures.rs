//! Responders that give no valid answer: unknown, down, a bad signature,
//! another serial, stale, `tryLater`, slower than `timeout_ms`. Each is
//! `revocation_status_unknown` in hard mode and a counted pass in soft
//! mode; a client that leaves while its request waits leaves nothing
//! behind.

use super::*;
use std::sync::Arc;
use std::time::Duration;
use support::crl_server::CrlServer;
use support::ocsp::OcspSpec;
use support::ocsp_responder::static_cluster;
use support::upstream::{Reply, Upstream};

/// What each mode makes of a request without a valid answer: hard
/// refuses, soft passes it counted. `before` is the upstream's count
/// before the request.
fn assert_no_answer(s: &Stack, mode: &str, resp: &Response, before: usize, what: &str) {
    if mode == "hard" {
        assert_refused(s, resp, "revocation_status_unknown", what);
        assert_eq!(s.upstream.count(), before, "{what}: not forwarded");
    } else {
        assert_eq!(resp.status, 200, "{what}: {resp:#?}\n{}", diagnose(s));
        assert_eq!(s.upstream.count(), before + 1, "{what}: forwarded");
    }
}

/// A responder that answers after `delay`, with nothing.
fn slow_responder(delay: Duration) -> Upstream {
    Upstream::serve(
        ([127, 0, 0, 1], 0).into(),
        Arc::new(move |_| {
            std::thread::sleep(delay);
            Reply {
                status: 200,
                headers: Vec::new(),
                body: Vec::new(),
            }
        }),
    )
    .expect("bind the slow responder")
}

#[test]
fn an_unknown_client_and_a_dead_responder_are_unknown_in_hard_mode_and_pass_in_soft_mode() {
    for mode in ["hard", "soft"] {
        // The responder knows nothing of this client: `unknown`.
        let port = free_port();
        let stranger = client("ocsp-stranger", port);
        let responder = OcspResponder::start(port, root(), 60, &[]);
        let s = start(mode, responder.cluster("ocsp"));
        assert_no_answer(&s, mode, &get(&s, &stranger), 0, "unknown");
        assert_eq!(asked(&s, "unknown"), 1);
        assert_eq!(responder.requests(), 1);
        drop(s);

        // Nobody listens on the responder's port.
        let dead = free_port();
        let orphan = client("ocsp-orphan", dead);
        let s = start(mode, static_cluster("ocsp", ([127, 0, 0, 1], dead).into()));
        assert_no_answer(&s, mode, &get(&s, &orphan), 0, "dead");
        assert_eq!(asked(&s, "error") + asked(&s, "timeout"), 1);
        let soft_failures = counter(&s, "ocsp_soft_failures_total");
        assert_eq!(soft_failures, u64::from(mode == "soft"), "{mode}");
    }
}

/// Writes a response about a leaf of an issuer, with a defect.
type Defective = fn(&Issued, &Issued) -> Vec<u8>;

/// Responses the test kit writes with a defect, served by a plain server
/// behind the static cluster: each is no answer (one client per case, so
/// no case meets another's cached failure).
#[test]
fn bad_signatures_other_serials_stale_answers_and_try_later_are_no_answer() {
    let cases: [(&str, Defective); 3] = [
        ("bad signature", |leaf, issuer| {
            let other = support::pki::self_signed(&CertSpec::ca("Stranger"));
            OcspSpec::default().sign_with(leaf, issuer, &other, &[])
        }),
        ("other serial", |leaf, issuer| {
            OcspSpec::default()
                .serial(vec![0x01, 0x02, 0x03])
                .sign(leaf, issuer)
        }),
        ("stale", |leaf, issuer| {
            OcspSpec::default()
                .times(-7200, Some(-60))
                .sign(leaf, issuer)
        }),
    ];
    for mode in ["hard", "soft"] {
        let server = CrlServer::start();
        let port = server.addr().port();
        let s = start(mode, server.cluster("ocsp"));
        for (i, (what, response)) in cases.iter().enumerate() {
            let leaf = client(&format!("ocsp-defect-{mode}-{i}"), port);
            server.serve(&response(&leaf, root()));
            let before = s.upstream.count();
            assert_no_answer(&s, mode, &get(&s, &leaf), before, what);
        }
        assert_eq!(asked(&s, "bad_response"), 3, "{}", diagnose(&s));
        // tryLater: a responder that answers, but with no status.
        let busy = client(&format!("ocsp-defect-{mode}-busy"), port);
        server.serve(&OcspSpec::default().response_status(3).sign(&busy, root()));
        let before = s.upstream.count();
        assert_no_answer(&s, mode, &get(&s, &busy), before, "tryLater");
        assert_eq!(asked(&s, "error"), 1, "{}", diagnose(&s));
        let soft_failures = counter(&s, "ocsp_soft_failures_total");
        assert_eq!(soft_failures, if mode == "soft" { 4 } else { 0 });
        // The control: a good answer from the same server passes.
        let fine = client(&format!("ocsp-defect-{mode}-control"), port);
        server.serve(&OcspSpec::default().sign(&fine, root()));
        assert_eq!(get(&s, &fine).status, 200);
        assert_eq!(asked(&s, "good"), 1);
    }
}

#[test]
fn an_answer_slower_than_timeout_ms_is_a_timeout() {
    let slow = slow_responder(Duration::from_millis(2500));
    for mode in ["hard", "soft"] {
        let late = client(&format!("ocsp-slow-{mode}"), slow.addr().port());
        let s = start(mode, static_cluster("ocsp", slow.addr()));
        assert_no_answer(&s, mode, &get(&s, &late), 0, "slow");
        assert_eq!(asked(&s, "timeout"), 1, "{}", diagnose(&s));
    }
}

/// The client goes away while its request waits for a slow responder:
/// Envoy ends the stream and its call, nothing is forwarded or answered
/// late, and the filter keeps serving (the next request is decided).
#[test]
fn a_client_that_leaves_while_its_request_waits_leaves_nothing_behind() {
    use std::io::Write;
    let slow = slow_responder(Duration::from_millis(1500));
    let leaf = client("ocsp-leaving", slow.addr().port());
    let spec = EnvoySpec::new(&policy_with("hard", json!({ "timeout_ms": 3000 })));
    let s = start_spec(spec, static_cluster("ocsp", slow.addr()));
    let prepared = s.client().cert(&leaf).prepare().expect("client");
    for _ in 0..3 {
        let mut stream = prepared.connect_tls(s.tls()).expect("connect");
        support::http::write_request(&mut stream, &support::http::Request::get(PATH), "localhost")
            .expect("send");
        stream.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(300));
        drop(stream);
    }
    assert_eq!(paused(&s), 3, "{}", diagnose(&s));
    // Past every call's answer: none reached a stream or the upstream.
    std::thread::sleep(Duration::from_millis(2000));
    assert_eq!(s.upstream.count(), 0);
    // Decided once it is asked again and waits its turn.
    let resp = get(&s, &leaf);
    assert_refused(
        &s,
        &resp,
        "revocation_status_unknown",
        "asked again after the clients left",
    );
    let log = s.envoy.log();
    for bad in ["panicked", "cannot resume", "Function: proxy_on"] {
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(bad)).collect();
        assert!(lines.is_empty(), "{bad}: {lines:#?}");
    }
    // Envoy still decides other requests at once.
    let resp = s.client().get(s.tls(), PATH);
    assert_refused(
        &s,
        &resp,
        "client_certificate_required",
        "no certificate, while calls wait",
    );
}
