//! Path lengths as RFC 5280 6.1.4 (l) and (m) count them: a CA's
//! pathLenConstraint is the number of intermediates below it that are not
//! self-issued (4.2.1.9). webpki counts every intermediate, so it is shown
//! the certificates without the constraint (`view.rs`) and the count is
//! made here, on the certificates as signed.
//!
//! The pinned anchor's own constraint counts too: RFC 5280 leaves an
//! anchor's constraints to the relying party, and a pinned CA that limits
//! its sub-CAs means it.

use super::profile::CertFacts;

/// Whether every pathLenConstraint on the path holds. `intermediates` from
/// the leaf's issuer up; the leaf's own constraint plays no part (4.2.1.9).
pub(crate) fn respected<'a>(
    intermediates: impl DoubleEndedIterator<Item = &'a CertFacts>,
    anchor: &CertFacts,
) -> bool {
    // max_path_length of 6.1.2 (k), `None` while nothing above limits it.
    let mut remaining = anchor.path_len;
    for cert in intermediates.rev() {
        if !cert.self_issued {
            remaining = match remaining {
                Some(0) => return false,
                other => other.map(|n| n.saturating_sub(1)),
            };
        }
        if let Some(limit) = cert.path_len {
            remaining = Some(remaining.map_or(limit, |n| n.min(limit)));
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CA's facts: its pathLenConstraint and whether it is self-issued.
    fn ca(path_len: Option<u32>, self_issued: bool) -> CertFacts {
        CertFacts {
            path_len,
            self_issued,
            ..CertFacts::blank()
        }
    }

    /// `intermediates` given from the anchor down, as RFC 5280 processes them.
    fn holds(anchor: Option<u32>, from_the_top: &[CertFacts]) -> bool {
        respected(from_the_top.iter().rev(), &ca(anchor, true))
    }

    #[test]
    fn counts_intermediates_that_are_not_self_issued() {
        assert!(holds(Some(0), &[]));
        assert!(!holds(Some(0), &[ca(None, false)]));
        assert!(holds(Some(0), &[ca(None, true)]));
        assert!(holds(Some(1), &[ca(None, false)]));
        // An intermediate's constraint over the ones below it.
        assert!(holds(None, &[ca(Some(0), false)]));
        assert!(!holds(None, &[ca(Some(0), false), ca(None, false)]));
        assert!(holds(None, &[ca(Some(0), false), ca(None, true)]));
        assert!(holds(
            None,
            &[ca(Some(1), false), ca(Some(1), true), ca(Some(0), false)]
        ));
        // A larger constraint below does not lift a smaller one above.
        assert!(holds(None, &[ca(Some(1), false), ca(Some(2), false)]));
        assert!(!holds(
            None,
            &[
                ca(Some(1), false),
                ca(Some(2), false),
                ca(None, false),
                ca(None, false)
            ]
        ));
        // Deeper: pathLen 1 two levels up allows one more CA, not two.
        assert!(!holds(
            None,
            &[
                ca(None, false),
                ca(Some(1), false),
                ca(None, false),
                ca(None, false)
            ]
        ));
        assert!(holds(
            None,
            &[
                ca(None, false),
                ca(Some(1), false),
                ca(None, false),
                ca(None, true)
            ]
        ));
    }
}
