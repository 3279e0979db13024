//! `decide()`: facts in, decision out. No host calls, no clock reads.

use crate::config::{AllowedClients, Config, Mode, MtlsRequirement, TlsVersion};
use crate::facts::Facts;
use crate::reason::Reason;
use crate::trust::{TrustStore, VerifiedClient};

mod cache;
pub mod path;
mod peer;
pub use cache::{CacheStats, ChainVerification};
pub use path::{Selection, normalize_path};

/// The configuration with everything prepared that requests need.
#[derive(Clone, Debug)]
pub struct Policy {
    pub config: Config,
    trust: TrustStore,
    /// Verified client chains of this configuration; a reload starts empty.
    cache: cache::VerdictCache,
}

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
    pub client: Option<VerifiedClient>,
    /// Why a presented certificate was not accepted where mTLS was optional.
    pub ignored_certificate: Option<Reason>,
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

/// Route metadata key the filter reads under `filter_metadata`.
pub const ROUTE_METADATA_NAMESPACE: &str = "onerecord_tls_policy";

impl Policy {
    pub fn new(config: Config) -> Self {
        let trust = TrustStore::new(&config.trust);
        let cache = cache::VerdictCache::new(config.verdict_cache_size);
        Policy {
            config,
            trust,
            cache,
        }
    }

    /// The verdict cache's size and counters.
    pub fn verdict_cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// The rules this request is subject to, one per distinct selection
    /// among the readings of its path; `None` when the path is invalid.
    pub fn select_rules(&self, path: &str, method: &str) -> Option<Selection> {
        path::select_rules(&self.config, path, method)
    }

    pub fn decide(&self, facts: &Facts) -> Decision {
        let request = &facts.request;
        let selection = path::select_rules_for_methods(
            &self.config,
            &request.path,
            &request.method,
            &request.method_overrides,
        );
        let rule = selection.as_ref().and_then(|s| s.reported(&self.config));
        let mut decision = Decision {
            verdict: Verdict::Allow,
            mode: self.config.mode,
            rule: rule.map(|r| r.name.clone()),
            tls_version: None,
            client: None,
            ignored_certificate: None,
        };
        if let Err(reason) = self.evaluate(facts, selection.as_ref(), &mut decision) {
            decision.verdict = Verdict::Deny(reason);
        }
        decision
    }

    fn evaluate(
        &self,
        facts: &Facts,
        selection: Option<&Selection>,
        decision: &mut Decision,
    ) -> Result<(), Reason> {
        let connection = facts
            .connection
            .as_ref()
            .map_err(|_| Reason::ConnectionFactsUnavailable)?;
        let version_text = connection
            .tls_version
            .as_deref()
            .ok_or(Reason::TlsRequired)?;
        let version = TlsVersion::parse(version_text).ok_or(Reason::TlsVersionUnrecognized)?;
        decision.tls_version = Some(version);
        if version < self.config.min_tls_version {
            return Err(Reason::TlsVersionTooLow);
        }

        // Never read as "/": a path no reading can be made of is denied.
        let selection = selection.ok_or(Reason::RequestPathInvalid)?;
        let restricted = selection.allow_lists(&self.config).next().is_some();
        let required = self.requirement(facts.request.route_mtls.as_deref(), selection)?
            == MtlsRequirement::Required
            || restricted;

        let Some(peer) = &connection.peer else {
            return if required {
                Err(Reason::ClientCertificateRequired)
            } else {
                Ok(())
            };
        };
        match self.verify_peer(peer, facts.now_unix) {
            Ok(client) => {
                let mut lists = selection.allow_lists(&self.config);
                if !lists.all(|list| is_allowed(&client, list)) {
                    return Err(Reason::ClientNotAllowed);
                }
                decision.client = Some(client);
                Ok(())
            }
            Err(reason) if required => Err(reason),
            Err(reason) => {
                decision.ignored_certificate = Some(reason);
                Ok(())
            }
        }
    }

    /// Route metadata (Envoy's route match, on Envoy's reading of the path)
    /// overrides rules; the strictest selected rule overrides the default.
    fn requirement(
        &self,
        route_mtls: Option<&str>,
        selection: &Selection,
    ) -> Result<MtlsRequirement, Reason> {
        if let Some(text) = route_mtls {
            return MtlsRequirement::parse(text).ok_or(Reason::RouteMetadataInvalid);
        }
        Ok(selection.requirement(&self.config))
    }
}

/// A client passes when any one of its identities is on the list.
pub fn is_allowed(client: &VerifiedClient, allowed: &AllowedClients) -> bool {
    allowed.sha256.contains(&client.leaf_sha256)
        || client.uri_sans.iter().any(|u| allowed.uri_san.contains(u))
        || client.dns_sans.iter().any(|d| allowed.dns_san.contains(d))
        || client
            .organizations
            .iter()
            .any(|o| allowed.subject_organization.contains(o))
}

#[cfg(test)]
mod cache_tests;
#[cfg(test)]
mod path_form_tests;
#[cfg(test)]
pub(crate) mod test_fixture;
#[cfg(test)]
mod tests;
