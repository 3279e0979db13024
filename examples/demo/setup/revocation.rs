//! The revocation step: the demo's issuing CA publishes its CRL on the
//! backend side (fetched by the filter through `crl_sources`), and a client
//! verified on a keep-alive connection is refused on that same connection
//! once the CA lists it.

use super::{DAY, Demo, HTTPS, MTLS, Outcome, REVOCABLE_CLIENT, curl::outcome};
use onerecord_tls_policy_testkit::client::TlsClient;
use onerecord_tls_policy_testkit::crl::{Crl, CrlSpec};
use onerecord_tls_policy_testkit::pki::Issued;
use std::time::{Duration, Instant};

/// Where the demo's CRL server serves the issuing CA's CRL.
pub const CRL_PATH: &str = "/demo-issuing-ca.crl";
/// The demo's `crl_sources` refresh: short, so the step takes seconds.
pub const CRL_REFRESH_SECONDS: u64 = 2;
/// The first CRL (lists nothing) and the one that revokes the client.
const INITIAL_CRL_NUMBER: u64 = 1;
const REVOKING_CRL_NUMBER: u64 = 2;
/// Beyond `expiry_warning_days`, so the demo's CRLs raise no expiry warning.
const CRL_VALID_FOR: i64 = 90 * DAY;
/// The counter of CRL fetches the filter accepted.
const ACCEPTED_FETCHES: &str =
    "wasmcustom.onerecord_tls_policy.crl_fetches_total.source.0.result.ok";
/// A path whose rule requires mTLS, so the CRL applies to it.
const PROBE_PATH: &str = "/access-delegations";
/// How often the step asks again on the open connection.
const POLL: Duration = Duration::from_millis(200);

/// The issuing CA's first CRL: it lists nobody.
pub(super) fn initial_crl(issuing_ca: &Issued) -> Crl {
    CrlSpec::default()
        .times(-60, Some(CRL_VALID_FOR))
        .number(Some(INITIAL_CRL_NUMBER))
        .sign(issuing_ca)
}

/// What the revocation step saw.
#[derive(Clone, Debug)]
pub struct Revocation {
    /// The first answer on the connection, before the CA lists the client.
    pub before: Outcome,
    /// The first answer that was not a 200 after it did (or the last 200).
    pub after: Outcome,
    /// From publishing the CRL to `after`.
    pub took: Duration,
    /// Requests sent on the one connection.
    pub requests: usize,
    /// Why the step could not run to its end (a failed connection).
    pub failure: Option<String>,
    pub client_subject: String,
    pub client_serial: String,
    pub url: String,
    pub crl_url: String,
}

impl Revocation {
    /// What differs from the step's expectation: 200 (verified), then
    /// `403 certificate_revoked` on the same connection within
    /// `refresh_seconds` plus the second a worker takes to apply it.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(failure) = &self.failure {
            problems.push(failure.clone());
        }
        if self.before.status != Some(200)
            || self.before.facts.get(MTLS).map(String::as_str) != Some("verified")
        {
            problems.push(format!(
                "before the CRL: expected 200 with {MTLS}: verified, got {}",
                self.before.summary()
            ));
        }
        if self.after.status != Some(403)
            || self.after.deny_reason.as_deref() != Some("certificate_revoked")
        {
            problems.push(format!(
                "after the CRL: expected 403 certificate_revoked, got {}",
                self.after.summary()
            ));
        }
        if self.took > limit() {
            problems.push(format!(
                "took {:.1} s, more than refresh_seconds ({CRL_REFRESH_SECONDS}) plus a second",
                self.took.as_secs_f64()
            ));
        }
        problems
    }

    pub fn ok(&self) -> bool {
        self.problems().is_empty()
    }
}

fn limit() -> Duration {
    Duration::from_secs(CRL_REFRESH_SECONDS + 1)
}

impl Demo {
    /// `http://<crl server><CRL_PATH>`.
    pub fn crl_url(&self) -> String {
        format!("http://{}{CRL_PATH}", self.crl.addr())
    }

    /// Waits until the filter has the issuing CA's first CRL in force
    /// (until then every client the CA issued would be
    /// `revocation_status_unknown`): a fetch was accepted, and then a
    /// request of the revocable client on an mTLS rule is allowed.
    pub(super) fn wait_for_initial_crl(&self, within: Duration) -> Result<(), String> {
        let deadline = Instant::now() + within;
        let mut last = "no CRL fetch accepted".to_string();
        while Instant::now() < deadline && !self.crl_fetch_accepted() {
            std::thread::sleep(POLL);
        }
        while Instant::now() < deadline {
            match self.revocable_client().connect(self.envoy.listener(HTTPS)) {
                Ok(mut conn) => match conn.send(&probe()) {
                    Ok(resp) if resp.status == 200 => return Ok(()),
                    Ok(resp) => last = outcome(&resp).summary(),
                    Err(e) => last = e.to_string(),
                },
                Err(e) => last = e,
            }
            std::thread::sleep(POLL);
        }
        Err(format!(
            "the first CRL from {} was not in force within {} s (last answer: {last})",
            self.crl_url(),
            within.as_secs()
        ))
    }

    /// Runs the step: one keep-alive connection of the revocable client,
    /// a 200; the CA publishes a CRL listing it; the same connection asks
    /// again until it is refused (or `refresh_seconds` plus a second
    /// and a margin have passed).
    pub fn revoke_on_open_connection(&self) -> Revocation {
        let client = &self.pki.revocable_client;
        let mut step = Revocation {
            before: Outcome::default(),
            after: Outcome::default(),
            took: Duration::ZERO,
            requests: 0,
            failure: None,
            client_subject: format!("CN={REVOCABLE_CLIENT}"),
            client_serial: serial_hex(client),
            url: self.url(HTTPS, PROBE_PATH),
            crl_url: self.crl_url(),
        };
        let mut conn = match self.revocable_client().connect(self.envoy.listener(HTTPS)) {
            Ok(conn) => conn,
            Err(e) => {
                step.failure = Some(format!("cannot connect: {e}"));
                return step;
            }
        };
        let mut ask = |step: &mut Revocation| -> Option<Outcome> {
            step.requests += 1;
            match conn.send(&probe()) {
                Ok(resp) => Some(outcome(&resp)),
                Err(e) => {
                    step.failure = Some(format!(
                        "request {} on the open connection failed: {e}",
                        step.requests
                    ));
                    None
                }
            }
        };
        let Some(before) = ask(&mut step) else {
            return step;
        };
        step.before = before;

        let revoking = CrlSpec::default()
            .times(-60, Some(CRL_VALID_FOR))
            .number(Some(REVOKING_CRL_NUMBER))
            .revoke(client)
            .sign(&self.pki.intermediate);
        self.crl.serve(&revoking.der);
        let published = Instant::now();
        let give_up = published + limit() + Duration::from_secs(2);
        while let Some(answer) = ask(&mut step) {
            step.took = published.elapsed();
            let allowed = answer.status == Some(200);
            step.after = answer;
            if !allowed || Instant::now() >= give_up {
                break;
            }
            std::thread::sleep(POLL);
        }
        step
    }

    fn crl_fetch_accepted(&self) -> bool {
        let stats = self
            .envoy
            .admin_get(&format!("/stats?filter=^{ACCEPTED_FETCHES}$"));
        stats.text().lines().any(|line| {
            line.strip_prefix(ACCEPTED_FETCHES)
                .and_then(|rest| rest.strip_prefix(": "))
                .and_then(|n| n.trim().parse::<u64>().ok())
                .is_some_and(|n| n > 0)
        })
    }

    fn revocable_client(&self) -> TlsClient {
        TlsClient::new(&self.pki.server_ca.cert)
            .cert(&self.pki.revocable_client)
            .chain(&[&self.pki.intermediate])
    }
}

fn probe() -> onerecord_tls_policy_testkit::http::Request {
    onerecord_tls_policy_testkit::http::Request::get(PROBE_PATH)
}

fn serial_hex(cert: &Issued) -> String {
    cert.cert
        .serial_number()
        .to_bn()
        .and_then(|bn| bn.to_hex_str().map(|s| s.to_lowercase()))
        .unwrap_or_default()
}
