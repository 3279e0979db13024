//! The pinned test PKI (from the test kit) and a policy over it, shared by
//! the tests of the policy and its verdict cache; a policy with its state.

pub use onerecord_tls_policy_testkit::pinned::{Pki, pki, pki_with_leaf};
pub use onerecord_tls_policy_testkit::unix_now as now;

use super::{CacheStats, ChainVerification, Decision, Policy};
use crate::config::Config;
use crate::facts::{Facts, PeerFacts};
use crate::state::State;
use onerecord_tls_policy_testkit::pinned::policy_json;
use onerecord_tls_policy_testkit::pki::Issued;

/// A policy pinning `root` and requiring mTLS everywhere; `extra` adds fields.
pub fn policy(root: &Issued, extra: &str) -> Policy {
    Policy::new(Config::parse(policy_json(root, extra).as_bytes()).unwrap())
}

/// A policy with its state, deciding as the filter does (what requests
/// remember kept between them), and the last full chain verification a
/// decision ran until it is taken.
pub struct Remembering {
    pub policy: Policy,
    pub state: State,
    verification: Option<ChainVerification>,
}

/// [`policy`] with an empty state.
pub fn remembering(root: &Issued, extra: &str) -> Remembering {
    Remembering::new(policy(root, extra))
}

impl Remembering {
    pub fn new(policy: Policy) -> Self {
        let state = policy.new_state();
        Remembering {
            policy,
            state,
            verification: None,
        }
    }

    pub fn decide(&mut self, facts: &Facts) -> Decision {
        let decided = self.policy.decide_with(facts, &mut self.state);
        if decided.chain_verification.is_some() {
            self.verification = decided.chain_verification;
        }
        decided.decision
    }

    pub fn take_chain_verification(&mut self) -> Option<ChainVerification> {
        self.verification.take()
    }

    pub fn verdict_cache_stats(&self) -> CacheStats {
        self.state.stats()
    }

    /// Whether the filter would read the certificate of `peer` at `now_unix`.
    pub fn needs_certificate(&self, peer: &Peer, now_unix: u64) -> bool {
        match peer.id {
            Some(id) => self.policy.needs_certificate(
                &self.state,
                id,
                peer.facts.sha256_digest.as_deref(),
                now_unix,
            ),
            None => true,
        }
    }
}

/// A client certificate as the filter reports it, on connection `id` when
/// it read one.
#[derive(Clone, Debug)]
pub struct Peer {
    pub id: Option<u64>,
    pub facts: PeerFacts,
}
