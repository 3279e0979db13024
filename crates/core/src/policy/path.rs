//! How rules see a request path. Backends read one `:path` in different
//! ways (case-insensitively, without `;` parameters, with `%2F` as `/`,
//! without resolving `..`), so rules are matched against every such
//! reading and the request is subject to each rule one of them selects.

mod readings;
mod rule_match;
mod validity;

pub use readings::{Readings, canonical_path, normalize_path, readings};
pub use rule_match::{Selection, select_rules, select_rules_for_methods};
pub use validity::{MAX_PATH_LEN, encode_invalid, is_valid_request_path};

#[cfg(test)]
mod tests;
