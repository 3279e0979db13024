//! Answers that end: refreshed in the background while traffic goes on,
//! and a revocation that reaches an open connection once the good answer
//! it had expires.

use super::*;
use std::time::{Duration, Instant};

/// `max_cache_seconds` 10: refreshed 3 s before each answer ends, from
/// the root context's tick; a request every 250 ms for two lifetimes never
/// waits after the first, on an open connection and on new ones.
#[test]
fn steady_traffic_never_waits_while_answers_are_refreshed() {
    let port = free_port();
    let leaf = client("ocsp-steady", port);
    let responder = OcspResponder::start(port, root(), 60, &[(&leaf, false)]);
    let config = policy_with("hard", json!({ "max_cache_seconds": 10 }));
    let s = start_spec(EnvoySpec::new(&config), responder.cluster("ocsp"));
    let mut connection = s.client().cert(&leaf).connect(s.tls()).expect("connect");
    let start = Instant::now();
    let mut sent = 0;
    while start.elapsed() < Duration::from_secs(22) {
        let resp = if sent % 8 == 7 {
            get(&s, &leaf)
        } else {
            connection.get(PATH)
        };
        sent += 1;
        assert_eq!(
            resp.status,
            200,
            "request {sent}: {resp:#?}\n{}",
            diagnose(&s)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(s.upstream.count(), sent);
    assert_eq!(
        paused(&s),
        1,
        "only the first request waited\n{}",
        diagnose(&s)
    );
    let asked_good = asked(&s, "good");
    assert!(asked_good >= 3, "refreshed at least twice: {asked_good}");
    assert_eq!(responder.requests() as u64, asked_good);
}

/// A client revoked after its good answer was cached is refused on its
/// open connection once that answer expires (`max_cache_seconds` 2).
#[test]
fn a_revocation_reaches_an_open_connection_when_the_cached_answer_expires() {
    let port = free_port();
    let leaf = client("ocsp-later-revoked", port);
    let mut responder = OcspResponder::start(port, root(), 60, &[(&leaf, false)]);
    let config = policy_with("hard", json!({ "max_cache_seconds": 2 }));
    let s = start_spec(EnvoySpec::new(&config), responder.cluster("ocsp"));
    let mut connection = s.client().cert(&leaf).connect(s.tls()).expect("connect");
    assert_eq!(connection.get(PATH).status, 200);
    responder.stop();
    let revoking = OcspResponder::start(port, root(), 60, &[(&leaf, true)]);
    std::thread::sleep(Duration::from_secs(3));
    let resp = connection.get(PATH);
    assert_refused(
        &s,
        &resp,
        "certificate_revoked",
        "revoked on the open connection",
    );
    assert_eq!(revoking.requests(), 1);
    // From then on, without asking again.
    assert_eq!(connection.get(PATH).status, 403);
    assert_eq!(get(&s, &leaf).status, 403);
    assert_eq!(revoking.requests(), 1);
}
