//! What the policy remembers between requests, for one configuration on one
//! VM: the verdicts by content, and one memo of connections. It has one
//! owner (the filter's plugin, or whoever calls [`Policy::decide_with`]),
//! which passes it in; a configuration reload starts a new one.
//!
//! The connection memo is keyed by Envoy's `connection.id`, unique for the
//! life of the process. A connection's TLS version and client certificate
//! are fixed at its handshake (Envoy does not renegotiate downstream), so an
//! entry stays true for as long as it is kept: its handshake facts, the
//! verdict on its client certificate (a success with its validity window, or
//! a denial with the window in which it cannot change), and the rendering of
//! its last forwarded decision. Later requests on a keep-alive connection
//! then read `connection.id` and the headers, not the handshake or the
//! certificate. Up to [`connection_memo_capacity`] connections (four per
//! verdict the cache holds: 4,096 at the default size), least recently used
//! first out; a closed connection's entry simply ages out. A connection
//! pushed out only costs its next request the reads (its client is still
//! known by content).
//!
//! [`Policy::decide_with`]: crate::policy::Policy::decide_with

mod connection_ids;
mod content;

use crate::decision::Decision;
use crate::effects::Rendered;
use crate::facts::{ConnectionFacts, Handshake};
use crate::lru::Lru;
use crate::revocation::Revocations;
use connection_ids::ConnectionIds;
use std::rc::Rc;

pub(crate) use content::{ByContent, CacheKey, CachedDenial, CachedVerdict};

/// Counters for tests, benchmarks and operators.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Verifications remembered by content.
    pub entries: usize,
    /// Lookups by content that found an entry.
    pub hits: u64,
    /// Lookups by content that found none.
    pub misses: u64,
    /// Entries by content pushed out to make room.
    pub evictions: u64,
    /// Lookups by connection that found a verdict.
    pub connection_hits: u64,
    /// Denials remembered by content.
    pub denials: usize,
    /// Lookups (by content or connection) that found a denial.
    pub denial_hits: u64,
}

/// The verdict on a connection's client certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ConnectionVerdict {
    /// Shared with the index by content (one per client, not per connection).
    Verified(Rc<CachedVerdict>),
    Denied(CachedDenial),
}

#[derive(Clone, Debug)]
pub(crate) struct Connection {
    pub handshake: Handshake,
    pub verdict: Option<ConnectionVerdict>,
    /// The last forwarded decision on the connection, rendered (boxed: the
    /// memo's table holds a pointer, not a decision, per connection).
    kept: Option<Box<(Decision, Rc<Rendered>)>>,
}

/// OCSP answers kept per VM (one per certificate asked about).
pub const OCSP_CACHE_ENTRIES: usize = 10_000;

/// Connections remembered per verdict the cache can hold: a client keeps
/// several keep-alive connections open (HTTP/1.1 pools, one per worker
/// thread of a client), and each needs its own entry to stay on the warm path.
pub const CONNECTIONS_PER_VERDICT: usize = 4;

/// The most connections one state remembers, whatever the cache size.
pub const MAX_REMEMBERED_CONNECTIONS: usize = 65_536;

/// How many connections a state sized for `verdict_cache_size` verdicts
/// remembers: [`CONNECTIONS_PER_VERDICT`] each, at most
/// [`MAX_REMEMBERED_CONNECTIONS`]; 0 for 0.
pub fn connection_memo_capacity(verdict_cache_size: usize) -> usize {
    verdict_cache_size
        .saturating_mul(CONNECTIONS_PER_VERDICT)
        .min(MAX_REMEMBERED_CONNECTIONS)
}

#[derive(Clone, Debug)]
pub struct State {
    pub(crate) by_content: ByContent,
    /// Keyed by Envoy's ids, which clients do not choose (hence the cheap hash).
    connections: Lru<u64, Connection, ConnectionIds>,
    connection_hits: u64,
    connection_denial_hits: u64,
    /// The CRLs in force on this VM (configured, then as fetched).
    pub revocation: Revocations,
    /// OCSP answers on this VM, per issuer and serial.
    pub ocsp: crate::ocsp::OcspCache,
}

impl State {
    /// Room for `capacity` verdicts by content (and as many denials) and
    /// [`connection_memo_capacity`]`(capacity)` connections; 0 remembers nothing.
    pub fn new(capacity: usize) -> State {
        State {
            by_content: ByContent::new(capacity),
            connections: Lru::with_hasher(
                connection_memo_capacity(capacity),
                ConnectionIds::default(),
            ),
            connection_hits: 0,
            connection_denial_hits: 0,
            revocation: Revocations::default(),
            ocsp: crate::ocsp::OcspCache::new(OCSP_CACHE_ENTRIES),
        }
    }

    /// The verdict cache's size and counters.
    pub fn stats(&self) -> CacheStats {
        let mut stats = self.by_content.stats();
        stats.connection_hits = self.connection_hits;
        stats.denial_hits = stats
            .denial_hits
            .saturating_add(self.connection_denial_hits);
        stats
    }

    /// Whether connections are remembered (else `connection.id` is not
    /// worth reading).
    pub fn remembers_connections(&self) -> bool {
        self.connections.capacity() > 0
    }

    /// How many connections are remembered.
    pub fn remembered_connections(&self) -> usize {
        self.connections.len()
    }

    /// How many connections can be remembered.
    pub fn connection_capacity(&self) -> usize {
        self.connections.capacity()
    }

    /// The connection's entry, without counting or reordering.
    pub(crate) fn connection(&self, id: u64) -> Option<&Connection> {
        self.connections.peek(id)
    }

    /// Remembers the handshake `facts` report for connection `id`, now the
    /// most recently used; the verdict and rendering stay (they are checked
    /// against each request's digest and decision).
    pub(crate) fn remember_handshake(&mut self, id: u64, facts: &ConnectionFacts) {
        if let Some(known) = self.connections.get(id)
            && known.handshake.is_of(facts)
        {
            return;
        }
        match (Handshake::of(facts), self.connections.peek_mut(id)) {
            (Some(handshake), Some(known)) => known.handshake = handshake,
            (Some(handshake), None) => {
                let fresh = Connection {
                    handshake,
                    verdict: None,
                    kept: None,
                };
                self.connections.insert(id, fresh);
            }
            (None, _) => self.connections.remove(id),
        }
    }

    /// The verdict remembered for connection `id`, counted as a hit.
    pub(crate) fn connection_verdict(&mut self, id: u64) -> Option<ConnectionVerdict> {
        let found = self.connections.peek(id)?.verdict.clone();
        match &found {
            Some(ConnectionVerdict::Verified(_)) => {
                self.connection_hits = self.connection_hits.saturating_add(1);
            }
            Some(ConnectionVerdict::Denied(_)) => {
                self.connection_hits = self.connection_hits.saturating_add(1);
                self.connection_denial_hits = self.connection_denial_hits.saturating_add(1);
            }
            None => {}
        }
        found
    }

    /// Sets (or with `None` forgets) the verdict of a remembered connection.
    pub(crate) fn set_connection_verdict(&mut self, id: u64, verdict: Option<ConnectionVerdict>) {
        if let Some(known) = self.connections.peek_mut(id) {
            known.verdict = verdict;
        }
    }

    /// The rendering kept for connection `id`, if it was made for an equal
    /// decision (rendering is a function of the decision, so it is the same).
    pub(crate) fn kept_rendering(&self, id: u64, decision: &Decision) -> Option<Rc<Rendered>> {
        match self.connections.peek(id)?.kept.as_deref() {
            Some((made_for, rendered)) if made_for == decision => Some(Rc::clone(rendered)),
            _ => None,
        }
    }

    /// Keeps `rendered` for a remembered connection (else nothing).
    pub(crate) fn keep_rendering(&mut self, id: u64, decision: &Decision, rendered: &Rc<Rendered>) {
        if let Some(known) = self.connections.peek_mut(id) {
            known.kept = Some(Box::new((decision.clone(), Rc::clone(rendered))));
        }
    }
}

#[cfg(test)]
mod tests;
