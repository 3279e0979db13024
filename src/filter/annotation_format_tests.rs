//! `annotation_format: "dictionary"` through a mock host: one header write
//! per request instead of one per fact, and client-sent copies of either
//! format's names stripped all the same.

use super::mock::MockHost;
use super::properties::{CONNECTION_ID, dotted};
use super::{Action, on_request_headers};
use crate::config::Config;
use crate::filter::test_client::presenting;
use crate::policy::Policy;
use crate::state::State;
use crate::test_host::hostcalls::{REMOVE_HEADER_MAP_VALUE, REPLACE_HEADER_MAP_VALUE};
use onerecord_tls_policy_testkit::pinned::{Pki, pki_with_leaf, policy_json};
use onerecord_tls_policy_testkit::pki::CertSpec;
use onerecord_tls_policy_testkit::unix_now;

/// A verified client's request on connection 7, carrying forged copies of
/// both formats' headers (one in another case, one with `_`).
fn request(k: &Pki) -> MockHost {
    let mut host = presenting(k, unix_now());
    host.set_property(&dotted(CONNECTION_ID), &7u64.to_le_bytes());
    host.headers
        .push(("x-onerecord-facts".into(), "mtls=verified".into()));
    host.headers
        .push(("x_onerecord_mtls".into(), "verified".into()));
    host.headers
        .push(("X-OneRecord-Client-Sha256".into(), "forged".into()));
    host
}

fn under_prefix(host: &MockHost) -> Vec<(String, String)> {
    host.headers
        .iter()
        .filter(|(k, _)| {
            k.to_ascii_lowercase()
                .replace('_', "-")
                .starts_with("x-onerecord-")
        })
        .cloned()
        .collect()
}

fn served(format: &str) -> Vec<(MockHost, Action)> {
    let k = pki_with_leaf(CertSpec::client("client-1"));
    let extra = format!(r#","mtls":"required","annotation_format":"{format}""#);
    let policy = Policy::new(Config::parse(policy_json(&k.root, &extra).as_bytes()).unwrap());
    let mut state = State::new(16);
    // The first request verifies the chain; the second is the warm path.
    (0..2)
        .map(|_| {
            let mut host = request(&k);
            let plan = on_request_headers(&mut host, &policy, &mut state);
            (host, Action::after(&plan))
        })
        .collect()
}

#[test]
fn the_dictionary_is_one_write_and_the_only_annotation_left() {
    for (host, action) in served("dictionary") {
        assert_eq!(action, Action::Continue);
        let ours = under_prefix(&host);
        assert_eq!(ours.len(), 1, "{ours:?}");
        let (name, value) = &ours[0];
        assert_eq!(name, "x-onerecord-facts");
        assert!(
            value.starts_with("tls-version=TLSv1.3, mtls=verified, client-sha256=\""),
            "{value}"
        );
        assert!(!value.contains("forged"), "{value}");
        assert_eq!(host.hostcalls.calls(REPLACE_HEADER_MAP_VALUE), 1);
        // The three forgeries, whichever format they imitate.
        assert_eq!(host.hostcalls.calls(REMOVE_HEADER_MAP_VALUE), 3);
    }
}

#[test]
fn the_headers_format_writes_each_fact_and_strips_the_dictionary_name_too() {
    for (host, action) in served("headers") {
        assert_eq!(action, Action::Continue);
        let ours = under_prefix(&host);
        let names: Vec<&str> = ours.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "x-onerecord-tls-version",
                "x-onerecord-mtls",
                "x-onerecord-client-sha256",
                "x-onerecord-client-subject",
                "x-onerecord-client-uri-san",
                "x-onerecord-trust-anchor-sha256"
            ]
        );
        assert!(ours.iter().all(|(_, v)| v != "forged"));
        assert_eq!(
            host.hostcalls.calls(REPLACE_HEADER_MAP_VALUE),
            names.len() as u64
        );
        assert_eq!(host.hostcalls.calls(REMOVE_HEADER_MAP_VALUE), 3);
    }
}
