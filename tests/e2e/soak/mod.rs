//! Soak: one Envoy, many clients of every kind at once, keep-alive and
//! fresh connections, for a bounded number of requests. Every answer must
//! be the verdict its client deserves, every request the upstream sees must
//! come from a client that deserved to pass, the wasm VM must neither fail
//! nor be replaced, and Envoy's memory must stay flat after a warm-up.
//!
//! Ignored by default: `make soak` (300 000 requests) and `make soak-short`
//! (60 000) run it; `SOAK_REQUESTS` sets the size (default 5 000),
//! `SOAK_THREADS` the number of client threads (default 8).

mod clients;
mod load;

use clients::{CLASSES, Class, World};
use load::{Tally, UpstreamAudit, phase};
use onerecord_tls_policy_testkit as support;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
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
