//! Client certificate chain → verified path → profile → identity.
//!
//! Envoy's `trusted_ca` may be broader than the ONE Record pinned list, and the
//! chain it reports is the one the client *presented*, so the chain is
//! verified again here against the pinned anchors only.
//!
//! # Trust anchors
//! A certificate is an anchor when its SHA-256 is in `trusted_ca_sha256`; it may
//! come from `ca_certificates_der` (read once with the configuration) or from
//! the presented chain. Every other certificate, presented or configured, is
//! only a candidate intermediate, so appending a pinned CA to a foreign chain
//! achieves nothing. Configured intermediates complete chains clients send
//! short; presented certificates are tried first.
//!
//! # Bounded cost
//! Before webpki searches, issuer pruning (`issuers.rs`) builds the graph of
//! who can have issued whom (names, key identifiers, no certificate as its
//! own issuer, verified signatures) and gives webpki only the intermediates
//! that matter; webpki's own signature checks are answered from a memo of
//! the ones pruning made (`memo.rs`). The whole verification stays within a
//! budget derived from `max_chain_length` (`budget.rs`): `L + 4` signatures
//! computed and `4·L` candidate paths; reaching it is
//! `VerificationBudgetExceeded`.
//!
//! # What must hold
//! webpki (with RustCrypto signature verification) builds a path from the leaf
//! to an anchor: every signature, CA basic constraints of intermediates,
//! EKU clientAuth when an EKU is present (on intermediates too), leaf and
//! intermediates valid in time, no unknown critical extension. webpki is
//! shown the certificates without their name constraints and without their
//! pathLenConstraint (`view.rs`). On top of that, on every certificate of the
//! path including the anchor:
//! - at most `max_chain_length` certificates, leaf and anchor included;
//! - the anchor valid in time, a CA (BasicConstraints cA, or a v1 root);
//!   issuers with KeyUsage have keyCertSign;
//! - every pathLenConstraint, the anchor's included, counting the
//!   intermediates below it that are not self-issued (RFC 5280 6.1.4 (l),
//!   (m); `path_len.rs`);
//! - nothing whose SHA-256 is in `revoked_sha256`;
//! - keys: RSA ≥ 2048 bits, EC on P-256 or P-384, or Ed25519;
//! - no MD5- or SHA-1-based signature (the anchor's self-signature included);
//! - the leaf's KeyUsage, when present, has digitalSignature;
//! - the RFC 5280 profile of `x509_profile` (`rfc5280/`);
//! - the name constraints of every CA, the anchor's included, in every form
//!   (`name_constraints/`), within their own comparison budget;
//! - with `onerecord_profile`, the ONE Record policy (`onerecord.rs`).
//!
//! Times allow `clock_skew_seconds` either side of `now`: webpki checks the
//! leaf and intermediates at one instant, so on expiry the search is repeated
//! that much earlier, on not-yet-valid that much later. The checks above run
//! inside webpki's path search, so a candidate failing them (a revoked
//! intermediate with a renewed twin, an expired copy of a re-issued root)
//! sends it on to the next candidate.
//!
//! # Which reason
//! Exactly one reason per outcome; the first that applies, in this order:
//! 1. no `trusted_ca_sha256` at all → `UntrustedCa`;
//! 2. leaf not X.509 DER (or its extensions unreadable) → `CertificateInvalid`;
//! 3. more than `2 · max_chain_length` distinct certificates presented →
//!    `ChainTooLong` (`presented.rs`; the path itself is held to `max_chain_length`)
//!    (configured intermediates count only when they end up on the path);
//! 4. another presented certificate not X.509 DER, or a presented pinned one
//!    unusable as an anchor → `CertificateInvalid`;
//! 5. the search needed more than its budget → `VerificationBudgetExceeded`;
//! 6. no path passes all checks. If webpki verified some candidate path that
//!    then failed the checks above, the first such failure, in the order
//!    listed there: `ChainTooLong`, `CertificateExpired`/`CertificateNotYetValid`
//!    (anchor), `CertificateInvalid` (anchor constraints, keyCertSign; then
//!    path lengths, detail `path_length_constraint_exceeded`),
//!    `CertificateRevoked`, `WeakKey`/`WeakSignatureAlgorithm` (leaf first,
//!    key before signature), `MissingClientAuthUsage`,
//!    `CertificateProfileViolation` (leaf first), `NameConstraintViolation`
//!    (or `VerificationBudgetExceeded` past its comparisons),
//!    `OnerecordProfileViolation`, each with its detail in
//!    `Verification::detail`. Otherwise webpki's most
//!    specific error: no issuer or anchor → `UntrustedCa`; expired / not yet
//!    valid → `CertificateExpired` / `CertificateNotYetValid`; EKU without
//!    clientAuth → `MissingClientAuthUsage`; unsupported MD5/SHA-1 signature →
//!    `WeakSignatureAlgorithm`; anything else (bad signature, CA as leaf,
//!    unknown critical extension, malformed DER) →
//!    `CertificateInvalid`. When no verified path exists, webpki sees what
//!    the leaf reaches by name, except over edges known to be bad (a
//!    signature pruning found bad, or key identifiers that differ): a
//!    forgery the leaf names under a pinned name is still
//!    `CertificateInvalid`, one its authorityKeyIdentifier rules out leaves
//!    `UntrustedCa`;
//! 7. the leaf's subjectAltName unreadable → `CertificateInvalid`.

mod algorithms;
pub(crate) use algorithms::ALGORITHMS;
mod anchors;
mod budget;
mod configured;
mod identity;
/// Where it always was; [`crate::x509`] reads names now.
pub use crate::x509::rfc4514;
mod issuers;
mod memo;
pub use memo::VerificationCost;
mod name_constraints;
mod onerecord;
mod path;
mod path_len;
mod presented;
mod profile;
mod rfc5280;
pub use rfc5280::Defect;
pub(crate) use rfc5280::known_critical;
mod signed;
mod view;
pub(crate) use signed::{PublicKey, Signed, encode_tlv, no_unused_bits, split_tlv, take};

#[cfg(test)]
mod cost_tests;
#[cfg(test)]
mod tests;

use crate::fingerprint::Fingerprint;
use crate::reason::Reason;
use crate::revocation::{IssuerKey, PathLink};
use anchors::Anchor;
use configured::Configured;
pub(crate) use configured::{CaCertificate, CaCertificateError};
use presented::{Cert, Presented};

/// What the chain verifier needs: the pinned anchors and the limits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustSettings {
    pub trusted_ca_sha256: Vec<Fingerprint>,
    /// DER of each certificate in `ca_certificates_pem`.
    pub ca_certificates_der: Vec<Vec<u8>>,
    pub revoked_sha256: Vec<Fingerprint>,
    pub max_chain_length: usize,
    pub clock_skew_seconds: u64,
    /// How strictly certificates are held to RFC 5280, and the ONE Record policy.
    pub profile: CertificateProfile,
}

/// `x509_profile` and `onerecord_profile`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CertificateProfile {
    pub x509: X509Profile,
    pub onerecord: bool,
}

/// `strict` refuses every RFC 5280 profile defect; `compatible` lets the
/// markings and identifiers deployed private CAs get wrong pass.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum X509Profile {
    #[default]
    Strict,
    Compatible,
}

/// What a verified client certificate tells the backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedClient {
    pub leaf_sha256: Fingerprint,
    /// RFC 4514 form of the leaf's subject.
    pub subject: String,
    pub uri_sans: Vec<String>,
    /// Lowercased.
    pub dns_sans: Vec<String>,
    pub organizations: Vec<String>,
    pub anchor_sha256: Fingerprint,
    /// SHA-256 of every certificate on the verified path, leaf first, anchor last.
    pub path_sha256: Vec<Fingerprint>,
    /// Issuer and serial of each certificate below the anchor, leaf first:
    /// what the revocation check of every request reads.
    pub path_links: Vec<PathLink>,
    /// What to ask an OCSP responder about each of `path_links`, same order.
    pub ocsp_queries: Vec<crate::ocsp::CertQuery>,
    /// The earliest notAfter on the path, anchor included (Unix seconds).
    pub not_after: i64,
}

/// When every certificate on a verified path, the anchor included, is within
/// its validity period: the latest notBefore to the earliest notAfter (Unix
/// seconds, both inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathValidity {
    pub not_before: i64,
    pub not_after: i64,
}

impl PathValidity {
    fn of<'a>(certs: impl Iterator<Item = &'a profile::CertFacts>) -> Self {
        certs.fold(
            PathValidity {
                not_before: i64::MIN,
                not_after: i64::MAX,
            },
            |window, cert| PathValidity {
                not_before: window.not_before.max(cert.not_before),
                not_after: window.not_after.min(cert.not_after),
            },
        )
    }

    /// Every certificate valid at `now` itself, without clock skew.
    pub fn contains(&self, now: u64) -> bool {
        let now = i128::from(now);
        i128::from(self.not_before) <= now && now <= i128::from(self.not_after)
    }
}

/// One full verification: its result, what it cost, and until when a
/// failure would be the same again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    pub result: Result<(VerifiedClient, PathValidity), Reason>,
    pub cost: VerificationCost,
    /// The first Unix second after the verification's time at which a
    /// validity comparison of some certificate it could use (leaf, presented,
    /// configured intermediate or anchor) turns, with the clock skew applied
    /// either way; `u64::MAX` when the outcome did not depend on time.
    pub failure_stable_until: u64,
    /// What exactly a refused path broke, when the reason alone does not
    /// say (the profile defect or the name constraint): for logs and `explain`.
    pub detail: Option<&'static str>,
    /// The issuing certificates of the verified path, which may sign CRLs.
    pub path_issuers: Vec<IssuerKey>,
}

/// The next instant after `now` at which any of webpki's comparisons (at
/// `now` and `now ± skew`) or the profile's (`now ± skew`) could flip.
fn next_validity_change<'a>(
    certs: impl Iterator<Item = &'a profile::CertFacts>,
    now: u64,
    skew: u64,
) -> u64 {
    let (now, skew) = (i128::from(now), i128::from(skew));
    certs
        .flat_map(|c| {
            let (nb, na) = (i128::from(c.not_before), i128::from(c.not_after) + 1);
            [nb - skew, nb, nb + skew, na - skew, na, na + skew]
        })
        .filter(|&at| at > now)
        .min()
        .map_or(u64::MAX, |at| u64::try_from(at).unwrap_or(u64::MAX))
}

/// The certificates Envoy reported for this connection, as DER.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PresentedChain {
    pub leaf: Vec<u8>,
    /// Everything else the client sent (may include the leaf again, decoys, anchors).
    pub others: Vec<Vec<u8>>,
}

/// The pinned anchors and limits, prepared once per configuration.
#[derive(Clone, Debug)]
pub struct TrustStore {
    settings: TrustSettings,
    configured: Configured,
}

impl TrustStore {
    /// Parses the configured certificates once. One that cannot be used is
    /// skipped with a warning (it could never verify anything).
    /// A parsed configuration has read them already: use
    /// [`Config::trust_store`](crate::config::Config::trust_store).
    pub fn new(settings: &TrustSettings) -> Self {
        let certificates = settings.ca_certificates_der.iter();
        Self::with_certificates(
            settings,
            certificates.map(|der| CaCertificate::read_any(der)),
        )
    }

    /// The store for `settings` whose `ca_certificates_der` were read, in
    /// order, as `certificates`.
    pub(crate) fn with_certificates(
        settings: &TrustSettings,
        certificates: impl IntoIterator<Item = CaCertificate>,
    ) -> Self {
        TrustStore {
            settings: settings.clone(),
            configured: Configured::new(settings, certificates),
        }
    }

    /// How many configured certificates are usable anchors (for start-up logs).
    pub fn configured_anchor_count(&self) -> usize {
        self.configured.anchors.len()
    }

    /// How many configured certificates are usable intermediates.
    pub fn configured_intermediate_count(&self) -> usize {
        self.configured.intermediates.len()
    }

    /// Verifies `chain` against the pinned anchors at `now_unix` (seconds).
    pub fn verify(&self, chain: &PresentedChain, now_unix: u64) -> Result<VerifiedClient, Reason> {
        self.verify_path(chain, now_unix).map(|(client, _)| client)
    }

    /// [`verify`](Self::verify), with the validity window of the path it found.
    pub fn verify_path(
        &self,
        chain: &PresentedChain,
        now_unix: u64,
    ) -> Result<(VerifiedClient, PathValidity), Reason> {
        self.verify_counted(chain, now_unix).result
    }

    /// [`verify_path`](Self::verify_path), with what the search cost and
    /// how long a failure stays what it is.
    pub fn verify_counted(&self, chain: &PresentedChain, now_unix: u64) -> Verification {
        let mut verification = Verification {
            result: Err(Reason::UntrustedCa),
            cost: VerificationCost::default(),
            failure_stable_until: u64::MAX,
            detail: None,
            path_issuers: Vec::new(),
        };
        verification.result = self.verify_with(chain, now_unix, &mut verification);
        verification
    }

    fn verify_with(
        &self,
        chain: &PresentedChain,
        now_unix: u64,
        verification: &mut Verification,
    ) -> Result<(VerifiedClient, PathValidity), Reason> {
        let settings = &self.settings;
        if settings.trusted_ca_sha256.is_empty() {
            return Err(Reason::UntrustedCa);
        }
        let presented = Presented::parse(chain, settings.max_chain_length)?;
        let configured = &self.configured;
        let (extra_anchors, mut intermediates) = anchors::split_presented(
            &presented.others,
            &settings.trusted_ca_sha256,
            &configured.anchors,
        )?;
        let sent = |c: &Cert<'_>| {
            c.sha256 == presented.leaf.sha256
                || presented.others.iter().any(|p| p.sha256 == c.sha256)
        };
        intermediates.extend(configured.intermediates.iter().filter(|c| !sent(c)));
        let anchors: Vec<&Anchor> = configured.anchors.iter().chain(&extra_anchors).collect();
        // Everything above is the same at any time; from here on validity
        // periods play a part.
        let facts = std::iter::once(&presented.leaf.facts)
            .chain(presented.others.iter().map(|c| &c.facts))
            .chain(configured.intermediates.iter().map(|c| &c.facts))
            .chain(configured.anchors.iter().map(|a| &a.facts));
        verification.failure_stable_until =
            next_validity_change(facts, now_unix, settings.clock_skew_seconds);
        let (path, spent) = path::build(
            &presented.leaf,
            &intermediates,
            &anchors,
            settings,
            now_unix,
        );
        verification.cost = spent;
        let path = path.map_err(|refusal| {
            verification.detail = refusal.detail;
            refusal.reason
        })?;
        let mut client = identity::client(&presented.leaf_x509, path.sha256)?;
        client.path_links = path.links;
        client.ocsp_queries = path.ocsp_queries;
        client.not_after = path.validity.not_after;
        verification.path_issuers = path.issuers;
        Ok((client, path.validity))
    }
}
