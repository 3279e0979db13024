//! `decide()`: facts in, decision out. No host calls, no clock reads.

use crate::config::{AllowedClients, Config, Mode, MtlsRequirement, PathMatch, Rule, TlsVersion};
use crate::facts::Facts;
use crate::reason::Reason;
use crate::trust::{TrustStore, VerifiedClient};

mod cache;
mod path;
mod peer;
pub use cache::{CacheStats, ChainVerification};
pub use path::normalize_path;

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
    /// The first matching rule's name.
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

    /// The first rule matching this request, on the normalised path.
    pub fn matching_rule(&self, path: &str, method: &str) -> Option<&Rule> {
        let path = normalize_path(path);
        self.config.rules.iter().find(|rule| {
            let path_matches = match &rule.path {
                PathMatch::Prefix(prefix) => path.starts_with(prefix.as_str()),
                PathMatch::Exact(exact) => path == *exact,
            };
            path_matches
                && (rule.methods.is_empty()
                    || rule.methods.iter().any(|m| m.eq_ignore_ascii_case(method)))
        })
    }

    pub fn decide(&self, facts: &Facts) -> Decision {
        let rule = self.matching_rule(&facts.request.path, &facts.request.method);
        let mut decision = Decision {
            verdict: Verdict::Allow,
            mode: self.config.mode,
            rule: rule.map(|r| r.name.clone()),
            tls_version: None,
            client: None,
            ignored_certificate: None,
        };
        if let Err(reason) = self.evaluate(facts, rule, &mut decision) {
            decision.verdict = Verdict::Deny(reason);
        }
        decision
    }

    fn evaluate(
        &self,
        facts: &Facts,
        rule: Option<&Rule>,
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

        let allowed = self.config.allowed_clients_for(rule);
        let required = self.requirement(facts.request.route_mtls.as_deref(), rule)?
            == MtlsRequirement::Required
            || allowed.is_some();

        let Some(peer) = &connection.peer else {
            return if required {
                Err(Reason::ClientCertificateRequired)
            } else {
                Ok(())
            };
        };
        match self.verify_peer(peer, facts.now_unix) {
            Ok(client) => {
                if allowed.is_some_and(|list| !is_allowed(&client, list)) {
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

    /// Route metadata overrides rules; rules override the global default.
    fn requirement(
        &self,
        route_mtls: Option<&str>,
        rule: Option<&Rule>,
    ) -> Result<MtlsRequirement, Reason> {
        if let Some(text) = route_mtls {
            return MtlsRequirement::parse(text).ok_or(Reason::RouteMetadataInvalid);
        }
        Ok(rule.and_then(|r| r.mtls).unwrap_or(self.config.mtls))
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
pub(crate) mod test_fixture;
#[cfg(test)]
mod tests;
