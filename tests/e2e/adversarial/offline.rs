//! The filter without Envoy: `Policy::decide` on the facts Envoy would
//! report, for what its handshake refuses before the filter runs.

use onerecord_tls_policy_testkit as support;

use onerecord_tls_policy::config::Config;
use onerecord_tls_policy::facts::{ConnectionFacts, Facts, PeerFacts, RequestFacts};
use onerecord_tls_policy::policy::{Decision, Policy};
use onerecord_tls_policy::reason::Reason;
use onerecord_tls_policy::state::State;
use onerecord_tls_policy::xfcc::envoy_format::peer_facts;
use serde_json::Value;
use std::cell::RefCell;
use support::pki::Issued;
use support::policies::{DELEGATION, OBJECT};
use support::unix_now;

/// A `Policy` of `config` and what it remembers, deciding requests over
/// TLS 1.3 (a verification it made is remembered for the next request).
pub(super) struct Offline(Policy, RefCell<State>);

impl Offline {
    pub(super) fn new(config: &Value) -> Offline {
        let config = Config::parse(config.to_string().as_bytes()).expect("valid configuration");
        let policy = Policy::new(config);
        let state = RefCell::new(policy.new_state());
        Offline(policy, state)
    }

    pub(super) fn decide(&self, path: &str, peer: Option<PeerFacts>) -> Decision {
        let facts = Facts {
            request: RequestFacts {
                path: path.to_string(),
                method: "GET".to_string(),
                ..RequestFacts::default()
            },
            connection: Ok(ConnectionFacts {
                peer_uri_san: None,
                id: None,
                tls_version: Some("TLSv1.3".to_string()),
                peer,
            }),
            now_unix: unix_now(),
        };
        self.0
            .decide_with(&facts, &mut self.1.borrow_mut())
            .decision
    }

    /// Required route: denied with `reason`. Optional route: passes as
    /// unverified, the certificate ignored for that same reason.
    pub(super) fn assert_refused(&self, peer: &PeerFacts, reason: Reason, what: &str) {
        let required = self.decide(DELEGATION, Some(peer.clone()));
        assert_eq!(
            required.deny_reason(),
            Some(reason),
            "{what}: {required:#?}"
        );
        assert!(required.rejects(), "{what}");
        let optional = self.decide(OBJECT, Some(peer.clone()));
        assert_eq!(optional.deny_reason(), None, "{what}: {optional:#?}");
        assert_eq!(optional.client, None, "{what}");
        assert_eq!(optional.ignored_certificate, Some(reason), "{what}");
    }
}

/// The facts Envoy reports for a client presenting `chain`.
pub(super) fn facts_for(chain: &[&Issued]) -> PeerFacts {
    let ders: Vec<Vec<u8>> = chain.iter().map(|c| c.der()).collect();
    peer_facts(&ders).expect("a non-empty chain")
}
