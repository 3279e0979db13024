//! Running one curl command and reading what it got.

use super::DENY_REASON;
use crate::backend::FACTS_KEY;
use onerecord_tls_policy_testkit::curl::parse_dump;
use onerecord_tls_policy_testkit::http::Response;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

/// What a curl command got.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub status: Option<u16>,
    pub deny_reason: Option<String>,
    pub body_type: Option<String>,
    /// The `x-onerecord-*` headers the backend reported receiving.
    pub facts: BTreeMap<String, String>,
    /// curl's exit code and message when there was no HTTP answer.
    pub failure: Option<(i32, String)>,
}

impl Outcome {
    pub fn summary(&self) -> String {
        if let Some((code, message)) = &self.failure {
            return format!("no HTTP answer (curl exit {code}: {message})");
        }
        let status = self.status.map(|s| s.to_string()).unwrap_or_default();
        match (&self.deny_reason, &self.body_type) {
            (Some(reason), _) => format!("{status} {reason}"),
            (None, Some(body_type)) => format!("{status} {body_type}"),
            (None, None) => status,
        }
    }
}

/// Runs curl with `args` (plus a timeout) and reads its `-i` output.
pub fn run_curl(args: &[String]) -> Outcome {
    let out = match Command::new("curl")
        .args(args)
        .args(["--max-time", "10"])
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            return Outcome {
                failure: Some((-1, format!("cannot run curl: {e}"))),
                ..Outcome::default()
            };
        }
    };
    if !out.status.success() {
        let message = String::from_utf8_lossy(&out.stderr).trim().to_string();
        return Outcome {
            failure: Some((out.status.code().unwrap_or(-1), message)),
            ..Outcome::default()
        };
    }
    match parse_dump(&out.stdout) {
        Ok(response) => outcome(&response),
        Err(e) => Outcome {
            failure: Some((0, format!("unreadable answer: {e}"))),
            ..Outcome::default()
        },
    }
}

/// What an HTTP answer of the demo says: status, deny reason, body type and
/// the facts the backend received.
pub(super) fn outcome(response: &Response) -> Outcome {
    let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    let facts = body[FACTS_KEY]
        .as_object()
        .map(|facts| {
            facts
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    Outcome {
        status: Some(response.status),
        deny_reason: response.header(DENY_REASON).map(str::to_string),
        body_type: body["@type"].as_str().map(str::to_string),
        facts,
        failure: None,
    }
}
