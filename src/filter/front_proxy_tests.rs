//! Behind a trusted front proxy, through a mock host: what the glue reads
//! (the proxy's URI SAN once per connection, the TLS-version header), what
//! it forwards, counts and logs, and that without `trusted_proxies` none of
//! it is read.

use super::mock::MockHost;
use super::properties::{CONNECTION_ID, PEER_CERTIFICATE, PEER_DIGEST, PEER_URI_SAN, dotted};
use super::{Action, Plugin, XFCC_HEADER, configure};
use crate::effects::metrics::TRUSTED_PROXY_REQUESTS;
use crate::filter::access_log::PROPERTY;
use crate::xfcc::envoy_format;
use onerecord_tls_policy_testkit::pinned::{Pki, pki, policy_json};
use onerecord_tls_policy_testkit::pki::{CertSpec, Issued, self_signed};
use onerecord_tls_policy_testkit::unix_now as now;

const GATEWAY: &str = "spiffe://cluster.local/ns/istio-system/sa/ingress-gateway";

/// A request from the gateway on connection 7, for a client presenting
/// `k.leaf`'s chain at an edge where it negotiated `client_tls`.
fn from_gateway(k: &Pki, gateway: &Issued, client_tls: &str) -> MockHost {
    let mut host = MockHost::tls("TLSv1.3");
    host.now = now();
    host.set_property(&dotted(CONNECTION_ID), &7u64.to_le_bytes());
    host.set_property(&dotted(PEER_DIGEST), gateway.sha256_hex().as_bytes());
    host.set_property(&dotted(PEER_CERTIFICATE), gateway.pem().as_bytes());
    host.set_property(&dotted(PEER_URI_SAN), GATEWAY.as_bytes());
    let chain = [k.leaf.der(), k.inter.der(), k.root.der()];
    let client = envoy_format::element(&k.leaf.der(), &chain);
    let ours = format!("Hash={};URI={GATEWAY}", gateway.sha256_hex());
    host.headers
        .push((XFCC_HEADER.into(), format!("{client},{ours}")));
    host.headers
        .push(("x-forwarded-tls-version".into(), client_tls.into()));
    host.headers
        .push((":authority".into(), "onerecord.example".into()));
    host
}

/// The plugin for `k`'s pinned root, trusting the gateway when `proxies`,
/// and the counters its configuration defined.
fn load(k: &Pki, proxies: bool) -> (Plugin, Vec<(String, u64)>) {
    let extra = match proxies {
        true => format!(r#","trusted_proxies":{{"peers":{{"uri_san":["{GATEWAY}"]}}}}"#),
        false => String::new(),
    };
    let mut host = MockHost::default();
    let config = policy_json(&k.root, &extra).into_bytes();
    let plugin = configure(&mut host, Ok(config)).unwrap();
    (plugin, host.counters)
}

fn gateway() -> Issued {
    self_signed(&CertSpec::client("gateway").uri_sans(&[GATEWAY]))
}

#[test]
fn a_gateways_client_is_forwarded_counted_and_logged_as_such() {
    let k = pki();
    let gateway = gateway();
    let (mut plugin, counters) = load(&k, true);
    let mut first = from_gateway(&k, &gateway, "TLSv1.2");
    first.counters = counters;
    let (action, _) = plugin.on_request_headers(&mut first);
    assert_eq!(action, Action::Continue);
    assert_eq!(first.header("x-onerecord-tls-version"), vec!["TLSv1.2"]);
    assert_eq!(
        first.header("x-onerecord-client-sha256"),
        vec![k.leaf.sha256_hex().as_str()]
    );
    assert_eq!(first.counter(TRUSTED_PROXY_REQUESTS), Some(1));
    let logged = String::from_utf8(first.set_properties[PROPERTY].clone()).unwrap();
    assert!(logged.ends_with(";facts=trusted_proxy"), "{logged}");
    assert_eq!(first.read_count(&dotted(PEER_URI_SAN)), 1);

    // The next request on the connection: the URI SAN is remembered, the
    // client's version is read again and decides.
    let mut second = from_gateway(&k, &gateway, "TLSv1.1");
    second.counters = std::mem::take(&mut first.counters);
    let (action, _) = plugin.on_request_headers(&mut second);
    assert_eq!(action, Action::Pause);
    assert_eq!(second.deny_reason(), Some("tls_version_too_low"));
    assert_eq!(second.read_count(&dotted(PEER_URI_SAN)), 0);
    assert_eq!(second.counter(TRUSTED_PROXY_REQUESTS), Some(2));
}

#[test]
fn without_trusted_proxies_nothing_of_a_proxy_is_read_or_counted() {
    let k = pki();
    let gateway = gateway();
    let (mut plugin, counters) = load(&k, false);
    assert!(
        counters
            .iter()
            .all(|(name, _)| name != TRUSTED_PROXY_REQUESTS),
        "not defined"
    );
    let mut request = from_gateway(&k, &gateway, "TLSv1.3");
    plugin.on_request_headers(&mut request);
    assert_eq!(request.read_count(&dotted(PEER_URI_SAN)), 0);
    // Judged as itself: the gateway's certificate is no pinned client.
    assert_eq!(request.deny_reason(), Some("peer_chain_unavailable"));
    let logged = String::from_utf8(request.set_properties[PROPERTY].clone()).unwrap();
    assert!(!logged.contains("facts="), "{logged}");
}
