//! `explain`: the facts Envoy would give the filter, the filter's decision
//! (`Policy::decide`, the same code the wasm filter runs), and a report.

use crate::Failure;
use crate::args::ExplainArgs;
use crate::certs::{self, Certificate};
use crate::check_config;
use crate::crls;
use crate::report::Report;
use onerecord_tls_policy_core::binding::{TokenFacts, TokenPayload};
use onerecord_tls_policy_core::facts::{ConnectionFacts, Facts, RequestFacts};
use onerecord_tls_policy_core::policy::Policy;
use onerecord_tls_policy_core::revocation::describe_revoked;
use onerecord_tls_policy_core::state::State;
use onerecord_tls_policy_core::xfcc::envoy_format;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

/// Exit status of a denied request (enforce or audit mode).
const EXIT_DENIED: u8 = 1;

pub fn run(args: &ExplainArgs) -> Result<ExitCode, Failure> {
    let config = check_config::load(&args.config)?;
    let chain = match &args.chain {
        Some(path) => {
            let bundle = certs::read_file(path)?;
            for (number, label) in &bundle.skipped {
                eprintln!(
                    "note: {}: skipped PEM block {number} ({label}): a client sends certificates only",
                    path.display()
                );
            }
            bundle.certificates
        }
        None => Vec::new(),
    };
    let now_unix = match args.at {
        Some(at) => at,
        None => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Failure::new("the system clock is before 1970; pass --at"))?
            .as_secs(),
    };
    let mut facts = facts(args, &chain, now_unix);
    let policy = Policy::new(config);
    // As the filter: the payload is read only where a selected rule binds it.
    if policy.reads_token(&facts.request) {
        facts.request.token = token(args)?;
    }
    // The state of a fresh VM: the configured CRLs in force, then --crl.
    let mut state = policy.new_state();
    let mut crl_lines = crls::apply(&args.crls, &chain, &mut state.revocation)?;
    crl_lines.extend(crate::ocsp::apply(
        &args.ocsp_responses,
        &policy,
        &facts,
        &mut state,
    )?);
    let revoked = revoked_line(&policy, &facts, &state);
    let decision = policy.decide_with(&facts, &mut state).decision;
    let selected_rules: Vec<String> = policy
        .select_rules(&facts.request.path, &facts.request.method)
        .map(|s| s.rules(&policy.config).map(|r| r.name.clone()).collect())
        .unwrap_or_default();

    let mut known = chain;
    known.extend(
        policy
            .config
            .trust
            .ca_certificates_der
            .iter()
            .filter_map(|der| Certificate::from_der(der.clone(), "").ok()),
    );
    let report = Report {
        facts: &facts,
        decision: &decision,
        selected_rules: &selected_rules,
        known_certificates: &known,
        crls: &crl_lines,
        revoked: revoked.as_deref(),
    };
    if args.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.text());
    }
    Ok(if decision.deny_reason().is_some() {
        ExitCode::from(EXIT_DENIED)
    } else {
        ExitCode::SUCCESS
    })
}

/// Which certificate a CRL in force revokes, with the entry's reason code:
/// the path as verified with no CRL applied, checked against the CRLs.
fn revoked_line(policy: &Policy, facts: &Facts, state: &State) -> Option<String> {
    let unrevoked = policy.decide_with(facts, &mut State::new(0)).decision;
    let links = &unrevoked.client.as_ref()?.path_links;
    let (crl, link, entry) = state.revocation.find_revoked(links)?;
    Some(describe_revoked(crl, link, entry))
}

/// What the filter's fact gathering (`filter::facts::gather_facts`) yields
/// for this request on a connection where the client presented `chain`.
pub fn facts(args: &ExplainArgs, chain: &[Certificate], now_unix: u64) -> Facts {
    // Envoy reports an empty `connection.tls_version` on plaintext; the filter reads that as none.
    let tls_version = Some(args.tls_version.clone()).filter(|v| !args.plaintext && !v.is_empty());
    let peer = if tls_version.is_some() {
        let ders: Vec<Vec<u8>> = chain.iter().map(|c| c.der.clone()).collect();
        envoy_format::peer_facts(&ders)
    } else {
        None
    };
    Facts {
        request: RequestFacts {
            path: args.path.clone(),
            method: args.method.clone(),
            route_mtls: args.route_mtls.clone(),
            ..RequestFacts::default()
        },
        connection: Ok(ConnectionFacts {
            peer_uri_san: None,
            id: None,
            tls_version,
            peer,
        }),
        now_unix,
    }
}

/// The token facts for `--token-payload`: none without it; a payload the
/// filter could not read decides as it would there.
fn token(args: &ExplainArgs) -> Result<TokenFacts, Failure> {
    let Some(path) = &args.token_payload else {
        return Ok(TokenFacts::Absent);
    };
    let bytes = std::fs::read(path)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    Ok(match TokenPayload::from_json(&bytes) {
        Ok(payload) => TokenFacts::Verified(payload),
        Err(e) => {
            eprintln!(
                "note: {}: not a token payload the filter can read ({e:?})",
                path.display()
            );
            TokenFacts::Unreadable
        }
    })
}
