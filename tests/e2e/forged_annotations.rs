//! Forged annotations in the forms a backend still reads as the filter's:
//! header names with `_` for `-` or in any case (a CGI/WSGI backend reads
//! `x_onerecord_mtls` as `HTTP_X_ONERECORD_MTLS`), and annotation names sent
//! as request trailers, over HTTP/1.1 and HTTP/2, against a real Envoy.
//! Each case checks what the recording upstream received.

use onerecord_tls_policy_testkit as support;

use serde_json::{Value, json};
use std::collections::BTreeMap;
use support::bootstrap::{EnvoySpec, HcmSettings};
use support::h2::{H2Connection, H2Error, H2Request};
use support::http::{Request, Response};
use support::onerecord::{assert_allowed, assert_annotated};
use support::policies::{DELEGATION, OBJECT, delegations_rule, pinned_client_ca, with};
use support::stack::Stack;
use support::upstream::Echo;

const PREFIX: &str = "x-onerecord-";
/// The URI SAN of the test PKI's client certificate.
const AIRLINE_URI: &str = "https://1r.example.com/logistics-agents/airline-1";

/// Names a backend reads as annotations, with the values a forger wants
/// (all but `mtls` marked `forged`).
const FORGED: &[(&str, &str)] = &[
    ("x_onerecord_mtls", "verified"),
    (
        "x-onerecord_client-uri-san",
        "https://1r.example.com/logistics-agents/forged",
    ),
    ("x_onerecord_client_sha256", "forged-sha256"),
];
/// Upper case only reaches the filter over HTTP/1.1 (Envoy lowercases it);
/// HTTP/2 forbids it.
const FORGED_UPPER: (&str, &str) = ("X_ONERECORD-POLICY", "allow");

/// The client CA pinned (and given, as clients send only their leaf), mTLS
/// required under `/access-delegations`.
fn policy() -> Value {
    with(pinned_client_ca(), json!({ "rules": [delegations_rule()] }))
}

fn folded(name: &str) -> String {
    name.to_ascii_lowercase().replace('_', "-")
}

/// Every header the upstream got that a backend reads under the prefix,
/// by its name as received.
fn read_as_annotations(echo: &Echo) -> BTreeMap<String, Vec<String>> {
    echo.headers
        .iter()
        .filter(|(name, _)| folded(name).starts_with(PREFIX))
        .map(|(name, values)| (name.clone(), values.clone()))
        .collect()
}

/// Only the filter's own annotations arrived: each under its exact name,
/// once, and mTLS as the filter found it.
fn assert_only_the_filters_annotations(resp: &Response, mtls: &str) -> Echo {
    let echo = assert_allowed(resp);
    assert_annotated(&echo, "TLSv1.3", mtls);
    let seen = read_as_annotations(&echo);
    assert_eq!(
        seen,
        echo.with_prefix(PREFIX),
        "a forged name arrived: {seen:#?}"
    );
    for values in seen.values() {
        assert_eq!(values.len(), 1, "{seen:#?}");
    }
    // `x_onerecord_mtls: verified` shows in `mtls` (asserted above); the
    // other forged values say so.
    assert!(
        !seen.values().flatten().any(|v| v.contains("forged")),
        "a forged value arrived: {seen:#?}"
    );
    echo
}

fn h1_forged(path: &str) -> Request {
    let mut req = Request::get(path);
    for (name, value) in FORGED.iter().chain([&FORGED_UPPER]) {
        req = req.header(name, value);
    }
    req.header("x_other", "kept")
}

fn h2_forged(path: &str) -> H2Request {
    let mut req = H2Request::get(path);
    for (name, value) in FORGED {
        req = req.header(name.as_bytes(), value.as_bytes());
    }
    req.header(b"x_other", b"kept")
}

/// With Envoy's default `headers_with_underscores_action` (ALLOW), names
/// with `_` reach the filter, which strips them.
#[test]
fn underscore_and_mixed_case_annotations_never_reach_the_upstream() {
    let s = Stack::start_spec(EnvoySpec::new(&policy()).hcm(HcmSettings::Bare));
    let anonymous = s.client();
    let verified = s.client().cert(&s.pki.client);

    for client in [&anonymous, &verified] {
        let mtls = if client.cert.is_some() {
            "verified"
        } else {
            "none"
        };
        let path = if client.cert.is_some() {
            DELEGATION
        } else {
            OBJECT
        };

        let h1 = client.send(s.tls(), &h1_forged(path));
        let h2 = H2Connection::connect(client, s.tls()).send(&h2_forged(path));
        for resp in [h1, h2.expect("an h2 response")] {
            let echo = assert_only_the_filters_annotations(&resp, mtls);
            assert_eq!(
                echo.get("x_other"),
                Some("kept"),
                "Envoy allows underscores here"
            );
            let uri = client.cert.as_ref().map(|_| AIRLINE_URI);
            assert_eq!(echo.get("x-onerecord-client-uri-san"), uri);
        }
    }
}

/// `headers_with_underscores_action: REJECT_REQUEST`, as `envoy/envoy.yaml`
/// sets it: Envoy refuses such requests before any filter runs.
#[test]
fn hardened_settings_make_envoy_refuse_names_with_underscores() {
    let s = Stack::start_spec(EnvoySpec::new(&policy()).hcm(HcmSettings::Hardened));
    let client = s.client().cert(&s.pki.client);

    let resp = client.send(
        s.tls(),
        &Request::get(DELEGATION).header("x_onerecord_mtls", "verified"),
    );
    assert_eq!(resp.status, 400, "{resp:#?}");

    let sent = H2Request::get(DELEGATION).header(b"x_onerecord_mtls", b"verified");
    let resp = H2Connection::connect(&client, s.tls()).send(&sent);
    // HTTP/2 has no 400 for it: Envoy 1.36 and 1.40 reset the stream
    // (INTERNAL_ERROR).
    assert!(matches!(resp, Err(H2Error::Reset(_))), "{resp:?}");
    assert_eq!(s.upstream.count(), 0, "{:#?}", s.upstream.seen());

    // The filter's own annotations still arrive on a clean request.
    let echo = assert_allowed(&client.get(s.tls(), DELEGATION));
    assert_annotated(&echo, "TLSv1.3", "verified");
}

/// Trailers a backend could read as annotations, and one it must still get.
fn trailers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("x-onerecord-mtls", "verified"),
        (
            "x_onerecord_client-uri-san",
            "https://1r.example.com/logistics-agents/forged",
        ),
        ("x-checksum", "abc123"),
    ]
}

fn assert_trailers_stripped(resp: &Response) {
    let echo = assert_allowed(resp);
    assert_annotated(&echo, "TLSv1.3", "none");
    let expected = BTreeMap::from([("x-checksum".to_string(), vec!["abc123".to_string()])]);
    assert_eq!(
        echo.trailers(),
        expected,
        "upstream headers: {:#?}",
        echo.headers
    );
}

#[test]
fn annotation_names_in_request_trailers_are_removed() {
    let s = Stack::start_spec(EnvoySpec::new(&policy()).hcm(HcmSettings::Bare).trailers());

    // HTTP/2: HEADERS, DATA, then trailing HEADERS with END_STREAM.
    let mut req = H2Request::new("POST", OBJECT.as_bytes()).body(b"{}");
    for (name, value) in trailers() {
        req = req.trailer(name.as_bytes(), value.as_bytes());
    }
    let resp = H2Connection::connect(&s.client(), s.tls()).send(&req);
    assert_trailers_stripped(&resp.expect("an h2 response"));

    // HTTP/1.1: a chunked body with trailers, which this listener accepts.
    let mut raw = format!(
        "POST {OBJECT} HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{{}}\r\n0\r\n"
    );
    for (name, value) in trailers() {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    raw.push_str("\r\n");
    let resp = s.client().open(s.tls()).send_raw(raw.as_bytes());
    assert_trailers_stripped(&resp.expect("an HTTP/1.1 response"));

    assert_eq!(s.upstream.count(), 2);
}
