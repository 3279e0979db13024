//! RFC 5280 name constraints (4.2.1.10, 6.1.4), every form client PKIs use:
//! dNSName, iPAddress, directoryName, rfc822Name and the host of a URI,
//! permitted and excluded, from every CA on the path, the pinned anchor
//! included. webpki refuses directoryName, rfc822Name and URI constraints
//! outright, so it is shown the certificates without them (`trust/view.rs`)
//! and they are all evaluated here instead, on the certificates as signed.
//!
//! The work is bounded: at most [`MAX_COMPARISONS`] name-to-subtree
//! comparisons per candidate path; beyond that the verification ends as
//! `verification_budget_exceeded`.

mod matching;
mod read;

pub(crate) use read::{Constraints, Names};

use super::profile::CertFacts;

/// Far above any real PKI (a few subtrees, a few names), far below what
/// makes a quadratic check costly.
pub(crate) const MAX_COMPARISONS: usize = 4096;

/// Why a path's names do not pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Violation {
    /// A name outside every permitted subtree of its form, or inside an
    /// excluded one; the detail names the form.
    Name(&'static str),
    /// A constraint of a form this checker cannot evaluate, over a name of
    /// that form: refused, as RFC 5280 requires of an unprocessed constraint.
    Unsupported,
    Budget,
}

impl Violation {
    pub(crate) fn detail(self) -> &'static str {
        match self {
            Violation::Name(form) => form,
            Violation::Unsupported => "unsupported_name_form",
            Violation::Budget => "name_constraint_comparisons",
        }
    }
}

/// Counts comparisons against [`MAX_COMPARISONS`].
pub(crate) struct Counter(usize);

impl Counter {
    pub(crate) fn new() -> Self {
        Counter(0)
    }

    fn spend(&mut self, comparisons: usize) -> Result<(), Violation> {
        self.0 = self.0.saturating_add(comparisons);
        if self.0 > MAX_COMPARISONS {
            Err(Violation::Budget)
        } else {
            Ok(())
        }
    }
}

/// Checks a path: each CA's constraints (`issuers` from the leaf's issuer
/// up to the anchor) over the leaf and every intermediate below that CA,
/// self-issued intermediates excepted (RFC 5280 6.1.3 b, c).
pub(crate) fn check_path(leaf: &CertFacts, issuers: &[&CertFacts]) -> Result<(), Violation> {
    let mut counter = Counter::new();
    for (index, ca) in issuers.iter().enumerate() {
        let Some(constraints) = &ca.name_constraints else {
            continue;
        };
        let below = issuers.get(..index).unwrap_or_default();
        check(constraints, &leaf.names, &mut counter)?;
        for cert in below.iter().filter(|c| !c.self_issued) {
            check(constraints, &cert.names, &mut counter)?;
        }
    }
    Ok(())
}

/// Checks `names` (one certificate below the CA) against one CA's `constraints`.
fn check(constraints: &Constraints, names: &Names, counter: &mut Counter) -> Result<(), Violation> {
    if names.unreadable {
        return Err(Violation::Name("name_unreadable"));
    }
    let subtrees = constraints.permitted.as_deref().unwrap_or_default();
    counter.spend(
        names
            .count()
            .saturating_mul(subtrees.len().saturating_add(constraints.excluded.len())),
    )?;
    if let Some(permitted) = &constraints.permitted {
        matching::permitted(permitted, names)?;
    }
    matching::excluded(&constraints.excluded, names)
}

#[cfg(test)]
mod tests;
