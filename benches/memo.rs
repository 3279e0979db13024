//! Memory of the connection memo, measured: the heap one remembered
//! keep-alive connection takes (its entry in the memo's map and recency
//! order, its handshake facts, its verdict and its kept rendering), with the
//! default `verdict_cache_size`, and that the memo stays bounded when more
//! connections come. Also the allocations of one warm request. Prints what
//! it measured (`make bench-memo`); every figure comes from a counting
//! allocator around the system one.
// Test code: it may unwrap and panic (the workspace lints are for the shipped crates).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use onerecord_tls_policy::config::Config;
use onerecord_tls_policy::effects::Resource;
use onerecord_tls_policy::facts::{ConnectionFacts, Facts, PeerFacts, RequestFacts};
use onerecord_tls_policy::policy::Policy;
use onerecord_tls_policy::state::State;
use onerecord_tls_policy::xfcc::envoy_format;
use onerecord_tls_policy_testkit::pinned::{pki, policy_json};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The system allocator, counting live bytes and allocations.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed on to `System` unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as `GlobalAlloc::realloc` requires, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn request(id: Option<u64>, peer: Option<PeerFacts>, now_unix: u64) -> Facts {
    Facts {
        request: RequestFacts {
            path: "/access-delegations/4f6c2a".into(),
            method: "GET".into(),
            authority: "1r.example.com".into(),
            ..RequestFacts::default()
        },
        connection: Ok(ConnectionFacts {
            peer_uri_san: None,
            id,
            tls_version: Some("TLSv1.3".into()),
            peer,
        }),
        now_unix,
    }
}

/// One request decided and planned as the filter does it.
fn serve(policy: &Policy, state: &mut State, facts: &Facts) {
    let id = facts.connection.as_ref().ok().and_then(|c| c.id);
    let decided = policy.decide_with(facts, state);
    assert!(!decided.decision.rejects(), "the client is allowed");
    let plan = policy.plan(decided, &Resource::of(facts), id, state);
    std::hint::black_box(plan);
}

fn main() {
    let k = pki();
    let policy = Policy::new(Config::parse(policy_json(&k.root, "").as_bytes()).unwrap());
    let ders = [k.leaf.der(), k.inter.der(), k.root.der()];
    let full = envoy_format::peer_facts(&ders).unwrap();
    // A later request on a known connection: Envoy's digest, nothing read.
    let bare = PeerFacts {
        sha256_digest: full.sha256_digest.clone(),
        ..PeerFacts::default()
    };
    let now = onerecord_tls_policy_testkit::unix_now();
    let mut state = policy.new_state();
    let capacity = state.connection_capacity();
    // `MEMO_FILL` opens fewer connections than the memo holds (the warm
    // request's cost with a small memo, under callgrind).
    let fill = std::env::var("MEMO_FILL")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(capacity)
        .min(capacity);

    // The client verified once, by content only (no connection entry).
    serve(&policy, &mut state, &request(None, Some(full.clone()), now));
    let before = LIVE.load(Ordering::Relaxed);
    let ids = 1..=fill as u64;
    let connect = |state: &mut State, id: u64| {
        serve(&policy, state, &request(Some(id), Some(full.clone()), now));
        serve(&policy, state, &request(Some(id), Some(bare.clone()), now));
    };
    for id in ids.clone() {
        connect(&mut state, id);
    }
    let full_memo = LIVE.load(Ordering::Relaxed);
    assert_eq!(state.remembered_connections(), fill);
    let per_entry = (full_memo - before) as f64 / fill as f64;

    // As many new connections again: each pushes out the oldest.
    for id in ids.map(|id| id + fill as u64) {
        connect(&mut state, id);
    }
    let churned = LIVE.load(Ordering::Relaxed);
    assert_eq!(state.remembered_connections(), capacity.min(2 * fill));

    // One warm request: allocations and bytes it leaves allocated.
    let warm = request(Some(fill as u64 * 2), Some(bare), now);
    let (allocations, live) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        LIVE.load(Ordering::Relaxed),
    );
    // `MEMO_WARM` sets the count: two runs under callgrind differ by the
    // instructions of that many warm requests.
    let warm_count: u64 = std::env::var("MEMO_WARM")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    for _ in 0..warm_count {
        serve(&policy, &mut state, &warm);
    }
    let warm_allocations =
        (ALLOCATIONS.load(Ordering::Relaxed) - allocations) as f64 / warm_count as f64;
    let warm_left = LIVE.load(Ordering::Relaxed) as i64 - live as i64;

    println!(
        "connection memo at the default verdict_cache_size ({} verdicts):",
        { onerecord_tls_policy::config::DEFAULT_VERDICT_CACHE_SIZE }
    );
    println!("  capacity                      {capacity} connections ({fill} opened)");
    println!(
        "  heap per remembered connection {per_entry:.0} bytes (P-256 client, chain of 3; map and order included)"
    );
    println!(
        "  heap of the memo              {:.2} MiB",
        (full_memo - before) as f64 / 1024.0 / 1024.0
    );
    println!(
        "  after {fill} more connections {:.2} MiB (bounded: the oldest went out)",
        (churned as f64 - before as f64) / 1024.0 / 1024.0
    );
    println!("one warm request (decide + plan, connection known):");
    println!("  allocations                   {warm_allocations:.1}");
    println!("  bytes left allocated after {warm_count} {warm_left}");
}
