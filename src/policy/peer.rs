//! The client certificate: the handshake's leaf, verified against the pinned
//! anchors, through the verdict cache when the same bytes were verified before.

use super::Policy;
use super::cache::{CacheKey, CachedVerdict};
use crate::facts::PeerFacts;
use crate::fingerprint::Fingerprint;
use crate::reason::Reason;
use crate::trust::{PresentedChain, VerifiedClient};
use crate::xfcc::{self, XfccError};

impl Policy {
    /// Whether deciding on this peer needs its certificate (the PEM and the
    /// XFCC header): `false` when the connection's remembered verification
    /// holds for this request, so the filter can skip reading them.
    pub fn needs_certificate(&self, peer: &PeerFacts, now_unix: u64) -> bool {
        let holds = peer.connection_id.and_then(|id| {
            self.cache
                .peek_connection(id, |cached| self.still_holds(cached, peer, now_unix))
        });
        holds != Some(true)
    }

    /// A cached verification where it still holds for this request, else a
    /// full one, remembered when it succeeds. The connection's own entry
    /// comes first: it needs no certificate bytes.
    ///
    /// Envoy's own verdict (`connection.peer_certificate_valid`) is not
    /// asked: Envoy reports it false on every resumed TLS session, whose
    /// certificate it does not validate again (envoyproxy/envoy#21235). By
    /// default Envoy refuses an invalid chain at the handshake, and this
    /// verification does not depend on Envoy's.
    pub(super) fn verify_peer(
        &self,
        peer: &PeerFacts,
        now_unix: u64,
    ) -> Result<VerifiedClient, Reason> {
        if let Some(id) = peer.connection_id
            && let Some(cached) = self.cache.get_connection(id)
            && self.still_holds(&cached, peer, now_unix)
        {
            return Ok(cached.client);
        }
        let outcome = self.verified_by_content(peer, now_unix);
        if let Some(id) = peer.connection_id {
            match &outcome {
                Ok(verdict) if verdict.validity.contains(now_unix) => {
                    self.cache.insert_connection(id, verdict.clone());
                }
                _ => self.cache.remove_connection(id),
            }
        }
        outcome.map(|verdict| verdict.client)
    }

    /// Through the index by content: a remembered verification of the same
    /// bytes where it decides this request, else a full one.
    fn verified_by_content(
        &self,
        peer: &PeerFacts,
        now_unix: u64,
    ) -> Result<CachedVerdict, Reason> {
        let key = self.cache.key(peer);
        let cached = key.and_then(|key| self.cache.get(key));
        if let Some(outcome) = cached.and_then(|cached| self.reuse(cached, peer, now_unix)) {
            return outcome;
        }
        let outcome = self.verify_chain(peer, now_unix);
        if let Some(key) = key {
            self.remember(key, &outcome, now_unix);
        }
        outcome
    }

    /// The per-request checks on a verification cached by content. `None`
    /// means the entry does not decide this request: the full verification
    /// runs and decides exactly as if nothing were cached. (Where several
    /// valid paths exist, a hit reports the path found when it was stored.)
    fn reuse(
        &self,
        cached: CachedVerdict,
        peer: &PeerFacts,
        now_unix: u64,
    ) -> Option<Result<CachedVerdict, Reason>> {
        // Equal bytes parse to the same leaf, so this is the full
        // verification's first check that can differ, with its outcome. XFCC
        // `Hash=` is inside the keyed bytes: it matched this leaf when stored.
        let Some(digest) = peer.sha256_digest.as_deref() else {
            return Some(Err(Reason::ConnectionFactsUnavailable));
        };
        if !digest_matches(digest, &cached.client.leaf_sha256) {
            return Some(Err(Reason::CertificateMismatch));
        }
        self.holds_now(&cached, now_unix).then_some(Ok(cached))
    }

    /// Whether a connection's remembered verification decides this request
    /// as an allow. Anything else (another digest, which a connection cannot
    /// have; a time outside the window; a revocation) leaves the request to
    /// the verification by content, with the certificate read.
    fn still_holds(&self, cached: &CachedVerdict, peer: &PeerFacts, now_unix: u64) -> bool {
        peer.sha256_digest
            .as_deref()
            .is_some_and(|digest| digest_matches(digest, &cached.client.leaf_sha256))
            && self.holds_now(cached, now_unix)
    }

    /// Outside the window, even within the clock skew, only the full
    /// verification knows the answer (it retries at now ± skew, and may find
    /// another path); the same for a revoked certificate on the path.
    fn holds_now(&self, cached: &CachedVerdict, now_unix: u64) -> bool {
        let revoked = &self.config.trust.revoked_sha256;
        cached.validity.contains(now_unix)
            && !cached
                .client
                .path_sha256
                .iter()
                .any(|f| revoked.contains(f))
    }

    /// Keeps only what a hit could use: a success valid right now. A deny,
    /// or a success that needed the clock skew, drops any entry for the key.
    fn remember(&self, key: CacheKey, outcome: &Result<CachedVerdict, Reason>, now_unix: u64) {
        match outcome {
            Ok(verdict) if verdict.validity.contains(now_unix) => {
                self.cache.insert(key, verdict.clone());
            }
            _ => self.cache.remove(key),
        }
    }

    /// The full verification. The leaf must be the handshake's certificate;
    /// the rest of the chain is only candidate material for the verifier.
    fn verify_chain(&self, peer: &PeerFacts, now_unix: u64) -> Result<CachedVerdict, Reason> {
        let element = match peer.xfcc.as_deref() {
            Some(header) => {
                Some(xfcc::parse_last_element(header).map_err(|_| Reason::PeerChainUnavailable)?)
            }
            None => None,
        };
        let leaf_pem = peer
            .certificate_pem
            .as_deref()
            .or_else(|| element.as_ref().and_then(|e| e.cert.as_deref()))
            .ok_or(Reason::PeerChainUnavailable)?;
        let leaf = single_certificate(leaf_pem)?;
        let leaf_sha256 = Fingerprint::of_der(&leaf);

        let connection_digest = peer
            .sha256_digest
            .as_deref()
            .ok_or(Reason::ConnectionFactsUnavailable)?;
        if !digest_matches(connection_digest, &leaf_sha256) {
            return Err(Reason::CertificateMismatch);
        }
        let xfcc_hash = element.as_ref().and_then(|e| e.hash.as_deref());
        if xfcc_hash.is_some_and(|hash| !digest_matches(hash, &leaf_sha256)) {
            return Err(Reason::CertificateMismatch);
        }

        let presented = element.as_ref().and_then(|e| e.chain.as_deref());
        let others = match presented {
            Some(pem) => xfcc::pem_to_der_certificates(pem)
                .map_err(|e| match e {
                    // More than the parser will take is far more than any path allows.
                    XfccError::TooManyCertificates => Reason::ChainTooLong,
                    _ => Reason::CertificateInvalid,
                })?
                .into_iter()
                .filter(|der| *der != leaf)
                .collect(),
            None => Vec::new(),
        };
        let chain = PresentedChain { leaf, others };
        let (client, validity) = match self.trust.verify_path(&chain, now_unix) {
            // Without the presented chain an intermediate may simply be missing.
            Err(Reason::UntrustedCa) if presented.is_none() => Err(Reason::PeerChainUnavailable),
            other => other,
        }?;
        Ok(CachedVerdict { client, validity })
    }
}

fn single_certificate(pem: &str) -> Result<Vec<u8>, Reason> {
    let mut certs = xfcc::pem_to_der_certificates(pem)
        .map_err(|_| Reason::CertificateInvalid)?
        .into_iter();
    match (certs.next(), certs.next()) {
        (Some(leaf), None) => Ok(leaf),
        _ => Err(Reason::CertificateInvalid),
    }
}

fn digest_matches(reported: &str, actual: &Fingerprint) -> bool {
    Fingerprint::parse(reported).is_ok_and(|f| f == *actual)
}
