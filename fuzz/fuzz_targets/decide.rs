//! The whole request decision: configuration, facts, `Policy::decide`, and
//! the plugin's effects (`configure` and `on_request_headers` over an
//! in-memory host standing in for Envoy).
//!
//! Input: a `Pool` of real certificates (leaf first) and the clock, then an
//! `arbitrary` `Case`. Every enum's first variant is the realistic choice, so
//! a seed with nothing after the pool is: mTLS required, the pool's last
//! certificate pinned, TLS 1.2, and the facts Envoy reports for a client
//! presenting the pool as its chain. From there the fuzzer changes the
//! configuration, the request, the TLS version, and the peer facts, building
//! XFCC headers and PEM from pieces of the pool's certificates (whole, bit
//! flipped or truncated), with attacker elements in front. The custom
//! mutator leaves the pool alone most of the time (the `chain` target is
//! the one for mutated DER).
//!
//! Invariants:
//! - plaintext, an unknown TLS version or one below `min_tls_version` is
//!   never allowed, each with its exact reason; unreadable connection facts
//!   and invalid route metadata deny;
//! - a route that requires mTLS (route metadata, rule, default or an
//!   allow-list) never allows without a verified client;
//! - a verified client is the handshake's certificate (digest, PEM and XFCC
//!   hash agree), passes the independent path oracle, and is on the
//!   allow-list that applies;
//! - a path that is not origin form is `request_path_invalid`; otherwise the
//!   request is subject to the rule each backend reading of the independent
//!   path oracle selects (the strictest requirement, every allow-list), and
//!   the reported rule is the earliest that set it; normalisation is
//!   idempotent;
//! - the verdict cache is invisible: the same request again, or a later one
//!   (another clock, another client), is decided as a fresh policy decides
//!   it, except for the path a still-valid cached verification went through
//!   (a fresh search may find another first; the oracle checks both);
//! - effects: a deny sends one 403 with the reason and a JSON body whose
//!   resource is bounded; an allow forwards with exactly the filter's own
//!   annotation headers under the prefix, all printable ASCII; one counter,
//!   the outcome's, is incremented and one access-log property is set.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::{fuzz_mutator, fuzz_target};
use onerecord_tls_policy::config::{
    AllowedClients, Config, Mode, MtlsRequirement, NO_RULE, PathMatch, Rule, TlsVersion,
};
use onerecord_tls_policy::effects::{DenyResponse, annotations, deny_response, header_safe};
use onerecord_tls_policy::facts::{ConnectionFacts, Facts, PeerFacts, RequestFacts, Unavailable};
use onerecord_tls_policy::filter::{Action, Outcome, access_log, configure, gather_facts, metrics};
use onerecord_tls_policy::fingerprint::Fingerprint;
use onerecord_tls_policy::policy::{Decision, Policy, Verdict, is_allowed, normalize_path};
use onerecord_tls_policy::reason::Reason;
use onerecord_tls_policy::state::State;
use onerecord_tls_policy::trust::rfc4514;
use onerecord_tls_policy::xfcc::{self, envoy_format};
use onerecord_tls_policy_fuzz::host::{FuzzHost, representable};
use onerecord_tls_policy_fuzz::oracle::assert_verified_path;
use onerecord_tls_policy_fuzz::path_oracle::{self, is_origin_form};
use onerecord_tls_policy_fuzz::pool::Pool;
use onerecord_tls_policy_fuzz::xfcc_text::percent_encode_all;
use serde_json::{Value, json};
use x509_parser::extensions::GeneralName;

/// One mutation in this many may touch the pool.
const WHOLE_INPUT_EVERY: u32 = 16;

const RESOURCE: &str = "/logistics-objects/1";

#[derive(Arbitrary, Debug)]
struct Case {
    config: ConfigSpec,
    path: PathChoice,
    method: Method,
    route: RouteChoice,
    tls: TlsChoice,
    peer: PeerChoice,
    clock: ClockChoice,
    /// A later request on the same policy, its verdict cache warm.
    later: Option<Later>,
    /// Client-sent headers under the annotation prefix (name suffix, value).
    forged: Vec<(String, String)>,
}

#[derive(Arbitrary, Debug)]
struct Later {
    clock: ClockChoice,
    /// `None`: the same client again.
    peer: Option<PeerChoice>,
    /// The same client again on the same connection, as the filter sends
    /// it: with the connection's id, and without the certificate when the
    /// policy says it does not need it.
    same_connection: bool,
}

#[derive(Arbitrary, Debug)]
struct ConfigSpec {
    mtls: Requirement,
    pins: Pins,
    min_tls13: bool,
    audit: bool,
    /// Pool indices written to `ca_certificates_pem`.
    ca_pem: Vec<u8>,
    revoked: Vec<u8>,
    allowed: Option<AllowedSpec>,
    rules: Vec<RuleSpec>,
    max_chain_length: Option<u8>,
    clock_skew_seconds: Option<u32>,
    verdict_cache_size: Option<u8>,
    prefix: Option<String>,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq)]
enum Requirement {
    Required,
    Optional,
    Unset,
}

#[derive(Arbitrary, Debug)]
enum Pins {
    Last,
    Pool(Vec<u8>),
    Nothing,
    Text(Vec<String>),
}

#[derive(Arbitrary, Debug)]
struct AllowedSpec {
    /// Each index names a pool certificate whose identity is listed.
    uri_of: Vec<u8>,
    dns_of: Vec<u8>,
    org_of: Vec<u8>,
    sha256_of: Vec<u8>,
    uri_text: Vec<String>,
}

#[derive(Arbitrary, Debug)]
struct RuleSpec {
    path: String,
    exact: bool,
    methods: Vec<Method>,
    mtls: Requirement,
    allowed: Option<AllowedSpec>,
}

#[derive(Arbitrary, Debug, Clone)]
enum Method {
    Get,
    Post,
    Patch,
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum PathChoice {
    Resource,
    /// A rule's path with something appended.
    Rule(u8, String),
    /// A rule's path in a form some backend reads as that path.
    Form(u8, Vec<Form>),
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Form {
    Upper,
    /// `/;x` in front.
    Parameter,
    /// `/x/..;` in front.
    DotDotParameter,
    /// Every `/` after the first as `%2F`.
    EncodedSlashes,
    /// Every `/` after the first as `\`.
    Backslashes,
    TrailingSlash,
    /// `/..` after it, as a backend that does not resolve dots keeps it.
    Up,
}

#[derive(Arbitrary, Debug)]
enum RouteChoice {
    Unset,
    Required,
    Optional,
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum TlsChoice {
    V12,
    V13,
    V11,
    V10,
    Ssl3,
    Plaintext,
    Empty,
    Unavailable,
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum ClockChoice {
    Pool,
    Shift(i32),
    At(u64),
}

#[derive(Arbitrary, Debug)]
enum PeerChoice {
    /// What Envoy reports for the pool as the presented chain, then tweaks.
    Envoy(Vec<Tweak>),
    NoCertificate,
    Custom(PeerSpec),
}

#[derive(Arbitrary, Debug)]
enum Tweak {
    /// The chain Envoy reports is these pool certificates instead.
    Chain(Vec<u8>),
    DropPem,
    DropDigest,
    DropXfcc,
    Digest(DigestSpec),
    Pem(PemSpec),
    /// An element the client wrote in front of Envoy's.
    Prefix(String),
    PrefixElement(XfccSpec),
    /// An element after Envoy's (a proxy configured to append).
    Append(XfccSpec),
    Replace(XfccSpec),
}

#[derive(Arbitrary, Debug)]
struct PeerSpec {
    digest: Option<DigestSpec>,
    pem: Option<PemSpec>,
    xfcc: Option<XfccSpec>,
}

#[derive(Arbitrary, Debug)]
enum DigestSpec {
    Of(u8),
    Upper(u8),
    Colons(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct PemSpec {
    certs: Vec<Piece>,
    layout: Layout,
}

#[derive(Arbitrary, Debug)]
enum Piece {
    Pool(u8),
    Flipped { index: u8, at: u16, xor: u8 },
    Truncated { index: u8, len: u16 },
    Bytes(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Layout {
    OpenSsl,
    Crlf,
    NoFinalNewline,
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct XfccSpec {
    pairs: Vec<Pair>,
}

#[derive(Arbitrary, Debug)]
enum Pair {
    Hash(DigestSpec),
    Cert(PemSpec, Encoding),
    Chain(PemSpec, Encoding),
    Subject(u8),
    Uri(u8),
    Dns(u8),
    By(String),
    Text(String, String),
}

#[derive(Arbitrary, Debug)]
enum Encoding {
    Envoy,
    Percent,
    Verbatim,
}

/// The pool's certificates with the names pieces are taken from.
struct Certs<'a> {
    der: Vec<&'a [u8]>,
}

impl Certs<'_> {
    fn get(&self, i: u8) -> &[u8] {
        match self.der.len() {
            0 => &[],
            n => self.der[usize::from(i) % n],
        }
    }

    fn sha256(&self, i: u8) -> String {
        Fingerprint::of_der(self.get(i)).to_hex()
    }

    /// Subject (RFC 4514), URI SANs, DNS SANs, organisations.
    fn names(&self, i: u8) -> (String, Vec<String>, Vec<String>, Vec<String>) {
        let mut names = (String::new(), Vec::new(), Vec::new(), Vec::new());
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(self.get(i)) else {
            return names;
        };
        names.0 = rfc4514(cert.subject());
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::URI(u) => names.1.push(u.to_string()),
                    GeneralName::DNSName(d) => names.2.push(d.to_string()),
                    _ => {}
                }
            }
        }
        names.3 = cert
            .subject()
            .iter_organization()
            .filter_map(|o| o.as_str().ok().map(str::to_string))
            .collect();
        names
    }
}

// Most mutations go to the choices after the pool: the pool holds real
// certificates, and a flipped byte in one of them mostly exercises what the
// `chain` target already covers. One in WHOLE_INPUT_EVERY mutates anything.
fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
    Pool::mutate(data, size, max_size, seed, WHOLE_INPUT_EVERY)
});

fuzz_target!(|data: &[u8]| {
    let pool = Pool::decode(data);
    let Ok(case) = Case::arbitrary_take_rest(Unstructured::new(pool.rest)) else {
        return;
    };
    let certs = Certs {
        der: pool.certs.clone(),
    };

    let config_text = config_json(&case.config, &certs).to_string();
    let Ok(config) = Config::parse(config_text.as_bytes()) else {
        return;
    };
    let policy = Policy::new(config.clone());
    let facts = facts(&case, &certs, &config, pool.now);

    let mut state = policy.new_state();
    let decision = policy.decide_with(&facts, &mut state).decision;
    check_decision(&policy, &facts, &decision);
    assert_eq!(
        policy.decide_with(&facts, &mut state).decision,
        decision,
        "the same request again"
    );
    if let Some(later) = &case.later {
        let mut next = facts.clone();
        next.now_unix = clock(&later.clock, pool.now);
        if let (Some(choice), Ok(connection)) = (&later.peer, &mut next.connection) {
            connection.peer = peer(choice, &certs);
        }
        let warm = policy.decide_with(&next, &mut state).decision;
        let cold = Policy::new(config.clone()).decide(&next);
        // A cached path that still holds may differ from the one a fresh
        // search finds first (a renewed intermediate became valid): both are
        // checked by the oracle, and everything else must be equal.
        assert_eq!(
            same_but_path(&warm),
            same_but_path(&cold),
            "the verdict cache changed a decision"
        );
        check_decision(&policy, &next, &warm);
        if later.same_connection && later.peer.is_none() {
            check_same_connection(&config, &facts, &next, &cold);
        }
    }
    check_effects(&config_text, &policy, &facts, &decision, &case.forged);
});

/// A later request on a connection decided before, answered from the index
/// by connection where the policy says so, decides as a fresh policy does
/// with every fact.
fn check_same_connection(config: &Config, first: &Facts, later: &Facts, cold: &Decision) {
    let on_connection = |facts: &Facts| {
        let mut facts = facts.clone();
        if let Ok(connection) = &mut facts.connection
            && connection.peer.is_some()
        {
            connection.id = Some(1);
        }
        facts
    };
    let policy = Policy::new(config.clone());
    let mut state = policy.new_state();
    policy.decide_with(&on_connection(first), &mut state);
    let mut next = on_connection(later);
    if let Ok(connection) = &mut next.connection
        && let Some(peer) = &mut connection.peer
        && !policy.needs_certificate(&state, 1, peer.sha256_digest.as_deref(), next.now_unix)
    {
        (peer.certificate_pem, peer.xfcc) = (None, None);
    }
    let warm = policy.decide_with(&next, &mut state).decision;
    assert_eq!(
        same_but_path(&warm),
        same_but_path(cold),
        "a decision by connection differs"
    );
    // Checked against every fact, as the request had them all.
    check_decision(&policy, later, &warm);
}

/// The decision without the path and anchor the client was verified through.
fn same_but_path(d: &Decision) -> Decision {
    let mut d = d.clone();
    if let Some(client) = &mut d.client {
        client.path_sha256.clear();
        client.anchor_sha256 = Fingerprint([0; 32]);
    }
    d
}

fn clock(choice: &ClockChoice, pool_now: u64) -> u64 {
    match *choice {
        ClockChoice::Pool => pool_now,
        ClockChoice::Shift(s) => pool_now.saturating_add_signed(i64::from(s)),
        ClockChoice::At(t) => t,
    }
}

fn config_json(spec: &ConfigSpec, certs: &Certs<'_>) -> Value {
    let mut config = serde_json::Map::new();
    match spec.mtls {
        Requirement::Required => config.insert("mtls".into(), json!("required")),
        Requirement::Optional => config.insert("mtls".into(), json!("optional")),
        Requirement::Unset => None,
    };
    let last = certs.der.len().saturating_sub(1) as u8;
    let pins: Vec<String> = match &spec.pins {
        Pins::Last => vec![certs.sha256(last)],
        Pins::Pool(indices) => indices.iter().map(|&i| certs.sha256(i)).collect(),
        Pins::Nothing => Vec::new(),
        Pins::Text(texts) => texts.clone(),
    };
    config.insert("trusted_ca_sha256".into(), json!(pins));
    if spec.min_tls13 {
        config.insert("min_tls_version".into(), json!("TLSv1.3"));
    }
    if spec.audit {
        config.insert("mode".into(), json!("audit"));
    }
    if !spec.ca_pem.is_empty() {
        let pem: String = spec
            .ca_pem
            .iter()
            .map(|&i| envoy_format::pem(certs.get(i)))
            .collect();
        config.insert("ca_certificates_pem".into(), json!(pem));
    }
    if !spec.revoked.is_empty() {
        let revoked: Vec<String> = spec.revoked.iter().map(|&i| certs.sha256(i)).collect();
        config.insert("revoked_sha256".into(), json!(revoked));
    }
    if let Some(allowed) = &spec.allowed {
        config.insert("allowed_clients".into(), allowed_json(allowed, certs));
    }
    let rules: Vec<Value> = spec
        .rules
        .iter()
        .enumerate()
        .map(|(i, rule)| {
            let mut r = serde_json::Map::new();
            r.insert("name".into(), json!(format!("rule-{i}")));
            // Only paths already in the compared form load; keep to those.
            let words: Vec<&str> = rule
                .path
                .split(|c: char| !(c.is_ascii_alphanumeric() || "-_~".contains(c)))
                .filter(|w| !w.is_empty())
                .collect();
            let slash = if rule.path.ends_with('/') { "/" } else { "" };
            let path = format!("/{}{slash}", words.join("/")).replace("//", "/");
            let key = if rule.exact {
                "path_exact"
            } else {
                "path_prefix"
            };
            r.insert(key.into(), json!(path));
            if !rule.methods.is_empty() {
                let methods: Vec<String> = rule.methods.iter().map(method).collect();
                r.insert("methods".into(), json!(methods));
            }
            match rule.mtls {
                Requirement::Required => r.insert("mtls".into(), json!("required")),
                Requirement::Optional => r.insert("mtls".into(), json!("optional")),
                Requirement::Unset => None,
            };
            if let Some(allowed) = &rule.allowed {
                r.insert("allowed_clients".into(), allowed_json(allowed, certs));
            }
            Value::Object(r)
        })
        .collect();
    if !rules.is_empty() {
        config.insert("rules".into(), json!(rules));
    }
    if let Some(n) = spec.max_chain_length {
        config.insert("max_chain_length".into(), json!(1 + n % 8));
    }
    if let Some(s) = spec.clock_skew_seconds {
        config.insert("clock_skew_seconds".into(), json!(s % 86_401));
    }
    if let Some(n) = spec.verdict_cache_size {
        config.insert("verdict_cache_size".into(), json!(n));
    }
    if let Some(prefix) = &spec.prefix {
        config.insert("annotation_prefix".into(), json!(prefix));
    }
    Value::Object(config)
}

fn allowed_json(spec: &AllowedSpec, certs: &Certs<'_>) -> Value {
    let mut uri: Vec<String> = spec.uri_of.iter().flat_map(|&i| certs.names(i).1).collect();
    uri.extend(spec.uri_text.iter().cloned());
    let dns: Vec<String> = spec.dns_of.iter().flat_map(|&i| certs.names(i).2).collect();
    let org: Vec<String> = spec.org_of.iter().flat_map(|&i| certs.names(i).3).collect();
    let sha: Vec<String> = spec.sha256_of.iter().map(|&i| certs.sha256(i)).collect();
    json!({ "uri_san": uri, "dns_san": dns, "subject_organization": org, "sha256": sha })
}

fn method(m: &Method) -> String {
    match m {
        Method::Get => "GET".into(),
        Method::Post => "POST".into(),
        Method::Patch => "patch".into(),
        Method::Text(t) => t.clone(),
    }
}

fn facts(case: &Case, certs: &Certs<'_>, config: &Config, pool_now: u64) -> Facts {
    let path = match &case.path {
        PathChoice::Resource => RESOURCE.to_string(),
        PathChoice::Rule(i, suffix) => {
            let rule = match config.rules.len() {
                0 => None,
                n => config.rules.get(usize::from(*i) % n),
            };
            let base = rule.map_or("/", |r| match &r.path {
                PathMatch::Prefix(p) | PathMatch::Exact(p) => p.as_str(),
            });
            format!("{base}{suffix}")
        }
        PathChoice::Form(i, forms) => {
            let rule = match config.rules.len() {
                0 => None,
                n => config.rules.get(usize::from(*i) % n),
            };
            let mut path = rule
                .map_or("/", |r| match &r.path {
                    PathMatch::Prefix(p) | PathMatch::Exact(p) => p.as_str(),
                })
                .to_string();
            for form in forms {
                let rest = path.strip_prefix('/').unwrap_or(&path).to_string();
                path = match form {
                    Form::Upper => path.to_ascii_uppercase(),
                    Form::Parameter => format!("/;x{path}"),
                    Form::DotDotParameter => format!("/x/..;{path}"),
                    Form::EncodedSlashes => format!("/{}", rest.replace('/', "%2F")),
                    Form::Backslashes => format!("/{}", rest.replace('/', "\\")),
                    Form::TrailingSlash => format!("{path}/"),
                    Form::Up => format!("{path}/../x"),
                };
            }
            path
        }
        PathChoice::Text(t) => t.clone(),
    };
    let route_mtls = match &case.route {
        RouteChoice::Unset => None,
        RouteChoice::Required => Some("required".to_string()),
        RouteChoice::Optional => Some("optional".to_string()),
        RouteChoice::Text(t) => Some(t.clone()),
    };
    let tls_version = match &case.tls {
        TlsChoice::V12 => Ok(Some("TLSv1.2")),
        TlsChoice::V13 => Ok(Some("TLSv1.3")),
        TlsChoice::V11 => Ok(Some("TLSv1.1")),
        TlsChoice::V10 => Ok(Some("TLSv1")),
        TlsChoice::Ssl3 => Ok(Some("SSLv3")),
        TlsChoice::Plaintext => Ok(None),
        TlsChoice::Empty => Ok(Some("")),
        TlsChoice::Unavailable => Err(()),
        TlsChoice::Text(t) => Ok(Some(t.as_str())),
    };
    let now_unix = clock(&case.clock, pool_now);
    let connection = match tls_version {
        Err(()) => Err(Unavailable("connection.tls_version".into())),
        Ok(tls) => Ok(ConnectionFacts {
            id: None,
            tls_version: tls.map(str::to_string),
            peer: peer(&case.peer, certs),
        }),
    };
    Facts {
        request: RequestFacts {
            path,
            method: method(&case.method),
            method_overrides: Vec::new(),
            route_mtls,
        },
        connection,
        now_unix,
    }
}

fn peer(choice: &PeerChoice, certs: &Certs<'_>) -> Option<PeerFacts> {
    match choice {
        PeerChoice::NoCertificate => None,
        PeerChoice::Custom(spec) => Some(PeerFacts {
            sha256_digest: spec.digest.as_ref().map(|d| digest(d, certs)),
            certificate_pem: spec.pem.as_ref().map(|p| pem(p, certs)),
            xfcc: spec.xfcc.as_ref().map(|x| element(x, certs)),
        }),
        PeerChoice::Envoy(tweaks) => {
            let chain: Vec<Vec<u8>> = certs.der.iter().map(|d| d.to_vec()).collect();
            let mut peer = envoy_format::peer_facts(&chain).unwrap_or_default();
            for tweak in tweaks {
                match tweak {
                    Tweak::Chain(indices) => {
                        let chain: Vec<Vec<u8>> =
                            indices.iter().map(|&i| certs.get(i).to_vec()).collect();
                        if let Some(p) = envoy_format::peer_facts(&chain) {
                            peer = p;
                        }
                    }
                    Tweak::DropPem => peer.certificate_pem = None,
                    Tweak::DropDigest => peer.sha256_digest = None,
                    Tweak::DropXfcc => peer.xfcc = None,
                    Tweak::Digest(d) => peer.sha256_digest = Some(digest(d, certs)),
                    Tweak::Pem(p) => peer.certificate_pem = Some(pem(p, certs)),
                    Tweak::Prefix(text) => {
                        peer.xfcc = Some(format!("{text},{}", peer.xfcc.unwrap_or_default()))
                    }
                    Tweak::PrefixElement(x) => {
                        let e = element(x, certs);
                        peer.xfcc = Some(format!("{e},{}", peer.xfcc.unwrap_or_default()))
                    }
                    Tweak::Append(x) => {
                        let e = element(x, certs);
                        peer.xfcc = Some(format!("{},{e}", peer.xfcc.unwrap_or_default()))
                    }
                    Tweak::Replace(x) => peer.xfcc = Some(element(x, certs)),
                }
            }
            Some(peer)
        }
    }
}

fn digest(spec: &DigestSpec, certs: &Certs<'_>) -> String {
    match spec {
        DigestSpec::Of(i) => certs.sha256(*i),
        DigestSpec::Upper(i) => certs.sha256(*i).to_ascii_uppercase(),
        DigestSpec::Colons(i) => {
            let hex = certs.sha256(*i);
            let pairs: Vec<&str> = (0..hex.len() / 2).map(|k| &hex[2 * k..2 * k + 2]).collect();
            pairs.join(":")
        }
        DigestSpec::Text(t) => t.clone(),
    }
}

fn piece(p: &Piece, certs: &Certs<'_>) -> Vec<u8> {
    match p {
        Piece::Pool(i) => certs.get(*i).to_vec(),
        Piece::Flipped { index, at, xor } => {
            let mut der = certs.get(*index).to_vec();
            let len = der.len();
            if len > 0 {
                der[usize::from(*at) % len] ^= (*xor).max(1);
            }
            der
        }
        Piece::Truncated { index, len } => {
            let der = certs.get(*index);
            der[..usize::from(*len).min(der.len())].to_vec()
        }
        Piece::Bytes(b) => b.clone(),
    }
}

fn pem(spec: &PemSpec, certs: &Certs<'_>) -> String {
    let text: String = spec
        .certs
        .iter()
        .map(|p| envoy_format::pem(&piece(p, certs)))
        .collect();
    match &spec.layout {
        Layout::OpenSsl => text,
        Layout::Crlf => text.replace('\n', "\r\n"),
        Layout::NoFinalNewline => text.trim_end_matches('\n').to_string(),
        Layout::Text(t) => format!("{text}{t}"),
    }
}

fn element(spec: &XfccSpec, certs: &Certs<'_>) -> String {
    let pairs: Vec<String> = spec
        .pairs
        .iter()
        .map(|pair| match pair {
            Pair::Hash(d) => format!("Hash={}", digest(d, certs)),
            Pair::Cert(p, enc) => format!("Cert={}", encode(&pem(p, certs), enc)),
            Pair::Chain(p, enc) => format!("Chain={}", encode(&pem(p, certs), enc)),
            Pair::Subject(i) => format!("Subject=\"{}\"", certs.names(*i).0),
            Pair::Uri(i) => certs
                .names(*i)
                .1
                .iter()
                .map(|u| format!("URI={u}"))
                .collect::<Vec<_>>()
                .join(";"),
            Pair::Dns(i) => certs
                .names(*i)
                .2
                .iter()
                .map(|d| format!("DNS={d}"))
                .collect::<Vec<_>>()
                .join(";"),
            Pair::By(b) => format!("By={b}"),
            Pair::Text(k, v) => format!("{k}={v}"),
        })
        .collect();
    pairs.join(";")
}

fn encode(pem: &str, enc: &Encoding) -> String {
    match enc {
        Encoding::Envoy => format!("\"{}\"", envoy_format::url_encode_pem(pem)),
        Encoding::Percent => percent_encode_all(pem),
        Encoding::Verbatim => format!("\"{pem}\""),
    }
}

/// The requirement the README specifies, computed here from the
/// configuration and the path oracle's backend readings.
struct Expected<'a> {
    /// The reported rule.
    rule: Option<&'a Rule>,
    /// Every allow-list a verified client must be on.
    allowed: Vec<&'a AllowedClients>,
    required: Result<bool, Reason>,
}

fn expected<'a>(config: &'a Config, facts: &Facts) -> Expected<'a> {
    let path = &facts.request.path;
    if !is_origin_form(path) {
        return Expected {
            rule: None,
            allowed: Vec::new(),
            required: Err(Reason::RequestPathInvalid),
        };
    }
    let picks = path_oracle::picks(&config.rules, path, &facts.request.method);
    let rule = path_oracle::reported(config, &picks).map(|i| &config.rules[i]);
    let allowed: Vec<&AllowedClients> = picks
        .iter()
        .filter_map(|&p| path_oracle::allow_list(config, p))
        .collect();
    let own_required = |pick: Option<usize>| {
        path_oracle::own_requirement(config, pick) == MtlsRequirement::Required
    };
    let requirement = match facts.request.route_mtls.as_deref() {
        Some("required") => Ok(MtlsRequirement::Required),
        Some("optional") => Ok(MtlsRequirement::Optional),
        Some(_) => Err(Reason::RouteMetadataInvalid),
        None if picks.iter().any(|&p| own_required(p)) => Ok(MtlsRequirement::Required),
        None => Ok(MtlsRequirement::Optional),
    };
    Expected {
        rule,
        required: requirement.map(|r| r == MtlsRequirement::Required || !allowed.is_empty()),
        allowed,
    }
}

fn check_decision(policy: &Policy, facts: &Facts, decision: &Decision) {
    let config = &policy.config;
    let path = &facts.request.path;
    let normalized = normalize_path(path);
    assert!(normalized.starts_with('/') && !normalized.contains(['?', '#']));
    assert_eq!(
        normalize_path(&normalized),
        normalized,
        "normalisation is idempotent"
    );

    let expect = expected(config, facts);
    assert_eq!(
        decision.rule.as_deref(),
        expect.rule.map(|r| r.name.as_str()),
        "the reported rule"
    );
    assert_eq!(decision.mode, config.mode);
    assert!(!decision.rejects() || config.mode == Mode::Enforce);
    let deny =
        |reason: Reason| assert_eq!(decision.verdict, Verdict::Deny(reason), "facts {facts:?}");

    let connection = match &facts.connection {
        Err(_) => return deny(Reason::ConnectionFactsUnavailable),
        Ok(connection) => connection,
    };
    let Some(text) = connection.tls_version.as_deref() else {
        return deny(Reason::TlsRequired);
    };
    let Some(version) = TlsVersion::parse(text) else {
        return deny(Reason::TlsVersionUnrecognized);
    };
    assert_eq!(decision.tls_version, Some(version));
    if version < config.min_tls_version || version < TlsVersion::Tls12 {
        return deny(Reason::TlsVersionTooLow);
    }
    let required = match expect.required {
        Err(reason) => return deny(reason),
        Ok(required) => required,
    };
    let Some(peer) = &connection.peer else {
        if required {
            return deny(Reason::ClientCertificateRequired);
        }
        assert_eq!(decision.verdict, Verdict::Allow);
        assert!(decision.client.is_none() && decision.ignored_certificate.is_none());
        return;
    };

    match decision.verdict {
        Verdict::Allow => assert!(
            !required || decision.client.is_some(),
            "required, allowed without a client"
        ),
        Verdict::Deny(reason) => {
            assert!(required, "denied {reason:?} where mTLS is optional");
            assert!(decision.client.is_none());
            assert!(!matches!(
                reason,
                Reason::TlsRequired
                    | Reason::TlsVersionTooLow
                    | Reason::TlsVersionUnrecognized
                    | Reason::RouteMetadataInvalid
                    | Reason::RequestPathInvalid
                    | Reason::ClientCertificateRequired
            ));
        }
    }
    if decision.ignored_certificate.is_some() {
        assert!(!required && decision.client.is_none() && decision.verdict == Verdict::Allow);
    }
    if let Some(client) = &decision.client {
        check_client(config, facts, peer, client, &expect.allowed);
    }
}

fn check_client(
    config: &Config,
    facts: &Facts,
    peer: &PeerFacts,
    client: &onerecord_tls_policy::trust::VerifiedClient,
    allowed: &[&AllowedClients],
) {
    let digest = peer.sha256_digest.as_deref().map(Fingerprint::parse);
    assert_eq!(
        digest,
        Some(Ok(client.leaf_sha256)),
        "the handshake's certificate"
    );
    let element = peer
        .xfcc
        .as_deref()
        .map(|h| xfcc::parse_last_element(h).expect("parsed before"));
    if let Some(hash) = element.as_ref().and_then(|e| e.hash.as_deref()) {
        assert_eq!(
            Fingerprint::parse(hash),
            Ok(client.leaf_sha256),
            "XFCC Hash"
        );
    }
    let leaf_pem = peer
        .certificate_pem
        .as_deref()
        .or_else(|| element.as_ref().and_then(|e| e.cert.as_deref()))
        .expect("a leaf came from somewhere");
    let leaf = xfcc::pem_to_der_certificates(leaf_pem).expect("leaf PEM was read");
    assert_eq!(leaf.len(), 1);
    for list in allowed {
        assert!(
            is_allowed(client, list),
            "client not on an allow-list that applies"
        );
    }
    let chain = element
        .as_ref()
        .and_then(|e| e.chain.as_deref())
        .map(|pem| xfcc::pem_to_der_certificates(pem).expect("chain PEM was read"))
        .unwrap_or_default();
    let material: Vec<&[u8]> = leaf
        .iter()
        .chain(&chain)
        .chain(&config.trust.ca_certificates_der)
        .map(Vec::as_slice)
        .collect();
    assert_verified_path(client, &leaf[0], &material, &config.trust, facts.now_unix);
}

fn printable(value: &str) -> bool {
    value.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// Runs the request through the plugin as Envoy would: configure, then
/// `on_request_headers`, and checks every effect against the decision.
fn check_effects(
    config_text: &str,
    policy: &Policy,
    facts: &Facts,
    decision: &Decision,
    forged: &[(String, String)],
) {
    let prefix = policy.config.annotation_prefix.as_str();
    for (name, value) in annotations(decision, prefix) {
        assert!(name.starts_with(prefix));
        assert!(printable(&value), "annotation {name}: {value:?}");
    }
    if let Some(client) = &decision.client {
        let subject = (
            format!("{prefix}client-subject"),
            header_safe(&client.subject),
        );
        assert!(annotations(decision, prefix).contains(&subject));
    }
    let reason = decision.deny_reason().unwrap_or(Reason::TlsRequired);
    check_deny_response(
        &deny_response(reason, &facts.request.path, prefix),
        reason,
        &facts.request.path,
        prefix,
    );

    let mut host = FuzzHost::serving(facts, forged, prefix);
    // A fresh policy and no memo: the host is asked for every fact.
    let gathered = gather_facts(&host, &Policy::new(policy.config.clone()), &State::new(0)).facts;
    let expected = if representable(facts) {
        assert_eq!(&gathered, facts, "the host reports the facts");
        decision.clone()
    } else {
        Policy::new(policy.config.clone()).decide(&gathered)
    };
    let mut plugin = configure(&mut host, Ok(config_text.as_bytes().to_vec()))
        .expect("a configuration Config::parse accepts loads");
    let loaded = host.increments.len();
    let (action, outcome) = plugin.on_request_headers(&mut host);
    assert_eq!(outcome, Outcome::of(action == Action::Pause, &expected));
    assert_eq!(action == Action::Pause, expected.rejects());

    let family = match outcome {
        Outcome::Allowed => metrics::ALLOWED,
        Outcome::Denied(_) => metrics::DENIED,
        Outcome::AuditDenied(_) => metrics::AUDIT_DENIED,
    };
    let rule = expected.rule.as_deref().unwrap_or(NO_RULE);
    let counted: Vec<&str> = host.increments[loaded..]
        .iter()
        .map(|&id| host.counters[id as usize].as_str())
        .collect();
    // The plugin is fresh, so it verifies in full exactly when a fresh
    // policy does, and counts that verification by its result first.
    let reference = Policy::new(policy.config.clone());
    let mut want: Vec<String> = reference
        .decide_with(&gathered, &mut reference.new_state())
        .chain_verification
        .map(metrics::verification_counter_name)
        .into_iter()
        .collect();
    want.push(metrics::counter_name(family, outcome.reason(), rule));
    assert_eq!(
        counted, want,
        "one verdict counter per request, after the full verification it ran"
    );
    assert_eq!(
        host.stream_properties,
        [(
            access_log::PROPERTY.to_string(),
            access_log::value(outcome, &expected).into_bytes()
        )],
        "one access-log property"
    );
    let (_, log_value) = &host.stream_properties[0];
    assert!(
        log_value.iter().all(|b| (0x20..0x7f).contains(b)),
        "access-log value {log_value:?}"
    );

    if expected.rejects() {
        assert_eq!(host.sent.len(), 1, "one local reply");
        let reason = expected.deny_reason().expect("a deny has a reason");
        check_deny_response(&host.sent[0], reason, &facts.request.path, prefix);
    } else {
        assert!(host.sent.is_empty());
        let mut under_prefix: Vec<(String, String)> = host
            .headers
            .iter()
            .filter(|(k, _)| k.to_ascii_lowercase().starts_with(prefix))
            .cloned()
            .collect();
        let mut ours = annotations(&expected, prefix);
        under_prefix.sort();
        ours.sort();
        assert_eq!(
            under_prefix, ours,
            "only the filter's own annotations reach the backend"
        );
    }
}

fn check_deny_response(reply: &DenyResponse, reason: Reason, path: &str, prefix: &str) {
    assert_eq!(reply.status, 403);
    assert!(
        reply
            .headers
            .contains(&(format!("{prefix}deny-reason"), reason.code().to_string()))
    );
    for (name, value) in &reply.headers {
        assert!(printable(name) && printable(value));
    }
    let body: Value = serde_json::from_str(&reply.body).expect("the body is JSON");
    let resource = &body["api:hasErrorDetail"][0]["api:hasResource"];
    if is_origin_form(path) {
        let resource = resource.as_str().expect("a resource");
        assert!(resource.len() <= 512);
        assert!(
            normalize_path(path).starts_with(resource),
            "the resource is the normalised path"
        );
    } else {
        assert_eq!(*resource, Value::Null, "an invalid path is not echoed");
    }
    assert_eq!(
        body["api:hasErrorDetail"][0]["api:hasMessage"],
        reason.message()
    );
}
