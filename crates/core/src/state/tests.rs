use super::content::tests::verdict;
use super::*;
use crate::facts::PeerFacts;
use crate::fingerprint::Fingerprint;
use crate::reason::Reason;

fn on(digest: &str) -> ConnectionFacts {
    ConnectionFacts {
        peer_uri_san: None,
        id: Some(7),
        tls_version: Some("TLSv1.3".into()),
        peer: Some(PeerFacts {
            sha256_digest: Some(digest.into()),
            ..PeerFacts::default()
        }),
    }
}

#[test]
fn a_connection_holds_a_verdict_or_a_denial_never_both() {
    let mut state = State::new(2);
    let denial = CachedDenial {
        detail: None,
        reason: Reason::UntrustedCa,
        leaf_sha256: Fingerprint([1; 32]),
        since: 10,
        until: 20,
    };
    state.remember_handshake(7, &on("aa"));
    state.set_connection_verdict(7, Some(ConnectionVerdict::Verified(verdict(1))));
    state.set_connection_verdict(7, Some(ConnectionVerdict::Denied(denial)));
    assert_eq!(
        state.connection_verdict(7),
        Some(ConnectionVerdict::Denied(denial))
    );
    state.set_connection_verdict(7, Some(ConnectionVerdict::Verified(verdict(1))));
    assert_eq!(
        state.connection_verdict(7),
        Some(ConnectionVerdict::Verified(verdict(1)))
    );
    let stats = state.stats();
    assert_eq!((stats.connection_hits, stats.denial_hits), (2, 1));
}

#[test]
fn one_memo_of_connections_four_per_verdict() {
    let mut state = State::new(2);
    assert!(state.remembers_connections());
    assert_eq!(state.connection_capacity(), 8);
    for id in 1..=9 {
        state.remember_handshake(id, &on("aa"));
    }
    assert_eq!(state.remembered_connections(), 8);
    assert!(state.connection(1).is_none(), "the oldest went first");
    assert!(state.connection(2).is_some());
    // A verdict is set only on a remembered connection.
    state.set_connection_verdict(1, Some(ConnectionVerdict::Verified(verdict(1))));
    assert!(state.connection(1).is_none());

    // Another handshake on the id replaces the facts, not the verdict.
    state.set_connection_verdict(3, Some(ConnectionVerdict::Verified(verdict(3))));
    state.remember_handshake(3, &on("bb"));
    let known = state.connection(3).unwrap();
    assert_eq!(known.handshake, Handshake::of(&on("bb")).unwrap());
    assert!(known.verdict.is_some());

    // A peer without a digest cannot be remembered.
    let mut no_digest = on("aa");
    no_digest.peer = Some(PeerFacts::default());
    state.remember_handshake(3, &no_digest);
    assert!(state.connection(3).is_none());

    let off = State::new(0);
    assert!(!off.remembers_connections());
}

#[test]
fn the_memo_is_bounded_whatever_the_cache_size() {
    assert_eq!(connection_memo_capacity(0), 0);
    assert_eq!(
        connection_memo_capacity(crate::config::DEFAULT_VERDICT_CACHE_SIZE),
        4096
    );
    assert_eq!(
        connection_memo_capacity(crate::config::MAX_VERDICT_CACHE_SIZE),
        MAX_REMEMBERED_CONNECTIONS
    );
    assert_eq!(
        connection_memo_capacity(usize::MAX),
        MAX_REMEMBERED_CONNECTIONS
    );
}
