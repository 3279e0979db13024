//! Soak: one Envoy, many clients of every kind at once, keep-alive and
//! fresh connections, for a bounded number of requests. Every answer must
//! be the verdict its client deserves, every request the upstream sees must
//! come from a client that deserved to pass, the wasm VM must neither fail
//! nor be replaced, and Envoy's memory must stay flat after a warm-up.
//!
//! Ignored by default: `make soak` (300 000 requests) and `make soak-short`
//! (60 000) run it; `SOAK_REQUESTS` sets the size (default 5 000),
//! `SOAK_THREADS` the number of client threads (default 8).

use onerecord_tls_policy_testkit as support;

use serde_json::json;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::bootstrap::EnvoySpec;
use support::client::{Connection, PreparedClient, try_connect_plain};
use support::fixture::TestPki;
use support::http::{Request, Response};
use support::pki::{CertSpec, Issued, issue};
use support::policies::{DELEGATION, OBJECT, delegations_rule, pinned_client_ca, with};
use support::stack::Stack;
use support::upstream::Seen;
use support::vm::{self, VmHealth};

/// Growth of Envoy's resident memory allowed between the end of the
/// warm-up and the end of the run. After warm-up every structure the run
/// uses has reached its working size: at most `threads × classes` client
/// connections are open at once, the verdict cache is bounded by
/// configuration, and the filter's linear memory has grown to what one
/// request needs. What remains is allocator noise (well under 1 MiB on
/// Envoy 1.40). A leak of 64 bytes per request fails `make soak` (270 000
/// requests after warm-up).
const RSS_GROWTH_LIMIT_KIB: u64 = 16 * 1024;

/// A run that takes longer than this is stuck, not slow.
const DEADLINE: Duration = Duration::from_secs(45 * 60);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// Pinned client: 200, verified as itself.
    Good,
    /// Client of a CA Envoy trusts but the policy does not pin.
    Unpinned,
    /// Expired client certificate (Envoy told to allow expired ones).
    Expired,
    /// Client certificate on the revocation list.
    Revoked,
    /// Plain HTTP.
    Plaintext,
    /// TLS without a client certificate: denied where mTLS is required,
    /// passed without identity elsewhere (alternately).
    Anonymous,
}

const CLASSES: [Class; 6] = [
    Class::Good,
    Class::Unpinned,
    Class::Expired,
    Class::Revoked,
    Class::Plaintext,
    Class::Anonymous,
];

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

struct World {
    s: Stack,
    good: &'static Issued,
    clients: BTreeMap<Class, PreparedClient>,
}

impl World {
    fn start() -> World {
        let pki = TestPki::shared();
        let (root, good, unpinned) = (&pki.client_ca, &pki.client, &pki.outsider);
        let expired = issue(&CertSpec::client("expired-1").validity(-7200, -3600), root);
        let revoked = issue(&CertSpec::client("revoked-1"), root);
        let config = with(
            pinned_client_ca(),
            json!({
                "revoked_sha256": [revoked.sha256_hex()],
                "rules": [delegations_rule()],
            }),
        );
        let spec = EnvoySpec::new(&config)
            .client_ca_pem(&pki.envoy_trust())
            .allow_expired_certificate();
        let s = Stack::start_spec(spec);
        let clients = [
            (Class::Good, s.client().cert(good)),
            (Class::Unpinned, s.client().cert(unpinned)),
            (Class::Expired, s.client().cert(&expired)),
            (Class::Revoked, s.client().cert(&revoked)),
            (Class::Anonymous, s.client()),
        ]
        .into_iter()
        .map(|(class, client)| (class, client.prepare().expect("client context")))
        .collect();
        World { s, good, clients }
    }

    fn connect(&self, class: Class) -> Result<Connection, String> {
        match class {
            Class::Plaintext => try_connect_plain(self.s.plain()).map_err(|e| e.to_string()),
            other => self.clients[&other].connect(self.s.tls()),
        }
    }
}

/// One request of `class`; `n` alternates the anonymous client's path.
fn request(class: Class, id: &str, n: u64) -> Request {
    let path = match class {
        Class::Plaintext => OBJECT,
        Class::Anonymous if n % 2 == 1 => OBJECT,
        _ => DELEGATION,
    };
    Request::get(path)
        .header("x-soak-id", id)
        // Forged on every request; the upstream must only ever see the filter's.
        .header("x-onerecord-mtls", "verified")
        .header("x-onerecord-client-sha256", &"ab".repeat(32))
}

/// Whether `resp` is the verdict `class` deserves for `req`.
fn check(class: Class, req: &Request, resp: &Response, good_sha256: &str) -> Result<(), String> {
    let deny = |reason: &str| {
        let got = resp.header("x-onerecord-deny-reason");
        if resp.status == 403 && got == Some(reason) {
            Ok(())
        } else {
            Err(format!("want 403 {reason}, got {} {got:?}", resp.status))
        }
    };
    match class {
        Class::Good => passed(req, resp, "verified", Some(good_sha256)),
        Class::Unpinned => deny("untrusted_ca"),
        Class::Expired => deny("certificate_expired"),
        Class::Revoked => deny("certificate_revoked"),
        Class::Plaintext => deny("tls_required"),
        Class::Anonymous if req.path == OBJECT => passed(req, resp, "none", None),
        Class::Anonymous => deny("client_certificate_required"),
    }
}

/// A 200 from the upstream for this very request, with the annotations of
/// `mtls` and `client_sha256`.
fn passed(
    req: &Request,
    resp: &Response,
    mtls: &str,
    client_sha256: Option<&str>,
) -> Result<(), String> {
    if resp.status != 200 {
        return Err(format!(
            "want 200, got {} {:?}",
            resp.status,
            resp.header("x-onerecord-deny-reason")
        ));
    }
    let echo: BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&resp.body).map_err(|e| format!("echo: {e}"))?;
    let one = |name: &str| match echo.get(name).map(Vec::as_slice) {
        Some([value]) => Some(value.as_str()),
        _ => None,
    };
    let sent_id = req.headers.iter().find(|(n, _)| n == "x-soak-id");
    let got = (
        one("x-soak-id"),
        one("x-onerecord-mtls"),
        one("x-onerecord-client-sha256"),
    );
    let want = (sent_id.map(|(_, v)| v.as_str()), Some(mtls), client_sha256);
    if got == want {
        Ok(())
    } else {
        Err(format!("upstream saw {got:?}, want {want:?}"))
    }
}

#[derive(Default)]
struct Tally {
    /// Per class: requests answered as deserved, answered otherwise, and
    /// transport failures (no answer at all).
    right: BTreeMap<Class, u64>,
    wrong: BTreeMap<Class, u64>,
    failed: BTreeMap<Class, u64>,
    connections: u64,
    /// Answers that reached the upstream (status 200).
    forwarded: u64,
    examples: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (mine, theirs) in [
            (&mut self.right, other.right),
            (&mut self.wrong, other.wrong),
            (&mut self.failed, other.failed),
        ] {
            for (class, n) in theirs {
                *mine.entry(class).or_default() += n;
            }
        }
        self.connections += other.connections;
        self.forwarded += other.forwarded;
        self.examples.extend(
            other
                .examples
                .into_iter()
                .take(10 - self.examples.len().min(10)),
        );
    }

    fn note(&mut self, example: String) {
        if self.examples.len() < 10 {
            self.examples.push(example);
        }
    }

    fn total(map: &BTreeMap<Class, u64>) -> u64 {
        map.values().sum()
    }
}

/// A small deterministic generator: how long each connection is kept.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// One client thread: requests until `next` reaches `limit`, each class on
/// its own connection, kept for 1 to 16 requests (1: a fresh connection).
fn client_thread(
    world: &World,
    thread: usize,
    next: &AtomicUsize,
    limit: usize,
    deadline: Instant,
) -> Tally {
    let mut tally = Tally::default();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15 ^ (thread as u64 + 1));
    let mut open: BTreeMap<Class, (Connection, u64)> = BTreeMap::new();
    let good_sha256 = world.good.sha256_hex();
    loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= limit || Instant::now() > deadline {
            return tally;
        }
        let class = CLASSES[(n + thread) % CLASSES.len()];
        let id = format!("{class}-{n}");
        let req = request(class, &id, (n / CLASSES.len()) as u64);
        let (mut conn, left) = match open.remove(&class) {
            Some(kept) => kept,
            None => match world.connect(class) {
                Ok(conn) => {
                    tally.connections += 1;
                    (conn, 1 + rng.next() % 16)
                }
                Err(e) => {
                    *tally.failed.entry(class).or_default() += 1;
                    tally.note(format!("{id}: connect: {e}"));
                    continue;
                }
            },
        };
        let resp = match conn.send(&req) {
            Ok(resp) => resp,
            Err(e) => {
                *tally.failed.entry(class).or_default() += 1;
                tally.note(format!("{id}: {e}"));
                continue;
            }
        };
        if resp.status == 200 {
            tally.forwarded += 1;
        }
        match check(class, &req, &resp, &good_sha256) {
            Ok(()) => *tally.right.entry(class).or_default() += 1,
            Err(e) => {
                *tally.wrong.entry(class).or_default() += 1;
                tally.note(format!("{id}: {e}"));
            }
        }
        let closing = resp
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if left > 1 && !closing {
            open.insert(class, (conn, left - 1));
        }
    }
}

/// What the upstream saw: each request must come from a class that passes,
/// carry only the filter's annotations, and be counted once.
#[derive(Default)]
struct UpstreamAudit {
    seen: u64,
    intruders: Vec<String>,
}

impl UpstreamAudit {
    fn absorb(&mut self, requests: Vec<Seen>, good_sha256: &str) {
        for seen in requests {
            self.seen += 1;
            let get = |name: &str| -> Vec<&str> {
                seen.headers
                    .iter()
                    .filter(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
                    .collect()
            };
            let id = get("x-soak-id").first().copied().unwrap_or("?").to_string();
            let mtls = get("x-onerecord-mtls");
            let client = get("x-onerecord-client-sha256");
            let fine = if id.starts_with("Good-") {
                mtls == ["verified"] && client == [good_sha256]
            } else {
                id.starts_with("Anonymous-")
                    && seen.path == OBJECT
                    && mtls == ["none"]
                    && client.is_empty()
            };
            if !fine && self.intruders.len() < 10 {
                self.intruders.push(format!(
                    "{id} {} mtls={mtls:?} client={client:?}",
                    seen.path
                ));
            }
        }
    }
}

/// Runs `requests` requests on `threads` threads, auditing the upstream meanwhile.
fn phase(world: &World, threads: usize, requests: usize, audit: &Mutex<UpstreamAudit>) -> Tally {
    let next = AtomicUsize::new(0);
    let deadline = Instant::now() + DEADLINE;
    let good_sha256 = world.good.sha256_hex();
    let done = Arc::new(AtomicUsize::new(0));
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let next = &next;
                let done = Arc::clone(&done);
                scope.spawn(move || {
                    let tally = client_thread(world, thread, next, requests, deadline);
                    done.fetch_add(1, Ordering::SeqCst);
                    tally
                })
            })
            .collect();
        // Drain the upstream's record as the run goes, so it stays small.
        while done.load(Ordering::SeqCst) < threads {
            std::thread::sleep(Duration::from_millis(250));
            let taken = world.s.upstream.take_seen();
            audit.lock().expect("audit").absorb(taken, &good_sha256);
        }
        let mut tally = Tally::default();
        for worker in workers {
            tally.merge(worker.join().expect("client thread"));
        }
        tally
    })
}

/// Envoy's resident set (`VmRSS`), in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
        Err(_) => default,
    }
}

#[test]
#[ignore = "long-running; `make soak` or `make soak-short`"]
fn soak_every_client_gets_its_verdict_and_envoy_stays_flat() {
    let requests = env_usize("SOAK_REQUESTS", 5_000);
    let threads = env_usize("SOAK_THREADS", 8);
    assert!(
        requests >= 1_000,
        "SOAK_REQUESTS below 1000 leaves no room to warm up"
    );
    let warmup = (requests / 10).max(1_000);
    let world = World::start();
    let pid = world.s.envoy.pid();
    let audit = Mutex::new(UpstreamAudit::default());
    let good_sha256 = world.good.sha256_hex();

    let started = Instant::now();
    let mut tally = phase(&world, threads, warmup, &audit);
    let vm_after_warmup = VmHealth::read(&world.s.envoy);
    let rss_warm = rss_kib(pid);
    let measured = Instant::now();
    tally.merge(phase(&world, threads, requests - warmup, &audit));
    let elapsed = measured.elapsed();
    let rss_end = rss_kib(pid);
    let mut audit = audit.into_inner().expect("audit");
    audit.absorb(world.s.upstream.take_seen(), &good_sha256);

    let answered = Tally::total(&tally.right) + Tally::total(&tally.wrong);
    println!(
        "soak: {requests} requests ({warmup} warm-up) on {threads} threads, {} connections, \
         {:.1} s in all, {:.0} requests/s after warm-up",
        tally.connections,
        started.elapsed().as_secs_f64(),
        (requests - warmup) as f64 / elapsed.as_secs_f64(),
    );
    for class in CLASSES {
        let count = |map: &BTreeMap<Class, u64>| map.get(&class).copied().unwrap_or(0);
        println!(
            "  {class:<10} right {:>7}  wrong {:>3}  failed {:>3}",
            count(&tally.right),
            count(&tally.wrong),
            count(&tally.failed)
        );
    }
    println!(
        "  upstream saw {} requests, {} answers were 200",
        audit.seen, tally.forwarded
    );
    println!(
        "  Envoy VmRSS: {rss_warm} KiB after warm-up, {rss_end} KiB at the end ({:+} KiB; limit {RSS_GROWTH_LIMIT_KIB})",
        rss_end as i64 - rss_warm as i64
    );
    println!("  wasm VMs after warm-up: {vm_after_warmup:?}");

    assert!(
        tally.examples.is_empty() && answered == requests as u64,
        "{} wrong, {} without an answer, of {requests}; first ones: {:#?}",
        Tally::total(&tally.wrong),
        Tally::total(&tally.failed),
        tally.examples
    );
    assert!(
        audit.intruders.is_empty(),
        "the upstream saw requests that should not pass: {:#?}",
        audit.intruders
    );
    assert_eq!(
        audit.seen, tally.forwarded,
        "upstream requests vs 200 answers"
    );
    vm::assert_vm_intact(&world.s.envoy, &vm_after_warmup);
    assert_eq!(
        vm_after_warmup.responses_5xx, 0,
        "5xx answers during warm-up"
    );
    assert!(
        rss_end <= rss_warm + RSS_GROWTH_LIMIT_KIB,
        "Envoy grew from {rss_warm} KiB to {rss_end} KiB after warm-up"
    );
}
