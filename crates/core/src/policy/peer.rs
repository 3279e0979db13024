//! The client certificate: the handshake's leaf, verified against the pinned
//! anchors, unless the connection's remembered verdict, or one remembered for
//! the same bytes, still decides it.

use super::{Policy, Run};
use crate::decision::ChainVerification;
use crate::facts::{Handshake, PeerFacts};
use crate::fingerprint::Fingerprint;
use crate::reason::Reason;
use crate::revocation::IssuerKey;
use crate::state::{CacheKey, CachedDenial, CachedVerdict, Connection, ConnectionVerdict, State};
use crate::trust::{PresentedChain, VerifiedClient};
use crate::xfcc::{self, XfccError};
use std::rc::Rc;

/// A failed verification, and the denial to remember when it may be.
#[derive(Debug)]
pub(super) struct Failure {
    reason: Reason,
    /// Set only for the chain verification proper: its inputs are fixed for
    /// the connection and the keyed bytes, so within the window it decides
    /// again the same way.
    denial: Option<CachedDenial>,
}

impl From<Reason> for Failure {
    fn from(reason: Reason) -> Self {
        Failure {
            reason,
            denial: None,
        }
    }
}

/// What the filter must read for a request, asked of the policy once it has
/// read `connection.id` (and before anything else about the connection).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Needs {
    /// The connection's handshake facts as remembered; `None`: read them.
    pub handshake: Option<Handshake>,
    /// Whether to read the client certificate (the PEM and the XFCC header)
    /// when the handshake has one: `false` only when the connection's
    /// remembered verification, or its remembered denial, decides this
    /// request without it.
    pub certificate: bool,
}

impl Needs {
    /// Nothing remembered: every fact is read.
    pub fn everything() -> Needs {
        Needs {
            handshake: None,
            certificate: true,
        }
    }
}

impl Policy {
    /// What to read for a request on connection `connection_id` (`None`:
    /// not read, or the memo is off) at `now_unix`. Asks without counting
    /// or reordering anything.
    pub fn needs(&self, state: &State, connection_id: Option<u64>, now_unix: u64) -> Needs {
        let Some(known) = connection_id.and_then(|id| state.connection(id)) else {
            return Needs::everything();
        };
        let certificate = match &known.handshake.peer {
            None => false,
            Some(peer) => !self.connection_decides(known, Some(&peer.sha256_digest), now_unix),
        };
        Needs {
            handshake: Some(known.handshake.clone()),
            certificate,
        }
    }

    /// Whether deciding on connection `connection_id`, whose handshake
    /// reports `sha256_digest`, needs the certificate: `false` when the
    /// connection's remembered verdict holds for this request.
    pub fn needs_certificate(
        &self,
        state: &State,
        connection_id: u64,
        sha256_digest: Option<&str>,
        now_unix: u64,
    ) -> bool {
        state
            .connection(connection_id)
            .is_none_or(|known| !self.connection_decides(known, sha256_digest, now_unix))
    }

    fn connection_decides(&self, known: &Connection, digest: Option<&str>, now_unix: u64) -> bool {
        match &known.verdict {
            Some(ConnectionVerdict::Verified(cached)) => self.still_holds(cached, digest, now_unix),
            Some(ConnectionVerdict::Denied(denial)) => denial_holds(denial, digest, now_unix),
            None => false,
        }
    }

    /// The connection's remembered verification or denial where it still
    /// holds for this request (it needs no certificate bytes), else one
    /// remembered by content, else a full one (reported in `verification`);
    /// the result is the connection's from then on.
    ///
    /// Envoy's own verdict (`connection.peer_certificate_valid`) is not
    /// asked: Envoy reports it false on every resumed TLS session, whose
    /// certificate it does not validate again (envoyproxy/envoy#21235). By
    /// default Envoy refuses an invalid chain at the handshake, and this
    /// verification does not depend on Envoy's.
    pub(super) fn verify_peer(
        &self,
        peer: &PeerFacts,
        connection_id: Option<u64>,
        proxy: Option<&Fingerprint>,
        now_unix: u64,
        run: &mut Run<'_>,
        detail: &mut Option<&'static str>,
    ) -> Result<Rc<VerifiedClient>, Reason> {
        let Run {
            state,
            chain_verification: verification,
            ..
        } = run;
        let digest = peer.sha256_digest.as_deref();
        if let Some(id) = connection_id {
            match state.connection_verdict(id) {
                Some(ConnectionVerdict::Verified(cached))
                    if self.still_holds(&cached, digest, now_unix) =>
                {
                    return Ok(cached.client.clone());
                }
                Some(ConnectionVerdict::Denied(denial))
                    if denial_holds(&denial, digest, now_unix) =>
                {
                    *detail = denial.detail;
                    return Err(denial.reason);
                }
                _ => {}
            }
        }
        let outcome = self.verified_by_content(peer, proxy, now_unix, state, verification);
        if let Some(id) = connection_id {
            let remembered = match &outcome {
                Ok(verdict) if verdict.validity.contains(now_unix) => {
                    Some(ConnectionVerdict::Verified(Rc::clone(verdict)))
                }
                Err(Failure {
                    denial: Some(denial),
                    ..
                }) => Some(ConnectionVerdict::Denied(*denial)),
                _ => None,
            };
            state.set_connection_verdict(id, remembered);
        }
        outcome
            .map(|verdict| verdict.client.clone())
            .map_err(|failure| {
                *detail = failure.denial.and_then(|d| d.detail);
                failure.reason
            })
    }

    /// Through the index by content: a remembered verification or denial of
    /// the same bytes (from the same proxy, if any) where it decides this
    /// request, else a full one.
    fn verified_by_content(
        &self,
        peer: &PeerFacts,
        proxy: Option<&Fingerprint>,
        now_unix: u64,
        state: &mut State,
        verification: &mut Option<ChainVerification>,
    ) -> Result<Rc<CachedVerdict>, Failure> {
        let key = state.by_content.key(peer, proxy);
        if let Some(key) = key {
            let reused = match state.by_content.get(key) {
                Some(cached) => self
                    .reuse(cached, peer, now_unix)
                    .map(|outcome| outcome.map_err(Failure::from)),
                None => state
                    .by_content
                    .get_denial(key)
                    .and_then(|denial| reuse_denial(denial, peer, now_unix)),
            };
            if let Some(outcome) = reused {
                return outcome;
            }
        }
        let (outcome, issuers) = self.verify_chain(peer, now_unix);
        let outcome = outcome.map(Rc::new);
        if !self.config.revocation.sources.is_empty() {
            state.revocation.learn(&issuers);
        }
        *verification = Some(match &outcome {
            Ok(_) => ChainVerification::Verified,
            Err(failure) => ChainVerification::Failed(failure.reason),
        });
        if let Some(key) = key {
            remember(state, key, &outcome, now_unix);
        }
        outcome
    }

    /// The per-request checks on a verification cached by content. `None`
    /// means the entry does not decide this request: the full verification
    /// runs and decides exactly as if nothing were cached. (Where several
    /// valid paths exist, a hit reports the path found when it was stored.)
    fn reuse(
        &self,
        cached: Rc<CachedVerdict>,
        peer: &PeerFacts,
        now_unix: u64,
    ) -> Option<Result<Rc<CachedVerdict>, Reason>> {
        // Equal bytes parse to the same leaf, so this is the full
        // verification's first check that can differ, with its outcome. XFCC
        // `Hash=` is inside the keyed bytes: it matched this leaf when stored.
        let digest = peer.sha256_digest.as_deref();
        if let Some(differs) = handshake_differs(digest, &cached.client.leaf_sha256) {
            return Some(Err(differs));
        }
        self.holds_now(&cached, now_unix).then_some(Ok(cached))
    }

    /// Whether a connection's remembered verification decides this request
    /// as an allow. Anything else (another digest, which a connection cannot
    /// have; a time outside the window; a revocation) leaves the request to
    /// the verification by content, with the certificate read.
    fn still_holds(&self, cached: &CachedVerdict, digest: Option<&str>, now_unix: u64) -> bool {
        handshake_differs(digest, &cached.client.leaf_sha256).is_none()
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

    /// The full verification, and the issuers on the path it verified (CAs
    /// a fetched CRL may be signed by).
    fn verify_chain(
        &self,
        peer: &PeerFacts,
        now_unix: u64,
    ) -> (Result<CachedVerdict, Failure>, Vec<IssuerKey>) {
        let mut issuers = Vec::new();
        let outcome = self.verify_chain_learning(peer, now_unix, &mut issuers);
        (outcome, issuers)
    }

    /// The full verification. The leaf must be the handshake's certificate;
    /// the rest of the chain is only candidate material for the verifier.
    fn verify_chain_learning(
        &self,
        peer: &PeerFacts,
        now_unix: u64,
        issuers: &mut Vec<IssuerKey>,
    ) -> Result<CachedVerdict, Failure> {
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

        if let Some(differs) = handshake_differs(peer.sha256_digest.as_deref(), &leaf_sha256) {
            return Err(differs.into());
        }
        let xfcc_hash = element.as_ref().and_then(|e| e.hash.as_deref());
        if xfcc_hash.is_some_and(|hash| !digest_matches(hash, &leaf_sha256)) {
            return Err(Reason::CertificateMismatch.into());
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
        let verification = self.config.trust_store().verify_counted(&chain, now_unix);
        *issuers = verification.path_issuers;
        match verification.result {
            Ok((client, validity)) => Ok(CachedVerdict {
                client: Rc::new(client),
                validity,
            }),
            Err(reason) => {
                if let Some(detail) = verification.detail {
                    log::info!(
                        "client certificate {} refused: {}: {detail}",
                        leaf_sha256.to_hex(),
                        reason.code()
                    );
                }
                // Without the presented chain an intermediate may simply be missing.
                let reason = match reason {
                    Reason::UntrustedCa if presented.is_none() => Reason::PeerChainUnavailable,
                    other => other,
                };
                Err(Failure {
                    reason,
                    denial: Some(CachedDenial {
                        reason,
                        detail: verification.detail,
                        leaf_sha256,
                        since: now_unix,
                        until: verification.failure_stable_until,
                    }),
                })
            }
        }
    }
}

/// A denial remembered for these bytes, checked like a remembered success:
/// against this request's handshake digest, then its time window.
fn reuse_denial(
    denial: CachedDenial,
    peer: &PeerFacts,
    now_unix: u64,
) -> Option<Result<Rc<CachedVerdict>, Failure>> {
    if let Some(differs) = handshake_differs(peer.sha256_digest.as_deref(), &denial.leaf_sha256) {
        return Some(Err(differs.into()));
    }
    denial.holds_at(now_unix).then_some(Err(Failure {
        reason: denial.reason,
        denial: Some(denial),
    }))
}

/// Whether a connection's remembered denial decides this request.
fn denial_holds(denial: &CachedDenial, digest: Option<&str>, now_unix: u64) -> bool {
    handshake_differs(digest, &denial.leaf_sha256).is_none() && denial.holds_at(now_unix)
}

/// The reason the handshake's digest rules out `leaf`, if it does.
fn handshake_differs(digest: Option<&str>, leaf: &Fingerprint) -> Option<Reason> {
    match digest {
        None => Some(Reason::ConnectionFactsUnavailable),
        Some(digest) if !digest_matches(digest, leaf) => Some(Reason::CertificateMismatch),
        Some(_) => None,
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

/// Whether Envoy's hex digest names `actual`. Its own form (64 lowercase
/// digits) is compared as text, as every warm request does; anything else
/// is read as a fingerprint.
fn digest_matches(reported: &str, actual: &Fingerprint) -> bool {
    let digits = reported.as_bytes();
    let as_envoy_prints = digits.len() == 64
        && actual
            .0
            .iter()
            .zip(digits.chunks_exact(2))
            .all(|(byte, pair)| *pair == [lower_hex(byte >> 4), lower_hex(*byte)]);
    as_envoy_prints || Fingerprint::parse(reported).is_ok_and(|f| f == *actual)
}

/// The lowercase hex digit of the low four bits.
fn lower_hex(nibble: u8) -> u8 {
    let nibble = nibble & 0x0f;
    if nibble < 10 {
        b'0' + nibble
    } else {
        b'a' + (nibble - 10)
    }
}

/// Keeps only what a hit could use: a success valid right now, or a denial
/// of the chain verification proper. Anything else drops any entry for the
/// key.
fn remember(
    state: &mut State,
    key: CacheKey,
    outcome: &Result<Rc<CachedVerdict>, Failure>,
    now_unix: u64,
) {
    match outcome {
        Ok(verdict) if verdict.validity.contains(now_unix) => {
            state.by_content.insert(key, Rc::clone(verdict));
        }
        Err(Failure {
            denial: Some(denial),
            ..
        }) => state.by_content.insert_denial(key, *denial),
        _ => {
            state.by_content.remove(key);
            state.by_content.remove_denial(key);
        }
    }
}

#[cfg(test)]
mod digest_tests {
    use super::*;

    #[test]
    fn a_digest_matches_in_any_form_a_fingerprint_takes_and_only_its_own() {
        let actual = Fingerprint::of_der(b"abc");
        let lower = actual.to_hex();
        let colons = lower
            .as_bytes()
            .chunks(2)
            .map(|pair| String::from_utf8_lossy(pair).to_uppercase())
            .collect::<Vec<_>>()
            .join(":");
        for form in [lower.clone(), lower.to_uppercase(), colons] {
            assert!(digest_matches(&form, &actual), "{form}");
        }
        let other = Fingerprint::of_der(b"abd").to_hex();
        for form in [
            other,
            String::new(),
            "zz".repeat(32),
            lower[..62].to_string(),
        ] {
            assert!(!digest_matches(&form, &actual), "{form}");
        }
    }
}
