//! The clients of the soak, one per class, and the verdict each deserves.

use onerecord_tls_policy_testkit as support;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt;
use support::bootstrap::EnvoySpec;
use support::client::{Connection, PreparedClient, try_connect_plain};
use support::fixture::TestPki;
use support::http::{Request, Response};
use support::pki::{CertSpec, Issued, issue};
use support::policies::{DELEGATION, OBJECT, delegations_rule, pinned_client_ca, with};
use support::stack::Stack;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Class {
    /// Pinned client: 200, verified as itself.
    Good,
    /// Client of a CA Envoy trusts but the policy does not pin.
    Unpinned,
    /// Expired client certificate (Envoy told to allow expired ones).
    Expired,
    /// Client certificate on the revocation list.
    Revoked,
    /// Plain HTTP.
    Plaintext,
    /// TLS without a client certificate: denied where mTLS is required,
    /// passed without identity elsewhere (alternately).
    Anonymous,
}

pub(super) const CLASSES: [Class; 6] = [
    Class::Good,
    Class::Unpinned,
    Class::Expired,
    Class::Revoked,
    Class::Plaintext,
    Class::Anonymous,
];

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

pub(super) struct World {
    pub(super) s: Stack,
    pub(super) good: &'static Issued,
    pub(super) clients: BTreeMap<Class, PreparedClient>,
}

impl World {
    pub(super) fn start() -> World {
        let pki = TestPki::shared();
        let (root, good, unpinned) = (&pki.client_ca, &pki.client, &pki.outsider);
        let expired = issue(&CertSpec::client("expired-1").validity(-7200, -3600), root);
        let revoked = issue(&CertSpec::client("revoked-1"), root);
        let config = with(
            pinned_client_ca(),
            json!({
                "revoked_sha256": [revoked.sha256_hex()],
                "rules": [delegations_rule()],
            }),
        );
        let spec = EnvoySpec::new(&config)
            .client_ca_pem(&pki.envoy_trust())
            .allow_expired_certificate();
        let s = Stack::start_spec(spec);
        let clients = [
            (Class::Good, s.client().cert(good)),
            (Class::Unpinned, s.client().cert(unpinned)),
            (Class::Expired, s.client().cert(&expired)),
            (Class::Revoked, s.client().cert(&revoked)),
            (Class::Anonymous, s.client()),
        ]
        .into_iter()
        .map(|(class, client)| (class, client.prepare().expect("client context")))
        .collect();
        World { s, good, clients }
    }

    pub(super) fn connect(&self, class: Class) -> Result<Connection, String> {
        match class {
            Class::Plaintext => try_connect_plain(self.s.plain()).map_err(|e| e.to_string()),
            other => self.clients[&other].connect(self.s.tls()),
        }
    }
}

/// One request of `class`; `n` alternates the anonymous client's path.
pub(super) fn request(class: Class, id: &str, n: u64) -> Request {
    let path = match class {
        Class::Plaintext => OBJECT,
        Class::Anonymous if n % 2 == 1 => OBJECT,
        _ => DELEGATION,
    };
    Request::get(path)
        .header("x-soak-id", id)
        // Forged on every request; the upstream must only ever see the filter's.
        .header("x-onerecord-mtls", "verified")
        .header("x-onerecord-client-sha256", &"ab".repeat(32))
}

/// Whether `resp` is the verdict `class` deserves for `req`.
pub(super) fn check(
    class: Class,
    req: &Request,
    resp: &Response,
    good_sha256: &str,
) -> Result<(), String> {
    let deny = |reason: &str| {
        let got = resp.header("x-onerecord-deny-reason");
        if resp.status == 403 && got == Some(reason) {
            Ok(())
        } else {
            Err(format!("want 403 {reason}, got {} {got:?}", resp.status))
        }
    };
    match class {
        Class::Good => passed(req, resp, "verified", Some(good_sha256)),
        Class::Unpinned => deny("untrusted_ca"),
        Class::Expired => deny("certificate_expired"),
        Class::Revoked => deny("certificate_revoked"),
        Class::Plaintext => deny("tls_required"),
        Class::Anonymous if req.path == OBJECT => passed(req, resp, "none", None),
        Class::Anonymous => deny("client_certificate_required"),
    }
}

/// A 200 from the upstream for this very request, with the annotations of
/// `mtls` and `client_sha256`.
pub(super) fn passed(
    req: &Request,
    resp: &Response,
    mtls: &str,
    client_sha256: Option<&str>,
) -> Result<(), String> {
    if resp.status != 200 {
        return Err(format!(
            "want 200, got {} {:?}",
            resp.status,
            resp.header("x-onerecord-deny-reason")
        ));
    }
    let echo: BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&resp.body).map_err(|e| format!("echo: {e}"))?;
    let one = |name: &str| match echo.get(name).map(Vec::as_slice) {
        Some([value]) => Some(value.as_str()),
        _ => None,
    };
    let sent_id = req.headers.iter().find(|(n, _)| n == "x-soak-id");
    let got = (
        one("x-soak-id"),
        one("x-onerecord-mtls"),
        one("x-onerecord-client-sha256"),
    );
    let want = (sent_id.map(|(_, v)| v.as_str()), Some(mtls), client_sha256);
    if got == want {
        Ok(())
    } else {
        Err(format!("upstream saw {got:?}, want {want:?}"))
    }
}
