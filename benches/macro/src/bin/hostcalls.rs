//! `make bench-profile`, second half: the plugin's own per-request code run
//! natively against a host that counts every hostcall it makes (with the
//! bytes crossing the wasm boundary each way), for one warm mTLS request
//! like the ones the macro benchmark sends: a later request on a keep-alive
//! connection, after one that filled the plugin's per-connection handshake
//! memo and its verdict cache. It also times the warm path
//! natively, split into fact gathering, the decision and the rest, which
//! shows how much of the plugin's cost is its own computation rather than
//! the hostcalls. Built only with `--features hostcalls`.

use macro_bench::splice;
use onerecord_tls_policy::config::AnnotationFormat;
use onerecord_tls_policy::effects;
use onerecord_tls_policy::filter::header_map::{self, HeaderMap};
use onerecord_tls_policy::filter::properties::{
    CONNECTION_ID, PEER_CERTIFICATE, PEER_DIGEST, TLS_VERSION, dotted,
};
use onerecord_tls_policy::filter::{
    Action, Outcome, Plugin, XFCC_HEADER, access_log, configure, gather_facts,
};
use onerecord_tls_policy::test_host::{Hostcalls, MockHost, Tally, property_call};
use onerecord_tls_policy::xfcc::envoy_format;
use onerecord_tls_policy_testkit::pki::{CertSpec, issue, self_signed};
use onerecord_tls_policy_testkit::unix_now;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Instant;

thread_local! {
    /// The logger's hostcalls (the host counts its own).
    static LOG_CALLS: Hostcalls = Hostcalls::default();
    /// Off while timing, so the tally's own work is not in the numbers.
    static COUNTING: Cell<bool> = const { Cell::new(true) };
}

fn count_log_call(call: &str, to_wasm: usize) {
    if COUNTING.with(Cell::get) {
        LOG_CALLS.with(|calls| calls.record(call, to_wasm, 0));
    }
}

/// Envoy's default log level for wasm logs.
const ENVOY_LEVEL: log::Level = log::Level::Info;

/// The filter's wasm logger asks Envoy's level (`proxy_get_log_level`) on
/// every check and passes only the records Envoy would print to `proxy_log`;
/// this one answers Envoy's default level (info) and counts both calls the
/// same way. (The native `Host` trait has no log-level call: logging goes
/// through the `log` crate, so the logger is where it is counted.)
struct CountingLogger;

impl log::Log for CountingLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        count_log_call("proxy_get_log_level", 4);
        metadata.level() <= ENVOY_LEVEL
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = record.args().to_string();
        if COUNTING.with(Cell::get) {
            let call = format!("proxy_log ({})", record.level().as_str().to_lowercase());
            LOG_CALLS.with(|calls| calls.record(&call, 0, line.len()));
        }
    }

    fn flush(&self) {}
}

static LOGGER: CountingLogger = CountingLogger;

/// The one keep-alive connection every request here arrives on.
const CONNECTION: u64 = 42;

/// Read on a connection's first request only; a warm request reads none.
fn handshake_reads() -> [String; 4] {
    [
        property_call(TLS_VERSION),
        property_call(PEER_DIGEST),
        property_call(PEER_CERTIFICATE),
        "proxy_get_header_map_value".into(),
    ]
}

/// The host's hostcalls and the logger's, by name.
fn tally(host: &MockHost) -> BTreeMap<String, Tally> {
    let mut tally = host.hostcalls.tallies();
    for (call, t) in LOG_CALLS.with(Hostcalls::tallies) {
        tally.entry(call).or_default().add(t);
    }
    tally
}

fn clear_tally(host: &MockHost) {
    host.hostcalls.clear();
    LOG_CALLS.with(Hostcalls::clear);
}

fn reads(tally: &BTreeMap<String, Tally>, call: &str) -> bool {
    tally.keys().any(|k| k.starts_with(call))
}

/// The hostcalls of a warm request under `plugin`'s configuration: the
/// connection's first request reads the handshake facts and the certificate,
/// verifies the chain in full, and fills the per-connection memo and the
/// verdict cache; the second one is counted.
fn warm_request_tally(
    plugin: &mut Plugin,
    host: &mut MockHost,
    request_headers: &[(String, String)],
) -> BTreeMap<String, Tally> {
    clear_tally(host);
    let (action, outcome) = plugin.on_request_headers(host);
    assert_eq!(
        (action, outcome.as_str()),
        (Action::Continue, "allow"),
        "the first request must be allowed"
    );
    assert!(
        reads(&tally(host), &property_call(PEER_CERTIFICATE)),
        "the first request on the connection must read the certificate"
    );
    // The measured one: the next request on the same keep-alive connection.
    clear_tally(host);
    host.headers = request_headers.to_vec();
    let (action, outcome) = plugin.on_request_headers(host);
    assert_eq!(
        (action, outcome.as_str()),
        (Action::Continue, "allow"),
        "the warm request must be allowed"
    );
    let tally = tally(host);
    for call in handshake_reads() {
        assert!(
            !reads(&tally, &call),
            "the warm request must not call {call}"
        );
    }
    assert!(
        reads(&tally, &property_call(CONNECTION_ID)),
        "the warm request must find its connection by id"
    );
    tally
}

/// Timing: requests per run, and runs (the median is reported).
const ROUNDS: u32 = 20_000;
const REPEATS: usize = 9;

fn main() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
    // The macro benchmark's client: P-256 leaf + intermediate, pinned root.
    let root = self_signed(&CertSpec::ca("Test ONE Record Client CA"));
    let issuing = issue(&CertSpec::ca("Bench ONE Record Issuing CA"), &root);
    let leaf = issue(&macro_bench::client::spec(), &issuing);
    let config_with = |extra: serde_json::Value| {
        let mut config = serde_json::json!({
            "mtls": "required",
            "trusted_ca_sha256": [root.sha256_hex()],
            "ca_certificates_pem": root.pem(),
        });
        if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
            config.extend(extra.clone());
        }
        config.to_string()
    };
    let config = config_with(serde_json::json!({}));
    // The lean profile (docs/benchmarks.md), counted beside the default.
    let lean = config_with(serde_json::json!({
        "access_log_filter_state": false,
        "annotation_format": "dictionary",
    }));

    let peer = envoy_format::peer_facts(&[leaf.der(), issuing.der()]).expect("a leaf");
    let mut host = MockHost {
        now: unix_now(),
        ..MockHost::default()
    };
    // Envoy serialises `connection.id` (a u64) as 8 little-endian bytes.
    host.set_property(&dotted(CONNECTION_ID), &CONNECTION.to_le_bytes());
    host.set_property(&dotted(TLS_VERSION), b"TLSv1.3");
    let digest = peer.sha256_digest.clone().unwrap_or_default();
    host.set_property(&dotted(PEER_DIGEST), digest.as_bytes());
    let pem = peer.certificate_pem.clone().unwrap_or_default();
    host.set_property(&dotted(PEER_CERTIFICATE), pem.as_bytes());
    let request_headers: Vec<(String, String)> = [
        (":authority", "localhost:10000"),
        (":path", "/direct"),
        (":method", "GET"),
        (":scheme", "https"),
        ("user-agent", "oha/1.16.0"),
        ("accept", "*/*"),
        ("x-forwarded-proto", "https"),
        ("x-request-id", "1f0c7a52-2b7e-4a0e-9a4e-5d1b1f0e6c3a"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .chain([(
        XFCC_HEADER.to_string(),
        peer.xfcc.clone().unwrap_or_default(),
    )])
    .collect();
    host.headers.clone_from(&request_headers);

    let lean_tally = {
        let mut plugin =
            configure(&mut host, Ok(lean.into_bytes())).expect("the lean configuration loads");
        warm_request_tally(&mut plugin, &mut host, &request_headers)
    };
    host.headers.clone_from(&request_headers);
    let mut plugin =
        configure(&mut host, Ok(config.clone().into_bytes())).expect("configuration loads");
    let tally = warm_request_tally(&mut plugin, &mut host, &request_headers);
    let mut md = String::from(
        "### Hostcalls of one warm request\n\n\
         Counted by `benches/macro/src/bin/hostcalls.rs`, which runs the plugin's own code natively \
         against a counting host, for a request like the benchmark's (client certificate and \
         intermediate): the second on its keep-alive connection, so the handshake facts are \
         remembered by `connection.id` and the verdict is cached. `proxy_get_log_level` is the \
         logger asking Envoy's level (info, the default) before the debug line of an allowed \
         request, which is then neither built nor sent.\n\n\
         | hostcall | calls | bytes to wasm | bytes to host |\n| --- | ---: | ---: | ---: |\n",
    );
    let mut total = Tally::default();
    for (call, t) in &tally {
        let _ = writeln!(
            md,
            "| `{call}` | {} | {} | {} |",
            t.calls, t.to_wasm, t.to_host
        );
        total.add(*t);
    }
    let _ = writeln!(
        md,
        "| total | {} | {} | {} |",
        total.calls, total.to_wasm, total.to_host
    );
    let lean_total = lean_tally.values().fold(Tally::default(), |mut sum, t| {
        sum.add(*t);
        sum
    });
    let replaced = |t: &BTreeMap<String, Tally>| {
        t.get("proxy_replace_header_map_value")
            .map_or(0, |t| t.calls)
    };
    let _ = write!(
        md,
        "\nIn the [lean profile](#lean-profile) the same request makes {} hostcalls, {} bytes to the \
         host: {} header write instead of {}, and no access-log property.\n",
        lean_total.calls,
        lean_total.to_host,
        replaced(&lean_tally),
        replaced(&tally)
    );

    // Native time of the warm path, hostcalls served from memory.
    COUNTING.with(|c| c.set(false));
    host.timing = true;
    // A copy of the plugin's state, which has seen the connection, so
    // gathering and deciding are timed on the warm path too.
    let policy = plugin.policy().clone();
    let mut state = plugin.state().clone();
    let facts = gather_facts(&host, &policy, &state).facts;
    assert!(
        facts
            .connection
            .as_ref()
            .is_ok_and(|c| c.peer.as_ref().is_some_and(|p| p.certificate_pem.is_none())),
        "gathering must be timed with the verdict cached"
    );
    assert!(
        state.remembered_connections() > 0,
        "the connection must be remembered"
    );
    let time = |f: &mut dyn FnMut()| {
        let mut runs: Vec<f64> = (0..REPEATS)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..ROUNDS {
                    f();
                }
                start.elapsed().as_secs_f64() * 1e6 / f64::from(ROUNDS)
            })
            .collect();
        runs.sort_by(f64::total_cmp);
        runs[runs.len() / 2]
    };
    let whole = time(&mut || {
        host.headers.clone_from(&request_headers);
        black_box(plugin.on_request_headers(&mut host));
    });
    let gathering = time(&mut || {
        black_box(gather_facts(&host, &policy, &state));
    });
    let deciding = time(&mut || {
        black_box(policy.decide_with(black_box(&facts), &mut state));
    });
    let resetting = time(&mut || {
        host.headers.clone_from(&request_headers);
    });
    let whole = whole - resetting;
    // Pieces of gathering and of the rest, each as the filter does it (the
    // header map includes taking the host's buffer).
    let decision = policy.decide_with(&facts, &mut state).decision;
    let wire = header_map::serialize_pairs(&request_headers);
    let decoding = time(&mut || {
        black_box(HeaderMap::parse(black_box(wire.clone())));
    });
    let annotating = time(&mut || {
        black_box(effects::annotations(
            black_box(&decision),
            "x-onerecord-",
            AnnotationFormat::Headers,
        ));
    });
    let outcome = Outcome::of(false, &decision);
    let recording = time(&mut || {
        black_box(access_log::value(outcome, black_box(&decision)));
    });
    let logging = time(&mut || {
        black_box(log::log_enabled!(log::Level::Debug));
    });
    let _ = write!(
        md,
        "\nThe same code natively, per warm request (median of {REPEATS} runs of {ROUNDS}; hostcalls \
         answered from memory): whole filter {whole:.2} µs = gathering facts {gathering:.2} µs \
         (of which parsing the request header map {decoding:.2} µs) + decision {deciding:.2} µs + \
         the rest {:.2} µs, which reuses the connection's annotation values and access-log value \
         (building them anew, when the decision differs from the connection's last one, takes \
         {annotating:.2} µs and {recording:.2} µs) and includes the log-level check for the debug \
         line ({logging:.2} µs).\n",
        whole - gathering - deciding
    );
    println!("{md}");
    let mut args = std::env::args().skip(1);
    if let (Some(flag), Some(path)) = (args.next(), args.next()) {
        assert_eq!(flag, "--write", "usage: hostcalls [--write PATH]");
        let doc = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::write(&path, splice::splice(&doc, "macro-bench-hostcalls", &md))
            .unwrap_or_else(|e| panic!("write {path}: {e}"));
        println!("written to {path}");
    }
}
