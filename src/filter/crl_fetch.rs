//! `crl_sources`: fetched once per Envoy, applied by every VM.
//!
//! Each VM's root context ticks every second. For a source that is due,
//! the VM holding the source's lease in shared data (taken when free or
//! expired, renewed by each fetch) fetches it through its cluster with
//! `dispatch_http_call`; on failure it retries after 1, 2, 4… seconds, up to
//! `refresh_seconds`. A CRL it accepts (see [`Revocations::offer`]) goes
//! into shared data with the key that verified it; every VM, on its tick,
//! applies what shared data holds, so all workers run on the same CRLs
//! within a second of each other, and the CA's server sees one fetch per
//! Envoy, not one per worker. The issuers each VM sees on verified paths are
//! shared too, so the fetching VM knows the intermediates other workers
//! verified. Fetch results are counted by the fetching VM only.

mod shared;
#[cfg(test)]
mod tests;

use super::{Host, HostError};
use crate::config::Config;
use crate::config::crls::CrlSource;
use crate::effects::metrics::{
    CRL_FETCH_RESULTS, CRL_SECONDS_SINCE_THIS_UPDATE, CRL_SECONDS_UNTIL_NEXT_UPDATE,
    crl_fetch_counter_name, crl_gauge_name,
};
use crate::revocation::{Offered, Revocations};
use std::hash::{BuildHasher, Hasher};

/// How often root contexts tick while sources are configured.
pub const TICK_MILLISECONDS: u64 = 1_000;
/// How long one fetch may take before Envoy gives up on it.
const FETCH_TIMEOUT_MILLISECONDS: u64 = 5_000;
/// A fetch Envoy never answered is forgotten after this long.
const IN_FLIGHT_LIMIT_SECONDS: u64 = 30;

/// The fetcher of one configuration on one VM.
#[derive(Debug, Default)]
pub struct CrlFetcher {
    /// This VM's name in leases.
    me: String,
    fetches: Vec<Fetch>,
    /// The shared-data token of the issuers last read.
    issuers_cas: u32,
}

#[derive(Debug)]
struct Fetch {
    index: usize,
    source: CrlSource,
    lease_key: String,
    crl_key: String,
    next_fetch: u64,
    failures: u32,
    /// Token and start of the fetch under way.
    in_flight: Option<(u32, u64)>,
    /// The shared-data token of the CRL last applied.
    applied_cas: u32,
    /// Index-aligned with [`CRL_FETCH_RESULTS`].
    counters: Vec<Option<u32>>,
    since_gauge: Option<u32>,
    until_gauge: Option<u32>,
}

impl CrlFetcher {
    /// Defines the metrics of `config`'s sources; the first fetch is due at once.
    pub fn new(host: &mut dyn Host, config: &Config) -> Self {
        let me = format!(
            "{:016x}",
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
        );
        let fetches = config
            .revocation
            .sources
            .iter()
            .enumerate()
            .map(|(index, source)| {
                let name = format!("{}{}@{}", source.authority, source.path, source.cluster);
                Fetch {
                    index,
                    source: source.clone(),
                    lease_key: shared::lease_key(&name),
                    crl_key: shared::crl_key(&name),
                    next_fetch: 0,
                    failures: 0,
                    in_flight: None,
                    applied_cas: 0,
                    counters: CRL_FETCH_RESULTS
                        .iter()
                        .map(|r| host.define_counter(&crl_fetch_counter_name(index, r)).ok())
                        .collect(),
                    since_gauge: host
                        .define_gauge(&crl_gauge_name(CRL_SECONDS_SINCE_THIS_UPDATE, index))
                        .ok(),
                    until_gauge: host
                        .define_gauge(&crl_gauge_name(CRL_SECONDS_UNTIL_NEXT_UPDATE, index))
                        .ok(),
                }
            })
            .collect();
        CrlFetcher {
            me,
            fetches,
            issuers_cas: 0,
        }
    }

    /// Whether there is anything to fetch (else the root needs no timer).
    pub fn is_empty(&self) -> bool {
        self.fetches.is_empty()
    }

    /// Once a second: share the issuers learned here, apply what other VMs
    /// shared, fetch what is due and this VM holds the lease of, set gauges.
    pub fn on_tick(&mut self, host: &mut dyn Host, revocations: &mut Revocations, now: u64) {
        self.share_issuers(host, revocations);
        for fetch in &mut self.fetches {
            fetch.adopt(host, revocations);
            fetch.gauges(host, revocations, now);
            if let Some((_, since)) = fetch.in_flight
                && now.saturating_sub(since) > IN_FLIGHT_LIMIT_SECONDS
            {
                fetch.in_flight = None;
            }
            if fetch.in_flight.is_some() || now < fetch.next_fetch {
                continue;
            }
            if !shared::take_lease(host, &fetch.lease_key, &self.me, now, fetch.lease_seconds()) {
                // Another VM fetches it; this one applies what it shares.
                fetch.next_fetch = now.saturating_add(fetch.source.refresh_seconds);
                continue;
            }
            match fetch.dispatch(host) {
                Ok(token) => fetch.in_flight = Some((token, now)),
                Err(e) => {
                    log::warn!(
                        "onerecord-tls-policy: CRL source {} ({}): cannot send the request: {}",
                        fetch.index,
                        fetch.describe(),
                        e.0
                    );
                    fetch.failed(host, now);
                }
            }
        }
    }

    /// The response to a fetch: `status` (`None` when the call failed, e.g.
    /// no healthy host or a timeout) and body. `false` when the token is
    /// not one of this fetcher's.
    pub fn on_response(
        &mut self,
        host: &mut dyn Host,
        revocations: &mut Revocations,
        token: u32,
        status: Option<u32>,
        body: &[u8],
        now: u64,
    ) -> bool {
        let Some(fetch) = self
            .fetches
            .iter_mut()
            .find(|f| f.in_flight.is_some_and(|(t, _)| t == token))
        else {
            return false;
        };
        fetch.in_flight = None;
        if status != Some(200) {
            let status = status.map_or_else(|| "no response".to_string(), |s| format!("HTTP {s}"));
            log::warn!(
                "onerecord-tls-policy: CRL source {} ({}): {status}; the CRL in force stays",
                fetch.index,
                fetch.describe()
            );
            fetch.count(host, "http_error");
            fetch.failed(host, now);
            return true;
        }
        // Issuers other VMs verified may have signed it.
        self.issuers_cas = shared::read_issuers(host, revocations, self.issuers_cas);
        let offered = revocations.offer(fetch.index, body);
        fetch.count(host, offered.result());
        match offered {
            Offered::Applied(crl, key) => {
                log::info!(
                    "onerecord-tls-policy: CRL source {} ({}): now in force: {}",
                    fetch.index,
                    fetch.describe(),
                    crate::revocation::describe_crl(&crl)
                );
                match shared::publish_crl(host, &fetch.crl_key, &key, body) {
                    Ok(cas) => fetch.applied_cas = cas,
                    Err(e) => log::warn!(
                        "onerecord-tls-policy: CRL source {}: cannot share the CRL with the other workers: {}",
                        fetch.index,
                        e.0
                    ),
                }
                fetch.succeeded(now);
            }
            Offered::Unchanged => fetch.succeeded(now),
            Offered::Older => {
                log::warn!(
                    "onerecord-tls-policy: CRL source {} ({}): served a CRL older than the one in force; it stays",
                    fetch.index,
                    fetch.describe()
                );
                fetch.failed(host, now);
            }
            Offered::ParseError(e) | Offered::BadSignature(e) => {
                log::warn!(
                    "onerecord-tls-policy: CRL source {} ({}): the CRL {e}; the CRL in force stays",
                    fetch.index,
                    fetch.describe()
                );
                fetch.failed(host, now);
            }
        }
        fetch.gauges(host, revocations, now);
        true
    }

    fn share_issuers(&mut self, host: &mut dyn Host, revocations: &mut Revocations) {
        let learned = revocations.take_learned();
        if !learned.is_empty() {
            shared::add_issuers(host, &learned);
        }
        self.issuers_cas = shared::read_issuers(host, revocations, self.issuers_cas);
    }
}

impl Fetch {
    fn describe(&self) -> String {
        format!(
            "cluster {}, {}{}",
            self.source.cluster, self.source.authority, self.source.path
        )
    }

    /// Held across a failed fetch's backoff, given up if the holder stops.
    fn lease_seconds(&self) -> u64 {
        self.source
            .refresh_seconds
            .saturating_mul(2)
            .saturating_add(10)
    }

    fn dispatch(&self, host: &mut dyn Host) -> Result<u32, HostError> {
        let headers = [
            (":method", "GET"),
            (":path", self.source.path.as_str()),
            (":authority", self.source.authority.as_str()),
            ("accept", "application/pkix-crl"),
        ];
        host.dispatch_http_call(&self.source.cluster, &headers, FETCH_TIMEOUT_MILLISECONDS)
    }

    /// Applies a CRL another VM shared since the last one applied here.
    fn adopt(&mut self, host: &mut dyn Host, revocations: &mut Revocations) {
        let Ok(Some((value, cas))) = host.shared_data(&self.crl_key) else {
            return;
        };
        if cas == self.applied_cas {
            return;
        }
        self.applied_cas = cas;
        if let Some((key, der)) = shared::decode_crl(&value)
            && let Offered::Applied(crl, _) = revocations.adopt(self.index, der, key)
        {
            log::info!(
                "onerecord-tls-policy: CRL source {} ({}): now in force on this worker: {}",
                self.index,
                self.describe(),
                crate::revocation::describe_crl(&crl)
            );
        }
    }

    fn gauges(&self, host: &mut dyn Host, revocations: &Revocations, now: u64) {
        let Some(crl) = revocations.from_source(self.index) else {
            return;
        };
        let now = i128::from(now);
        let since = now - i128::from(crl.this_update);
        let until = crl.next_update.map_or(0, |next| i128::from(next) - now);
        for (gauge, value) in [(self.since_gauge, since), (self.until_gauge, until)] {
            if let Some(id) = gauge {
                let value = u64::try_from(value.max(0)).unwrap_or(u64::MAX);
                let _ = host.set_gauge(id, value);
            }
        }
    }

    fn count(&self, host: &mut dyn Host, result: &str) {
        let id = CRL_FETCH_RESULTS
            .iter()
            .position(|r| *r == result)
            .and_then(|i| self.counters.get(i).copied().flatten());
        if let Some(id) = id {
            let _ = host.increment_counter(id);
        }
    }

    fn succeeded(&mut self, now: u64) {
        self.failures = 0;
        self.next_fetch = now.saturating_add(self.source.refresh_seconds);
    }

    /// Backoff: 1, 2, 4… seconds, at most `refresh_seconds`.
    fn failed(&mut self, _host: &mut dyn Host, now: u64) {
        self.failures = self.failures.saturating_add(1);
        let backoff = 1u64 << self.failures.saturating_sub(1).min(16);
        self.next_fetch = now.saturating_add(backoff.min(self.source.refresh_seconds));
    }
}
