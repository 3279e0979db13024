//! Path building with webpki, the clock-skew retries, and the mapping of
//! webpki's errors to reasons.
//!
//! Issuer pruning (`issuers.rs`) chooses the intermediates webpki sees, and
//! webpki verifies through memoizing wrappers of the algorithms
//! (`memo.rs`), so a signature pruning checked is not computed again, and
//! the whole verification, both attempts, stays within its
//! [`Budget`](super::budget::Budget).
//!
//! The profile runs inside webpki's path callback, so that a candidate path
//! failing it (a revoked intermediate, a path too long) sends webpki on to the
//! next candidate instead of ending the search.

use super::PathValidity;
use super::TrustSettings;
use super::anchors::Anchor;
use super::budget::Budget;
use super::issuers;
use super::memo::{Memo, VerificationCost};
use super::presented::Cert;
use super::profile::{self, PathCert, Refusal};
use super::view;
use crate::fingerprint::Fingerprint;
use crate::reason::Reason;
use crate::revocation::{IssuerKey, PathLink};
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, TrustAnchor, UnixTime};
use std::cell::{Cell, RefCell};
use std::time::Duration;
use webpki::{EndEntityCert, KeyUsage, VerifiedPath};

/// A path that passed every check.
pub(crate) struct BuiltPath {
    /// SHA-256 of each certificate on it, leaf first, anchor last.
    pub sha256: Vec<Fingerprint>,
    pub validity: PathValidity,
    /// Each certificate below the anchor, for the revocation check.
    pub links: Vec<PathLink>,
    /// The issuing certificates on it (intermediates and anchor).
    pub issuers: Vec<IssuerKey>,
    /// What to ask an OCSP responder about each of `links`.
    pub ocsp_queries: Vec<crate::ocsp::CertQuery>,
}

/// Builds and checks a path from `leaf` to one of `anchors`, and says what
/// it cost.
///
/// webpki checks the time of the leaf and intermediates at a single instant.
/// When that fails on expiry it retries `clock_skew_seconds` earlier, on
/// not-yet-valid that much later; every certificate is then valid at some
/// instant within the skew of `now`. The anchor's own validity is checked
/// against `now` with the same tolerance by the profile. The retry shares
/// the first attempt's memo and budget.
pub(crate) fn build(
    leaf: &Cert<'_>,
    intermediates: &[&Cert<'_>],
    anchors: &[&Anchor],
    settings: &TrustSettings,
    now: u64,
) -> (Result<BuiltPath, Refusal>, VerificationCost) {
    let budget = Budget::for_chain_length(settings.max_chain_length);
    let memo = Memo::new(budget.signatures);
    let candidate_paths = Cell::new(0);
    let result = build_within(
        leaf,
        intermediates,
        anchors,
        settings,
        now,
        (&memo, budget, &candidate_paths),
    );
    (result, memo.cost(candidate_paths.get()))
}

fn build_within(
    leaf: &Cert<'_>,
    intermediates: &[&Cert<'_>],
    anchors: &[&Anchor],
    settings: &TrustSettings,
    now: u64,
    (memo, budget, candidate_paths): (&Memo, Budget, &Cell<usize>),
) -> Result<BuiltPath, Refusal> {
    let leaf_der = CertificateDer::from(leaf.der.as_ref());
    let end_entity = EndEntityCert::try_from(&leaf_der).map_err(|e| reason_for(&e))?;
    let kept = issuers::prune(leaf, intermediates, anchors, memo)
        .map_err(|_| Reason::VerificationBudgetExceeded)?;
    let intermediates: Vec<&Cert<'_>> = kept
        .iter()
        .filter_map(|&i| intermediates.get(i).copied())
        .collect();
    // webpki sees each intermediate without its name constraints, which
    // the profile evaluates on the certificate as signed.
    let (intermediates, views) = view::show(&leaf.der, intermediates, memo)?;
    let intermediate_ders: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .zip(&views)
        .map(|(c, shown)| match shown {
            Some(shown) => CertificateDer::from(shown.der.as_slice()),
            None => CertificateDer::from(c.der.as_ref()),
        })
        .collect();
    let trust_anchors: Vec<TrustAnchor<'_>> = anchors.iter().map(|a| a.borrowed()).collect();
    let memoized = memo.algorithms();
    let algorithms: Vec<&dyn SignatureVerificationAlgorithm> = memoized
        .iter()
        .map(|a| a as &dyn SignatureVerificationAlgorithm)
        .collect();
    let search = Search {
        leaf,
        intermediates: &intermediates,
        shown: &intermediate_ders,
        anchors,
        trust_anchors: &trust_anchors,
        algorithms: &algorithms,
        settings,
        now,
        memo,
        candidate_paths,
        max_candidate_paths: budget.candidate_paths,
    };

    let attempt = |at: u64| search.run(&end_entity, &intermediate_ders, at);
    let skew = settings.clock_skew_seconds;
    match attempt(now) {
        Ok(path) => Ok(path),
        Err(Failure::Profile(reason)) => Err(reason),
        Err(Failure::Budget) => Err(Reason::VerificationBudgetExceeded.into()),
        Err(Failure::Webpki(error)) => {
            let shifted = match error {
                webpki::Error::CertExpired { .. } if skew > 0 => Some(now.saturating_sub(skew)),
                webpki::Error::CertNotValidYet { .. } if skew > 0 => Some(now.saturating_add(skew)),
                _ => None,
            };
            match shifted.map(attempt) {
                Some(Ok(path)) => Ok(path),
                Some(Err(Failure::Profile(reason))) => Err(reason),
                Some(Err(Failure::Budget)) => Err(Reason::VerificationBudgetExceeded.into()),
                // Beyond the skew (or not a time problem): the first error stands.
                _ => Err(reason_for(&error).into()),
            }
        }
    }
}

enum Failure {
    /// A candidate path verified but failed the profile; the first such reason.
    Profile(Refusal),
    /// A limit stopped the search before it could finish.
    Budget,
    Webpki(webpki::Error),
}

struct Search<'s, 'c> {
    leaf: &'s Cert<'c>,
    intermediates: &'s [&'s Cert<'c>],
    /// Index-aligned with `intermediates`: what webpki is shown of each.
    shown: &'s [CertificateDer<'s>],
    anchors: &'s [&'s Anchor],
    /// Index-aligned with `anchors`: webpki reports the anchor it used by reference.
    trust_anchors: &'s [TrustAnchor<'s>],
    algorithms: &'s [&'s dyn SignatureVerificationAlgorithm],
    settings: &'s TrustSettings,
    now: u64,
    memo: &'s Memo,
    /// Offered to the profile so far, both attempts together.
    candidate_paths: &'s Cell<usize>,
    max_candidate_paths: usize,
}

impl Search<'_, '_> {
    fn run(
        &self,
        end_entity: &EndEntityCert<'_>,
        intermediate_ders: &[CertificateDer<'_>],
        at: u64,
    ) -> Result<BuiltPath, Failure> {
        let accepted: RefCell<Option<BuiltPath>> = RefCell::new(None);
        let rejected: Cell<Option<Refusal>> = Cell::new(None);
        let check = |path: &VerifiedPath<'_>| {
            let offered = self.candidate_paths.get().saturating_add(1);
            self.candidate_paths.set(offered);
            if offered > self.max_candidate_paths {
                self.memo.exhaust();
                // Fatal to webpki: it ends the search here.
                return Err(webpki::Error::MaximumPathBuildCallsExceeded);
            }
            self.profile(path, &accepted, &rejected)
        };
        let result = end_entity.verify_for_usage(
            self.algorithms,
            self.trust_anchors,
            intermediate_ders,
            UnixTime::since_unix_epoch(Duration::from_secs(at)),
            KeyUsage::client_auth(),
            None,
            Some(&check),
        );
        match (result, accepted.into_inner(), rejected.get()) {
            (Ok(_), Some(built), _) => Ok(built),
            // An unfinished search cannot say that no path would pass.
            (Err(e), _, _) if reason_for(&e) == Reason::VerificationBudgetExceeded => {
                Err(Failure::Budget)
            }
            _ if self.memo.exhausted() => Err(Failure::Budget),
            (Ok(_), None, _) => Err(Failure::Profile(Reason::CertificateInvalid.into())),
            (Err(_), _, Some(reason)) => Err(Failure::Profile(reason)),
            (Err(error), _, None) => Err(Failure::Webpki(error)),
        }
    }

    /// The profile on one candidate: remembers a pass, or the first failure.
    fn profile(
        &self,
        path: &VerifiedPath<'_>,
        accepted: &RefCell<Option<BuiltPath>>,
        rejected: &Cell<Option<Refusal>>,
    ) -> Result<(), webpki::Error> {
        match self.candidate(path) {
            Ok(built) => {
                *accepted.borrow_mut() = Some(built);
                Ok(())
            }
            Err(reason) => {
                if rejected.get().is_none() {
                    rejected.set(Some(reason));
                }
                // Lowest-ranked error: it never hides webpki's own findings.
                Err(webpki::Error::UnknownIssuer)
            }
        }
    }

    /// Maps webpki's candidate back to our certificates and runs the profile.
    fn candidate(&self, path: &VerifiedPath<'_>) -> Result<BuiltPath, Refusal> {
        let anchor_index = self
            .trust_anchors
            .iter()
            .position(|ta| std::ptr::eq(ta, path.anchor()))
            .ok_or(Reason::CertificateInvalid)?;
        let anchor = *self
            .anchors
            .get(anchor_index)
            .ok_or(Reason::CertificateInvalid)?;
        let on_path = path
            .intermediate_certificates()
            .map(|cert| {
                let der = cert.der();
                self.shown
                    .iter()
                    .position(|shown| shown.as_ref() == der.as_ref())
                    .and_then(|i| self.intermediates.get(i))
                    .copied()
                    .ok_or(Reason::CertificateInvalid)
            })
            .collect::<Result<Vec<&Cert<'_>>, Reason>>()?;

        let intermediates: Vec<PathCert<'_>> = on_path.iter().map(|c| path_cert(c)).collect();
        profile::check_path(
            path_cert(self.leaf),
            &intermediates,
            PathCert {
                sha256: &anchor.sha256,
                facts: &anchor.facts,
            },
            self.settings,
            self.now,
        )?;

        let mut sha256 = Vec::with_capacity(on_path.len().saturating_add(2));
        sha256.push(self.leaf.sha256);
        sha256.extend(on_path.iter().map(|c| c.sha256));
        sha256.push(anchor.sha256);
        let all = std::iter::once(&self.leaf.facts)
            .chain(on_path.iter().map(|c| &c.facts))
            .chain(std::iter::once(&anchor.facts));
        let (links, issuers) = revocation_facts(self.leaf, &on_path, anchor)?;
        let ocsp_queries = std::iter::once(self.leaf)
            .chain(on_path.iter().copied())
            .zip(&issuers)
            .filter_map(|(child, issuer)| crate::ocsp::CertQuery::of(&child.der, issuer.clone()))
            .collect();
        Ok(BuiltPath {
            sha256,
            validity: PathValidity::of(all),
            links,
            issuers,
            ocsp_queries,
        })
    }
}

/// For each certificate below the anchor, its issuer and serial; and the
/// issuers themselves, which may sign CRLs.
fn revocation_facts(
    leaf: &Cert<'_>,
    on_path: &[&Cert<'_>],
    anchor: &Anchor,
) -> Result<(Vec<PathLink>, Vec<IssuerKey>), Reason> {
    let mut issuers: Vec<IssuerKey> = on_path
        .iter()
        .map(|c| IssuerKey::of_certificate(&c.der).ok_or(Reason::CertificateInvalid))
        .collect::<Result<_, _>>()?;
    issuers.push(IssuerKey {
        subject: anchor.trust_anchor.subject.as_ref().to_vec(),
        spki: anchor
            .trust_anchor
            .subject_public_key_info
            .as_ref()
            .to_vec(),
        crl_sign: anchor.facts.crl_sign.unwrap_or(true),
    });
    let children = std::iter::once(leaf).chain(on_path.iter().copied());
    let links = children
        .zip(&issuers)
        .map(|(child, issuer)| {
            PathLink::of(
                &child.der,
                child.facts.ca == Some(true),
                child.facts.not_after,
                &issuer.subject,
                &issuer.spki,
            )
            .ok_or(Reason::CertificateInvalid)
        })
        .collect::<Result<_, _>>()?;
    Ok((links, issuers))
}

fn path_cert<'a>(cert: &'a Cert<'_>) -> PathCert<'a> {
    PathCert {
        sha256: &cert.sha256,
        facts: &cert.facts,
    }
}

/// The reason for a path webpki could not build.
pub(crate) fn reason_for(error: &webpki::Error) -> Reason {
    use webpki::Error as E;
    match error {
        E::UnknownIssuer => Reason::UntrustedCa,
        E::CertExpired { .. } => Reason::CertificateExpired,
        E::CertNotValidYet { .. } => Reason::CertificateNotYetValid,
        E::CertRevoked => Reason::CertificateRevoked,
        E::RequiredEkuNotFoundContext(_) => Reason::MissingClientAuthUsage,
        #[allow(deprecated)]
        E::RequiredEkuNotFound => Reason::MissingClientAuthUsage,
        E::MaximumPathDepthExceeded => Reason::ChainTooLong,
        E::MaximumSignatureChecksExceeded
        | E::MaximumPathBuildCallsExceeded
        | E::MaximumNameConstraintComparisonsExceeded => Reason::VerificationBudgetExceeded,
        E::UnsupportedSignatureAlgorithmContext(context)
            if profile::is_weak_signature_contents(&context.signature_algorithm_id) =>
        {
            Reason::WeakSignatureAlgorithm
        }
        _ => Reason::CertificateInvalid,
    }
}
