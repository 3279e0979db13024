//! Micro-benchmarks of `Policy::decide` on the facts Envoy gives the filter:
//! cold client verification (RSA-2048 and P-256, chains of 2 and 3), the same
//! request served from the verdict cache, the warm path with the token
//! bound to the certificate, XFCC parsing, requests without
//! a client certificate, and chains built to make verification expensive
//! (`adversarial/…`, against a good client under the same anchor), and the
//! CRL check of a warm request under a 10,000-entry CRL (`revocation/…`). `make bench-micro` runs them; a plain `cargo bench`
//! needs `CARGO_PROFILE_RELEASE_PANIC=unwind` as well, because the CLI built
//! with release's `panic = "abort"` cannot share the library with a benchmark.
// Test code: it may unwrap and panic (the workspace lints are for the shipped crates).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use onerecord_tls_policy_testkit::pki;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use onerecord_tls_policy::config::Config;
use onerecord_tls_policy::facts::{ConnectionFacts, Facts, PeerFacts, RequestFacts};
use onerecord_tls_policy::policy::path::MAX_PATH_LEN;
use onerecord_tls_policy::policy::{Decided, Policy};
use onerecord_tls_policy::xfcc::{self, envoy_format};
use pki::{CertSpec, Issued, KeyKind, issue, self_signed};
use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Envoy's own URI SAN, which it writes first in its XFCC element.
const ENVOY_BY: &str = "By=spiffe://onerecord.example.com/envoy";

/// A client PKI of `key` throughout; `inter` puts an intermediate between root and leaf.
struct Client {
    root: Issued,
    chain: Vec<Issued>,
}

impl Client {
    fn new(key: KeyKind, inter: bool) -> Self {
        let root = self_signed(&CertSpec::ca("ONE Record Root CA").key(key));
        let mut chain = Vec::new();
        let issuer = if inter {
            chain.push(issue(
                &CertSpec::ca("ONE Record Issuing CA").key(key),
                &root,
            ));
            chain.last().unwrap_or(&root)
        } else {
            &root
        };
        let leaf_spec = CertSpec::client("forwarder-42")
            .key(key)
            .dns_sans(&["forwarder-42.example.com"]);
        chain.insert(0, issue(&leaf_spec, issuer));
        Client { root, chain }
    }

    /// What Envoy reports: `connection.peer_certificate`, its digest and the
    /// XFCC element with the whole presented chain (the root included).
    fn peer(&self) -> PeerFacts {
        let mut ders: Vec<Vec<u8>> = self.chain.iter().map(Issued::der).collect();
        ders.push(self.root.der());
        let mut peer = envoy_format::peer_facts(&ders).expect("a leaf");
        peer.xfcc = peer.xfcc.map(|element| format!("{ENVOY_BY};{element}"));
        peer
    }

    fn policy(&self, cache_size: usize) -> Policy {
        let json = format!(
            r#"{{"trusted_ca_sha256":["{}"],"verdict_cache_size":{cache_size},
                "rules":[{{"name":"access-delegations","path_prefix":"/access-delegations","mtls":"required"}},
                         {{"name":"action-requests","path_prefix":"/action-requests","methods":["POST","PATCH"],"mtls":"required"}},
                         {{"name":"logistics-objects","path_prefix":"/logistics-objects","mtls":"optional"}}]}}"#,
            self.root.sha256_hex()
        );
        Policy::new(Config::parse(json.as_bytes()).expect("valid configuration"))
    }
}

fn request(tls_version: Option<&str>, peer: Option<PeerFacts>) -> Facts {
    let now_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    Facts {
        request: RequestFacts {
            path: "/access-delegations/4f6c2a?embedded=true".into(),
            method: "GET".into(),
            ..RequestFacts::default()
        },
        connection: Ok(ConnectionFacts {
            peer_uri_san: None,
            id: None,
            tls_version: tls_version.map(str::to_string),
            peer,
        }),
        now_unix,
    }
}

/// `facts` as the filter sends them on connection 7.
fn on_connection(mut facts: Facts) -> Facts {
    if let Ok(connection) = &mut facts.connection {
        connection.id = Some(7);
    }
    facts
}

// Beside this file, not in benches/, where cargo would take it for a bench of its own.
#[path = "policy/token.rs"]
mod token;

const PKIS: [(&str, KeyKind, bool); 4] = [
    ("rsa2048/chain2", KeyKind::Rsa(2048), false),
    ("rsa2048/chain3", KeyKind::Rsa(2048), true),
    ("p256/chain2", KeyKind::P256, false),
    ("p256/chain3", KeyKind::P256, true),
];

fn evaluation(c: &mut Criterion) {
    let clients: Vec<(&str, Client)> = PKIS
        .iter()
        .map(|(name, key, inter)| (*name, Client::new(*key, *inter)))
        .collect();

    let mut cold = c.benchmark_group("cold");
    for (name, client) in &clients {
        let policy = client.policy(0);
        let facts = request(Some("TLSv1.3"), Some(client.peer()));
        assert!(policy.decide(&facts).client.is_some(), "{name} verifies");
        cold.bench_function(*name, |b| b.iter(|| policy.decide(black_box(&facts))));
    }
    cold.finish();

    let mut warm = c.benchmark_group("warm");
    for (name, client) in &clients {
        let policy = client.policy(1024);
        let mut state = policy.new_state();
        let facts = request(Some("TLSv1.3"), Some(client.peer()));
        let decided = policy.decide_with(&facts, &mut state);
        assert!(decided.decision.client.is_some(), "{name} verifies");
        let hits = state.stats().hits;
        policy.decide_with(&facts, &mut state);
        // Checked before measuring: with a filter criterion skips the bench.
        assert!(state.stats().hits > hits, "{name} hits");
        warm.bench_function(*name, |b| {
            b.iter(|| policy.decide_with(black_box(&facts), &mut state))
        });
    }
    warm.finish();

    // A later request on a keep-alive connection: the filter passes the
    // connection id and no certificate bytes (`Policy::needs`).
    let mut same_connection = c.benchmark_group("warm-connection");
    for (name, client) in &clients {
        let policy = client.policy(1024);
        let mut state = policy.new_state();
        let mut peer = client.peer();
        let first = on_connection(request(Some("TLSv1.3"), Some(peer.clone())));
        let decided = policy.decide_with(&first, &mut state);
        assert!(decided.decision.client.is_some(), "{name} verifies");
        (peer.certificate_pem, peer.xfcc) = (None, None);
        let facts = on_connection(request(Some("TLSv1.3"), Some(peer)));
        let hits = state.stats().connection_hits;
        policy.decide_with(&facts, &mut state);
        assert!(
            state.stats().connection_hits > hits,
            "{name} hits by connection"
        );
        same_connection.bench_function(*name, |b| {
            b.iter(|| policy.decide_with(black_box(&facts), &mut state))
        });
    }
    same_connection.finish();
}

fn xfcc_parsing(c: &mut Criterion) {
    let mut group = c.benchmark_group("xfcc");
    for (name, key, inter) in [PKIS[1], PKIS[3]] {
        let header = Client::new(key, inter)
            .peer()
            .xfcc
            .expect("an XFCC element");
        assert!(xfcc::parse_last_element(&header).is_ok());
        // Reported as bytes per second too; the size varies a little per run.
        group.throughput(Throughput::Bytes(header.len() as u64));
        group.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| xfcc::parse_last_element(black_box(&header)))
        });
    }
    group.finish();
}

fn without_client_certificate(c: &mut Criterion) {
    let client = Client::new(KeyKind::P256, false);
    let policy = client.policy(1024);
    let mut group = c.benchmark_group("no_client_cert");
    let plaintext = request(None, None);
    assert!(policy.decide(&plaintext).rejects());
    group.bench_function("plaintext_deny", |b| {
        b.iter(|| policy.decide(black_box(&plaintext)))
    });
    let mut tls_only = request(Some("TLSv1.3"), None);
    tls_only.request.path = "/logistics-objects/4f6c2a".into();
    assert!(!policy.decide(&tls_only).rejects());
    group.bench_function("tls_only_allow", |b| {
        b.iter(|| policy.decide(black_box(&tls_only)))
    });
    group.finish();
}

/// The rule selection's worst case: a path as long as a valid one may be,
/// made of everything backends read differently (`;` parameters, encoded
/// and raw separators, empty and dot segments), so that every reading is
/// distinct and each is a pass over the whole path.
fn path_readings(c: &mut Criterion) {
    let client = Client::new(KeyKind::P256, false);
    let policy = client.policy(1024);
    let mut group = c.benchmark_group("path_readings");
    let unit = "/a;b/..%2F.\\x//..%5C;/";
    let crafted: String = unit
        .repeat(MAX_PATH_LEN / unit.len())
        .chars()
        .take(MAX_PATH_LEN)
        .collect();
    for (name, path) in [
        ("ordinary", "/logistics-objects/4f6c2a".to_string()),
        ("crafted_max_length", crafted),
    ] {
        let mut facts = request(Some("TLSv1.3"), None);
        facts.request.path = path;
        let decision = policy.decide(&facts);
        assert_ne!(
            decision.deny_reason(),
            Some(onerecord_tls_policy::reason::Reason::RequestPathInvalid),
            "{name} is a valid path"
        );
        group.bench_function(name, |b| b.iter(|| policy.decide(black_box(&facts))));
    }
    group.finish();
}

/// The pinned root of an adversarial case, and what a client presents.
struct Attack {
    root: Issued,
    /// Leaf first.
    chain: Vec<Issued>,
}

impl Attack {
    /// Finding 1: a leaf of a CA Envoy trusts but the policy does not pin,
    /// self-issued copies of that CA's subject with their own keys, and one
    /// certificate of that subject issued under the pinned root's name by
    /// another key. No key identifiers, so none is pruned for free.
    fn copies(anchor: KeyKind, max_chain_length: usize) -> Self {
        let bare = |name: &str| CertSpec::ca(name).key(anchor).without_key_identifiers();
        let root = self_signed(&CertSpec::ca("ONE Record Root CA").key(anchor));
        let trusted = self_signed(&CertSpec::ca("Envoy-trusted CA"));
        let mut chain = vec![issue(&CertSpec::client("intruder"), &trusted)];
        for _ in 0..max_chain_length - 2 {
            chain.push(self_signed(&bare("Envoy-trusted CA")));
        }
        let fake_root = self_signed(&bare("ONE Record Root CA"));
        chain.push(issue(&bare("Envoy-trusted CA"), &fake_root));
        Attack { root, chain }
    }

    /// The most signatures a client can make the filter compute: a leaf
    /// naming a CA subject, and as many certificates of that subject as may
    /// be presented (twice `max_chain_length`, the leaf included), each
    /// issued under the pinned root's name by a key of its own. Each is one
    /// check under the root's key (pruning computes nothing under a key the
    /// client chose), until the signature budget ends it.
    fn anchor_named(anchor: KeyKind, max_chain_length: usize) -> Self {
        let bare = |name: &str| CertSpec::ca(name).key(anchor).without_key_identifiers();
        let root = self_signed(&CertSpec::ca("ONE Record Root CA").key(anchor));
        let trusted = self_signed(&CertSpec::ca("Envoy-trusted CA"));
        let mut chain = vec![issue(&CertSpec::client("intruder"), &trusted)];
        for _ in 0..2 * max_chain_length - 1 {
            let fake_root = self_signed(&bare("ONE Record Root CA"));
            chain.push(issue(&bare("Envoy-trusted CA"), &fake_root));
        }
        Attack { root, chain }
    }

    fn peer(&self) -> PeerFacts {
        let ders: Vec<Vec<u8>> = self.chain.iter().map(Issued::der).collect();
        let mut peer = envoy_format::peer_facts(&ders).expect("a leaf");
        peer.xfcc = peer.xfcc.map(|element| format!("{ENVOY_BY};{element}"));
        peer
    }
}

fn pinned_policy(root: &Issued, max_chain_length: usize, cache_size: usize) -> Policy {
    let json = format!(
        r#"{{"trusted_ca_sha256":["{}"],"ca_certificates_pem":{},"max_chain_length":{max_chain_length},
            "verdict_cache_size":{cache_size},"mtls":"required"}}"#,
        root.sha256_hex(),
        serde_json::to_string(&root.pem()).expect("a JSON string")
    );
    Policy::new(Config::parse(json.as_bytes()).expect("valid configuration"))
}

/// The first request of a connection (cache off: every request verifies),
/// and a later one on the same connection, as the filter sends it.
fn first_and_later(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    policy_for: impl Fn(usize) -> Policy,
    peer: PeerFacts,
    expect: Option<&str>,
) {
    let reason = |p: &Policy, f: &Facts| p.decide(f).deny_reason().map(|r| r.code());
    let cold = policy_for(0);
    let facts = request(Some("TLSv1.3"), Some(peer.clone()));
    assert_eq!(reason(&cold, &facts), expect, "{name}");
    group.bench_function(format!("first/{name}"), |b| {
        b.iter(|| cold.decide(black_box(&facts)))
    });

    let warm = policy_for(1024);
    let mut state = warm.new_state();
    let mut remembered = peer;
    let first = on_connection(request(Some("TLSv1.3"), Some(remembered.clone())));
    let code = |decided: Decided| decided.decision.deny_reason().map(|r| r.code());
    assert_eq!(code(warm.decide_with(&first, &mut state)), expect);
    assert!(
        !warm.needs(&state, Some(7), first.now_unix).certificate,
        "{name} is remembered"
    );
    (remembered.certificate_pem, remembered.xfcc) = (None, None);
    let later = on_connection(request(Some("TLSv1.3"), Some(remembered)));
    assert_eq!(
        code(warm.decide_with(&later, &mut state)),
        expect,
        "{name}, later"
    );
    group.bench_function(format!("later/{name}"), |b| {
        b.iter(|| warm.decide_with(black_box(&later), &mut state))
    });
}

fn adversarial(c: &mut Criterion) {
    let mut group = c.benchmark_group("adversarial");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (anchor_name, anchor) in [
        ("rsa2048", KeyKind::Rsa(2048)),
        ("rsa4096", KeyKind::Rsa(4096)),
        ("p384", KeyKind::P384),
    ] {
        // A good client under the same anchor kind: root → intermediate → leaf.
        let good = Client::new(anchor, true);
        first_and_later(
            &mut group,
            &format!("good/{anchor_name}"),
            |cache| pinned_policy(&good.root, 5, cache),
            good.peer(),
            None,
        );
        for max in [5, 8] {
            // At 8 the copies have more orderings than webpki's 100 checks.
            let copies_end = if max >= 8 {
                "verification_budget_exceeded"
            } else {
                "certificate_invalid"
            };
            for (chain_name, attack, expect) in [
                ("copies", Attack::copies(anchor, max), copies_end),
                // One signature per certificate presented: `2·max − 1`,
                // more than the budget of `max + 4` from 6 on.
                (
                    "anchor-named",
                    Attack::anchor_named(anchor, max),
                    if 2 * max - 1 > max + 4 {
                        "verification_budget_exceeded"
                    } else {
                        "certificate_invalid"
                    },
                ),
            ] {
                first_and_later(
                    &mut group,
                    &format!("{chain_name}/{anchor_name}/max{max}"),
                    |cache| pinned_policy(&attack.root, max, cache),
                    attack.peer(),
                    Some(expect),
                );
            }
        }
    }
    group.finish();
}

/// The per-request CRL check on the warm path: a client of the
/// intermediate whose 10,000-entry CRL is in force (not listing it), the
/// check alone and the whole decision on a remembered connection.
fn revocation(c: &mut Criterion) {
    use onerecord_tls_policy_testkit::crl::CrlSpec;
    let client = Client::new(KeyKind::P256, true);
    let inter = &client.chain[1];
    let mut spec = CrlSpec::default();
    for n in 0..10_000u32 {
        let mut serial = vec![0x01];
        serial.extend(n.to_be_bytes());
        spec = spec.revoke_serial(serial, Some(1));
    }
    let crl = spec.sign(inter);
    let json = format!(
        r#"{{"trusted_ca_sha256":["{}"],"mtls":"required","verdict_cache_size":1024,"ca_certificates_pem":{},"crls_pem":{}}}"#,
        client.root.sha256_hex(),
        serde_json::to_string(&format!("{}{}", client.root.pem(), inter.pem())).unwrap(),
        serde_json::to_string(&crl.pem()).unwrap()
    );
    let policy = Policy::new(Config::parse(json.as_bytes()).expect("valid configuration"));
    let mut state = policy.new_state();
    let mut peer = client.peer();
    let first = on_connection(request(Some("TLSv1.3"), Some(peer.clone())));
    let decided = policy.decide_with(&first, &mut state);
    let verified = decided.decision.client.expect("verifies under the 10k CRL");
    assert_eq!(verified.path_links.len(), 2);
    (peer.certificate_pem, peer.xfcc) = (None, None);
    let facts = on_connection(request(Some("TLSv1.3"), Some(peer)));
    let now = facts.now_unix;

    let mut group = c.benchmark_group("revocation");
    group.bench_function("check/10k-entry-crl", |b| {
        b.iter(|| state.revocation.check(black_box(&verified.path_links), now))
    });
    group.bench_function("warm-connection/10k-entry-crl", |b| {
        b.iter(|| policy.decide_with(black_box(&facts), &mut state))
    });
    group.finish();
}

/// The warm path with OCSP off and with it on (`hard`, a good answer in
/// the cache): the per-request cost of the cache lookup.
fn ocsp(c: &mut Criterion) {
    use onerecord_tls_policy::ocsp::{OcspAnswer, OcspStatus, Signer};
    let client = Client::new(KeyKind::P256, true);
    // What the path asks about, as any policy verifies it.
    let plain = Policy::new(
        Config::parse(
            format!(
                r#"{{"trusted_ca_sha256":["{}"],"mtls":"required"}}"#,
                client.root.sha256_hex()
            )
            .as_bytes(),
        )
        .expect("valid configuration"),
    );
    let queries = plain
        .decide(&on_connection(request(
            Some("TLSv1.3"),
            Some(client.peer()),
        )))
        .client
        .expect("verifies")
        .ocsp_queries
        .clone();
    let mut group = c.benchmark_group("ocsp");
    for (name, extra) in [
        ("off", ""),
        (
            "hard-cached-good",
            r#","ocsp":{"mode":"hard","cluster":"ocsp"}"#,
        ),
    ] {
        let json = format!(
            r#"{{"trusted_ca_sha256":["{}"],"mtls":"required","verdict_cache_size":1024{extra}}}"#,
            client.root.sha256_hex(),
        );
        let policy = Policy::new(Config::parse(json.as_bytes()).expect("valid configuration"));
        let mut state = policy.new_state();
        let mut peer = client.peer();
        let first = on_connection(request(Some("TLSv1.3"), Some(peer.clone())));
        let now = first.now_unix;
        for query in &queries {
            let answer = OcspAnswer {
                status: OcspStatus::Good,
                this_update: now as i64,
                next_update: Some(now as i64 + 86_400),
                signer: Signer::Issuer,
            };
            state.ocsp.store(query.key(), &answer, now, 86_400);
        }
        policy.decide_with(&first, &mut state);
        (peer.certificate_pem, peer.xfcc) = (None, None);
        let facts = on_connection(request(Some("TLSv1.3"), Some(peer)));
        let warm = policy.decide_with(&facts, &mut state);
        assert_eq!(warm.decision.deny_reason(), None, "{name}");
        group.bench_function(format!("warm-connection/{name}"), |b| {
            b.iter(|| policy.decide_with(black_box(&facts), &mut state))
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    evaluation,
    token::token_binding,
    revocation,
    ocsp,
    xfcc_parsing,
    without_client_certificate,
    path_readings,
    adversarial
);
criterion_main!(benches);
