//! OCSP against a real Envoy and OpenSSL's own responder: a good client
//! passes and is not asked about again until nextUpdate, a revoked one is
//! refused, a responder that cannot answer is `revocation_status_unknown`
//! in hard mode and a counted pass in soft mode. Each test runs its own
//! Envoy and responder.

use onerecord_tls_policy_testkit as support;
use serde_json::{Value, json};
use support::bootstrap::EnvoySpec;
use support::fixture::TestPki;
use support::http::Response;
use support::ocsp_responder::{OcspResponder, free_port, static_cluster};
use support::onerecord::deny_reason;
use support::pki::{CertSpec, Issued, issue};
use support::policies::{pinned_client_ca, with};
use support::stack::Stack;

const PATH: &str = "/logistics-objects/1";

fn root() -> &'static Issued {
    &TestPki::shared().client_ca
}

/// A client of the pinned root whose AIA names the responder on `port`.
fn client(name: &str, port: u16) -> Issued {
    issue(
        &CertSpec::client(name).extension("authorityInfoAccess", &OcspResponder::aia(port)),
        root(),
    )
}

fn policy(mode: &str) -> Value {
    with(
        with(pinned_client_ca(), json!({ "mtls": "required" })),
        json!({ "ocsp": { "mode": mode, "cluster": "ocsp", "timeout_ms": 1000 } }),
    )
}

/// Envoy with the policy and `cluster` as cluster `ocsp`.
fn start(mode: &str, cluster: Value) -> Stack {
    Stack::start_edited(EnvoySpec::new(&policy(mode)), move |bootstrap, _| {
        bootstrap["static_resources"]["clusters"]
            .as_array_mut()
            .expect("clusters")
            .push(cluster);
    })
}

/// A counter of the filter's from `/stats` (0 when not there yet).
fn counter(s: &Stack, name: &str) -> u64 {
    let name = format!("wasmcustom.onerecord_tls_policy.{name}: ");
    s.envoy
        .admin_get("/stats")
        .text()
        .lines()
        .find_map(|line| line.strip_prefix(name.as_str()))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The filter's OCSP counters and log lines, for a failure message.
fn diagnose(s: &Stack) -> String {
    let stats = s.envoy.admin_get("/stats").text();
    let counters: Vec<&str> = stats.lines().filter(|l| l.contains("ocsp")).collect();
    let log = s.envoy.log();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("OCSP") || l.contains("ocsp"))
        .collect();
    format!("{counters:#?}\n{lines:#?}")
}

fn asked(s: &Stack, result: &str) -> u64 {
    counter(s, &format!("ocsp_responses_total.result.{result}"))
}

fn get(s: &Stack, leaf: &Issued) -> Response {
    s.client().cert(leaf).get(s.tls(), PATH)
}

#[test]
fn a_good_client_passes_and_is_asked_about_once() {
    let port = free_port();
    let good = client("ocsp-good", port);
    let responder = OcspResponder::start(port, root(), 60, &[(&good, false)]);
    let s = start("hard", responder.cluster("ocsp"));

    let resp = get(&s, &good);
    assert_eq!(resp.status, 200, "{}", diagnose(&s));
    assert_eq!(s.upstream.count(), 1);
    // More requests on new connections: the cached answer decides them.
    for _ in 0..3 {
        assert_eq!(get(&s, &good).status, 200);
    }
    let mut connection = s.client().cert(&good).connect(s.tls()).expect("connect");
    for _ in 0..3 {
        assert_eq!(connection.get(PATH).status, 200);
    }
    assert_eq!(asked(&s, "good"), 1, "one query per VM until nextUpdate");
    assert!(counter(&s, "ocsp_cache_hits_total") >= 6);
}

#[test]
fn a_revoked_client_is_refused() {
    let port = free_port();
    let revoked = client("ocsp-revoked", port);
    let responder = OcspResponder::start(port, root(), 60, &[(&revoked, true)]);
    let s = start("soft", responder.cluster("ocsp"));
    for _ in 0..2 {
        let resp = get(&s, &revoked);
        assert_eq!(
            (resp.status, deny_reason(&resp)),
            (403, Some("certificate_revoked")),
            "{resp:#?}"
        );
    }
    assert_eq!(s.upstream.count(), 0);
    assert_eq!(asked(&s, "revoked"), 1);
}

#[test]
fn an_unknown_client_and_a_dead_responder_are_unknown_in_hard_mode_and_pass_in_soft_mode() {
    // The responder knows nothing of this client: `unknown`.
    let port = free_port();
    let stranger = client("ocsp-stranger", port);
    let responder = OcspResponder::start(port, root(), 60, &[]);
    let s = start("hard", responder.cluster("ocsp"));
    let resp = get(&s, &stranger);
    assert_eq!(
        (resp.status, deny_reason(&resp)),
        (403, Some("revocation_status_unknown")),
        "{resp:#?}"
    );
    assert_eq!(asked(&s, "unknown"), 1);
    drop(s);

    // Nobody listens on the responder's port.
    let dead = free_port();
    let orphan = client("ocsp-orphan", dead);
    let nowhere = static_cluster("ocsp", ([127, 0, 0, 1], dead).into());
    let s = start("hard", nowhere.clone());
    let resp = get(&s, &orphan);
    assert_eq!(
        (resp.status, deny_reason(&resp)),
        (403, Some("revocation_status_unknown")),
        "{resp:#?}"
    );
    assert_eq!(s.upstream.count(), 0);
    drop(s);

    let s = start("soft", nowhere);
    let resp = get(&s, &orphan);
    assert_eq!(resp.status, 200, "{resp:#?}");
    assert_eq!(s.upstream.count(), 1);
    assert_eq!(counter(&s, "ocsp_soft_failures_total"), 1);
    assert_eq!(asked(&s, "error") + asked(&s, "timeout"), 1);
}

/// Writes a response about a leaf of an issuer, with a defect.
type Defective = fn(&Issued, &Issued) -> Vec<u8>;

/// Responses the test kit writes with a defect, served by a plain server
/// behind the static cluster: each is no answer (one client per case, so
/// no case meets another's cached failure).
#[test]
fn bad_signatures_other_serials_stale_and_slow_answers_are_unknown_in_hard_mode() {
    use std::sync::Arc;
    use support::crl_server::CrlServer;
    use support::ocsp::OcspSpec;
    use support::upstream::{Reply, Upstream};

    let server = CrlServer::start();
    let port = server.addr().port();
    let s = start("hard", server.cluster("ocsp"));
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
    for (i, (what, response)) in cases.iter().enumerate() {
        let leaf = client(&format!("ocsp-defect-{i}"), port);
        server.serve(&response(&leaf, root()));
        let resp = get(&s, &leaf);
        assert_eq!(
            (resp.status, deny_reason(&resp)),
            (403, Some("revocation_status_unknown")),
            "{what}: {resp:#?}"
        );
    }
    assert_eq!(asked(&s, "bad_response"), 3, "{}", diagnose(&s));
    // The control: a good answer from the same server passes.
    let fine = client("ocsp-defect-control", port);
    server.serve(&OcspSpec::default().sign(&fine, root()));
    assert_eq!(get(&s, &fine).status, 200);
    drop(s);

    // Slower than timeout_ms (1 s): Envoy ends the call.
    let slow = Upstream::serve(
        ([127, 0, 0, 1], 0).into(),
        Arc::new(|_| {
            std::thread::sleep(std::time::Duration::from_millis(2500));
            Reply {
                status: 200,
                headers: Vec::new(),
                body: Vec::new(),
            }
        }),
    )
    .expect("bind the slow responder");
    let late = client("ocsp-slow", slow.addr().port());
    let s = start("hard", static_cluster("ocsp", slow.addr()));
    let resp = get(&s, &late);
    assert_eq!(
        (resp.status, deny_reason(&resp)),
        (403, Some("revocation_status_unknown")),
        "{resp:#?}"
    );
    assert_eq!(asked(&s, "timeout"), 1, "{}", diagnose(&s));
}

/// A client revoked after its good answer was cached is refused on its
/// open connection once that answer expires (`max_cache_seconds` 2).
#[test]
fn a_revocation_reaches_an_open_connection_when_the_cached_answer_expires() {
    let port = free_port();
    let leaf = client("ocsp-later-revoked", port);
    let mut responder = OcspResponder::start(port, root(), 60, &[(&leaf, false)]);
    let config = with(
        policy("hard"),
        json!({ "ocsp": { "mode": "hard", "cluster": "ocsp", "timeout_ms": 1000, "max_cache_seconds": 2 } }),
    );
    let cluster = responder.cluster("ocsp");
    let s = Stack::start_edited(EnvoySpec::new(&config), move |bootstrap, _| {
        bootstrap["static_resources"]["clusters"]
            .as_array_mut()
            .expect("clusters")
            .push(cluster);
    });
    let mut connection = s.client().cert(&leaf).connect(s.tls()).expect("connect");
    assert_eq!(connection.get(PATH).status, 200);
    responder.stop();
    let _revoking = OcspResponder::start(port, root(), 60, &[(&leaf, true)]);
    std::thread::sleep(std::time::Duration::from_secs(3));
    let resp = connection.get(PATH);
    assert_eq!(
        (resp.status, deny_reason(&resp)),
        (403, Some("certificate_revoked")),
        "{resp:#?}\n{}",
        diagnose(&s)
    );
}
