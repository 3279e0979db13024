//! A `dynamic_forward_proxy` cluster whose DNS cache is given the CA's
//! responder hosts: each certificate's own AIA responder is asked among
//! them, and a host it was not given is never reached. (Without
//! `preresolve_hostnames`, or with `sub_clusters_config`, a call to a host
//! not resolved yet fails at once: the filter's calls do not wait for
//! Envoy's DNS.)

use super::*;

/// The cluster `ocsp`: Envoy's DNS cache, the responders' hosts resolved
/// at start, each call sent to the host its `:authority` names.
pub(super) fn dynamic_cluster(hosts: &[u16]) -> Value {
    let preresolve: Vec<Value> = hosts
        .iter()
        .map(|port| json!({ "address": "127.0.0.1", "port_value": port }))
        .collect();
    json!({
        "name": "ocsp",
        "connect_timeout": "1s",
        "lb_policy": "CLUSTER_PROVIDED",
        "cluster_type": {
            "name": "envoy.clusters.dynamic_forward_proxy",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig",
                "dns_cache_config": {
                    "name": "ocsp_responders",
                    "dns_lookup_family": "V4_ONLY",
                    "preresolve_hostnames": preresolve
                }
            }
        }
    })
}

#[test]
fn each_certificate_is_asked_about_at_the_responder_its_aia_names() {
    let (first_port, second_port) = (free_port(), free_port());
    let airline = client("ocsp-airline", first_port);
    let forwarder = client("ocsp-forwarder", second_port);
    let first = OcspResponder::start(first_port, root(), 60, &[(&airline, false)]);
    let second = OcspResponder::start(second_port, root(), 60, &[(&forwarder, true)]);
    let s = start("hard", dynamic_cluster(&[first_port, second_port]));

    let resp = get(&s, &airline);
    assert_eq!(resp.status, 200, "{resp:#?}\n{}", diagnose(&s));
    let resp = get(&s, &forwarder);
    assert_refused(
        &s,
        &resp,
        "certificate_revoked",
        "the second responder says revoked",
    );
    assert_eq!((first.requests(), second.requests()), (1, 1));
    assert_eq!(s.upstream.count(), 1);

    // A host the cache was not given is not reached: the list of
    // responders is the configuration's, not the certificates'.
    let elsewhere = free_port();
    let stray = client("ocsp-stray", elsewhere);
    let unlisted = OcspResponder::start(elsewhere, root(), 60, &[(&stray, false)]);
    let resp = get(&s, &stray);
    assert_refused(
        &s,
        &resp,
        "revocation_status_unknown",
        "an unlisted responder",
    );
    assert_eq!(unlisted.requests(), 0);
    assert_eq!(asked(&s, "error"), 1, "{}", diagnose(&s));
}
