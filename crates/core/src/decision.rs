//! What the policy concludes about a request: the verdict and the facts the
//! effects are made from.

use crate::binding::{BindingResult, BoundToken};
use crate::config::{Mode, TlsVersion};
use crate::reason::Reason;
use crate::trust::VerifiedClient;
use std::rc::Rc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Deny(Reason),
}

/// What the policy concluded, and the facts the effects need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The enforce-mode verdict (in audit mode it is reported, not applied).
    pub verdict: Verdict,
    pub mode: Mode,
    /// The reported rule's name: of the rules the path's readings selected,
    /// the earliest that set the strictest requirement (ordinarily just the
    /// first matching rule).
    pub rule: Option<String>,
    pub tls_version: Option<TlsVersion>,
    /// The verified client, when one presented a certificate that passed.
    /// Shared with the verdict it came from (a warm request copies no client).
    pub client: Option<Rc<VerifiedClient>>,
    /// Why a presented certificate was not accepted where mTLS was optional.
    pub ignored_certificate: Option<Reason>,
    /// What exactly the client's chain broke, when the deny reason is the
    /// chain's and does not say it alone (a profile defect, a name
    /// constraint, a ONE Record rule).
    pub detail: Option<&'static str>,
    /// The token bound to the verified client, when binding found one.
    pub token: Option<BoundToken>,
    /// What binding concluded, when a selected rule binds the token and the
    /// client was verified.
    pub token_binding: Option<BindingResult>,
    /// Where the client's facts came from.
    pub facts_from: FactsSource,
    /// What of the verified client's comes to an end within
    /// `expiry_warning_days`.
    pub expiring: Expiring,
    /// The OCSP status the verdict used (`good`, `revoked`, `unknown`,
    /// `failed`), when `ocsp` is on and a verified client was checked.
    pub ocsp: Option<&'static str>,
}

/// Where the client's TLS version and certificate came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FactsSource {
    /// This connection's own handshake.
    #[default]
    Handshake,
    /// A trusted front proxy's XFCC element and TLS-version header.
    TrustedProxy,
}

impl FactsSource {
    /// The word metrics and logs show.
    pub fn as_str(self) -> &'static str {
        match self {
            FactsSource::Handshake => "handshake",
            FactsSource::TrustedProxy => "trusted_proxy",
        }
    }
}

/// A verified client's path with a certificate expiring, or a CRL reaching
/// its nextUpdate, within `expiry_warning_days` of the request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expiring {
    pub certificate: bool,
    pub crl: bool,
}

impl Decision {
    /// True when the request must be answered with a deny instead of forwarded.
    pub fn rejects(&self) -> bool {
        self.mode == Mode::Enforce && self.deny_reason().is_some()
    }

    pub fn deny_reason(&self) -> Option<Reason> {
        match self.verdict {
            Verdict::Deny(reason) => Some(reason),
            Verdict::Allow => None,
        }
    }
}

/// A full verification of a client's chain that a decision ran (a verdict
/// remembered by content or connection is none), with its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainVerification {
    Verified,
    Failed(Reason),
}

impl ChainVerification {
    /// `verified`, or the reason's code: the metric's `result` label.
    pub fn code(self) -> &'static str {
        match self {
            ChainVerification::Verified => "verified",
            ChainVerification::Failed(reason) => reason.code(),
        }
    }
}

/// A decision and what deciding did that is reported apart from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decided {
    pub decision: Decision,
    /// The full chain verification it ran, for `chain_verifications_total`.
    pub chain_verification: Option<ChainVerification>,
    /// What the OCSP check used, or needs asked.
    pub ocsp: OcspOutcome,
}

/// The OCSP side of a decision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OcspOutcome {
    /// Certificates the cache has no answer for: the request waits for
    /// them, then is decided again.
    pub ask: Vec<crate::ocsp::CertQuery>,
    /// Good answers due for a refresh in the background.
    pub refresh: Vec<crate::ocsp::CertQuery>,
    /// The status used: `good`, `revoked`, `unknown`, `failed`, `pending`.
    pub used: Option<&'static str>,
    /// The cache answered for every checked certificate.
    pub cache_hit: bool,
    /// Soft mode let the request pass without a valid answer.
    pub soft_failure: bool,
}
