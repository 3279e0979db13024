//! The most work one chain verification may do, from `max_chain_length`
//! (`L`, 1–8):
//!
//! - **signatures computed: `L + 4`** (9 at the default 5, 12 at 8), over
//!   issuer pruning, webpki's path search and the clock-skew retry together.
//!   A signature checked again (webpki re-verifying what pruning checked, or
//!   one child under two certificates sharing a key) is answered from the
//!   memo and does not count. A legitimate chain needs about one per
//!   certificate: leaf + 2 intermediates each renewed once (same name and
//!   key) is 5 at `L = 5`; leaf + 3 renewed intermediates and a cross-signed
//!   root is 8 at `L = 8`.
//! - **candidate paths: `4·L`** (20 / 32), the paths webpki verified up to an
//!   anchor and offered to the profile check, both attempts together. Two
//!   renewed versions of each of 3 intermediates make 8 paths.
//!
//! webpki keeps its own limits as well (100 signature checks, memo hits
//! included, and 200 000 path-building calls per search). Any limit reached
//! ends the verification as `verification_budget_exceeded`: an incomplete
//! search cannot tell whether some path would have passed.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Budget {
    pub signatures: usize,
    pub candidate_paths: usize,
}

impl Budget {
    pub(crate) fn for_chain_length(max_chain_length: usize) -> Self {
        Budget {
            signatures: max_chain_length.saturating_add(4),
            candidate_paths: max_chain_length.saturating_mul(4),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Budget;

    #[test]
    fn follows_the_documented_formula() {
        assert_eq!(
            Budget::for_chain_length(5),
            Budget {
                signatures: 9,
                candidate_paths: 20
            }
        );
        assert_eq!(
            Budget::for_chain_length(8),
            Budget {
                signatures: 12,
                candidate_paths: 32
            }
        );
    }
}
