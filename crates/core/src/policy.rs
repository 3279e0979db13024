//! `decide()`: facts in, decision out. No host calls, no clock reads. What
//! a decision reads and changes between requests (the verdicts remembered
//! by content and by connection) is the [`State`] the caller passes in.

use crate::binding::{self, BindingResult};
use crate::config::{AllowedClients, Config, MtlsRequirement, TlsVersion, TokenBindingMode};
use crate::facts::{Facts, RequestFacts};
use crate::reason::Reason;
use crate::revocation::Revocations;
use crate::state::State;
use crate::trust::VerifiedClient;

mod front_proxy;
mod ocsp;
pub mod path;
mod peer;
mod plan;
pub use crate::decision::{
    ChainVerification, Decided, Decision, Expiring, FactsSource, OcspOutcome, Verdict,
};
pub use crate::state::CacheStats;
pub use front_proxy::Proxied;
pub use path::{Selection, normalize_path};
pub use peer::Needs;

/// The configuration with everything prepared that requests need. It does
/// not change: what requests remember is in a [`State`].
#[derive(Clone, Debug)]
pub struct Policy {
    /// With its trust store, made when it was parsed.
    pub config: Config,
}

/// Route metadata key the filter reads under `filter_metadata`.
pub const ROUTE_METADATA_NAMESPACE: &str = "onerecord_tls_policy";

impl Policy {
    pub fn new(config: Config) -> Self {
        Policy { config }
    }

    /// An empty state for this configuration, sized by `verdict_cache_size`
    /// (a reload starts a new one).
    pub fn new_state(&self) -> State {
        self.state_sized(self.config.verdict_cache_size)
    }

    /// A state remembering up to `capacity` verdicts, with the configured
    /// CRLs in force and every CRL source still to deliver.
    fn state_sized(&self, capacity: usize) -> State {
        let revocation = &self.config.revocation;
        let mut state = State::new(capacity);
        state.revocation = Revocations::new(
            &revocation.crls,
            revocation.issuers.clone(),
            revocation.sources.len(),
            revocation.grace_seconds,
        );
        state
    }

    /// The rules this request is subject to, one per distinct selection
    /// among the readings of its path; `None` when the path is invalid.
    pub fn select_rules(&self, path: &str, method: &str) -> Option<Selection> {
        path::select_rules(&self.config, path, method)
    }

    /// The decision on a request with nothing remembered, as the first
    /// request of a fresh VM with the verdict cache off (the CLI, tests).
    pub fn decide(&self, facts: &Facts) -> Decision {
        self.decide_with(facts, &mut self.state_sized(0)).decision
    }

    /// The decision on a request, reading and updating what `state`
    /// remembers (the connection's handshake and verdict, the verdicts by
    /// content), and the full chain verification it ran, if any.
    pub fn decide_with(&self, facts: &Facts, state: &mut State) -> Decided {
        if let Ok(connection) = &facts.connection
            && let Some(id) = connection.id
        {
            state.remember_handshake(id, connection);
        }
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
            facts_from: FactsSource::Handshake,
            token: None,
            token_binding: None,
            detail: None,
            expiring: Default::default(),
            ocsp: None,
        };
        let mut chain_verification = None;
        let mut ocsp = OcspOutcome::default();
        let mut run = Run {
            state,
            chain_verification: &mut chain_verification,
            ocsp: &mut ocsp,
        };
        if let Err(reason) = self.evaluate(facts, selection.as_ref(), &mut decision, &mut run) {
            decision.verdict = Verdict::Deny(reason);
        }
        decision.ocsp = ocsp.used;
        Decided {
            decision,
            chain_verification,
            ocsp,
        }
    }

    fn evaluate(
        &self,
        facts: &Facts,
        selection: Option<&Selection>,
        decision: &mut Decision,
        run: &mut Run<'_>,
    ) -> Result<(), Reason> {
        let connection = facts
            .connection
            .as_ref()
            .map_err(|_| Reason::ConnectionFactsUnavailable)?;
        let proxied = match (self.trusted_proxy(connection), &self.config.trusted_proxies) {
            (Some(proxy), Some(proxies)) => {
                decision.facts_from = FactsSource::TrustedProxy;
                Some(self.proxied_client(proxy, proxies, connection, &facts.request)?)
            }
            _ => None,
        };
        // Behind a proxy, nothing is remembered by connection: the next
        // request on it may carry another client.
        let (tls_version, peer, memo_id, proxy) = match &proxied {
            Some(client) => (&client.tls_version, &client.peer, None, Some(&client.proxy)),
            None => (
                &connection.tls_version,
                &connection.peer,
                connection.id,
                None,
            ),
        };
        let version_text = tls_version.as_deref().ok_or(Reason::TlsRequired)?;
        let version = TlsVersion::parse(version_text).ok_or(Reason::TlsVersionUnrecognized)?;
        decision.tls_version = Some(version);
        if version < self.config.min_tls_version {
            return Err(Reason::TlsVersionTooLow);
        }

        // Never read as "/": a path no reading can be made of is denied.
        let selection = selection.ok_or(Reason::RequestPathInvalid)?;
        let restricted = selection.allow_lists(&self.config).next().is_some();
        let binding = selection.token_binding(&self.config);
        let required = self.requirement(facts.request.route_mtls.as_deref(), selection)?
            == MtlsRequirement::Required
            || restricted
            || binding.mode != TokenBindingMode::Off;

        let Some(peer) = peer else {
            return if required {
                Err(Reason::ClientCertificateRequired)
            } else {
                Ok(())
            };
        };
        let mut detail = None;
        let verified = self
            .verify_peer(peer, memo_id, proxy, facts.now_unix, run, &mut detail)
            // Every request, a remembered verdict too: CRLs change while
            // verdicts are remembered.
            .and_then(|client| {
                run.state
                    .revocation
                    .check(&client.path_links, facts.now_unix)
                    .map(|()| client)
            })
            .and_then(|client| {
                self.check_ocsp(&client, facts.now_unix, run.state, run.ocsp)
                    .map(|()| client)
            });
        match verified {
            Ok(client) => {
                let mut lists = selection.allow_lists(&self.config);
                if !lists.all(|list| is_allowed(&client, list)) {
                    return Err(Reason::ClientNotAllowed);
                }
                decision.expiring = self.expiring(&client, facts.now_unix, run.state);
                if binding.mode != TokenBindingMode::Off {
                    // Per request: the token is not part of what is remembered.
                    let bound = binding::bind(&facts.request.token, &client, binding);
                    decision.token_binding = Some(match &bound {
                        Ok(Some(_)) => BindingResult::Verified,
                        Ok(None) => BindingResult::Absent,
                        Err(reason) => BindingResult::Failed(*reason),
                    });
                    decision.token = bound?;
                }
                decision.client = Some(client);
                Ok(())
            }
            Err(reason) if required => {
                decision.detail = detail;
                Err(reason)
            }
            Err(reason) => {
                decision.ignored_certificate = Some(reason);
                Ok(())
            }
        }
    }

    /// Whether the filter must read the token payload for `request`: only
    /// when a rule its path and method select binds the token.
    pub fn reads_token(&self, request: &RequestFacts) -> bool {
        self.config.binds_any_token()
            && path::select_rules_for_methods(
                &self.config,
                &request.path,
                &request.method,
                &request.method_overrides,
            )
            .is_some_and(|s| s.token_binding(&self.config).mode != TokenBindingMode::Off)
    }

    /// What of `client`'s ends within `expiry_warning_days` of `now`.
    fn expiring(&self, client: &VerifiedClient, now: u64, state: &State) -> Expiring {
        let days = self.config.revocation.expiry_warning_days;
        if days == 0 {
            return Expiring::default();
        }
        let window = days.saturating_mul(86_400);
        let limit = i128::from(now) + i128::from(window);
        Expiring {
            certificate: i128::from(client.not_after) <= limit,
            crl: state
                .revocation
                .expiring_within(&client.path_links, now, window),
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

/// What one decision reads and changes besides the facts and the decision.
struct Run<'a> {
    state: &'a mut State,
    /// Set when a full chain verification ran.
    chain_verification: &'a mut Option<ChainVerification>,
    /// What the OCSP check used or needs.
    ocsp: &'a mut OcspOutcome,
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
mod binding_tests;
#[cfg(test)]
mod cache_tests;
#[cfg(test)]
mod connection_tests;
#[cfg(test)]
mod detail_tests;
#[cfg(test)]
mod front_proxy_tests;
#[cfg(test)]
mod ocsp_tests;
#[cfg(test)]
mod path_form_tests;
#[cfg(test)]
mod revocation_tests;
#[cfg(test)]
pub(crate) mod test_fixture;
#[cfg(test)]
mod tests;
