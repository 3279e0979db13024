//! Answers kept per (issuer, serial): a good one until its nextUpdate
//! (capped by `max_cache_seconds`), a revoked one for good, a failure for a
//! short hold so one client cannot make every request wait on a responder.

use super::response::{OcspAnswer, OcspStatus};
use crate::revocation::{IssuerId, Serial};
use std::collections::HashMap;

/// How long a failed query (no valid answer) is remembered.
pub const FAILURE_HOLD_SECONDS: u64 = 10;
/// The most background refresh may start before an answer expires.
const MAX_REFRESH_LEAD_SECONDS: u64 = 300;
/// The least, for lifetimes of a few seconds: the root context sends a
/// queued refresh on its next tick (every second), and the answer must be
/// in before the one it replaces expires.
const MIN_REFRESH_LEAD_SECONDS: u64 = 3;

/// One remembered result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cached {
    /// `None`: no valid answer could be had (the failure is held briefly).
    pub status: Option<OcspStatus>,
    /// Valid while `now < fresh_until`.
    pub fresh_until: u64,
    /// From then on, ask again in the background.
    pub refresh_at: u64,
}

impl Cached {
    /// Which of several results decides: revoked (0), then failed or
    /// unknown (1), then good (2).
    pub fn severity(&self) -> u8 {
        match self.status {
            Some(OcspStatus::Revoked { .. }) => 0,
            None | Some(OcspStatus::Unknown) => 1,
            Some(OcspStatus::Good) => 2,
        }
    }

    /// A good answer due for a background refresh.
    pub fn is_due(&self, now: u64) -> bool {
        self.status == Some(OcspStatus::Good) && now >= self.refresh_at
    }
}

/// What the cache says of the certificates of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Every certificate has a current result (the worst one first:
    /// revoked, then failed or unknown, then good).
    Answered(Vec<Cached>),
    /// These certificates (indexes into the keys asked) need a query.
    Missing(Vec<usize>),
}

/// The cache of one VM, bounded by entry count.
#[derive(Clone, Debug, Default)]
pub struct OcspCache {
    entries: HashMap<(IssuerId, Serial), Cached>,
    max_entries: usize,
}

impl OcspCache {
    pub fn new(max_entries: usize) -> Self {
        OcspCache {
            entries: HashMap::new(),
            max_entries,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The current result for `key`; `None` when absent or expired.
    pub fn get(&self, key: &(IssuerId, Serial), now: u64) -> Option<Cached> {
        self.entries
            .get(key)
            .copied()
            .filter(|cached| now < cached.fresh_until)
    }

    /// What the cache says of all of `keys` at `now`.
    pub fn lookup(&self, keys: &[(IssuerId, Serial)], now: u64) -> Lookup {
        let mut answered = Vec::with_capacity(keys.len());
        let mut missing = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            match self.get(key, now) {
                Some(cached) => answered.push(cached),
                None => missing.push(i),
            }
        }
        if !missing.is_empty() {
            return Lookup::Missing(missing);
        }
        answered.sort_by_key(Cached::severity);
        Lookup::Answered(answered)
    }

    /// Those of `keys` whose good answer is due for a background refresh.
    pub fn due(&self, keys: &[(IssuerId, Serial)], now: u64) -> Vec<usize> {
        keys.iter()
            .enumerate()
            .filter(|(_, key)| self.get(key, now).is_some_and(|cached| cached.is_due(now)))
            .map(|(i, _)| i)
            .collect()
    }

    /// Remembers an accepted answer received at `now`.
    pub fn store(
        &mut self,
        key: (IssuerId, Serial),
        answer: &OcspAnswer,
        now: u64,
        max_cache_seconds: u64,
    ) -> Cached {
        let cap = now.saturating_add(max_cache_seconds);
        let cached = match answer.status {
            // Revocation is final: no answer will lift it.
            OcspStatus::Revoked { .. } => Cached {
                status: Some(answer.status),
                fresh_until: u64::MAX,
                refresh_at: u64::MAX,
            },
            // Unknown is no status: held like a failure.
            OcspStatus::Unknown => failure(now, Some(OcspStatus::Unknown)),
            OcspStatus::Good => {
                let until = answer
                    .next_update
                    .and_then(|next| u64::try_from(next).ok())
                    .map_or(cap, |next| next.min(cap));
                let lifetime = until.saturating_sub(now);
                // A tenth of the lifetime, at least a few seconds (half of
                // a shorter lifetime), at most five minutes.
                let least = MIN_REFRESH_LEAD_SECONDS.min(lifetime / 2).max(1);
                let lead = (lifetime / 10).clamp(least, MAX_REFRESH_LEAD_SECONDS);
                Cached {
                    status: Some(OcspStatus::Good),
                    fresh_until: until,
                    refresh_at: until.saturating_sub(lead),
                }
            }
        };
        self.insert(key, cached, now);
        cached
    }

    /// Remembers that no valid answer could be had at `now`; a current good
    /// answer (a failed background refresh) or a revocation is kept.
    pub fn store_failure(&mut self, key: (IssuerId, Serial), now: u64) -> Cached {
        if let Some(current) = self.get(&key, now)
            && current.status.is_some()
            && current.status != Some(OcspStatus::Unknown)
        {
            return current;
        }
        let cached = failure(now, None);
        self.insert(key, cached, now);
        cached
    }

    fn insert(&mut self, key: (IssuerId, Serial), cached: Cached, now: u64) {
        if self.max_entries == 0 {
            return;
        }
        if self.entries.len() >= self.max_entries && !self.entries.contains_key(&key) {
            self.entries.retain(|_, c| now < c.fresh_until);
            if self.entries.len() >= self.max_entries {
                // Evict the soonest to expire (a revocation, never).
                if let Some(oldest) = self
                    .entries
                    .iter()
                    .min_by_key(|(_, c)| c.fresh_until)
                    .map(|(k, _)| k.clone())
                {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.entries.insert(key, cached);
    }
}

fn failure(now: u64, status: Option<OcspStatus>) -> Cached {
    let until = now.saturating_add(FAILURE_HOLD_SECONDS);
    Cached {
        status,
        fresh_until: until,
        refresh_at: until,
    }
}
