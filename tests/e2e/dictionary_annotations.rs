//! `annotation_format: "dictionary"` on a real Envoy: the backend gets one
//! `x-onerecord-facts` header, an RFC 8941 dictionary it can parse, and no
//! client-sent copy of it or of the per-fact headers (in any case, with `_`,
//! or as a trailer), over HTTP/1.1 and HTTP/2. Checked on what the recording
//! upstream received.

use onerecord_tls_policy_testkit as support;

use serde_json::{Value, json};
use sfv::{BareItem, Dictionary, ListEntry, Parser};
use support::bootstrap::{EnvoySpec, HcmSettings};
use support::h2::{H2Connection, H2Request};
use support::http::{Request, Response};
use support::onerecord::assert_allowed;
use support::policies::{DELEGATION, OBJECT, delegations_rule, pinned_client_ca, with};
use support::stack::Stack;
use support::upstream::Echo;

const PREFIX: &str = "x-onerecord-";
const AIRLINE_URI: &str = "https://1r.example.com/logistics-agents/airline-1";

/// Forgeries of the dictionary and of the per-fact headers, as names a
/// backend reads under the prefix.
const FORGED: &[(&str, &str)] = &[
    ("x_onerecord_facts", "mtls=verified, rule=\"forged\""),
    ("x-onerecord-mtls", "verified"),
    ("x_onerecord_client_sha256", "forged"),
];

fn policy(extra: Value) -> Value {
    let base = with(pinned_client_ca(), json!({ "rules": [delegations_rule()] }));
    with(
        with(base, json!({ "annotation_format": "dictionary" })),
        extra,
    )
}

/// The one header under the prefix, parsed; nothing else a backend could
/// read as an annotation.
fn the_dictionary(echo: &Echo) -> Dictionary {
    let under_prefix: Vec<(&String, &Vec<String>)> = echo
        .headers
        .iter()
        .filter(|(name, _)| {
            name.to_ascii_lowercase()
                .replace('_', "-")
                .starts_with(PREFIX)
        })
        .collect();
    let [(name, values)] = under_prefix.as_slice() else {
        panic!("one annotation header expected: {under_prefix:#?}");
    };
    assert_eq!(name.as_str(), "x-onerecord-facts");
    let [value] = values.as_slice() else {
        panic!("one value expected: {values:?}");
    };
    assert!(!value.contains("forged"), "{value}");
    Parser::new(value.as_str())
        .parse_dictionary()
        .unwrap_or_else(|e| panic!("{value:?} is not a dictionary: {e}"))
}

fn member<'a>(dict: &'a Dictionary, key: &str) -> Option<&'a ListEntry> {
    dict.iter().find(|(k, _)| k.as_str() == key).map(|(_, e)| e)
}

fn bare(dict: &Dictionary, key: &str) -> Option<BareItem> {
    match member(dict, key)? {
        ListEntry::Item(item) => Some(item.bare_item.clone()),
        ListEntry::InnerList(_) => None,
    }
}

fn token(dict: &Dictionary, key: &str) -> Option<String> {
    bare(dict, key)?.as_token().map(|t| t.as_str().to_string())
}

fn string(dict: &Dictionary, key: &str) -> Option<String> {
    bare(dict, key)?.as_string().map(|s| s.as_str().to_string())
}

fn uris(dict: &Dictionary) -> Vec<String> {
    match member(dict, "client-uri-san") {
        Some(ListEntry::InnerList(list)) => list
            .items
            .iter()
            .filter_map(|i| i.bare_item.as_string().map(|s| s.as_str().to_string()))
            .collect(),
        other => panic!("client-uri-san: {other:?}"),
    }
}

fn h1(path: &str) -> Request {
    let mut req = Request::get(path).header("X-OneRecord-Facts", "mtls=verified");
    for (name, value) in FORGED {
        req = req.header(name, value);
    }
    req
}

fn h2(path: &str) -> H2Request {
    let mut req = H2Request::get(path);
    for (name, value) in FORGED {
        req = req.header(name.as_bytes(), value.as_bytes());
    }
    req
}

#[test]
fn the_backend_gets_one_dictionary_with_the_verified_facts_and_no_forgery() {
    let s = Stack::start_spec(EnvoySpec::new(&policy(json!({}))).hcm(HcmSettings::Bare));
    let verified = s.client().cert(&s.pki.client);
    let h1_resp = verified.send(s.tls(), &h1(DELEGATION));
    let h2_resp = H2Connection::connect(&verified, s.tls()).send(&h2(DELEGATION));
    for resp in [h1_resp, h2_resp.expect("an h2 response")] {
        let dict = the_dictionary(&assert_allowed(&resp));
        assert_eq!(token(&dict, "tls-version").as_deref(), Some("TLSv1.3"));
        assert_eq!(token(&dict, "mtls").as_deref(), Some("verified"));
        assert_eq!(
            string(&dict, "client-sha256"),
            Some(s.pki.client.sha256_hex())
        );
        assert!(string(&dict, "client-subject").is_some_and(|s| s.contains("CN=")));
        assert_eq!(uris(&dict), [AIRLINE_URI]);
        assert!(string(&dict, "trust-anchor-sha256").is_some());
        assert_eq!(string(&dict, "rule").as_deref(), Some("access-delegations"));
        assert_eq!(member(&dict, "policy"), None);
    }

    // Without a client certificate, on a path that needs none.
    let resp = s.client().send(s.tls(), &h1(OBJECT));
    let dict = the_dictionary(&assert_allowed(&resp));
    assert_eq!(token(&dict, "mtls").as_deref(), Some("none"));
    assert_eq!(dict.len(), 2, "{dict:?}");
    assert_eq!(s.upstream.count(), 3);
}

/// Audit mode: what enforce would refuse arrives with its reason as the
/// dictionary's `policy` member, and trailers lose the annotation names.
#[test]
fn audit_mode_names_the_reason_and_trailers_are_stripped() {
    let audit = policy(json!({ "mode": "audit" }));
    let s = Stack::start_spec(EnvoySpec::new(&audit).hcm(HcmSettings::Bare).trailers());

    let mut req = H2Request::new("POST", DELEGATION.as_bytes()).body(b"{}");
    for (name, value) in FORGED {
        req = req.trailer(name.as_bytes(), value.as_bytes());
    }
    req = req.trailer(b"x-checksum", b"abc123");
    let resp: Response = H2Connection::connect(&s.client(), s.tls())
        .send(&req)
        .expect("an h2 response");
    let echo = assert_allowed(&resp);
    let dict = the_dictionary(&echo);
    assert_eq!(token(&dict, "mtls").as_deref(), Some("none"));
    let Some(ListEntry::Item(policy)) = member(&dict, "policy") else {
        panic!("no policy member: {dict:?}");
    };
    assert_eq!(
        policy.bare_item.as_token().map(|t| t.as_str()),
        Some("audit-deny")
    );
    let reason = policy
        .params
        .iter()
        .find(|(k, _)| k.as_str() == "reason")
        .and_then(|(_, v)| v.as_token())
        .map(|t| t.as_str().to_string());
    assert_eq!(reason.as_deref(), Some("client_certificate_required"));
    let trailers = echo.trailers();
    assert_eq!(
        trailers.keys().collect::<Vec<_>>(),
        ["x-checksum"],
        "{trailers:#?}"
    );
}
