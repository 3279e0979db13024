//! CRLs against a real Envoy: configured ones, and ones fetched live from a
//! CRL server behind a cluster, applied to requests on connections that were
//! open before the CRL changed. Each test runs its own Envoy (and server).

mod fetched;

use onerecord_tls_policy_testkit as support;
use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::bootstrap::EnvoySpec;
use support::client::TlsClient;
use support::crl::CrlSpec;
use support::crl_server::CrlServer;
use support::fixture::TestPki;
use support::http::Response;
use support::onerecord::deny_reason;
use support::pki::{CertSpec, Issued, issue};
use support::policies::{pinned_client_ca, with};
use support::stack::Stack;

/// The pinned root (the shared PKI's client CA), and an intermediate under it.
fn root() -> &'static Issued {
    &TestPki::shared().client_ca
}

fn intermediate() -> &'static Issued {
    static INTERMEDIATE: OnceLock<Issued> = OnceLock::new();
    INTERMEDIATE.get_or_init(|| issue(&CertSpec::ca("ONE Record CRL Intermediate CA"), root()))
}

fn client(name: &str, issuer: &Issued) -> Issued {
    issue(&CertSpec::client(name), issuer)
}

/// mTLS required, the root pinned and configured; `extra` adds fields.
fn policy(extra: Value) -> Value {
    with(
        with(pinned_client_ca(), json!({ "mtls": "required" })),
        extra,
    )
}

fn presenting(s: &Stack, leaf: &Issued, chain: &[&Issued]) -> TlsClient {
    s.client().cert(leaf).chain(chain)
}

const PATH: &str = "/logistics-objects/1";

fn reason(resp: &Response) -> Option<&str> {
    deny_reason(resp)
}

/// Envoy with `extra` in the policy and the CRL server as cluster `crl`.
fn start_with_server(extra: Value, server: &CrlServer) -> Stack {
    let cluster = server.cluster("crl");
    Stack::start_edited(EnvoySpec::new(&policy(extra)), move |bootstrap, _| {
        bootstrap["static_resources"]["clusters"]
            .as_array_mut()
            .expect("clusters")
            .push(cluster);
    })
}

/// One source, `crl` cluster, refreshed every `refresh` seconds.
fn source(refresh: u64) -> Value {
    json!([{ "cluster": "crl", "path": "/root.crl", "authority": "crl.test", "refresh_seconds": refresh }])
}

/// Polls `check` until it holds or `limit` passes; whether it held.
pub(crate) fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    check()
}

/// A counter of the filter's from `/stats` (0 when not there yet).
fn fetches(s: &Stack, result: &str) -> u64 {
    let name =
        format!("wasmcustom.onerecord_tls_policy.crl_fetches_total.source.0.result.{result}: ");
    s.envoy
        .admin_get("/stats")
        .text()
        .lines()
        .find_map(|line| line.strip_prefix(name.as_str()))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_configured_crl_revokes_a_client_and_the_root_s_crl_an_intermediate() {
    let inter = intermediate();
    let (revoked, kept) = (client("crl-revoked", root()), client("crl-kept", root()));
    let below = client("crl-below-intermediate", inter);
    let crl = CrlSpec::default()
        .revoke(&revoked)
        .revoke(inter)
        .sign(root());
    let s = Stack::start(policy(json!({ "crls_pem": crl.pem() })));

    let resp = presenting(&s, &revoked, &[]).get(s.tls(), PATH);
    assert_eq!(
        (resp.status, reason(&resp)),
        (403, Some("certificate_revoked")),
        "{resp:#?}"
    );
    let resp = presenting(&s, &below, &[inter]).get(s.tls(), PATH);
    assert_eq!(
        (resp.status, reason(&resp)),
        (403, Some("certificate_revoked")),
        "{resp:#?}"
    );
    assert_eq!(s.upstream.count(), 0);
    let resp = presenting(&s, &kept, &[]).get(s.tls(), PATH);
    assert_eq!(resp.status, 200, "{resp:#?}");
    assert!(
        s.envoy.log().contains("is revoked by its CRL"),
        "the log names it"
    );
}
