//! Request trailers through the plugin, over a mock host: forged names are
//! removed, and a trailer that cannot be removed denies, counted and logged.

use crate::config::NO_RULE;
use crate::filter::access_log::PROPERTY;
use crate::filter::metrics::{ALLOWED, DENIED, counter_name};
use crate::filter::mock::MockHost;
use crate::filter::{Action, Forwarded, Outcome, Plugin, configure};
use crate::reason::Reason;

fn plugin(config: &str) -> (Plugin, MockHost) {
    let mut host = MockHost::default();
    let plugin = configure(&mut host, Ok(config.as_bytes().to_vec())).expect("loads");
    (plugin, host)
}

/// The headers phase of a TLS request, on a host that keeps the counters.
fn forwarded(plugin: &mut Plugin, host: &mut MockHost) -> Forwarded {
    let (action, outcome, forwarded) = plugin.on_request_headers_keeping(host);
    assert_eq!(action, Action::Continue, "{outcome:?}");
    forwarded.expect("a forwarded request is kept")
}

fn request(loaded: MockHost, trailers: &[(&[u8], &[u8])]) -> MockHost {
    let mut host = MockHost::tls("TLSv1.3");
    host.counters = loaded.counters;
    host.trailers = trailers
        .iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
    host
}

fn counted(host: &MockHost) -> Vec<(String, u64)> {
    host.counters
        .iter()
        .filter(|(name, value)| *value > 0 && !name.contains(".config_"))
        .cloned()
        .collect()
}

#[test]
fn forged_trailers_are_removed_and_others_kept() {
    let (mut plugin, loaded) = plugin("{}");
    let mut host = request(
        loaded,
        &[
            (b"x-onerecord-mtls", b"verified"),
            (b"x_onerecord_client-uri-san", b"spiffe://forged"),
            (b"checksum", b"abc"),
            (b"X-OneRecord-Policy", b"allow"),
        ],
    );
    let kept = forwarded(&mut plugin, &mut host);
    assert_eq!(
        plugin.on_request_trailers(&mut host, &kept),
        Action::Continue
    );
    assert_eq!(host.trailers, vec![(b"checksum".to_vec(), b"abc".to_vec())]);
    assert!(host.sent.is_none());
    assert_eq!(
        counted(&host),
        vec![(counter_name(ALLOWED, None, NO_RULE), 1)]
    );
}

#[test]
fn trailers_without_forged_names_are_read_once_and_left_alone() {
    let (mut plugin, loaded) = plugin("{}");
    let mut host = request(loaded, &[(b"checksum", b"abc")]);
    let kept = forwarded(&mut plugin, &mut host);
    assert_eq!(
        plugin.on_request_trailers(&mut host, &kept),
        Action::Continue
    );
    assert!(host.removals.is_empty());
    assert_eq!(host.read_count("trailers"), 1);
}

/// A trailer phase that fails in `break_host` is a counted, logged deny.
fn assert_trailers_deny(config: &str, break_host: impl FnOnce(&mut MockHost)) {
    let (mut plugin, loaded) = plugin(config);
    let mut host = request(loaded, &[(b"x_onerecord_mtls", b"verified")]);
    host.headers.retain(|(name, _)| name != ":path");
    host.headers
        .push((":path".into(), "/logistics-objects/1?q=x".into()));
    host.headers
        .push((":authority".into(), "onerecord.example".into()));
    let kept = forwarded(&mut plugin, &mut host);
    break_host(&mut host);
    assert_eq!(plugin.on_request_trailers(&mut host, &kept), Action::Pause);
    assert_eq!(host.deny_reason(), Some("connection_facts_unavailable"));
    let (_, _, body) = host.sent.clone().expect("a deny reply");
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        body["api:hasErrorDetail"][0]["api:hasResource"],
        "https://onerecord.example/logistics-objects/1"
    );
    let property = String::from_utf8(host.set_properties[PROPERTY].clone()).unwrap();
    assert!(
        property.starts_with("decision=deny;reason=connection_facts_unavailable;rule=-;"),
        "{property}"
    );
    let denied = counter_name(DENIED, Some(Reason::ConnectionFactsUnavailable), NO_RULE);
    assert!(
        counted(&host).contains(&(denied, 1)),
        "{:?}",
        counted(&host)
    );
}

#[test]
fn unreadable_trailers_deny() {
    assert_trailers_deny("{}", |host| host.fail_trailer_reads = true);
}

#[test]
fn a_failing_trailer_removal_denies() {
    assert_trailers_deny("{}", |host| host.fail_trailer_writes = true);
}

#[test]
fn a_forged_trailer_the_host_did_not_remove_denies() {
    assert_trailers_deny("{}", |host| host.ignore_removals = true);
}

#[test]
fn audit_mode_strips_trailers_and_still_denies_what_it_cannot_strip() {
    let (mut plugin, loaded) = plugin(r#"{"mode":"audit"}"#);
    let mut host = request(loaded, &[(b"x-onerecord-mtls", b"verified")]);
    let kept = forwarded(&mut plugin, &mut host);
    assert_eq!(
        plugin.on_request_trailers(&mut host, &kept),
        Action::Continue
    );
    assert!(host.trailers.is_empty());
    assert_trailers_deny(r#"{"mode":"audit"}"#, |host| host.fail_trailer_reads = true);
}

#[test]
fn a_denied_request_keeps_nothing_for_its_trailers() {
    let (mut plugin, loaded) = plugin("{}");
    let mut host = MockHost::plaintext();
    host.counters = loaded.counters;
    let (action, outcome, forwarded) = plugin.on_request_headers_keeping(&mut host);
    assert_eq!(action, Action::Pause);
    assert_eq!(outcome, Outcome::Denied(Reason::TlsRequired));
    assert!(forwarded.is_none());
}
