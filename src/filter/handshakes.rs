//! What Envoy fixed at each connection's TLS handshake, remembered per
//! connection so that later requests on a keep-alive connection read one
//! property (`connection.id`) instead of two. A TLS session's version and
//! client certificate cannot change after the handshake (Envoy does not
//! renegotiate downstream), and connection ids are never reused within an
//! Envoy process, so an entry stays true for as long as it is kept.
//!
//! One memo per loaded configuration and VM, bounded, least recently used
//! first out: a closed connection's entry simply ages out.

use super::rendered::Rendered;
use crate::policy::Decision;
use onerecord_tls_policy_core::lru::Lru;
use std::cell::RefCell;
use std::rc::Rc;

/// The handshake facts of one connection, as Envoy reported them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Handshake {
    /// `connection.tls_version`; `None` on plaintext.
    pub tls_version: Option<String>,
    /// The client certificate, when one was presented.
    pub peer: Option<HandshakePeer>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HandshakePeer {
    /// `connection.sha256_peer_certificate_digest`.
    pub sha256_digest: String,
}

#[derive(Debug)]
pub struct Handshakes {
    lru: RefCell<Lru<u64, Remembered>>,
}

#[derive(Debug)]
struct Remembered {
    handshake: Handshake,
    /// The last forwarded decision on the connection, rendered.
    rendered: Option<(Decision, Rc<Rendered>)>,
}

impl Handshakes {
    /// Room for `capacity` connections; 0 turns the memo off.
    pub fn new(capacity: usize) -> Self {
        Handshakes {
            lru: RefCell::new(Lru::new(capacity)),
        }
    }

    /// Whether remembering is on (else `connection.id` is not worth reading).
    pub fn enabled(&self) -> bool {
        self.lru.try_borrow().is_ok_and(|lru| lru.capacity() > 0)
    }

    pub fn get(&self, connection_id: u64) -> Option<Handshake> {
        let mut lru = self.lru.try_borrow_mut().ok()?;
        lru.get(connection_id).map(|r| r.handshake.clone())
    }

    pub fn insert(&self, connection_id: u64, handshake: Handshake) {
        if let Ok(mut lru) = self.lru.try_borrow_mut() {
            let rendered = None;
            lru.insert(
                connection_id,
                Remembered {
                    handshake,
                    rendered,
                },
            );
        }
    }

    /// The rendering kept for this connection, if it was made for an equal
    /// decision (rendering is a function of the decision, so it is the same).
    pub fn rendered(&self, connection_id: u64, decision: &Decision) -> Option<Rc<Rendered>> {
        let lru = self.lru.try_borrow().ok()?;
        match &lru.peek(connection_id)?.rendered {
            Some((made_for, rendered)) if made_for == decision => Some(Rc::clone(rendered)),
            _ => None,
        }
    }

    /// Keeps `rendered` for a connection already remembered (else nothing).
    pub fn keep_rendered(&self, connection_id: u64, decision: &Decision, rendered: &Rc<Rendered>) {
        if let Ok(mut lru) = self.lru.try_borrow_mut()
            && let Some(remembered) = lru.peek_mut(connection_id)
        {
            remembered.rendered = Some((decision.clone(), Rc::clone(rendered)));
        }
    }

    pub fn len(&self) -> usize {
        self.lru.try_borrow().map_or(0, |lru| lru.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
