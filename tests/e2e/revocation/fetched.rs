//! `crl_sources`: a CRL server behind a cluster, and what the filter does
//! with what it serves.

use super::*;

#[test]
fn a_fetched_crl_refuses_a_client_on_its_open_connection() {
    let server = CrlServer::start();
    server.serve(&CrlSpec::default().number(Some(1)).sign(root()).der);
    let s = start_with_server(json!({ "crl_sources": source(2) }), &server);
    let leaf = client("crl-live", root());
    let mut conn = presenting(&s, &leaf, &[]).open(s.tls());
    assert!(
        eventually(Duration::from_secs(10), || conn.get(PATH).status == 200),
        "allowed once the first CRL is in force"
    );

    server.serve(
        &CrlSpec::default()
            .number(Some(2))
            .revoke(&leaf)
            .sign(root())
            .der,
    );
    let mut last = None;
    let refused = eventually(Duration::from_secs(6), || {
        let resp = conn.get(PATH);
        last = reason(&resp).map(str::to_string);
        resp.status == 403
    });
    assert!(
        refused,
        "still allowed on the open connection; last: {last:?}"
    );
    assert_eq!(last.as_deref(), Some("certificate_revoked"));
    assert!(fetches(&s, "ok") >= 2);
}

#[test]
fn rejected_or_failed_fetches_keep_the_last_good_crl_and_are_counted() {
    let mut server = CrlServer::start();
    let (revoked, kept) = (
        client("crl-kept-revoked", root()),
        client("crl-kept-good", root()),
    );
    let good = CrlSpec::default()
        .number(Some(5))
        .revoke(&revoked)
        .sign(root());
    server.serve(&good.der);
    let s = start_with_server(json!({ "crl_sources": source(1) }), &server);
    let verdicts = |s: &Stack| {
        let r = presenting(s, &revoked, &[]).get(s.tls(), PATH);
        let k = presenting(s, &kept, &[]).get(s.tls(), PATH);
        (reason(&r).map(str::to_string), k.status)
    };
    assert!(eventually(Duration::from_secs(10), || fetches(&s, "ok") >= 1));
    let in_force = (Some("certificate_revoked".to_string()), 200);
    assert_eq!(verdicts(&s), in_force);

    let forged = CrlSpec::default()
        .number(Some(6))
        .sign_as(root(), &TestPki::shared().other_root);
    let older = CrlSpec::default()
        .times(-7200, Some(86_400))
        .number(Some(4))
        .sign(root());
    for (serve, result) in [
        (forged.der.clone(), "bad_signature"),
        (older.der.clone(), "older"),
        (b"not a CRL".to_vec(), "parse_error"),
    ] {
        server.serve(&serve);
        assert!(
            eventually(Duration::from_secs(10), || fetches(&s, result) >= 1),
            "{result} counted"
        );
        assert_eq!(verdicts(&s), in_force, "after {result}");
    }
    server.not_found();
    assert!(eventually(Duration::from_secs(10), || fetches(
        &s,
        "http_error"
    ) >= 1));
    assert_eq!(verdicts(&s), in_force, "after a 404");
    let before = fetches(&s, "http_error");
    server.stop();
    assert!(eventually(Duration::from_secs(15), || fetches(
        &s,
        "http_error"
    ) > before));
    assert_eq!(verdicts(&s), in_force, "with the server gone");
}

#[test]
fn a_source_never_fetched_or_stale_past_the_grace_is_status_unknown() {
    let server = CrlServer::start();
    let s = start_with_server(
        json!({ "crl_sources": source(1), "crl_grace_seconds": 0 }),
        &server,
    );
    let leaf = client("crl-unknown", root());
    assert!(eventually(Duration::from_secs(10), || fetches(
        &s,
        "http_error"
    ) >= 1));
    let resp = presenting(&s, &leaf, &[]).get(s.tls(), PATH);
    assert_eq!(
        (resp.status, reason(&resp)),
        (403, Some("revocation_status_unknown"))
    );

    // Accepted, but past its nextUpdate with no grace.
    server.serve(&CrlSpec::default().times(-7200, Some(-60)).sign(root()).der);
    assert!(eventually(Duration::from_secs(10), || fetches(&s, "ok") >= 1));
    let resp = presenting(&s, &leaf, &[]).get(s.tls(), PATH);
    assert_eq!(
        (resp.status, reason(&resp)),
        (403, Some("revocation_status_unknown"))
    );
    assert_eq!(s.upstream.count(), 0);
}

#[test]
fn an_intermediate_revoked_by_the_fetched_root_crl_is_refused() {
    let server = CrlServer::start();
    let inter = intermediate();
    server.serve(&CrlSpec::default().revoke(inter).sign(root()).der);
    let s = start_with_server(json!({ "crl_sources": source(2) }), &server);
    let leaf = client("crl-under-revoked", inter);
    assert!(eventually(Duration::from_secs(10), || fetches(&s, "ok") >= 1));
    let resp = presenting(&s, &leaf, &[inter]).get(s.tls(), PATH);
    assert_eq!(
        (resp.status, reason(&resp)),
        (403, Some("certificate_revoked")),
        "{resp:#?}"
    );
}
