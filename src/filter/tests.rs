use super::Action;
use super::mock::MockHost;
use super::properties::{PEER_CERTIFICATE, PEER_DIGEST, ROUTE_MTLS, TLS_VERSION, dotted};
use crate::config::Config;
use crate::policy::{Decision, Policy};
use crate::state::State;

/// One request through the glue, on a connection nothing is remembered for.
fn on_request_headers(host: &mut MockHost, policy: &Policy) -> (Action, Decision) {
    let plan = super::on_request_headers(host, policy, &mut State::new(16));
    (Action::after(&plan), plan.decision)
}

fn policy(json: &str) -> Policy {
    Policy::new(Config::parse(json.as_bytes()).unwrap())
}

fn body_json(host: &MockHost) -> serde_json::Value {
    let (_, _, body) = host.sent.as_ref().expect("a reply was sent");
    serde_json::from_slice(body).unwrap()
}

#[test]
fn plaintext_is_denied_with_a_one_record_error() {
    let mut host = MockHost::plaintext();
    let (action, _) = on_request_headers(&mut host, &policy(""));
    assert_eq!(action, Action::Pause);
    let (status, headers, _) = host.sent.clone().unwrap();
    assert_eq!(status, 403);
    assert!(headers.contains(&("x-onerecord-deny-reason".into(), "tls_required".into())));
    assert!(headers.contains(&("content-type".into(), "application/ld+json".into())));
    assert_eq!(body_json(&host)["@type"], "api:Error");
}

#[test]
fn tls12_passes_with_annotations_and_forged_headers_stripped() {
    let mut host = MockHost::tls("TLSv1.2");
    host.headers
        .push(("x-onerecord-mtls".into(), "verified".into()));
    host.headers
        .push(("x-onerecord-client-sha256".into(), "forged".into()));
    host.headers.push(("x-other".into(), "kept".into()));
    let (action, _) = on_request_headers(&mut host, &policy(""));
    assert_eq!(action, Action::Continue);
    assert!(host.sent.is_none());
    assert_eq!(host.header("x-onerecord-tls-version"), vec!["TLSv1.2"]);
    assert_eq!(host.header("x-onerecord-mtls"), vec!["none"]);
    assert!(host.header("x-onerecord-client-sha256").is_empty());
    assert_eq!(host.header("x-other"), vec!["kept"]);
}

#[test]
fn custom_prefix_is_used_for_strip_annotate_and_deny() {
    let p = policy(r#"{"annotation_prefix":"x-1r-"}"#);
    let mut host = MockHost::tls("TLSv1.3");
    host.headers.push(("x-1r-mtls".into(), "verified".into()));
    on_request_headers(&mut host, &p);
    assert_eq!(host.header("x-1r-mtls"), vec!["none"]);
    let mut host = MockHost::tls("TLSv1.1");
    on_request_headers(&mut host, &p);
    let (_, headers, _) = host.sent.clone().unwrap();
    assert!(headers.contains(&("x-1r-deny-reason".into(), "tls_version_too_low".into())));
}

#[test]
fn audit_mode_forwards_with_the_audit_header() {
    let mut host = MockHost::tls("TLSv1");
    let (action, decision) = on_request_headers(&mut host, &policy(r#"{"mode":"audit"}"#));
    assert_eq!(action, Action::Continue);
    assert!(host.sent.is_none());
    assert!(!decision.rejects());
    assert_eq!(
        host.header("x-onerecord-policy"),
        vec!["audit-deny; reason=tls_version_too_low"]
    );
}

#[test]
fn failing_property_read_denies() {
    let mut host = MockHost::tls("TLSv1.3");
    host.failing_properties.push(dotted(TLS_VERSION));
    on_request_headers(&mut host, &policy(""));
    assert_eq!(host.deny_reason(), Some("connection_facts_unavailable"));
}

#[test]
fn header_write_failure_denies_instead_of_forwarding_forgeries() {
    let mut host = MockHost::tls("TLSv1.3");
    host.headers
        .push(("x-onerecord-mtls".into(), "verified".into()));
    host.fail_header_writes = true;
    let (action, decision) = on_request_headers(&mut host, &policy(""));
    assert_eq!(action, Action::Pause);
    assert!(decision.rejects());
    assert_eq!(host.sent.as_ref().map(|s| s.0), Some(403));
}

#[test]
fn route_metadata_requires_mtls_and_unknown_values_deny() {
    let p = policy(
        r#"{"trusted_ca_sha256":["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"]}"#,
    );
    let mut host = MockHost::tls("TLSv1.3");
    host.set_property(&dotted(ROUTE_MTLS), b"required");
    on_request_headers(&mut host, &p);
    let (_, headers, _) = host.sent.clone().unwrap();
    assert!(headers.contains(&(
        "x-onerecord-deny-reason".into(),
        "client_certificate_required".into()
    )));

    let mut host = MockHost::tls("TLSv1.3");
    host.set_property(&dotted(ROUTE_MTLS), b"sometimes");
    on_request_headers(&mut host, &p);
    let (_, headers, _) = host.sent.clone().unwrap();
    assert!(headers.contains(&(
        "x-onerecord-deny-reason".into(),
        "route_metadata_invalid".into()
    )));

    let mut host = MockHost::tls("TLSv1.3");
    host.failing_properties.push(dotted(ROUTE_MTLS));
    on_request_headers(&mut host, &p);
    assert!(
        host.sent.is_some(),
        "an unreadable route requirement must deny"
    );
}

#[test]
fn peer_facts_are_read_only_with_a_client_certificate() {
    // Without a client certificate Envoy reports no digest, and nothing else
    // about the peer is read.
    let mut host = MockHost::tls("TLSv1.3");
    host.failing_properties.push(dotted(PEER_CERTIFICATE));
    let (action, _) = on_request_headers(&mut host, &policy(""));
    assert_eq!(action, Action::Continue, "no client cert: no peer reads");
    assert!(
        !host
            .reads
            .borrow()
            .iter()
            .any(|r| *r == dotted(PEER_CERTIFICATE)),
        "{:?}",
        host.reads.borrow()
    );

    // An empty digest is no certificate too.
    let mut host = MockHost::tls("TLSv1.3");
    host.set_property(&dotted(PEER_DIGEST), b"");
    host.failing_properties.push(dotted(PEER_CERTIFICATE));
    let (action, _) = on_request_headers(&mut host, &policy(""));
    assert_eq!(action, Action::Continue);

    // With one, a failing read denies.
    let mut host = MockHost::tls("TLSv1.3");
    host.set_property(&dotted(PEER_DIGEST), &[b'a'; 64]);
    host.failing_properties.push(dotted(PEER_CERTIFICATE));
    let (_, decision) = on_request_headers(&mut host, &policy(""));
    assert_eq!(host.sent.as_ref().map(|s| s.0), Some(403));
    assert_eq!(
        decision.deny_reason(),
        Some(crate::reason::Reason::ConnectionFactsUnavailable)
    );

    let mut host = MockHost::tls("TLSv1.3");
    host.failing_properties.push(dotted(PEER_DIGEST));
    on_request_headers(&mut host, &policy(""));
    assert_eq!(host.sent.as_ref().map(|s| s.0), Some(403));
}

#[test]
fn an_unreadable_header_map_denies() {
    let mut host = MockHost::tls("TLSv1.3");
    host.fail_header_reads = true;
    let (action, decision) = on_request_headers(&mut host, &policy(""));
    assert_eq!(action, Action::Pause);
    assert_eq!(
        decision.deny_reason(),
        Some(crate::reason::Reason::ConnectionFactsUnavailable)
    );
}

#[test]
fn forged_annotations_with_underscores_or_any_case_are_stripped() {
    // A CGI/WSGI backend reads `x_onerecord_mtls` as HTTP_X_ONERECORD_MTLS,
    // exactly the filter's own header.
    let mut host = MockHost::tls("TLSv1.3");
    for name in [
        "x_onerecord_mtls",
        "x-onerecord_client-uri-san",
        "X_ONERECORD-POLICY",
        "x_onerecord_mtls",
    ] {
        host.headers.push((name.into(), "forged".into()));
    }
    host.headers.push(("x_other".into(), "kept".into()));
    let (action, _) = on_request_headers(&mut host, &policy(""));
    assert_eq!(action, Action::Continue);
    let left: Vec<&str> = host.headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        left,
        [
            ":path",
            ":method",
            "x_other",
            "x-onerecord-tls-version",
            "x-onerecord-mtls"
        ]
    );
    // One removal per distinct name, each passed back exactly.
    let removed: Vec<&[u8]> = host.removals.iter().map(|(_, n)| &n[..]).collect();
    assert_eq!(
        removed,
        [
            &b"x_onerecord_mtls"[..],
            b"x-onerecord_client-uri-san",
            b"X_ONERECORD-POLICY"
        ]
    );
}

#[test]
fn a_forged_name_that_is_not_utf8_is_removed_byte_for_byte() {
    let mut host = MockHost::tls("TLSv1.3");
    host.raw_headers
        .push((b"x-onerecord-\xffmtls".to_vec(), b"verified".to_vec()));
    host.raw_headers
        .push((b"x-other-\xff".to_vec(), b"kept".to_vec()));
    let (action, _) = on_request_headers(&mut host, &policy(""));
    assert_eq!(action, Action::Continue);
    assert_eq!(
        host.removals,
        vec![("header", b"x-onerecord-\xffmtls".to_vec())]
    );
    assert_eq!(
        host.raw_headers,
        vec![(b"x-other-\xff".to_vec(), b"kept".to_vec())]
    );
}

#[test]
fn a_forged_header_the_host_did_not_remove_denies() {
    let mut host = MockHost::tls("TLSv1.3");
    host.headers
        .push(("x_onerecord_mtls".into(), "verified".into()));
    host.ignore_removals = true;
    let (action, decision) = on_request_headers(&mut host, &policy(""));
    assert_eq!(action, Action::Pause);
    assert_eq!(
        decision.deny_reason(),
        Some(crate::reason::Reason::ConnectionFactsUnavailable)
    );
    assert_eq!(host.deny_reason(), Some("connection_facts_unavailable"));
}

#[test]
fn without_forged_headers_the_map_is_read_once_and_nothing_removed() {
    let mut host = MockHost::tls("TLSv1.3");
    host.headers
        .push(("x-onerecordx".into(), "not ours".into()));
    on_request_headers(&mut host, &policy(""));
    assert!(host.removals.is_empty());
    assert_eq!(host.read_count("headers"), 1);
}
