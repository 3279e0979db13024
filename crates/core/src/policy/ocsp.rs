//! The OCSP check of a verified client, on every request (remembered
//! verdicts included): what the cache says, or what must be asked.

use super::Policy;
use crate::config::ocsp::{OcspCheck, OcspMode};
use crate::decision::OcspOutcome;
use crate::ocsp::{Cached, OcspStatus};
use crate::reason::Reason;
use crate::state::State;
use crate::trust::VerifiedClient;

impl Policy {
    /// `Ok` when the checked certificates' cached answers are good (or, in
    /// soft mode, when no valid answer could be had). A certificate the
    /// cache cannot answer for is put in `outcome.ask` and the request is
    /// `revocation_status_unknown` until the caller has asked and decides
    /// again.
    pub(super) fn check_ocsp(
        &self,
        client: &VerifiedClient,
        now: u64,
        state: &State,
        outcome: &mut OcspOutcome,
    ) -> Result<(), Reason> {
        let config = &self.config.ocsp;
        if config.mode == OcspMode::Off {
            return Ok(());
        }
        let queries = match config.check {
            OcspCheck::Leaf => client.ocsp_queries.get(..1).unwrap_or_default(),
            OcspCheck::Chain => client.ocsp_queries.as_slice(),
        };
        let soft = config.mode == OcspMode::Soft;
        let failed = |outcome: &mut OcspOutcome, used: &'static str| {
            outcome.used = Some(used);
            outcome.soft_failure = soft;
            if soft {
                Ok(())
            } else {
                Err(Reason::RevocationStatusUnknown)
            }
        };
        // A path whose certificates could not be read, or a certificate
        // without a responder: no status can be had.
        if queries.is_empty() || queries.len() < client.path_links.len().min(expected(config.check))
        {
            return failed(outcome, "failed");
        }
        // One lookup per certificate by reference: no allocation on the
        // warm path unless something is missing or due.
        let mut worst: Option<Cached> = None;
        let mut missing = Vec::new();
        for query in queries {
            match state.ocsp.get(query.cache_key(), now) {
                Some(cached) => {
                    if cached.is_due(now) {
                        outcome.refresh.push(query.clone());
                    }
                    if worst.is_none_or(|w| cached.severity() < w.severity()) {
                        worst = Some(cached);
                    }
                }
                None => missing.push(query),
            }
        }
        if !missing.is_empty() {
            outcome.refresh.clear();
            if missing.iter().any(|q| q.urls.is_empty()) {
                return failed(outcome, "failed");
            }
            outcome.ask = missing.into_iter().cloned().collect();
            outcome.used = Some("pending");
            return Err(Reason::RevocationStatusUnknown);
        }
        outcome.cache_hit = true;
        match worst.and_then(|c| c.status) {
            Some(OcspStatus::Good) => {
                outcome.used = Some("good");
                Ok(())
            }
            Some(OcspStatus::Revoked { .. }) => {
                outcome.used = Some("revoked");
                Err(Reason::CertificateRevoked)
            }
            Some(OcspStatus::Unknown) => failed(outcome, "unknown"),
            None => failed(outcome, "failed"),
        }
    }
}

/// The fewest queries a readable path gives for `check`.
fn expected(check: OcspCheck) -> usize {
    match check {
        OcspCheck::Leaf => 1,
        OcspCheck::Chain => usize::MAX,
    }
}
