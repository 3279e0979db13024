//! Hostile input against a real Envoy: forged XFCC and annotation headers,
//! client-written XFCC prefixes under APPEND_FORWARD, oversized chains and
//! headers, and certificates that abuse the rules for CAs. Every case states
//! the exact deny reason, checks that a denied request never reached the
//! upstream, and ends by checking that Envoy's wasm VM neither failed nor
//! was replaced (`support::vm`).
//!
//! Where Envoy's own handshake refuses a client first, the test asserts that
//! refusal (which `ssl.*` counter moved, no HTTP request seen) and checks the
//! filter's own verdict through `Policy::decide`, with the facts Envoy would
//! report for that chain (`xfcc::envoy_format::peer_facts`).
//!
//! Covered in `mtls.rs` and not repeated here: a pinned CA appended to a
//! foreign chain (`decoy_pinned_ca_appended_to_a_foreign_chain_is_untrusted`)
//! and an intermediate copying a pinned subject with another key
//! (`forged_intermediate_with_the_pinned_subject_is_denied`).
// Test code: it may unwrap and panic (the workspace lints are for the shipped crates).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use onerecord_tls_policy_testkit as support;

use onerecord_tls_policy::config::Config;
use onerecord_tls_policy::facts::{ConnectionFacts, Facts, PeerFacts, RequestFacts};
use onerecord_tls_policy::policy::{Decision, Policy};
use onerecord_tls_policy::reason::Reason;
use onerecord_tls_policy::xfcc::envoy_format::{element, peer_facts, pem, url_encode_pem};
use openssl::ssl::SslVersion;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::bootstrap::EnvoySpec;
use support::client::{TlsClient, plain_send};
use support::curl::Curl;
use support::http::{Request, Response};
use support::onerecord::{assert_allowed, assert_denied};
use support::pki::{CertSpec, Issued, issue, issue_with_key, pem_bundle, self_signed};
use support::stack::Stack;
use support::upstream::Echo;
use support::vm::{self, VmHealth};

const OBJECT: &str = "/logistics-objects/shipment-1";
const DELEGATION: &str = "/access-delegations/delegation-1";
const ACTION: &str = "/action-requests/request-1";

// --- PKI ---------------------------------------------------------------------

struct Pki {
    /// The pinned root. Its key usage (keyCertSign, cRLSign) is a CA's only.
    root: Issued,
    /// A root Envoy trusts that is on no pinned list.
    other_root: Issued,
    airline: Issued,
    forwarder: Issued,
    /// Issued by `other_root`: Envoy accepts it, the policy does not.
    outsider: Issued,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let root = self_signed(&CertSpec::ca("ONE Record Pinned Root CA"));
        let other_root = self_signed(&CertSpec::ca("Other Trusted Root CA"));
        Pki {
            airline: issue(&CertSpec::client("airline-1"), &root),
            forwarder: issue(&CertSpec::client("forwarder-1"), &root),
            outsider: issue(&CertSpec::client("outsider-1"), &other_root),
            root,
            other_root,
        }
    })
}

/// `count` distinct self-signed CA certificates, for padding chains.
fn fillers(count: usize) -> Vec<Issued> {
    (0..count)
        .map(|i| self_signed(&CertSpec::ca(&format!("Filler CA {i}"))))
        .collect()
}

// --- policy and Envoy ------------------------------------------------------------

/// mTLS optional by default, required under `/access-delegations` (a rule)
/// and `/action-requests` (route metadata, see `spec`); the root pinned and
/// available to complete chains. `extra` adds or replaces fields.
fn policy(extra: Value) -> Value {
    let mut config = json!({
        "trusted_ca_sha256": [pki().root.sha256_hex()],
        "ca_certificates_pem": pki().root.pem(),
        "rules": [{ "name": "access-delegations", "path_prefix": "/access-delegations", "mtls": "required" }],
    });
    for (key, value) in extra.as_object().expect("extra is an object") {
        config[key] = value.clone();
    }
    config
}

/// Envoy trusts the pinned and the unpinned root, and requires mTLS on
/// `/action-requests` through route metadata.
fn spec(config: &Value) -> EnvoySpec {
    EnvoySpec::new(config)
        .client_ca_pem(&pem_bundle(&[&pki().root, &pki().other_root]))
        .route_mtls("/action-requests", json!("required"))
}

/// A running stack and what its VMs looked like once it served a request.
struct Target {
    s: Stack,
    vm: VmHealth,
}

impl Target {
    fn start(spec: EnvoySpec) -> Target {
        let s = Stack::start_spec(spec);
        // One request first, so the baseline is taken with every VM in use.
        assert_allowed(&s.client().get(s.tls(), OBJECT));
        let vm = VmHealth::read(&s.envoy);
        Target { s, vm }
    }

    fn tls(&self) -> SocketAddr {
        self.s.tls()
    }

    /// A client presenting `leaf` and then exactly `chain`.
    fn presenting(&self, leaf: &Issued, chain: &[&Issued]) -> TlsClient {
        self.s.client().cert(leaf).chain(chain)
    }

    /// HTTP/2 over TLS presenting `leaf` (alone), with the forged annotations.
    fn h2_as(&self, leaf: Option<&Issued>) -> Curl {
        let mut curl = forged_curl(self.s.h2());
        if let Some(leaf) = leaf {
            let dir = self.s.envoy.dir();
            let name = leaf.sha256_hex();
            let cert = dir.write(&format!("{name}.pem"), leaf.pem());
            let key = dir.write(&format!("{name}.key"), leaf.key_pem());
            curl = curl.client_cert(&cert, &key);
        }
        curl
    }

    /// The deny `reason` for `path`, and nothing reached the upstream.
    fn expect_deny(&self, reason: &str, path: &str, send: impl FnOnce() -> Response) {
        let before = self.s.upstream.count();
        let resp = send();
        assert_denied(&resp, reason, path);
        assert_eq!(
            self.s.upstream.count(),
            before,
            "a request denied {reason} reached the upstream: {:#?}",
            self.s.upstream.seen().last()
        );
    }

    /// Forwarded exactly once, with exactly the `expected` annotations.
    fn expect_allow(
        &self,
        expected: &BTreeMap<String, Vec<String>>,
        send: impl FnOnce() -> Response,
    ) -> Echo {
        let before = self.s.upstream.count();
        let echo = assert_allowed(&send());
        assert_eq!(self.s.upstream.count(), before + 1);
        let ours = echo.with_prefix("x-onerecord-");
        assert_eq!(&ours, expected, "annotations the upstream got");
        echo
    }

    /// Envoy refuses `client` at the handshake: no HTTP exchange, the
    /// listener's `ssl.<stat>` grows by one and `ssl.handshake` does not.
    fn expect_handshake_refused(&self, client: &TlsClient, stat: &str) {
        let before = vm::counters(&self.s.envoy);
        let outcome = try_get(client, self.tls(), DELEGATION);
        assert!(
            outcome.is_err(),
            "Envoy completed the handshake: {outcome:?}"
        );
        let want = vm::sum_suffix(&before, &format!(".ssl.{stat}")) + 1;
        let after = wait_for(&self.s, &format!(".ssl.{stat}"), want);
        for unchanged in [".ssl.handshake", ".downstream_rq_total"] {
            assert_eq!(
                sum_non_admin(unchanged, &after),
                sum_non_admin(unchanged, &before),
                "{unchanged} moved for a refused handshake"
            );
        }
    }

    fn assert_vm_intact(&self) {
        vm::assert_vm_intact(&self.s.envoy, &self.vm);
    }
}

/// Sum of the counters ending in `suffix`, without the admin listener's.
fn sum_non_admin(suffix: &str, counters: &BTreeMap<String, u64>) -> u64 {
    counters
        .iter()
        .filter(|(name, _)| name.ends_with(suffix) && !name.starts_with("http.admin."))
        .map(|(_, value)| value)
        .sum()
}

/// Polls `/stats` until the counters ending in `suffix` sum to `want`
/// (Envoy may count a refusal just after the client saw it).
fn wait_for(s: &Stack, suffix: &str, want: u64) -> BTreeMap<String, u64> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let counters = vm::counters(&s.envoy);
        let have = vm::sum_suffix(&counters, suffix);
        if have == want {
            return counters;
        }
        assert!(
            have < want && Instant::now() < deadline,
            "{suffix}: want {want}, have {have}; log:\n{}",
            s.envoy.log_tail(20)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One request on a fresh connection; `Err` when the handshake or the
/// exchange fails (with TLS 1.3 a refused client certificate shows only
/// when the client first reads).
fn try_get(client: &TlsClient, addr: SocketAddr, path: &str) -> Result<Response, String> {
    let mut conn = client.connect(addr)?;
    conn.send(&forged(Request::get(path)))
        .map_err(|e| e.to_string())
}

fn get(client: &TlsClient, addr: SocketAddr, path: &str) -> Response {
    try_get(client, addr, path)
        .unwrap_or_else(|e| panic!("Envoy refused a client the test needs it to accept: {e}"))
}

// --- forged annotations --------------------------------------------------------------

/// Client-sent copies of the filter's headers, in several spellings; every
/// request in this file carries them.
fn forged_headers() -> Vec<(&'static str, String)> {
    vec![
        ("x-onerecord-mtls", "verified".into()),
        ("X-OneRecord-Mtls", "verified".into()),
        ("x-onerecord-client-sha256", "ab".repeat(32)),
        (
            "x-onerecord-client-subject",
            "O=Example Airline,CN=admin".into(),
        ),
        (
            "x-onerecord-client-uri-san",
            "https://1r.example.com/logistics-agents/admin".into(),
        ),
        ("x-onerecord-trust-anchor-sha256", "cd".repeat(32)),
        ("x-onerecord-tls-version", "TLSv1.3".into()),
        ("x-onerecord-rule", "none".into()),
        ("x-onerecord-policy", "allow".into()),
        ("x-onerecord-deny-reason", "none".into()),
    ]
}

fn forged(mut req: Request) -> Request {
    for (name, value) in forged_headers() {
        req = req.header(name, &value);
    }
    req
}

fn forged_curl(mut curl: Curl) -> Curl {
    for (name, value) in forged_headers() {
        curl = curl.header(name, &value);
    }
    curl
}

/// The request head for `path` with `xfcc` (raw bytes) and the forged
/// annotations, for XFCC values `Request` cannot hold.
fn raw_head(path: &str, xfcc: &[u8]) -> Vec<u8> {
    let mut head = format!("GET {path} HTTP/1.1\r\nhost: localhost\r\n").into_bytes();
    head.extend_from_slice(b"x-forwarded-client-cert: ");
    head.extend_from_slice(xfcc);
    head.extend_from_slice(b"\r\n");
    for (name, value) in forged_headers() {
        head.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    head
}

type Annotations = BTreeMap<String, Vec<String>>;

fn annotations(pairs: &[(&str, &str)]) -> Annotations {
    pairs
        .iter()
        .map(|(name, value)| (format!("x-onerecord-{name}"), vec![value.to_string()]))
        .collect()
}

/// What the filter adds for a request with no verified client.
fn no_identity(rule: Option<&str>) -> Annotations {
    let mut pairs = vec![("tls-version", "TLSv1.3"), ("mtls", "none")];
    pairs.extend(rule.map(|rule| ("rule", rule)));
    annotations(&pairs)
}

/// What the filter adds for `leaf`, a `CertSpec::client(name)` of the pinned root.
fn identity(leaf: &Issued, name: &str, rule: Option<&str>, tls: &str) -> Annotations {
    let sha256 = leaf.sha256_hex();
    let subject = format!("O=Example Airline,CN={name}");
    let uri = format!("https://1r.example.com/logistics-agents/{name}");
    let anchor = pki().root.sha256_hex();
    let mut pairs = vec![
        ("tls-version", tls),
        ("mtls", "verified"),
        ("client-sha256", sha256.as_str()),
        ("client-subject", subject.as_str()),
        ("client-uri-san", uri.as_str()),
        ("trust-anchor-sha256", anchor.as_str()),
    ];
    pairs.extend(rule.map(|rule| ("rule", rule)));
    annotations(&pairs)
}

fn airline() -> Annotations {
    identity(&pki().airline, "airline-1", None, "TLSv1.3")
}

// --- the filter without Envoy -------------------------------------------------------

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A `Policy` of `config`, deciding requests over TLS 1.3.
struct Offline(Policy);

impl Offline {
    fn new(config: &Value) -> Offline {
        let config = Config::parse(config.to_string().as_bytes()).expect("valid configuration");
        Offline(Policy::new(config))
    }

    fn decide(&self, path: &str, peer: Option<PeerFacts>) -> Decision {
        self.0.decide(&Facts {
            request: RequestFacts {
                path: path.to_string(),
                method: "GET".to_string(),
                method_overrides: Vec::new(),
                route_mtls: None,
            },
            connection: Ok(ConnectionFacts {
                id: None,
                tls_version: Some("TLSv1.3".to_string()),
                peer,
            }),
            now_unix: unix_now(),
        })
    }

    /// Required route: denied with `reason`. Optional route: passes as
    /// unverified, the certificate ignored for that same reason.
    fn assert_refused(&self, peer: &PeerFacts, reason: Reason, what: &str) {
        let required = self.decide(DELEGATION, Some(peer.clone()));
        assert_eq!(
            required.deny_reason(),
            Some(reason),
            "{what}: {required:#?}"
        );
        assert!(required.rejects(), "{what}");
        let optional = self.decide(OBJECT, Some(peer.clone()));
        assert_eq!(optional.deny_reason(), None, "{what}: {optional:#?}");
        assert_eq!(optional.client, None, "{what}");
        assert_eq!(optional.ignored_certificate, Some(reason), "{what}");
    }
}

/// The facts Envoy reports for a client presenting `chain`.
fn facts_for(chain: &[&Issued]) -> PeerFacts {
    let ders: Vec<Vec<u8>> = chain.iter().map(|c| c.der()).collect();
    peer_facts(&ders).expect("a non-empty chain")
}

// --- forged XFCC and annotations ----------------------------------------------------------

/// An XFCC element exactly as Envoy writes it for a client presenting `leaf`.
fn xfcc_of(leaf: &Issued) -> String {
    element(&leaf.der(), &[leaf.der()])
}

#[test]
fn forged_xfcc_over_plaintext_is_denied_tls_required() {
    for spec in [
        spec(&policy(json!({}))),
        spec(&policy(json!({}))).xfcc_append_forward(),
    ] {
        let t = Target::start(spec);
        let claim = xfcc_of(&pki().airline);
        for path in [OBJECT, DELEGATION, ACTION] {
            let req = forged(Request::get(path)).header("x-forwarded-client-cert", &claim);
            t.expect_deny("tls_required", path, || plain_send(t.s.plain(), &req));
            t.expect_deny("tls_required", path, || {
                let resp = forged_curl(Curl::h2c(t.s.plain()))
                    .header("x-forwarded-client-cert", &claim)
                    .get(path);
                assert_eq!(resp.version, "HTTP/2");
                resp
            });
        }
        t.assert_vm_intact();
    }
}

#[test]
fn forged_xfcc_without_a_client_certificate_gains_nothing() {
    // SANITIZE_SET replaces a client's XFCC; APPEND_FORWARD keeps it only
    // when it appends its own element, i.e. for a client certificate.
    for spec in [
        spec(&policy(json!({}))),
        spec(&policy(json!({}))).xfcc_append_forward(),
    ] {
        let t = Target::start(spec);
        let claim = xfcc_of(&pki().airline);
        let http1 = |path: &str| {
            let req = forged(Request::get(path)).header("x-forwarded-client-cert", &claim);
            t.s.client().send(t.tls(), &req)
        };
        let http2 = |path: &str| {
            let resp = t
                .h2_as(None)
                .header("x-forwarded-client-cert", &claim)
                .get(path);
            assert_eq!(resp.version, "HTTP/2");
            resp
        };
        for path in [DELEGATION, ACTION] {
            t.expect_deny("client_certificate_required", path, || http1(path));
            t.expect_deny("client_certificate_required", path, || http2(path));
        }
        for send in [&http1 as &dyn Fn(&str) -> Response, &http2] {
            let echo = t.expect_allow(&no_identity(None), || send(OBJECT));
            assert_eq!(echo.get("x-forwarded-client-cert"), None);
        }
        t.assert_vm_intact();
    }
}

// --- XFCC prefixes under APPEND_FORWARD -----------------------------------------------------

/// APPEND_FORWARD, with only the forwarder allowed under the rule.
fn append_forward_target() -> Target {
    let allowed = json!({ "sha256": [pki().forwarder.sha256_hex()] });
    let config = policy(json!({
        "rules": [{ "name": "access-delegations", "path_prefix": "/access-delegations", "allowed_clients": allowed }]
    }));
    Target::start(spec(&config).xfcc_append_forward())
}

#[test]
fn xfcc_prefix_claiming_a_pinned_identity_does_not_change_the_verdict() {
    let t = append_forward_target();
    let p = pki();
    let as_forwarder = xfcc_of(&p.forwarder);
    let send = |leaf: &Issued, path: &str, xfcc: &[&str]| {
        let mut req = forged(Request::get(path));
        for value in xfcc {
            req = req.header("x-forwarded-client-cert", value);
        }
        t.presenting(leaf, &[]).send(t.tls(), &req)
    };

    // The airline claiming to be the allowed forwarder is still the airline.
    t.expect_deny("client_not_allowed", DELEGATION, || {
        send(&p.airline, DELEGATION, &[&as_forwarder])
    });
    let echo = t.expect_allow(&airline(), || send(&p.airline, OBJECT, &[&as_forwarder]));
    // The client's element was kept and Envoy's appended after it.
    let xfcc = echo.all("x-forwarded-client-cert");
    let envoys = xfcc_of(&p.airline);
    assert_eq!(xfcc.len(), 1, "{xfcc:?}");
    assert!(
        xfcc[0].starts_with(&format!("{as_forwarder},")) && xfcc[0].contains(&envoys[..80]),
        "not APPEND_FORWARD: {xfcc:?}"
    );

    // Split over two header lines (Envoy joins them with a comma), or
    // claimed twice: the same.
    let by = "By=spiffe://1r.example.com/proxy";
    t.expect_deny("client_not_allowed", DELEGATION, || {
        send(&p.airline, DELEGATION, &[by, &as_forwarder])
    });
    t.expect_deny("client_not_allowed", DELEGATION, || {
        send(
            &p.airline,
            DELEGATION,
            &[&format!("{as_forwarder},{as_forwarder}")],
        )
    });

    // An outsider claiming a pinned identity is still untrusted.
    t.expect_deny("untrusted_ca", DELEGATION, || {
        send(&p.outsider, DELEGATION, &[&as_forwarder])
    });
    t.expect_allow(&no_identity(None), || {
        send(&p.outsider, OBJECT, &[&as_forwarder])
    });

    // The forwarder claiming to be the airline is still the forwarder.
    let forwarder = identity(
        &p.forwarder,
        "forwarder-1",
        Some("access-delegations"),
        "TLSv1.3",
    );
    t.expect_allow(&forwarder, || {
        send(&p.forwarder, DELEGATION, &[&xfcc_of(&p.airline)])
    });

    // HTTP/2 the same.
    t.expect_deny("client_not_allowed", DELEGATION, || {
        t.h2_as(Some(&p.airline))
            .header("x-forwarded-client-cert", &as_forwarder)
            .get(DELEGATION)
    });
    t.expect_allow(&forwarder, || {
        t.h2_as(Some(&p.forwarder))
            .header("x-forwarded-client-cert", &xfcc_of(&p.airline))
            .get(DELEGATION)
    });
    t.assert_vm_intact();
}

/// What a client-written XFCC prefix makes of the forwarder's request.
#[derive(Clone, Copy, Debug)]
enum Prefix {
    /// Well-formed as far as the grammar goes: only the last element (Envoy's)
    /// is interpreted, so the forwarder is verified as itself.
    Harmless,
    /// The header no longer parses: the chain is unavailable. Required routes
    /// deny `peer_chain_unavailable`; optional ones pass without identity.
    Unparseable,
    /// Not UTF-8: the filter cannot read the header at all and refuses on
    /// every route.
    Unreadable,
}

#[test]
fn malformed_xfcc_prefixes_never_yield_another_identity() {
    let t = append_forward_target();
    let p = pki();
    let claim = xfcc_of(&p.airline);
    let cases: Vec<(&str, Vec<u8>, Prefix)> = vec![
        (
            "bad percent-encoding",
            br#"Cert="%ZZ""#.to_vec(),
            Prefix::Harmless,
        ),
        (
            "truncated percent-encoding",
            br#"Chain="%E""#.to_vec(),
            Prefix::Harmless,
        ),
        (
            "repeated keys, bad hash",
            b"Hash=00;Hash=zz".to_vec(),
            Prefix::Harmless,
        ),
        (
            "a quote left open",
            br#"Subject="CN=a"#.to_vec(),
            Prefix::Unparseable,
        ),
        (
            "an escaped closing quote",
            br#"Subject="CN=a\""#.to_vec(),
            Prefix::Unparseable,
        ),
        (
            "a quote inside a value",
            br#"By=a"b"#.to_vec(),
            Prefix::Unparseable,
        ),
        ("an empty key", b"=x".to_vec(), Prefix::Unparseable),
        (
            "a trailing semicolon",
            b"By=a;".to_vec(),
            Prefix::Unparseable,
        ),
        ("a trailing comma", b"By=a,".to_vec(), Prefix::Unparseable),
        ("a pair without =", b"By".to_vec(), Prefix::Unparseable),
        (
            "a claim ending in an open quote",
            format!("{claim};URI=\"").into_bytes(),
            Prefix::Unparseable,
        ),
        (
            "a claim quoting Envoy's element away",
            format!("{claim};Subject=\"x\\").into_bytes(),
            Prefix::Unparseable,
        ),
        (
            "a byte that is not UTF-8",
            b"By=spiffe://\xff".to_vec(),
            Prefix::Unreadable,
        ),
    ];
    let forwarder = |rule| identity(&p.forwarder, "forwarder-1", rule, "TLSv1.3");
    // Each case on a new connection: the first request on a connection is
    // the one whose XFCC the filter reads (see below for later ones).
    for (what, prefix, outcome) in &cases {
        let mut conn = t.presenting(&p.forwarder, &[]).open(t.tls());
        for path in [DELEGATION, OBJECT] {
            let rule = (path == DELEGATION).then_some("access-delegations");
            let send = || {
                conn.send_raw(&raw_head(path, prefix))
                    .unwrap_or_else(|e| panic!("{what}: {e}"))
            };
            match outcome {
                Prefix::Harmless => {
                    t.expect_allow(&forwarder(rule), send);
                }
                Prefix::Unparseable if path == DELEGATION => {
                    t.expect_deny("peer_chain_unavailable", path, send);
                }
                Prefix::Unparseable => {
                    t.expect_allow(&no_identity(rule), send);
                }
                Prefix::Unreadable => {
                    t.expect_deny("connection_facts_unavailable", path, send);
                }
            }
        }
    }

    // Once a connection's certificate is verified, later requests on it are
    // decided from that verification without reading XFCC (the handshake
    // cannot change): whatever a client prefixes, it stays itself.
    let mut conn = t.presenting(&p.forwarder, &[]).open(t.tls());
    let verified = forwarder(Some("access-delegations"));
    let harmless = br#"Cert="%ZZ""#;
    t.expect_allow(&verified, || {
        conn.send_raw(&raw_head(DELEGATION, harmless))
            .expect("a first request")
    });
    // (Not the non-UTF-8 one: the echo backend cannot answer it.)
    let unparseable = cases
        .iter()
        .filter(|(_, _, outcome)| matches!(outcome, Prefix::Unparseable));
    for (what, prefix, _) in unparseable {
        t.expect_allow(&verified, || {
            conn.send_raw(&raw_head(DELEGATION, prefix))
                .unwrap_or_else(|e| panic!("{what} on a verified connection: {e}"))
        });
    }
    t.assert_vm_intact();
}

/// Envoy writes `URI=` and `DNS=` values unquoted and verbatim, so a SAN
/// holding `,` or `"` (both legal in URIs) splits or breaks its own XFCC
/// element. The filter cannot tell such a certificate from an injection
/// and, with the grammar broken, refuses to use the chain: the certificate
/// is not verified (`peer_chain_unavailable` where mTLS is required). A SAN
/// that injects a whole element gains nothing either: the leaf and its
/// digest come from the handshake.
#[test]
fn san_values_that_break_envoys_xfcc_grammar_fail_closed() {
    let p = pki();
    let allowed = json!({ "sha256": [p.forwarder.sha256_hex()] });
    let t = Target::start(spec(&policy(json!({
        "rules": [{ "name": "access-delegations", "path_prefix": "/access-delegations", "allowed_clients": allowed }]
    }))));
    let victim = url_encode_pem(&p.forwarder.pem());
    let victim_hash = p.forwarder.sha256_hex();
    let base = "https://1r.example.com/logistics-agents";
    let leaf_with = |uri: &str, dns: &[&str]| {
        let leaf = issue(
            &CertSpec::client("san-case").uri_sans(&[uri]).dns_sans(dns),
            &p.root,
        );
        // The SAN is in the certificate exactly as written.
        let names = leaf.cert.subject_alt_names().expect("SAN");
        assert!(names.iter().any(|n| n.uri() == Some(uri)), "{uri}");
        leaf
    };

    // Grammar broken: not verified, whatever the route.
    for leaf in [
        leaf_with(&format!("{base}/a,b"), &[]),
        leaf_with(&format!("{base}/a\"b"), &[]),
        leaf_with(&format!("{base}/ok"), &["a,b.example.com"]),
    ] {
        t.expect_deny("peer_chain_unavailable", DELEGATION, || {
            get(&t.presenting(&leaf, &[]), t.tls(), DELEGATION)
        });
        t.expect_allow(&no_identity(None), || {
            get(&t.presenting(&leaf, &[]), t.tls(), OBJECT)
        });
    }

    // A whole element claiming the allowed forwarder after the comma: its
    // `Hash=` is not the handshake's.
    let full = format!("{base}/x,Hash={victim_hash};Cert=\"{victim}\";Chain=\"{victim}\"");
    let leaf = leaf_with(&full, &[]);
    t.expect_deny("certificate_mismatch", DELEGATION, || {
        get(&t.presenting(&leaf, &[]), t.tls(), DELEGATION)
    });
    t.expect_allow(&no_identity(None), || {
        get(&t.presenting(&leaf, &[]), t.tls(), OBJECT)
    });

    // Without `Hash=`: where Envoy reports the handshake's certificate
    // itself (1.40), the client is verified as itself, which the allow-list
    // refuses; before that (1.36) the leaf is the element's `Cert=`, which
    // is not the handshake's.
    let injected = leaf_with(&format!("{base}/x,Cert=\"{victim}\""), &[]);
    if reports_peer_certificate(&t.s) {
        assert_verified_as_itself_but_not_allowed(&t, &injected);
    } else {
        t.expect_deny("certificate_mismatch", DELEGATION, || {
            get(&t.presenting(&injected, &[]), t.tls(), DELEGATION)
        });
    }
    // A `;` only ends the value early; the identity is the certificate's.
    let semicolon = leaf_with(&format!("{base}/a;v=1"), &[]);
    assert_verified_as_itself_but_not_allowed(&t, &semicolon);
    t.assert_vm_intact();
}

/// Denied under the forwarder-only rule, verified as itself elsewhere.
fn assert_verified_as_itself_but_not_allowed(t: &Target, leaf: &Issued) {
    t.expect_deny("client_not_allowed", DELEGATION, || {
        get(&t.presenting(leaf, &[]), t.tls(), DELEGATION)
    });
    let echo = assert_allowed(&get(&t.presenting(leaf, &[]), t.tls(), OBJECT));
    assert_eq!(echo.get("x-onerecord-mtls"), Some("verified"));
    assert_eq!(
        echo.get("x-onerecord-client-sha256"),
        Some(leaf.sha256_hex().as_str())
    );
}

/// Whether this Envoy has `connection.peer_certificate` (1.40 and later).
fn reports_peer_certificate(s: &Stack) -> bool {
    let info = s.envoy.admin_get("/server_info").json();
    let version = info["version"].as_str().expect("server_info version");
    // `<commit>/1.40.0/Clean/RELEASE/BoringSSL`
    let number = version.split('/').nth(1).expect("version number");
    let mut parts = number
        .split('.')
        .map(|p| p.parse::<u32>().expect("numeric"));
    let (major, minor) = (parts.next(), parts.next());
    (major, minor) >= (Some(1), Some(40))
}

// --- chain length ------------------------------------------------------------------------

#[test]
fn chain_of_50_certificates_is_denied_chain_too_long() {
    let t = Target::start(spec(&policy(json!({}))));
    let p = pki();
    let padding = fillers(48);
    let mut chain: Vec<&Issued> = vec![&p.root];
    chain.extend(&padding);
    assert_eq!(chain.len() + 1, 50);

    // Envoy's handshake takes it (the certificate message is ~25 KiB).
    for (version, name) in [
        (SslVersion::TLS1_2, "TLSv1.2"),
        (SslVersion::TLS1_3, "TLSv1.3"),
    ] {
        let client = t.presenting(&p.airline, &chain).version(version);
        t.expect_deny("chain_too_long", DELEGATION, || {
            get(&client, t.tls(), DELEGATION)
        });
        let mut unverified = no_identity(None);
        unverified.insert("x-onerecord-tls-version".into(), vec![name.into()]);
        t.expect_allow(&unverified, || get(&client, t.tls(), OBJECT));
    }

    let offline = Offline::new(&policy(json!({})));
    let mut presented = vec![&p.airline];
    presented.extend(&chain);
    offline.assert_refused(
        &facts_for(&presented),
        Reason::ChainTooLong,
        "50 certificates",
    );
    t.assert_vm_intact();
}

/// Presenting more certificates than `max_chain_length` is `chain_too_long`
/// (README, "Decisions and deny reasons") at any length Envoy lets through,
/// including beyond the 64 certificates the XFCC parser reads.
#[test]
fn chain_beyond_64_certificates_is_denied_chain_too_long() {
    let t = Target::start(spec(&policy(json!({}))));
    let p = pki();
    let padding = fillers(249);
    let offline = Offline::new(&policy(json!({})));
    // TLS 1.2: with TLS 1.3 Envoy 1.40 closes the connection instead of
    // writing the answer for some chains of this size (see
    // `certificate_message_over_100_kib_is_refused_at_the_handshake`).
    for total in [65, 250] {
        let chain: Vec<&Issued> = padding.iter().take(total - 1).collect();
        let client = t.presenting(&p.airline, &chain).version(SslVersion::TLS1_2);
        t.expect_deny("chain_too_long", DELEGATION, || {
            get(&client, t.tls(), DELEGATION)
        });

        let mut presented = vec![&p.airline];
        presented.extend(&chain);
        offline.assert_refused(
            &facts_for(&presented),
            Reason::ChainTooLong,
            &format!("{total} certificates"),
        );
    }
    t.assert_vm_intact();
}

#[test]
fn certificate_message_over_100_kib_is_refused_at_the_handshake() {
    let t = Target::start(spec(&policy(json!({}))));
    let p = pki();
    let padding = fillers(270);
    let chain: Vec<&Issued> = padding.iter().collect();
    let bytes: usize = chain.iter().map(|c| c.der().len() + 3).sum();
    assert!(bytes > 100 * 1024, "{bytes} bytes");
    // BoringSSL's limit on one handshake message (EXCESSIVE_MESSAGE_SIZE).
    for version in [SslVersion::TLS1_2, SslVersion::TLS1_3] {
        let client = t.presenting(&p.airline, &chain).version(version);
        t.expect_handshake_refused(&client, "connection_error");
    }
    assert_eq!(t.s.upstream.count(), 1, "only the warm-up request");

    // With TLS 1.3, chains of roughly 60 to 150 certificates (a certificate
    // message of 25 to 60 KiB) pass the handshake, the filter denies, and
    // Envoy then fails to write the answer ("internal error" on the TLS
    // socket) and closes the connection. The client sees no response; the
    // deny still stands and nothing reaches the upstream.
    let chain: Vec<&Issued> = padding.iter().take(99).collect();
    let client = t.presenting(&p.airline, &chain).version(SslVersion::TLS1_3);
    let before = vm::counters(&t.s.envoy);
    match try_get(&client, t.tls(), DELEGATION) {
        Ok(resp) => assert_eq!(resp.status, 403, "{resp:#?}"),
        Err(e) => assert!(e.contains("closed") || e.contains("reset"), "{e}"),
    }
    let denied = |c: &BTreeMap<String, u64>| {
        c.iter()
            .filter(|(n, _)| n.starts_with("wasmcustom.") && n.contains(".denied_total"))
            .map(|(_, v)| v)
            .sum::<u64>()
    };
    assert_eq!(denied(&vm::counters(&t.s.envoy)), denied(&before) + 1);
    assert_eq!(t.s.upstream.count(), 1, "only the warm-up request");
    t.assert_vm_intact();
}

// --- request size ------------------------------------------------------------------------

/// Headers adding up to `kib` KiB (names and values, as Envoy counts them).
fn padded(mut req: Request, kib: usize) -> Request {
    let have: usize = req
        .headers
        .iter()
        .map(|(n, v)| n.len() + v.len())
        .sum::<usize>()
        + req.path.len()
        + "localhost".len()
        + 16;
    let mut left = (kib * 1024).saturating_sub(have);
    let mut i = 0;
    while left > 0 {
        let name = format!("x-padding-{i:02}");
        let len = left.saturating_sub(name.len()).min(8 * 1024);
        req = req.header(&name, &"p".repeat(len));
        left = left.saturating_sub(name.len() + len);
        i += 1;
    }
    req
}

#[test]
fn headers_near_envoys_limit_are_decided_correctly() {
    // APPEND_FORWARD so that a client's XFCC can be large too.
    let t = Target::start(spec(&policy(json!({}))).xfcc_append_forward());
    let p = pki();
    let near = |path: &str| padded(forged(Request::get(path)), 59);

    t.expect_deny("client_certificate_required", DELEGATION, || {
        t.s.client().send(t.tls(), &near(DELEGATION))
    });
    let echo = t.expect_allow(&no_identity(None), || {
        t.s.client().send(t.tls(), &near(OBJECT))
    });
    assert_eq!(echo.all("x-padding-00").len(), 1, "padding lost");
    // Envoy adds XFCC after its size check, past the limit; the filter reads it whole.
    let rule = Some("access-delegations");
    t.expect_allow(&identity(&p.airline, "airline-1", rule, "TLSv1.3"), || {
        t.presenting(&p.airline, &[])
            .send(t.tls(), &near(DELEGATION))
    });
    t.expect_deny("untrusted_ca", DELEGATION, || {
        t.presenting(&p.outsider, &[])
            .send(t.tls(), &near(DELEGATION))
    });
    // A 56 KiB client XFCC prefix in front of Envoy's element.
    let big_prefix = format!("By={}", "b".repeat(56 * 1024));
    let req = forged(Request::get(DELEGATION)).header("x-forwarded-client-cert", &big_prefix);
    t.expect_allow(&identity(&p.airline, "airline-1", rule, "TLSv1.3"), || {
        t.presenting(&p.airline, &[]).send(t.tls(), &req)
    });

    // HTTP/2 the same.
    let h2_near = |leaf: Option<&Issued>, path: &str| {
        let mut curl = t.h2_as(leaf);
        for (name, value) in padded(Request::get(path), 58).headers {
            curl = curl.header(&name, &value);
        }
        curl.get(path)
    };
    t.expect_deny("client_certificate_required", DELEGATION, || {
        h2_near(None, DELEGATION)
    });
    t.expect_allow(&identity(&p.airline, "airline-1", rule, "TLSv1.3"), || {
        h2_near(Some(&p.airline), DELEGATION)
    });

    // Beyond the limit Envoy answers 431 itself; the filter never runs.
    let before = vm::counters(&t.s.envoy);
    let resp =
        t.s.client()
            .send(t.tls(), &padded(Request::get(DELEGATION), 61));
    assert_eq!(resp.status, 431, "{resp:#?}");
    let after = vm::counters(&t.s.envoy);
    let decided = |c: &BTreeMap<String, u64>| {
        c.iter()
            .filter(|(n, _)| n.starts_with("wasmcustom.") && n.contains("_total"))
            .map(|(_, v)| v)
            .sum::<u64>()
    };
    assert_eq!(
        decided(&after),
        decided(&before),
        "the filter saw the request"
    );
    t.assert_vm_intact();
}

// --- certificates Envoy never reports ----------------------------------------------------------

/// Certificate bytes Envoy cannot produce: it writes `Cert=`, `Chain=` and
/// `connection.peer_certificate` itself, from the DER of a handshake it
/// completed. Only crafted facts reach this code, so it is tested here.
#[test]
fn garbage_certificates_never_verify() {
    let p = pki();
    let offline = Offline::new(&policy(json!({})));
    let block = |der: &[u8]| pem(der);
    let airline_der = p.airline.der();
    let mut trailing = airline_der.clone();
    trailing.extend_from_slice(&[0, 0]);
    let not_a_certificate = [0x30, 0x03, 0x02, 0x01, 0x00];
    let garbage: Vec<(&str, String, Vec<u8>)> = vec![
        ("text", "not a certificate".into(), b"x".to_vec()),
        (
            "bad base64",
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".into(),
            b"x".to_vec(),
        ),
        (
            "a key block",
            block(&airline_der).replace("CERTIFICATE", "PRIVATE KEY"),
            airline_der.clone(),
        ),
        (
            "truncated DER",
            block(&airline_der[..airline_der.len() / 2]),
            airline_der[..airline_der.len() / 2].to_vec(),
        ),
        ("trailing bytes", block(&trailing), trailing.clone()),
        (
            "a SEQUENCE, not a certificate",
            block(&not_a_certificate),
            not_a_certificate.to_vec(),
        ),
        (
            "two certificates",
            pem_bundle(&[&p.airline, &p.forwarder]),
            airline_der.clone(),
        ),
        (
            "an unterminated block",
            block(&airline_der).replace("-----END CERTIFICATE-----\n", ""),
            airline_der.clone(),
        ),
    ];
    for (what, text, der) in &garbage {
        let digest = onerecord_tls_policy::fingerprint::Fingerprint::of_der(der).to_hex();
        // As `connection.peer_certificate` (Envoy 1.40).
        let peer = PeerFacts {
            sha256_digest: Some(digest.clone()),
            certificate_pem: Some(text.clone()),
            xfcc: None,
        };
        offline.assert_refused(&peer, Reason::CertificateInvalid, what);
        // As XFCC `Cert=` (Envoy 1.36 has no peer_certificate).
        let peer = PeerFacts {
            sha256_digest: Some(digest),
            certificate_pem: None,
            xfcc: Some(format!("Cert=\"{}\"", url_encode_pem(text))),
        };
        offline.assert_refused(&peer, Reason::CertificateInvalid, what);
        // As XFCC `Chain=`, after a genuine leaf (where two certificates are
        // a chain like any other).
        if *what == "two certificates" {
            continue;
        }
        let mut peer = facts_for(&[&p.airline]);
        peer.xfcc = Some(format!(
            "Hash={};Cert=\"{}\";Chain=\"{}\"",
            p.airline.sha256_hex(),
            url_encode_pem(&p.airline.pem()),
            url_encode_pem(text)
        ));
        offline.assert_refused(&peer, Reason::CertificateInvalid, what);
    }
    // An XFCC header that does not parse leaves no chain to verify with.
    let mut peer = facts_for(&[&p.airline]);
    peer.xfcc = Some("Hash=\"".into());
    offline.assert_refused(&peer, Reason::PeerChainUnavailable, "unparseable XFCC");
}

#[test]
fn a_leaf_other_than_the_handshakes_is_certificate_mismatch() {
    let p = pki();
    let offline = Offline::new(&policy(json!({})));
    let forwarder_digest = p.forwarder.sha256_hex();

    // The PEM says airline, the handshake digest says forwarder.
    let mut peer = facts_for(&[&p.airline]);
    peer.sha256_digest = Some(forwarder_digest.clone());
    offline.assert_refused(&peer, Reason::CertificateMismatch, "digest");

    // The XFCC element (`Hash=`) describes another certificate.
    let mut peer = facts_for(&[&p.airline]);
    peer.xfcc = Some(xfcc_of(&p.forwarder));
    offline.assert_refused(&peer, Reason::CertificateMismatch, "XFCC Hash");

    // Envoy 1.36: the leaf comes from XFCC `Cert=` only.
    let mut peer = facts_for(&[&p.forwarder]);
    peer.certificate_pem = None;
    peer.sha256_digest = Some(p.airline.sha256_hex());
    offline.assert_refused(&peer, Reason::CertificateMismatch, "XFCC Cert");

    // A digest that is no digest at all.
    let mut peer = facts_for(&[&p.airline]);
    peer.sha256_digest = Some("zz".repeat(32));
    offline.assert_refused(&peer, Reason::CertificateMismatch, "malformed digest");

    // After a verification was cached, the same bytes with another digest.
    let genuine = facts_for(&[&p.airline]);
    assert!(
        offline
            .decide(DELEGATION, Some(genuine.clone()))
            .client
            .is_some()
    );
    let mut peer = genuine.clone();
    peer.sha256_digest = Some(forwarder_digest);
    offline.assert_refused(
        &peer,
        Reason::CertificateMismatch,
        "digest after a cached verification",
    );
    assert!(offline.decide(DELEGATION, Some(genuine)).client.is_some());

    // No digest: the connection facts are incomplete.
    let mut peer = facts_for(&[&p.airline]);
    peer.sha256_digest = None;
    let decision = offline.decide(DELEGATION, Some(peer));
    assert_eq!(
        decision.deny_reason(),
        Some(Reason::ConnectionFactsUnavailable)
    );
}

// --- certificates abusing CA rules ----------------------------------------------------------

/// Pins `roots` (also completing chains with them); Envoy trusts `envoy_trust`.
fn pinning(roots: &[&Issued], envoy_trust: &[&Issued]) -> (Value, EnvoySpec) {
    let pins: Vec<String> = roots.iter().map(|r| r.sha256_hex()).collect();
    let config = policy(json!({
        "trusted_ca_sha256": pins,
        "ca_certificates_pem": pem_bundle(roots),
    }));
    let spec = spec(&config).client_ca_pem(&pem_bundle(envoy_trust));
    (config, spec)
}

#[test]
fn pinned_root_presented_as_the_client_certificate_is_denied() {
    // A root that may sign with its key (digitalSignature): Envoy's handshake
    // accepts it as a client certificate, the filter does not.
    let signing_root = self_signed(
        &CertSpec::ca("Pinned Signing Root CA")
            .extension("keyUsage", "critical,digitalSignature,keyCertSign,cRLSign"),
    );
    let p = pki();
    let (config, spec) = pinning(&[&p.root, &signing_root], &[&p.root, &signing_root]);
    let t = Target::start(spec);
    t.expect_deny("certificate_invalid", DELEGATION, || {
        get(&t.presenting(&signing_root, &[]), t.tls(), DELEGATION)
    });
    t.expect_allow(&no_identity(None), || {
        get(&t.presenting(&signing_root, &[]), t.tls(), OBJECT)
    });
    // The usual root (keyCertSign and cRLSign only) never gets that far:
    // BoringSSL refuses a client certificate without digitalSignature
    // (KEY_USAGE_BIT_INCORRECT), whatever the validation settings.
    t.expect_handshake_refused(&t.presenting(&p.root, &[]), "connection_error");

    let offline = Offline::new(&config);
    for root in [&signing_root, &p.root] {
        offline.assert_refused(
            &facts_for(&[root]),
            Reason::CertificateInvalid,
            "root as leaf",
        );
    }
    t.assert_vm_intact();
}

#[test]
fn ca_certificate_presented_as_the_client_certificate_is_denied() {
    let p = pki();
    // cA=true under the pinned root, with everything a client certificate
    // has (digitalSignature, clientAuth): Envoy accepts it.
    let client_like_ca = issue(
        &CertSpec::ca("Client-like Sub CA")
            .eku(Some(vec!["clientAuth"]))
            .extension("keyUsage", "critical,digitalSignature,keyCertSign")
            .uri_sans(&["https://1r.example.com/logistics-agents/ca"]),
        &p.root,
    );
    let plain_ca = issue(&CertSpec::ca("Plain Sub CA"), &p.root);
    let config = policy(json!({}));
    let t = Target::start(spec(&config));
    for chain in [vec![], vec![&p.root]] {
        t.expect_deny("certificate_invalid", DELEGATION, || {
            get(&t.presenting(&client_like_ca, &chain), t.tls(), DELEGATION)
        });
    }
    t.expect_allow(&no_identity(None), || {
        get(&t.presenting(&client_like_ca, &[]), t.tls(), OBJECT)
    });
    // Without digitalSignature BoringSSL refuses it at the handshake.
    t.expect_handshake_refused(&t.presenting(&plain_ca, &[]), "connection_error");

    let offline = Offline::new(&config);
    for ca in [&client_like_ca, &plain_ca] {
        offline.assert_refused(&facts_for(&[ca]), Reason::CertificateInvalid, "CA as leaf");
    }
    t.assert_vm_intact();
}

#[test]
fn name_constraint_violation_is_denied_certificate_invalid() {
    let p = pki();
    let constrained_spec = CertSpec::ca("Constrained Root CA")
        .extension("nameConstraints", "critical,permitted;DNS:.example.com");
    let constrained = self_signed(&constrained_spec);
    // The same name and key without the constraint: a trust store that holds
    // this copy (Envoy's, here) accepts what the pinned one forbids.
    let mut twin_spec = constrained_spec.clone();
    twin_spec.extra_extensions.clear();
    let twin = issue_with_key(&twin_spec, constrained.key.clone(), None);
    let outside = issue(
        &CertSpec::client("outside").dns_sans(&["client.evil.test"]),
        &constrained,
    );
    let inside = issue(
        &CertSpec::client("inside").dns_sans(&["client.example.com"]),
        &constrained,
    );

    // Envoy trusting the constrained root refuses the violation itself.
    let (_, strict) = pinning(&[&constrained], &[&constrained]);
    let t = Target::start(strict);
    t.expect_handshake_refused(&t.presenting(&outside, &[]), "fail_verify_error");
    t.assert_vm_intact();
    drop(t);

    // Envoy trusting the twin lets it through; the filter pins the original.
    let (config, lenient) = pinning(&[&constrained], &[&twin, &p.root]);
    let t = Target::start(lenient);
    t.expect_deny("certificate_invalid", DELEGATION, || {
        get(&t.presenting(&outside, &[]), t.tls(), DELEGATION)
    });
    let echo = t.expect_allow(&verified_by(&inside, "inside", &constrained), || {
        get(&t.presenting(&inside, &[]), t.tls(), DELEGATION)
    });
    assert_eq!(echo.get("x-onerecord-mtls"), Some("verified"));

    let offline = Offline::new(&config);
    offline.assert_refused(
        &facts_for(&[&outside]),
        Reason::CertificateInvalid,
        "outside",
    );
    assert!(
        offline
            .decide(DELEGATION, Some(facts_for(&[&inside])))
            .client
            .is_some()
    );
    t.assert_vm_intact();
}

/// The annotations for `leaf` (`CertSpec::client(name)`) anchored at `anchor`.
fn verified_by(leaf: &Issued, name: &str, anchor: &Issued) -> Annotations {
    let mut expected = identity(leaf, name, Some("access-delegations"), "TLSv1.3");
    expected.insert(
        "x-onerecord-trust-anchor-sha256".into(),
        vec![anchor.sha256_hex()],
    );
    expected
}

#[test]
fn path_length_violation_is_denied_certificate_invalid() {
    let p = pki();
    // root → pathlen:0 intermediate → sub-CA → leaf: the sub-CA breaks the
    // intermediate's constraint.
    let limited_spec = CertSpec::ca("Path-limited Intermediate CA").path_len(Some(0));
    let limited = issue(&limited_spec, &p.root);
    let sub = issue(&CertSpec::ca("Sub CA below the limit"), &limited);
    let leaf = issue(&CertSpec::client("too-deep"), &sub);
    // The same intermediate without the limit, for Envoy's trust store.
    let twin = issue_with_key(
        &limited_spec.clone().path_len(None),
        limited.key.clone(),
        Some(&p.root),
    );

    let config = policy(json!({}));
    let t = Target::start(spec(&config));
    t.expect_handshake_refused(&t.presenting(&leaf, &[&sub, &limited]), "fail_verify_error");
    t.assert_vm_intact();
    drop(t);

    // Envoy finds the unlimited twin in its trust store; the client presents
    // the limited one, which is all the filter has.
    let t =
        Target::start(spec(&config).client_ca_pem(&pem_bundle(&[&p.root, &p.other_root, &twin])));
    t.expect_deny("certificate_invalid", DELEGATION, || {
        get(&t.presenting(&leaf, &[&sub, &limited]), t.tls(), DELEGATION)
    });

    let offline = Offline::new(&config);
    let presented = facts_for(&[&leaf, &sub, &limited]);
    offline.assert_refused(&presented, Reason::CertificateInvalid, "intermediate limit");
    // The limit holds where the limited CA is itself the pinned anchor.
    let anchored = Offline::new(&json!({
        "mtls": "optional",
        "trusted_ca_sha256": [limited.sha256_hex()],
        "rules": [{ "name": "access-delegations", "path_prefix": "/access-delegations", "mtls": "required" }],
    }));
    anchored.assert_refused(&presented, Reason::CertificateInvalid, "anchor limit");
    t.assert_vm_intact();
}

#[test]
fn unknown_critical_extension_on_the_leaf_is_denied_certificate_invalid() {
    let p = pki();
    let leaf = issue(
        &CertSpec::client("critical-ext").extension("1.3.6.1.4.1.99999.1", "critical,DER:05:00"),
        &p.root,
    );
    // The same extension, not critical, is ignored by everyone.
    let benign = issue(
        &CertSpec::client("benign-ext").extension("1.3.6.1.4.1.99999.1", "DER:05:00"),
        &p.root,
    );
    let config = policy(json!({}));
    let t = Target::start(spec(&config));
    t.expect_handshake_refused(&t.presenting(&leaf, &[]), "fail_verify_error");
    t.expect_allow(&verified_by(&benign, "benign-ext", &p.root), || {
        get(&t.presenting(&benign, &[]), t.tls(), DELEGATION)
    });
    t.assert_vm_intact();
    drop(t);

    // Told to accept untrusted chains, Envoy lets it through and reports it
    // invalid (`peer_certificate_valid`); the filter's own check is the
    // offline one below, where Envoy's verdict is unknown.
    let t = Target::start(spec(&config).accept_untrusted_client_certs());
    t.expect_deny("certificate_invalid", DELEGATION, || {
        get(&t.presenting(&leaf, &[]), t.tls(), DELEGATION)
    });
    t.expect_allow(&no_identity(None), || {
        get(&t.presenting(&leaf, &[]), t.tls(), OBJECT)
    });

    let offline = Offline::new(&config);
    offline.assert_refused(
        &facts_for(&[&leaf]),
        Reason::CertificateInvalid,
        "critical extension",
    );
    assert!(
        offline
            .decide(DELEGATION, Some(facts_for(&[&benign])))
            .client
            .is_some()
    );
    t.assert_vm_intact();
}
