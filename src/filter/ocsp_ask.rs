//! OCSP through Envoy: the POSTs for the certificates a decision could not
//! answer for, their answers checked and cached, and the counters.
//!
//! A request the cache cannot answer for is paused; each certificate's
//! responder (its AIA URL: `:authority` and `:path` from it) is asked
//! through the configured cluster with `timeout_ms` as the call's timeout,
//! so Envoy itself ends a slow call. Every answer, or its failure, goes into
//! the cache before the request is decided again, so a request is asked
//! for at most once. Good answers due for refresh are asked again from the
//! root context on its tick, so steady traffic never waits. Each VM asks
//! and caches for itself (no shared data): one query per worker and
//! certificate per nextUpdate period.

use super::Host;
use crate::config::Config;
use crate::config::ocsp::{OcspConfig, OcspMode};
use crate::effects::metrics::{
    OCSP_CACHE_HITS, OCSP_PAUSED, OCSP_RESULTS, OCSP_SOFT_FAILURES, ocsp_counter_name,
};
use crate::ocsp::{CertQuery, OcspCache, check_response};
use crate::policy::OcspOutcome;

/// Good answers waiting for a background refresh, at most.
const MAX_REFRESH_QUEUE: usize = 256;

/// One query under way: its token, what it asks, when it started.
#[derive(Clone, Debug)]
pub struct Asking {
    pub token: u32,
    pub query: CertQuery,
    pub started: u64,
}

/// The OCSP side of one configuration on one VM.
#[derive(Debug, Default)]
pub struct OcspAsker {
    config: OcspConfig,
    clock_skew_seconds: u64,
    /// Index-aligned with [`OCSP_RESULTS`].
    results: Vec<Option<u32>>,
    cache_hits: Option<u32>,
    soft_failures: Option<u32>,
    paused: Option<u32>,
    /// Refreshes to start on the next tick.
    queue: Vec<CertQuery>,
    /// Refreshes the root context has under way.
    refreshing: Vec<Asking>,
}

impl OcspAsker {
    pub fn new(host: &mut dyn Host, config: &Config) -> Self {
        let on = config.ocsp.mode != OcspMode::Off;
        OcspAsker {
            config: config.ocsp.clone(),
            clock_skew_seconds: config.trust.clock_skew_seconds,
            results: OCSP_RESULTS
                .iter()
                .map(|r| {
                    on.then(|| host.define_counter(&ocsp_counter_name(r)).ok())
                        .flatten()
                })
                .collect(),
            cache_hits: on
                .then(|| host.define_counter(OCSP_CACHE_HITS).ok())
                .flatten(),
            soft_failures: on
                .then(|| host.define_counter(OCSP_SOFT_FAILURES).ok())
                .flatten(),
            paused: on.then(|| host.define_counter(OCSP_PAUSED).ok()).flatten(),
            queue: Vec::new(),
            refreshing: Vec::new(),
        }
    }

    pub fn is_on(&self) -> bool {
        self.config.mode != OcspMode::Off
    }

    /// Counts what a decision's OCSP check used and queues its refreshes.
    pub fn note(&mut self, host: &mut dyn Host, outcome: &OcspOutcome) {
        if outcome.cache_hit {
            increment(host, self.cache_hits);
        }
        if outcome.soft_failure {
            increment(host, self.soft_failures);
            log::info!(
                "onerecord-tls-policy: no valid OCSP answer ({}); passed in soft mode",
                outcome.used.unwrap_or("failed")
            );
        }
        for query in &outcome.refresh {
            let key = query.key();
            let known = self.queue.iter().any(|q| q.key() == key)
                || self.refreshing.iter().any(|a| a.query.key() == key);
            if !known && self.queue.len() < MAX_REFRESH_QUEUE {
                self.queue.push(query.clone());
            }
        }
    }

    /// Asks about each of `queries`; a query that cannot be sent is cached
    /// as failed at once. What is under way is returned.
    pub fn ask(
        &self,
        host: &mut dyn Host,
        queries: &[CertQuery],
        cache: &mut OcspCache,
        now: u64,
    ) -> Vec<Asking> {
        let mut asking = Vec::new();
        for query in queries {
            match self.send(host, query) {
                Some(token) => asking.push(Asking {
                    token,
                    query: query.clone(),
                    started: now,
                }),
                None => {
                    self.count(host, "error");
                    cache.store_failure(query.key(), now);
                }
            }
        }
        asking
    }

    /// As [`OcspAsker::ask`], for a request that then waits: counted.
    pub fn ask_pausing(
        &self,
        host: &mut dyn Host,
        queries: &[CertQuery],
        cache: &mut OcspCache,
        now: u64,
    ) -> Vec<Asking> {
        let asking = self.ask(host, queries, cache, now);
        if !asking.is_empty() {
            increment(host, self.paused);
        }
        asking
    }

    fn send(&self, host: &mut dyn Host, query: &CertQuery) -> Option<u32> {
        let body = query.request_der()?;
        let (authority, path) = query.urls.iter().find_map(|url| split_url(url))?;
        // Without it Envoy sends the body chunked, which responders such as
        // OpenSSL's do not read.
        let length = body.len().to_string();
        let headers = [
            ("content-length", length.as_str()),
            (":method", "POST"),
            (":path", path),
            (":authority", authority),
            ("content-type", "application/ocsp-request"),
            ("accept", "application/ocsp-response"),
        ];
        match host.dispatch_http_post(
            &self.config.cluster,
            &headers,
            &body,
            self.config.timeout_ms,
        ) {
            Ok(token) => Some(token),
            Err(e) => {
                log::warn!(
                    "onerecord-tls-policy: cannot ask the OCSP responder through cluster {:?}: {}",
                    self.config.cluster,
                    e.0
                );
                None
            }
        }
    }

    /// The answer to `asking` (`status` `None`: the call failed or timed
    /// out), checked and cached, and counted.
    pub fn answered(
        &self,
        host: &mut dyn Host,
        asking: &Asking,
        status: Option<u32>,
        body: &[u8],
        cache: &mut OcspCache,
        now: u64,
    ) {
        let key = asking.query.key();
        // Envoy ends a call at its timeout with a 504 of its own (or, on
        // some paths, no headers); the clock is in seconds, so within a
        // second of timeout_ms counts as the timeout.
        let waited_ms = now.saturating_sub(asking.started).saturating_mul(1000);
        let timed_out = waited_ms.saturating_add(1000) >= self.config.timeout_ms;
        let result = match status {
            None | Some(504) if timed_out => "timeout",
            None => "error",
            Some(200) => match check_response(body, &asking.query, now, self.clock_skew_seconds) {
                Ok(answer) => {
                    cache.store(key, &answer, now, self.config.max_cache_seconds);
                    self.count(host, answer.status.name());
                    return;
                }
                Err(e) => {
                    log::warn!("onerecord-tls-policy: the OCSP response {e}");
                    e.result()
                }
            },
            Some(_) => "error",
        };
        cache.store_failure(key, now);
        self.count(host, result);
    }

    /// The root context's tick: the queued refreshes sent.
    pub fn on_tick(&mut self, host: &mut dyn Host, cache: &mut OcspCache, now: u64) {
        let queue = std::mem::take(&mut self.queue);
        let started = self.ask(host, &queue, cache, now);
        self.refreshing.extend(started);
    }

    /// A response to the root context; `false` when it is not a refresh's.
    pub fn on_refresh_response(
        &mut self,
        host: &mut dyn Host,
        token: u32,
        status: Option<u32>,
        body: &[u8],
        cache: &mut OcspCache,
        now: u64,
    ) -> bool {
        let Some(index) = self.refreshing.iter().position(|a| a.token == token) else {
            return false;
        };
        let asking = self.refreshing.swap_remove(index);
        self.answered(host, &asking, status, body, cache, now);
        true
    }

    fn count(&self, host: &mut dyn Host, result: &str) {
        let id = OCSP_RESULTS
            .iter()
            .position(|r| *r == result)
            .and_then(|i| self.results.get(i).copied().flatten());
        increment(host, id);
    }
}

fn increment(host: &mut dyn Host, id: Option<u32>) {
    if let Some(id) = id {
        let _ = host.increment_counter(id);
    }
}

/// `http://host[:port]/path` as `:authority` and `:path` (`/` when none).
fn split_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (rest.get(..i)?, rest.get(i..)?),
        None => (rest, "/"),
    };
    (!authority.is_empty()).then_some((authority, path))
}

#[cfg(test)]
mod tests;
