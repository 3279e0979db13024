//! The requests the demo shows, what each must answer, and the self-check
//! that runs them.

use super::{
    AUDIT, CLIENT_SHA256, CLIENT_SUBJECT, CLIENT_URI_SAN, CURL_TLS11, DEMO_AGENT, Demo, HTTP,
    HTTPS, LEGACY_TLS, LOGISTICS_AGENT, MTLS, Outcome, POLICY, RULE, TLS_VERSION, TOKEN_BINDING,
    TRUST_ANCHOR, run_curl, shown,
};
use std::path::PathBuf;

impl Demo {
    /// The requests the demo shows, each with what the policy must answer.
    pub fn cases(&self) -> Vec<Case> {
        let ca = shown(&self.files.server_ca);
        let tls = |extra: &[&str], url: String| -> Vec<String> {
            let mut args: Vec<String> = ["-sSi", "--cacert", &ca].map(String::from).to_vec();
            args.extend(extra.iter().map(|a| a.to_string()));
            args.push(url);
            args
        };
        let cert = |(chain, key): &(PathBuf, PathBuf)| [shown(chain), shown(key)];
        let [client, client_key] = cert(&self.files.client);
        let client = ["--cert", &client, "--key", &client_key];
        let token = format!("@{}", shown(&self.files.token));
        let other_agent_token = format!("@{}", shown(&self.files.other_agent_token));
        let with_token = |token: &str| {
            let mut args = client.map(String::from).to_vec();
            args.extend(["-H".to_string(), token.to_string()]);
            args
        };
        let [unpinned, unpinned_key] = cert(&self.files.unpinned_client);
        let [expired, expired_key] = cert(&self.files.expired_client);
        vec![
            Case::new(
                "plaintext",
                "Plain HTTP gets a ONE Record error",
                vec!["-sSi".into(), self.url(HTTP, "/")],
                Expect::deny("tls_required"),
            ),
            Case::new(
                "tls12",
                "TLS 1.2: the server information",
                tls(&["--tlsv1.2", "--tls-max", "1.2"], self.url(HTTPS, "/")),
                Expect::allow(200, "api:ServerInformation")
                    .fact(TLS_VERSION, "TLSv1.2")
                    .fact(MTLS, "none"),
            ),
            Case::new(
                "tls13_object",
                "TLS 1.3: a logistics object",
                tls(&[], self.url(HTTPS, "/logistics-objects/demo-piece-1")),
                Expect::allow(200, "cargo:Piece")
                    .fact(TLS_VERSION, "TLSv1.3")
                    .fact(MTLS, "none"),
            ),
            Case::new(
                "forged_headers",
                "x-onerecord-* headers a client sends are replaced, never passed on",
                tls(
                    &[
                        "-H",
                        "x-onerecord-mtls: verified",
                        "-H",
                        "x-onerecord-client-subject: CN=forged",
                    ],
                    self.url(HTTPS, "/"),
                ),
                Expect::allow(200, "api:ServerInformation")
                    .fact(MTLS, "none")
                    .absent(CLIENT_SUBJECT),
            ),
            Case::new(
                "tls11_refused",
                "TLS 1.1 on the ONE Record listener: Envoy refuses the handshake",
                tls(CURL_TLS11, self.url(HTTPS, "/")),
                Expect::handshake_refused(),
            ),
            Case::new(
                "tls11_filter",
                "TLS 1.1 on the demo's legacy listener: the filter refuses the request",
                tls(CURL_TLS11, self.url(LEGACY_TLS, "/")),
                Expect::deny("tls_version_too_low"),
            ),
            Case::new(
                "mtls_missing",
                "/access-delegations without a client certificate",
                tls(&[], self.url(HTTPS, "/access-delegations")),
                Expect::deny("client_certificate_required"),
            ),
            Case::new(
                "mtls_verified",
                "/access-delegations with the demo client (leaf + intermediate, pinned root)",
                tls(&client, self.url(HTTPS, "/access-delegations")),
                Expect::allow(200, "api:AccessDelegationRequest")
                    .fact(MTLS, "verified")
                    .fact(RULE, "access-delegations")
                    .fact(TRUST_ANCHOR, &self.pinned_sha256)
                    .fact(CLIENT_SHA256, &self.client_sha256)
                    .fact(
                        CLIENT_URI_SAN,
                        "https://1r.example.com/logistics-agents/demo-airline",
                    )
                    .present(CLIENT_SUBJECT),
            ),
            Case::new(
                "action_requests",
                "/action-requests with the demo client and its token, bound to its certificate",
                tls(
                    &strs(&with_token(&token)),
                    self.url(HTTPS, "/action-requests/demo-1"),
                ),
                Expect::allow(200, "api:ActionRequest")
                    .fact(MTLS, "verified")
                    .fact(RULE, "action-requests")
                    .fact(LOGISTICS_AGENT, DEMO_AGENT)
                    .fact(TOKEN_BINDING, "verified"),
            ),
            Case::new(
                "action_requests_no_token",
                "/action-requests with the demo client but no token",
                tls(&client, self.url(HTTPS, "/action-requests/demo-1")),
                Expect::deny("token_required").status(401),
            ),
            Case::new(
                "action_requests_other_agent",
                "/action-requests with a token for another logistics agent",
                tls(
                    &strs(&with_token(&other_agent_token)),
                    self.url(HTTPS, "/action-requests/demo-1"),
                ),
                Expect::deny("token_agent_mismatch"),
            ),
            Case::new(
                "unpinned",
                "A client of a CA that Envoy trusts but the policy does not pin",
                tls(
                    &["--cert", &unpinned, "--key", &unpinned_key],
                    self.url(HTTPS, "/access-delegations"),
                ),
                Expect::deny("untrusted_ca"),
            ),
            Case::new(
                "expired",
                "An expired client certificate (Envoy lets it through here, the filter does not)",
                tls(
                    &["--cert", &expired, "--key", &expired_key],
                    self.url(HTTPS, "/access-delegations"),
                ),
                Expect::deny("certificate_expired"),
            ),
            Case::new(
                "audit",
                "Audit mode: what enforce would deny is forwarded, with a verdict for the backend",
                tls(&[], self.url(AUDIT, "/access-delegations")),
                Expect::allow(200, "api:AccessDelegationRequest")
                    .fact(POLICY, "audit-deny; reason=client_certificate_required")
                    .fact(MTLS, "none"),
            ),
        ]
    }

    /// Runs every case once and compares the answer with its expectation.
    pub fn self_check(&self) -> Vec<Checked> {
        self.cases()
            .into_iter()
            .map(|case| {
                let outcome = run_curl(&case.args);
                let problems = case.expect.problems(&outcome);
                Checked {
                    case,
                    outcome,
                    problems,
                }
            })
            .collect()
    }
}

/// One request the demo shows.
#[derive(Clone, Debug)]
pub struct Case {
    /// Stable name, for tests/demo.rs.
    pub id: &'static str,
    pub title: &'static str,
    /// The arguments after `curl`, exactly as printed.
    pub args: Vec<String>,
    pub expect: Expect,
}

impl Case {
    fn new(id: &'static str, title: &'static str, args: Vec<String>, expect: Expect) -> Case {
        Case {
            id,
            title,
            args,
            expect,
        }
    }

    /// The command line to paste.
    pub fn command(&self) -> String {
        let args: Vec<String> = self.args.iter().map(|a| shell_quote(a)).collect();
        format!("curl {}", args.join(" "))
    }
}

/// What a case must answer.
#[derive(Clone, Debug)]
pub struct Expect {
    /// `None`: no HTTP answer, because the TLS handshake is refused.
    pub status: Option<u16>,
    pub deny_reason: Option<&'static str>,
    /// The JSON-LD `@type` of the body.
    pub body_type: Option<&'static str>,
    /// What the backend must have received.
    pub facts: Vec<(&'static str, Fact)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fact {
    Is(String),
    Present,
    Absent,
}

impl Expect {
    fn deny(reason: &'static str) -> Expect {
        Expect {
            status: Some(403),
            deny_reason: Some(reason),
            body_type: Some("api:Error"),
            facts: Vec::new(),
        }
    }

    fn allow(status: u16, body_type: &'static str) -> Expect {
        Expect {
            status: Some(status),
            deny_reason: None,
            body_type: Some(body_type),
            facts: Vec::new(),
        }
    }

    fn handshake_refused() -> Expect {
        Expect {
            status: None,
            deny_reason: None,
            body_type: None,
            facts: Vec::new(),
        }
    }

    fn status(mut self, status: u16) -> Expect {
        self.status = Some(status);
        self
    }

    fn fact(mut self, name: &'static str, value: &str) -> Expect {
        self.facts.push((name, Fact::Is(value.to_string())));
        self
    }

    fn present(mut self, name: &'static str) -> Expect {
        self.facts.push((name, Fact::Present));
        self
    }

    fn absent(mut self, name: &'static str) -> Expect {
        self.facts.push((name, Fact::Absent));
        self
    }

    /// How `got` differs from this expectation; empty when it matches.
    pub fn problems(&self, got: &Outcome) -> Vec<String> {
        let mut problems = Vec::new();
        let Some(status) = self.status else {
            // curl's "SSL connect error": the server refused the handshake.
            if got.failure.as_ref().map(|(code, _)| *code) != Some(35) {
                problems.push(format!(
                    "expected the TLS handshake to be refused (curl exit 35), got {}",
                    got.summary()
                ));
            }
            return problems;
        };
        if got.status != Some(status) {
            problems.push(format!("expected status {status}, got {}", got.summary()));
        }
        if got.deny_reason.as_deref() != self.deny_reason {
            problems.push(format!(
                "expected deny reason {:?}, got {:?}",
                self.deny_reason, got.deny_reason
            ));
        }
        if self.body_type.is_some() && got.body_type.as_deref() != self.body_type {
            problems.push(format!(
                "expected a body of @type {:?}, got {:?}",
                self.body_type, got.body_type
            ));
        }
        for (name, fact) in &self.facts {
            let value = got.facts.get(*name);
            let ok = match fact {
                Fact::Is(want) => value == Some(want),
                Fact::Present => value.is_some(),
                Fact::Absent => value.is_none(),
            };
            if !ok {
                problems.push(format!(
                    "backend should have received {name} {fact:?}, got {value:?}"
                ));
            }
        }
        problems
    }
}

/// A case with what it got.
#[derive(Clone, Debug)]
pub struct Checked {
    pub case: Case,
    pub outcome: Outcome,
    /// Empty when the answer is the expected one.
    pub problems: Vec<String>,
}

impl Checked {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}
