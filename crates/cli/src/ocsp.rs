//! `explain --ocsp-response FILE`: stored OCSP responses checked as the
//! filter checks a responder's answer, for the certificates the decision
//! asks about, and cached as it caches them.

use crate::Failure;
use onerecord_tls_policy_core::facts::Facts;
use onerecord_tls_policy_core::ocsp::{OcspError, check_response};
use onerecord_tls_policy_core::policy::Policy;
use onerecord_tls_policy_core::state::State;
use std::path::PathBuf;

/// Checks each of `files` (DER) against the certificates a decision on
/// `facts` asks about; an accepted one goes into `state`'s cache. A line
/// per file.
pub fn apply(
    files: &[PathBuf],
    policy: &Policy,
    facts: &Facts,
    state: &mut State,
) -> Result<Vec<String>, Failure> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let asked = policy.decide_with(facts, &mut state.clone()).ocsp.ask;
    let mut lines = Vec::new();
    for file in files {
        let der = std::fs::read(file)
            .map_err(|e| Failure::new(format!("cannot read {}: {e}", file.display())))?;
        let what = format!("OCSP {}", file.display());
        if asked.is_empty() {
            lines.push(format!(
                "{what}: not used (no certificate of the request is asked about; is ocsp.mode on?)"
            ));
            continue;
        }
        let mut failure: Option<OcspError> = None;
        let mut used = false;
        for query in &asked {
            match check_response(
                &der,
                query,
                facts.now_unix,
                policy.config.trust.clock_skew_seconds,
            ) {
                Ok(answer) => {
                    state.ocsp.store(
                        query.key(),
                        &answer,
                        facts.now_unix,
                        policy.config.ocsp.max_cache_seconds,
                    );
                    let next = answer
                        .next_update
                        .map_or_else(|| "none".to_string(), |n| n.to_string());
                    lines.push(format!(
                        "{what}: {} for serial {} (thisUpdate {}, nextUpdate {next}, signed by {:?})",
                        answer.status.name(),
                        hex::encode(query.serial.as_bytes()),
                        answer.this_update,
                        answer.signer
                    ));
                    used = true;
                    break;
                }
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        if !used {
            let why = failure.map_or_else(|| "not checked".to_string(), |e| e.to_string());
            lines.push(format!("{what}: refused: the response {why}"));
        }
    }
    Ok(lines)
}
