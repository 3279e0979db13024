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
//!
//! The input types, builders and checks are in `onerecord_tls_policy_fuzz::decide`.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::{fuzz_mutator, fuzz_target};
use onerecord_tls_policy::config::Config;
use onerecord_tls_policy::facts::Facts;
use onerecord_tls_policy::fingerprint::Fingerprint;
use onerecord_tls_policy::policy::{Decision, Policy};
use onerecord_tls_policy_fuzz::decide::case::Case;
use onerecord_tls_policy_fuzz::decide::certs::Certs;
use onerecord_tls_policy_fuzz::decide::config::config_json;
use onerecord_tls_policy_fuzz::decide::effects::check_effects;
use onerecord_tls_policy_fuzz::decide::expect::check_decision;
use onerecord_tls_policy_fuzz::decide::facts::{clock, facts, peer};
use onerecord_tls_policy_fuzz::pool::Pool;

/// One mutation in this many may touch the pool.
const WHOLE_INPUT_EVERY: u32 = 16;

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
        let client = std::rc::Rc::make_mut(client);
        client.path_sha256.clear();
        client.anchor_sha256 = Fingerprint([0; 32]);
    }
    d
}
