//! The verified token payload from arbitrary bytes: see
//! `onerecord_tls_policy_fuzz::token_payload` for the invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| onerecord_tls_policy_fuzz::token_payload::check(data));
