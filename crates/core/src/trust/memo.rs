//! One verification's signature checks: each (algorithm, key, message,
//! signature) is computed at most once, and at most
//! [`Budget::signatures`](super::budget::Budget) times in all.
//!
//! Issuer pruning checks signatures first; webpki then checks the path it
//! builds again, through the same wrappers, and gets the remembered result.
//! Entries are the exact bytes (not a digest of them), so a hit is never a
//! collision. Once the budget is spent every further unknown signature is
//! refused without arithmetic and the verification ends as
//! `verification_budget_exceeded`.

use super::algorithms::ALGORITHMS;
use rustls_pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

struct Entry {
    algorithm: usize,
    key: Vec<u8>,
    message: Vec<u8>,
    signature: Vec<u8>,
    valid: bool,
}

impl Entry {
    fn is(&self, algorithm: usize, key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        self.algorithm == algorithm
            && self.signature == signature
            && self.key == key
            && self.message == message
    }
}

/// What one verification spent, for the budget, tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerificationCost {
    /// Signatures computed (memo misses within the budget).
    pub signatures_computed: usize,
    /// Signature checks asked for, answered from the memo or computed.
    pub signature_lookups: usize,
    /// Candidate paths webpki offered to the profile check.
    pub candidate_paths: usize,
    /// Whether a limit stopped the verification.
    pub exhausted: bool,
}

pub(crate) struct Memo {
    entries: Mutex<Vec<Entry>>,
    /// (view's TBS, original TBS): a signature webpki checks over a
    /// certificate shown without its name constraints is checked over the
    /// bytes the CA signed (`name_constraints::view`).
    aliases: Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
    limit: usize,
    computed: AtomicUsize,
    lookups: AtomicUsize,
    exhausted: AtomicBool,
}

impl Memo {
    pub(crate) fn new(limit: usize) -> Self {
        Memo {
            entries: Mutex::new(Vec::new()),
            aliases: Mutex::new(Vec::new()),
            limit,
            computed: AtomicUsize::new(0),
            lookups: AtomicUsize::new(0),
            exhausted: AtomicBool::new(false),
        }
    }

    /// The wrappers webpki is given, index-aligned with [`ALGORITHMS`].
    pub(crate) fn algorithms(&self) -> Vec<Memoized<'_>> {
        ALGORITHMS
            .iter()
            .enumerate()
            .map(|(index, inner)| Memoized {
                inner: *inner,
                index,
                memo: self,
            })
            .collect()
    }

    /// Signatures over `view` are signatures over `original`.
    pub(crate) fn alias(&self, view: Vec<u8>, original: Vec<u8>) {
        if let Ok(mut aliases) = self.aliases.lock() {
            aliases.push((view, original));
        }
    }

    /// Whether the budget ran out (a check was refused unanswered).
    pub(crate) fn exhausted(&self) -> bool {
        self.exhausted.load(Ordering::Relaxed)
    }

    /// Marks the verification as stopped by a limit other than signatures.
    pub(crate) fn exhaust(&self) {
        self.exhausted.store(true, Ordering::Relaxed);
    }

    pub(crate) fn cost(&self, candidate_paths: usize) -> VerificationCost {
        VerificationCost {
            signatures_computed: self.computed.load(Ordering::Relaxed),
            signature_lookups: self.lookups.load(Ordering::Relaxed),
            candidate_paths,
            exhausted: self.exhausted(),
        }
    }

    fn check(
        &self,
        index: usize,
        inner: &dyn SignatureVerificationAlgorithm,
        key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let (Ok(aliases), Ok(mut entries)) = (self.aliases.lock(), self.entries.lock()) else {
            // Cannot happen single-threaded; refusing is the safe answer.
            self.exhaust();
            return Err(InvalidSignature);
        };
        let message = aliases
            .iter()
            .find(|(view, _)| view.as_slice() == message)
            .map_or(message, |(_, original)| original.as_slice());
        if let Some(entry) = entries
            .iter()
            .find(|e| e.is(index, key, message, signature))
        {
            return if entry.valid {
                Ok(())
            } else {
                Err(InvalidSignature)
            };
        }
        if self.computed.load(Ordering::Relaxed) >= self.limit {
            self.exhaust();
            return Err(InvalidSignature);
        }
        self.computed.fetch_add(1, Ordering::Relaxed);
        let result = inner.verify_signature(key, message, signature);
        entries.push(Entry {
            algorithm: index,
            key: key.to_vec(),
            message: message.to_vec(),
            signature: signature.to_vec(),
            valid: result.is_ok(),
        });
        result
    }
}

/// One of [`ALGORITHMS`], answering from and recording into a [`Memo`].
pub(crate) struct Memoized<'m> {
    inner: &'static dyn SignatureVerificationAlgorithm,
    index: usize,
    memo: &'m Memo,
}

impl fmt::Debug for Memoized<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Memoized").field(&self.inner).finish()
    }
}

impl SignatureVerificationAlgorithm for Memoized<'_> {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        self.memo
            .check(self.index, self.inner, public_key, message, signature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.inner.public_key_alg_id()
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.inner.signature_alg_id()
    }

    fn fips(&self) -> bool {
        self.inner.fips()
    }
}

/// How a signature check on a candidate edge ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EdgeCheck {
    Verified,
    Invalid,
    /// No algorithm for this signature (MD5/SHA-1, unknown): only webpki
    /// can say why, so the edge is left for it to refuse.
    Unsupported,
    /// Refused without a signature: the child's authorityKeyIdentifier is
    /// not the issuer's subjectKeyIdentifier.
    KeyIdsDiffer,
}

/// Checks `signature` over `message` under `key`, choosing the algorithm as
/// webpki does: by the signature's AlgorithmIdentifier, then the key's.
pub(crate) fn check_signature(
    algorithms: &[Memoized<'_>],
    key_algorithm: &[u8],
    key: &[u8],
    signature_algorithm: &[u8],
    message: &[u8],
    signature: &[u8],
) -> EdgeCheck {
    let mut for_signature = algorithms
        .iter()
        .filter(|a| a.signature_alg_id().as_ref() == signature_algorithm)
        .peekable();
    if for_signature.peek().is_none() {
        return EdgeCheck::Unsupported;
    }
    // A key of another type cannot have made this signature: no issuer.
    match for_signature.find(|a| a.public_key_alg_id().as_ref() == key_algorithm) {
        Some(algorithm) => match algorithm.verify_signature(key, message, signature) {
            Ok(()) => EdgeCheck::Verified,
            Err(_) => EdgeCheck::Invalid,
        },
        None => EdgeCheck::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::alg_id;

    #[test]
    fn a_signature_is_computed_once_and_the_budget_holds() {
        let memo = Memo::new(2);
        let algorithms = memo.algorithms();
        let ed25519 = |key: &[u8], message: &[u8]| {
            check_signature(
                &algorithms,
                alg_id::ED25519.as_ref(),
                key,
                alg_id::ED25519.as_ref(),
                message,
                &[0; 64],
            )
        };
        assert_eq!(ed25519(&[1; 32], b"a"), EdgeCheck::Invalid);
        assert_eq!(ed25519(&[1; 32], b"a"), EdgeCheck::Invalid);
        assert_eq!(memo.cost(0).signatures_computed, 1);
        assert_eq!(ed25519(&[1; 32], b"b"), EdgeCheck::Invalid);
        assert!(!memo.exhausted());
        // The third distinct signature is over budget: refused, not computed.
        assert_eq!(ed25519(&[2; 32], b"b"), EdgeCheck::Invalid);
        assert!(memo.exhausted());
        let cost = memo.cost(0);
        assert_eq!((cost.signatures_computed, cost.signature_lookups), (2, 4));
        // Remembered answers still come back after the budget is spent.
        assert_eq!(ed25519(&[1; 32], b"a"), EdgeCheck::Invalid);
        assert_eq!(memo.cost(0).signatures_computed, 2);
    }

    #[test]
    fn unknown_algorithms_and_foreign_key_types_need_no_check() {
        let memo = Memo::new(8);
        let algorithms = memo.algorithms();
        // sha1WithRSAEncryption under an RSA key.
        let sha1_rsa = hex::decode("06092a864886f70d0101050500").unwrap();
        let checked = check_signature(
            &algorithms,
            alg_id::RSA_ENCRYPTION.as_ref(),
            &[0; 8],
            &sha1_rsa,
            b"m",
            b"s",
        );
        assert_eq!(checked, EdgeCheck::Unsupported);
        // An ECDSA signature under an RSA key: that key made no such signature.
        let mixed = check_signature(
            &algorithms,
            alg_id::RSA_ENCRYPTION.as_ref(),
            &[0; 8],
            alg_id::ECDSA_SHA256.as_ref(),
            b"m",
            b"s",
        );
        assert_eq!(mixed, EdgeCheck::Invalid);
        assert_eq!(memo.cost(0).signature_lookups, 0);
    }
}
