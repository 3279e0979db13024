//! Client threads sending the load, their tally, and the audit of what
//! reached the upstream.

use super::DEADLINE;
use super::clients::{CLASSES, Class, World, check, request};
use onerecord_tls_policy_testkit as support;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::client::Connection;
use support::policies::OBJECT;
use support::upstream::Seen;

#[derive(Default)]
pub(super) struct Tally {
    /// Per class: requests answered as deserved, answered otherwise, and
    /// transport failures (no answer at all).
    pub(super) right: BTreeMap<Class, u64>,
    pub(super) wrong: BTreeMap<Class, u64>,
    pub(super) failed: BTreeMap<Class, u64>,
    pub(super) connections: u64,
    /// Answers that reached the upstream (status 200).
    pub(super) forwarded: u64,
    pub(super) examples: Vec<String>,
}

impl Tally {
    pub(super) fn merge(&mut self, other: Tally) {
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

    pub(super) fn note(&mut self, example: String) {
        if self.examples.len() < 10 {
            self.examples.push(example);
        }
    }

    pub(super) fn total(map: &BTreeMap<Class, u64>) -> u64 {
        map.values().sum()
    }
}

/// A small deterministic generator: how long each connection is kept.
pub(super) struct XorShift(u64);

impl XorShift {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// One client thread: requests until `next` reaches `limit`, each class on
/// its own connection, kept for 1 to 16 requests (1: a fresh connection).
pub(super) fn client_thread(
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
pub(super) struct UpstreamAudit {
    pub(super) seen: u64,
    pub(super) intruders: Vec<String>,
}

impl UpstreamAudit {
    pub(super) fn absorb(&mut self, requests: Vec<Seen>, good_sha256: &str) {
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
pub(super) fn phase(
    world: &World,
    threads: usize,
    requests: usize,
    audit: &Mutex<UpstreamAudit>,
) -> Tally {
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
