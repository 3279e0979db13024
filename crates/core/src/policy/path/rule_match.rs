//! Which rules a request is subject to: for each reading of its path, the
//! first rule (configuration order) matching that reading and the method.

use super::{is_valid_request_path, readings};
use crate::binding::BindingSettings;
use crate::config::{
    AgentMatch, AllowedClients, Config, MtlsRequirement, PathMatch, Rule, TokenBindingMode,
};

/// What the readings of one request selected: indices into `config.rules`,
/// `None` for a reading no rule matched (the global default applies).
/// Each pick once; the ordinary reading's first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    first: Option<usize>,
    /// Empty, and unallocated, when every reading picked the same.
    more: Vec<Option<usize>>,
}

/// The selection for a request, or `None` when its `:path` is not a valid
/// request path (which the policy denies).
pub fn select_rules(config: &Config, path: &str, method: &str) -> Option<Selection> {
    select_rules_for_methods(config, path, method, &[])
}

/// As [`select_rules`], for the request's method and each method the
/// client asked the backend to use instead (method-override headers).
pub fn select_rules_for_methods(
    config: &Config,
    path: &str,
    method: &str,
    overrides: &[String],
) -> Option<Selection> {
    if !is_valid_request_path(path) {
        return None;
    }
    let readings = readings(path);
    let methods = std::iter::once(method).chain(overrides.iter().map(String::as_str));
    let mut picks = readings.iter().flat_map(|r| {
        methods
            .clone()
            .map(move |m| first_match(&config.rules, r, m))
    });
    let mut selection = Selection {
        first: picks.next().flatten(),
        more: Vec::new(),
    };
    for pick in picks {
        if !selection.includes(pick) {
            selection.more.push(pick);
        }
    }
    Some(selection)
}

impl Selection {
    /// Every pick: a rule index, or `None` for the global default.
    pub fn picks(&self) -> impl Iterator<Item = Option<usize>> {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }

    pub fn includes(&self, pick: Option<usize>) -> bool {
        self.picks().any(|p| p == pick)
    }

    /// The selected rules, in the order their readings came.
    pub fn rules<'c>(&self, config: &'c Config) -> impl Iterator<Item = &'c Rule> {
        self.picks().flatten().filter_map(|i| config.rules.get(i))
    }

    /// The strictest `mtls` of the picks (a rule's own, else the default).
    pub fn requirement(&self, config: &Config) -> MtlsRequirement {
        if self
            .picks()
            .any(|p| own_mtls(config, p) == MtlsRequirement::Required)
        {
            MtlsRequirement::Required
        } else {
            MtlsRequirement::Optional
        }
    }

    /// Every allow-list that applies: each pick's own, else the global one.
    /// A verified client must be on all of them.
    pub fn allow_lists<'c>(&self, config: &'c Config) -> impl Iterator<Item = &'c AllowedClients> {
        self.picks()
            .filter_map(|p| config.allowed_clients_for(rule(config, p)))
    }

    /// The strictest token binding of the picks: the strictest mode, and
    /// of the picks that bind, `cnf` required and exact agent matching if
    /// any asks for them.
    pub fn token_binding(&self, config: &Config) -> BindingSettings {
        let mut strictest = BindingSettings {
            mode: TokenBindingMode::Off,
            require_cnf: false,
            agent_match: AgentMatch::Host,
        };
        let binding = self
            .picks()
            .map(|p| config.token_binding_for(rule(config, p)))
            .filter(|b| b.mode != TokenBindingMode::Off);
        for own in binding {
            strictest.mode = strictest.mode.max(own.mode);
            strictest.require_cnf |= own.require_cnf;
            if own.agent_match == AgentMatch::Exact {
                strictest.agent_match = AgentMatch::Exact;
            }
        }
        strictest
    }

    /// The rule to report (logs, metrics, the `rule` annotation): the
    /// earliest selected rule that sets the strictest requirement of all
    /// picks. `None` when no rule did (the default was stricter, or no
    /// reading matched a rule).
    pub fn reported<'c>(&self, config: &'c Config) -> Option<&'c Rule> {
        let strictest = self.picks().map(|p| strictness(config, p)).max()?;
        self.picks()
            .flatten()
            .filter(|&i| strictness(config, Some(i)) == strictest)
            .min()
            .and_then(|i| config.rules.get(i))
    }
}

fn rule(config: &Config, pick: Option<usize>) -> Option<&Rule> {
    pick.and_then(|i| config.rules.get(i))
}

fn own_mtls(config: &Config, pick: Option<usize>) -> MtlsRequirement {
    rule(config, pick)
        .and_then(|r| r.mtls)
        .unwrap_or(config.mtls)
}

/// Whether a pick requires a client certificate (an allow-list and token
/// binding imply it).
fn strictness(config: &Config, pick: Option<usize>) -> bool {
    own_mtls(config, pick) == MtlsRequirement::Required
        || config.allowed_clients_for(rule(config, pick)).is_some()
        || config.binds_token(rule(config, pick))
}

fn first_match(rules: &[Rule], reading: &str, method: &str) -> Option<usize> {
    rules.iter().position(|r| rule_matches(r, reading, method))
}

/// `reading` is one reading of the path. Methods compare case-insensitively,
/// and `GET` covers `HEAD` (same resource, no body). Paths compare ASCII
/// case-insensitively unless the rule is case-sensitive; an exact path also
/// matches with one trailing `/`.
pub fn rule_matches(rule: &Rule, reading: &str, method: &str) -> bool {
    let method_matches = rule.methods.is_empty()
        || rule.methods.iter().any(|m| {
            m.eq_ignore_ascii_case(method) || (m == "GET" && method.eq_ignore_ascii_case("HEAD"))
        });
    method_matches && path_matches(&rule.path, rule.case_sensitive, reading)
}

fn path_matches(path: &PathMatch, case_sensitive: bool, reading: &str) -> bool {
    let same = |a: &[u8], b: &[u8]| {
        if case_sensitive {
            a == b
        } else {
            a.eq_ignore_ascii_case(b)
        }
    };
    let reading = reading.as_bytes();
    match path {
        PathMatch::Prefix(prefix) => reading
            .get(..prefix.len())
            .is_some_and(|head| same(head, prefix.as_bytes())),
        PathMatch::Exact(exact) => {
            let body = match reading.strip_suffix(b"/") {
                Some(body) if reading.len() == exact.len() + 1 => body,
                _ => reading,
            };
            same(body, exact.as_bytes())
        }
    }
}
