//! `limbo FILE…`: runs x509-limbo path-validation cases through the filter's
//! own decision code and reports, per namespace, the cases that pass, the
//! chains wrongly accepted and wrongly rejected (with the reason), the
//! rejects the ONE Record profile explains (`profile.rs`), and the cases
//! skipped with why.

mod case;
mod profile;

use crate::Failure;
use crate::args::LimboArgs;
use case::{Case, Verdict};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

/// Exit status when some case was wrongly accepted, or wrongly rejected
/// without the profile explaining it.
const EXIT_MISMATCH: u8 = 1;

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Pass,
    WrongAccept,
    WrongReject(String),
    /// A wrong reject the profile explains: the reason, and why.
    ProfileReject(String, &'static str),
    Skipped(String),
}

#[derive(Default)]
struct Tally {
    pass: usize,
    wrong_accept: usize,
    wrong_reject: usize,
    profile_reject: usize,
    skipped: usize,
}

pub fn run(args: &LimboArgs) -> Result<ExitCode, Failure> {
    let mut mismatches = 0;
    for path in &args.files {
        let client_role = args.client_role
            || path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains("clientauth"));
        let cases = read(path)?;
        let results: Vec<(Case, Outcome)> = cases
            .into_iter()
            .map(|case| {
                let outcome = outcome(&case, client_role, &args.x509_profile);
                (case, outcome)
            })
            .collect();
        println!("x509_profile {}", args.x509_profile);
        print!("{}", report(path, client_role, &results, args.verbose));
        mismatches += results
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::WrongAccept | Outcome::WrongReject(_)))
            .count();
    }
    Ok(if mismatches == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_MISMATCH)
    })
}

fn read(path: &Path) -> Result<Vec<Case>, Failure> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| Failure::new(format!("cannot read {shown}: {e}")))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Failure::new(format!("{shown}: not JSON: {e}")))?;
    let cases = value
        .get("testcases")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| Failure::new(format!("{shown}: no `testcases` array (not a limbo file)")))?;
    cases
        .iter()
        .map(|c| Case::read(c).map_err(|e| Failure::new(format!("{shown}: {e}"))))
        .collect()
}

fn outcome(case: &Case, client_role: bool, x509_profile: &str) -> Outcome {
    if let Some(why) = case.skip_reason(client_role) {
        return Outcome::Skipped(why);
    }
    match (case.verdict(x509_profile), case.expect_success) {
        (Err(e), _) => Outcome::Skipped(format!("unreadable case: {e}")),
        (Ok(Verdict::Accept { .. }), true) | (Ok(Verdict::Reject(_)), false) => Outcome::Pass,
        (Ok(verdict), _) if !case.conflicts_with.is_empty() => Outcome::Skipped(format!(
            "contradicts {} (limbo: a verifier follows one of them); the filter: {}",
            case.conflicts_with.join(", "),
            match verdict {
                Verdict::Accept { .. } => "accept".to_string(),
                Verdict::Reject(reason) => format!("reject, {reason}"),
            }
        )),
        (Ok(Verdict::Reject(reason)), true) => match profile::explained(&case.id) {
            Some(why) => Outcome::ProfileReject(reason, why),
            None => Outcome::WrongReject(reason),
        },
        (Ok(Verdict::Accept { dns_sans }), false) if !case.peer_name_matches(&dns_sans) => {
            Outcome::Skipped("fails only on server-name matching (expected_peer_name)".into())
        }
        (Ok(Verdict::Accept { .. }), false) if case.public_suffix_wildcard => Outcome::Skipped(
            "fails only on matching a wildcard over a public suffix to a peer name \
             (pedantic-public-suffix-wildcard)"
                .into(),
        ),
        (Ok(Verdict::Accept { .. }), false) => Outcome::WrongAccept,
    }
}

fn report(path: &Path, client_role: bool, results: &[(Case, Outcome)], verbose: bool) -> String {
    let mut by_namespace: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    let mut details = String::new();
    for (case, outcome) in results {
        let tally = by_namespace.entry(case.namespace()).or_default();
        let line = match outcome {
            Outcome::Pass => {
                tally.pass += 1;
                total.pass += 1;
                None
            }
            Outcome::WrongAccept => {
                tally.wrong_accept += 1;
                total.wrong_accept += 1;
                Some("wrong accept".to_string())
            }
            Outcome::WrongReject(reason) => {
                tally.wrong_reject += 1;
                total.wrong_reject += 1;
                Some(format!("wrong reject: {reason}"))
            }
            Outcome::ProfileReject(reason, why) => {
                tally.profile_reject += 1;
                total.profile_reject += 1;
                Some(format!("profile reject: {reason}: {why}"))
            }
            Outcome::Skipped(why) => {
                tally.skipped += 1;
                total.skipped += 1;
                verbose.then(|| format!("skipped: {why}"))
            }
        };
        if let Some(line) = line {
            let _ = writeln!(details, "  {}: {line}", case.id);
        }
    }
    let role = if client_role {
        "client role"
    } else {
        "as labelled"
    };
    let mut out = format!("{} ({role}, {} cases)\n", path.display(), results.len());
    let _ = writeln!(
        out,
        "  {:<28} {:>5} {:>13} {:>13} {:>8} {:>8}",
        "namespace", "pass", "wrong accept", "wrong reject", "profile", "skipped"
    );
    let row = |out: &mut String, name: &str, t: &Tally| {
        let _ = writeln!(
            out,
            "  {:<28} {:>5} {:>13} {:>13} {:>8} {:>8}",
            name, t.pass, t.wrong_accept, t.wrong_reject, t.profile_reject, t.skipped
        );
    };
    for (namespace, tally) in &by_namespace {
        row(&mut out, namespace, tally);
    }
    row(&mut out, "total", &total);
    out.push_str(&details);
    out
}
