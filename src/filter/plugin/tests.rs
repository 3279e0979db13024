//! The glue's reports, through a mock host: which counter a request
//! increments, what the access-log property says, and that neither can
//! change a verdict.

use super::*;
use crate::config::NO_RULE;
use crate::filter::access_log::PROPERTY;
use crate::filter::metrics::{
    ALLOWED, AUDIT_DENIED, CONFIG_FAILURES, CONFIG_LOADS, DENIED, chain_failures, counter_name,
    verification_counter_name,
};
use crate::filter::mock::MockHost;
use crate::filter::properties::{CONNECTION_ID, PEER_DIGEST, dotted};
use crate::policy::ChainVerification;
use crate::reason::Reason;

const CA: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

fn delegations(extra: &str) -> String {
    format!(
        r#"{{"trusted_ca_sha256":["{CA}"],"rules":[{{"name":"access-delegations","path_prefix":"/access-delegations","mtls":"required"}}]{extra}}}"#
    )
}

/// Envoy's side across requests: one plugin, and counters that outlive each
/// request's host.
struct Proxy {
    plugin: Plugin,
    counters: Vec<(String, u64)>,
}

impl Proxy {
    fn load(config: &str) -> Proxy {
        let mut host = MockHost::default();
        let plugin = configure(&mut host, Ok(config.as_bytes().to_vec())).expect("loads");
        Proxy {
            plugin,
            counters: host.counters,
        }
    }

    fn send(&mut self, mut host: MockHost) -> (Action, Outcome, MockHost) {
        host.counters = std::mem::take(&mut self.counters);
        let (action, outcome) = self.plugin.on_request_headers(&mut host);
        self.counters = std::mem::take(&mut host.counters);
        (action, outcome, host)
    }

    /// Every request counter that is not zero.
    fn counted(&self) -> Vec<(String, u64)> {
        self.counters
            .iter()
            .filter(|(name, value)| *value > 0 && !name.contains(".config_"))
            .cloned()
            .collect()
    }
}

fn tls_at(path: &str) -> MockHost {
    let mut host = MockHost::tls("TLSv1.3");
    host.headers.retain(|(name, _)| name != ":path");
    host.headers.push((":path".into(), path.into()));
    host
}

fn property(host: &MockHost) -> String {
    let value = host.set_properties.get(PROPERTY).expect("property set");
    String::from_utf8(value.clone()).unwrap()
}

#[test]
fn each_request_counts_once_under_its_outcome_reason_and_rule() {
    let mut proxy = Proxy::load(&delegations(""));
    proxy.send(MockHost::tls("TLSv1.2"));
    proxy.send(MockHost::tls("TLSv1.3"));
    for _ in 0..3 {
        proxy.send(MockHost::plaintext());
    }
    let (action, outcome, _) = proxy.send(tls_at("/access-delegations/1"));
    assert_eq!(action, Action::Pause);
    assert_eq!(outcome, Outcome::Denied(Reason::ClientCertificateRequired));
    assert_eq!(
        proxy.counted(),
        vec![
            (counter_name(ALLOWED, None, NO_RULE), 2),
            (counter_name(DENIED, Some(Reason::TlsRequired), NO_RULE), 3),
            (
                counter_name(
                    DENIED,
                    Some(Reason::ClientCertificateRequired),
                    "access-delegations"
                ),
                1
            ),
        ]
    );
}

#[test]
fn every_counter_is_defined_at_load_and_none_per_request() {
    let mut proxy = Proxy::load(&delegations(""));
    // Two rule slots (no rule, access-delegations): allowed, two expiry
    // counters and one deny per reason each; no audit counters in enforce
    // mode; chain verifications by result; two config counters; the
    // verdict cache's evictions.
    let expected = 2 * (3 + Reason::ALL.len()) + (1 + chain_failures().count()) + 2 + 1;
    assert_eq!(proxy.counters.len(), expected);
    assert!(!proxy.counters.iter().any(|(n, _)| n.contains(AUDIT_DENIED)));
    proxy.send(MockHost::plaintext());
    proxy.send(tls_at("/access-delegations/x"));
    assert_eq!(
        proxy.counters.len(),
        expected,
        "a request defined a counter"
    );

    let audit = Proxy::load(&delegations(r#","mode":"audit""#));
    assert_eq!(
        audit.counters.len(),
        expected + 2 * Reason::ALL.len(),
        "audit mode adds audit_denied per reason and rule"
    );
}

#[test]
fn audit_mode_counts_audit_denials_and_the_property_says_so() {
    let mut proxy = Proxy::load(&delegations(r#","mode":"audit""#));
    let (action, outcome, host) = proxy.send(tls_at("/access-delegations/1"));
    assert_eq!(action, Action::Continue);
    assert_eq!(
        outcome,
        Outcome::AuditDenied(Reason::ClientCertificateRequired)
    );
    assert_eq!(
        property(&host),
        "decision=audit-deny;reason=client_certificate_required;rule=access-delegations;client_sha256=-;anchor_sha256=-;not_after=-"
    );
    assert_eq!(
        proxy.counted(),
        vec![(
            counter_name(
                AUDIT_DENIED,
                Some(Reason::ClientCertificateRequired),
                "access-delegations"
            ),
            1
        )]
    );
}

#[test]
fn a_deny_in_audit_mode_counts_as_denied() {
    // Audit mode still refuses when it cannot strip forged annotations.
    let mut proxy = Proxy::load(r#"{"mode":"audit"}"#);
    let mut host = MockHost::tls("TLSv1.3");
    host.fail_header_writes = true;
    let (action, outcome, host) = proxy.send(host);
    assert_eq!(action, Action::Pause);
    assert_eq!(outcome, Outcome::Denied(Reason::ConnectionFactsUnavailable));
    assert!(property(&host).starts_with("decision=deny;reason=connection_facts_unavailable;"));
    assert_eq!(
        proxy.counted(),
        vec![(
            counter_name(DENIED, Some(Reason::ConnectionFactsUnavailable), NO_RULE),
            1
        )]
    );
}

#[test]
fn failing_metric_calls_change_no_verdict() {
    // Increments fail.
    let mut proxy = Proxy::load(&delegations(""));
    let mut host = MockHost::plaintext();
    host.fail_metrics = true;
    let (action, outcome, host) = proxy.send(host);
    assert_eq!(
        (action, outcome),
        (Action::Pause, Outcome::Denied(Reason::TlsRequired))
    );
    assert_eq!(host.sent.as_ref().map(|s| s.0), Some(403));
    let mut host = MockHost::tls("TLSv1.3");
    host.fail_metrics = true;
    let (action, _, host) = proxy.send(host);
    assert_eq!(action, Action::Continue);
    assert_eq!(host.header("x-onerecord-mtls"), vec!["none"]);
    assert!(proxy.counted().is_empty());

    // Definitions fail: the configuration still loads and decides.
    let mut host = MockHost {
        fail_metrics: true,
        ..MockHost::default()
    };
    let mut plugin = configure(&mut host, Ok(delegations("").into_bytes())).expect("loads");
    let mut host = MockHost::plaintext();
    assert_eq!(
        plugin.on_request_headers(&mut host),
        (Action::Pause, Outcome::Denied(Reason::TlsRequired))
    );
    assert_eq!(host.sent.as_ref().map(|s| s.0), Some(403));
    assert!(host.counters.is_empty());
}

#[test]
fn a_failing_property_write_changes_no_verdict() {
    let mut proxy = Proxy::load("{}");
    let mut host = MockHost::tls("TLSv1.2");
    host.fail_set_property = true;
    let (action, outcome, host) = proxy.send(host);
    assert_eq!((action, outcome), (Action::Continue, Outcome::Allowed));
    assert!(host.sent.is_none());
    assert_eq!(
        proxy.counted(),
        vec![(counter_name(ALLOWED, None, NO_RULE), 1)]
    );
}

#[test]
fn the_property_names_the_deny_reason_and_rule() {
    let mut proxy = Proxy::load(&delegations(""));
    let (_, _, host) = proxy.send(MockHost::plaintext());
    assert_eq!(
        property(&host),
        "decision=deny;reason=tls_required;rule=-;client_sha256=-;anchor_sha256=-;not_after=-"
    );
    let (_, _, host) = proxy.send(MockHost::tls("TLSv1.2"));
    assert_eq!(
        property(&host),
        "decision=allow;reason=-;rule=-;client_sha256=-;anchor_sha256=-;not_after=-"
    );
}

#[test]
fn the_property_carries_a_verified_clients_fingerprints() {
    use onerecord_tls_policy_testkit::pki::{CertSpec, issue, self_signed};
    let root = self_signed(&CertSpec::ca("Pinned Root"));
    let leaf = issue(&CertSpec::client("client-1"), &root);
    let config = format!(
        r#"{{"trusted_ca_sha256":["{}"],"rules":[{{"name":"access-delegations","path_prefix":"/access-delegations","mtls":"required"}}]}}"#,
        root.sha256_hex()
    );
    let mut proxy = Proxy::load(&config);
    let mut host = tls_at("/access-delegations/1");
    // The test PKI is valid around now, not at the mock's fixed time.
    host.now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    host.set_property(&dotted(PEER_DIGEST), leaf.sha256_hex().as_bytes());
    let xfcc = crate::xfcc::envoy_format::element(&leaf.der(), &[leaf.der(), root.der()]);
    host.headers.push(("x-forwarded-client-cert".into(), xfcc));
    let (action, outcome, host) = proxy.send(host);
    assert_eq!((action, outcome), (Action::Continue, Outcome::Allowed));
    // The leaf is valid for 30 days: within the default expiry_warning_days.
    let epoch = openssl::asn1::Asn1Time::from_unix(0).unwrap();
    let to_leaf = epoch.diff(leaf.cert.not_after()).unwrap();
    let seconds = i64::from(to_leaf.days) * 86_400 + i64::from(to_leaf.secs);
    let not_after = crate::rfc3339::format_rfc3339(u64::try_from(seconds).unwrap());
    assert_eq!(
        property(&host),
        format!(
            "decision=allow;reason=-;rule=access-delegations;client_sha256={};anchor_sha256={};not_after={not_after}",
            leaf.sha256_hex(),
            root.sha256_hex()
        )
    );
    assert_eq!(
        proxy.counted(),
        vec![
            (counter_name(ALLOWED, None, "access-delegations"), 1),
            (
                counter_name(
                    crate::effects::metrics::EXPIRING_CLIENTS,
                    None,
                    "access-delegations"
                ),
                1
            ),
            (verification_counter_name(ChainVerification::Verified), 1)
        ]
    );
}

#[test]
fn a_failing_chain_is_verified_once_per_connection() {
    use onerecord_tls_policy_testkit::pki::{CertSpec, issue, self_signed};
    let root = self_signed(&CertSpec::ca("Unpinned Root"));
    let leaf = issue(&CertSpec::client("client-1"), &root);
    let mut proxy = Proxy::load(&delegations(""));
    let on_connection = |id: u64| {
        let mut host = tls_at("/access-delegations/1");
        host.now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        host.set_property(&dotted(CONNECTION_ID), &id.to_le_bytes());
        host.set_property(&dotted(PEER_DIGEST), leaf.sha256_hex().as_bytes());
        let xfcc = crate::xfcc::envoy_format::element(&leaf.der(), &[leaf.der(), root.der()]);
        host.headers.push(("x-forwarded-client-cert".into(), xfcc));
        host
    };
    for id in [7, 7, 7, 8, 8] {
        let (action, outcome, _) = proxy.send(on_connection(id));
        assert_eq!(action, Action::Pause);
        assert_eq!(outcome, Outcome::Denied(Reason::UntrustedCa));
    }
    let failed = verification_counter_name(ChainVerification::Failed(Reason::UntrustedCa));
    let denied = counter_name(DENIED, Some(Reason::UntrustedCa), "access-delegations");
    // Connection 8 is decided by the denial remembered for the same bytes.
    assert_eq!(proxy.counted(), vec![(denied, 5), (failed, 1)]);
}

#[test]
fn each_configuration_counts_one_load_however_many_vms_load_it() {
    // One host stands for all of Envoy's VMs: shared data and counters by name.
    let mut envoy = MockHost::default();
    let config = delegations("");
    for _ in 0..3 {
        assert!(configure(&mut envoy, Ok(config.clone().into_bytes())).is_some());
    }
    assert_eq!(envoy.counter(CONFIG_LOADS), Some(1));
    assert_eq!(envoy.counter(CONFIG_FAILURES), Some(0));

    // A new configuration is a new load, and defines its own rule's counters.
    let reloaded = config.replace("access-delegations", "delegations-v2");
    assert!(configure(&mut envoy, Ok(reloaded.into_bytes())).is_some());
    assert_eq!(envoy.counter(CONFIG_LOADS), Some(2));
    assert_eq!(
        envoy.counter(&counter_name(ALLOWED, None, "delegations-v2")),
        Some(0)
    );

    // Refusals count each attempt, and define no request counters.
    let defined = envoy.counters.len();
    assert!(configure(&mut envoy, Ok(br#"{"mode":"block"}"#.to_vec())).is_none());
    assert!(configure(&mut envoy, Err(HostError("unreadable".into()))).is_none());
    assert_eq!(envoy.counter(CONFIG_FAILURES), Some(2));
    assert_eq!(envoy.counter(CONFIG_LOADS), Some(2));
    assert_eq!(envoy.counters.len(), defined);
}

#[test]
fn a_verified_client_pushed_out_of_a_full_verdict_cache_is_counted() {
    use crate::effects::metrics::VERDICT_CACHE_EVICTIONS;
    use onerecord_tls_policy_testkit::pki::{CertSpec, issue, self_signed};
    let root = self_signed(&CertSpec::ca("Pinned Root"));
    let clients = [
        issue(&CertSpec::client("client-1"), &root),
        issue(&CertSpec::client("client-2"), &root),
    ];
    let config = format!(
        r#"{{"trusted_ca_sha256":["{}"],"verdict_cache_size":1}}"#,
        root.sha256_hex()
    );
    let mut proxy = Proxy::load(&config);
    // client-1, client-2 (pushes client-1 out), client-1 (pushes client-2 out).
    for (id, leaf) in [&clients[0], &clients[1], &clients[0]]
        .into_iter()
        .enumerate()
    {
        let mut host = tls_at("/logistics-objects/1");
        host.now = onerecord_tls_policy_testkit::unix_now();
        host.set_property(&dotted(CONNECTION_ID), &(id as u64).to_le_bytes());
        host.set_property(&dotted(PEER_DIGEST), leaf.sha256_hex().as_bytes());
        let xfcc = crate::xfcc::envoy_format::element(&leaf.der(), &[leaf.der(), root.der()]);
        host.headers.push(("x-forwarded-client-cert".into(), xfcc));
        assert_eq!(proxy.send(host).1, Outcome::Allowed);
    }
    let counted: std::collections::BTreeMap<_, _> = proxy.counted().into_iter().collect();
    assert_eq!(counted.get(VERDICT_CACHE_EVICTIONS), Some(&2));
    assert_eq!(
        counted.get(&verification_counter_name(ChainVerification::Verified)),
        Some(&3)
    );
}
