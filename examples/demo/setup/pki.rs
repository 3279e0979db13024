//! The demo's certificates and the PEM files Envoy and curl read.

use super::DAY;
use onerecord_tls_policy_testkit::jwt::{self, TokenIssuer};
use onerecord_tls_policy_testkit::pki::{
    CertSpec, Issued, KeyKind, issue, pem_bundle, self_signed,
};
use std::path::{Path, PathBuf};

/// The demo's certificates. Client side: a pinned root with an intermediate
/// that issues the good, the expired and the revocable client; a second root Envoy trusts
/// but the policy does not pin. Server side: a separate CA, as in production.
pub struct DemoPki {
    pub server_ca: Issued,
    pub server: Issued,
    pub root: Issued,
    pub intermediate: Issued,
    pub client: Issued,
    pub unpinned_ca: Issued,
    pub unpinned_client: Issued,
    pub expired_client: Issued,
    /// Issued by the intermediate; the revocation step has the CA list it.
    pub revocable_client: Issued,
    /// Signs the demo's access tokens; envoy.yaml's jwt_authn gets its JWKS.
    pub token_issuer: TokenIssuer,
}

/// The demo client's logistics agent: its certificate's URI SAN.
pub const DEMO_AGENT: &str = "https://1r.example.com/logistics-agents/demo-airline";
/// The common name of the client the revocation step revokes.
pub const REVOCABLE_CLIENT: &str = "revocable-airline";
/// Another agent, whose token the demo client must not use.
pub const OTHER_AGENT: &str = "https://1r.example.com/logistics-agents/demo-forwarder";

/// Paths of the demo's PEM files (all under `<dir>/certs/`).
#[derive(Clone, Debug)]
pub struct DemoFiles {
    /// What curl trusts for the server.
    pub server_ca: PathBuf,
    /// The pinned CA, for reference.
    pub root: PathBuf,
    /// (chain, key): the leaf followed by the intermediate.
    pub client: (PathBuf, PathBuf),
    pub unpinned_client: (PathBuf, PathBuf),
    pub expired_client: (PathBuf, PathBuf),
    /// `Authorization: Bearer …` header files for curl's `-H @file`: a
    /// token for the demo client's agent bound to its certificate, and one
    /// for another agent.
    pub token: PathBuf,
    pub other_agent_token: PathBuf,
}

impl DemoPki {
    pub fn generate() -> DemoPki {
        let demo = Some("ONE Record Demo");
        let server_ca = self_signed(&CertSpec::ca("ONE Record Demo Server CA").organization(demo));
        // RSA: the legacy listener's TLS 1.0/1.1 suites are RSA-authenticated.
        let server = issue(
            &CertSpec::server("localhost")
                .key(KeyKind::Rsa(2048))
                .organization(demo),
            &server_ca,
        );
        let root = self_signed(&CertSpec::ca("ONE Record Demo Root CA").organization(demo));
        let intermediate = issue(
            &CertSpec::ca("ONE Record Demo Issuing CA")
                .organization(demo)
                .path_len(Some(0)),
            &root,
        );
        let client = issue(&CertSpec::client("demo-airline"), &intermediate);
        let unpinned_ca = self_signed(
            &CertSpec::ca("Unlisted Partner CA").organization(Some("Unlisted Partner")),
        );
        let unpinned_client = issue(
            &CertSpec::client("unlisted-forwarder").organization(Some("Unlisted Forwarder")),
            &unpinned_ca,
        );
        let expired_client = issue(
            &CertSpec::client("expired-airline").validity(-30 * DAY, -DAY),
            &intermediate,
        );
        let revocable_client = issue(&CertSpec::client(REVOCABLE_CLIENT), &intermediate);
        DemoPki {
            server_ca,
            server,
            root,
            intermediate,
            client,
            unpinned_ca,
            unpinned_client,
            expired_client,
            revocable_client,
            token_issuer: TokenIssuer::generate("demo"),
        }
    }

    /// Writes the files envoy/envoy.yaml names (`certs/server.pem`,
    /// `certs/server.key`, `certs/client-ca.pem`) and the clients' files.
    pub fn write(&self, dir: &Path) -> DemoFiles {
        let certs = dir.join("certs");
        std::fs::create_dir_all(&certs)
            .unwrap_or_else(|e| panic!("create {}: {e}", certs.display()));
        let write = |name: &str, text: String| {
            let path = certs.join(name);
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            path
        };
        write("server.pem", self.server.pem());
        write("server.key", self.server.key_pem());
        // Envoy's trusted_ca is broader than the pin, as in production.
        write(
            "client-ca.pem",
            pem_bundle(&[&self.root, &self.unpinned_ca]),
        );
        DemoFiles {
            server_ca: write("server-ca.pem", self.server_ca.pem()),
            root: write("root-ca.pem", self.root.pem()),
            client: (
                write(
                    "client.pem",
                    pem_bundle(&[&self.client, &self.intermediate]),
                ),
                write("client.key", self.client.key_pem()),
            ),
            unpinned_client: (
                write("unpinned-client.pem", self.unpinned_client.pem()),
                write("unpinned-client.key", self.unpinned_client.key_pem()),
            ),
            expired_client: (
                write(
                    "expired-client.pem",
                    pem_bundle(&[&self.expired_client, &self.intermediate]),
                ),
                write("expired-client.key", self.expired_client.key_pem()),
            ),
            token: write("token.header", self.bearer(DEMO_AGENT)),
            other_agent_token: write("other-agent-token.header", self.bearer(OTHER_AGENT)),
        }
    }

    /// A header line with a token for `agent` bound to the demo client's
    /// certificate, valid for a day (the demo may run that long).
    fn bearer(&self, agent: &str) -> String {
        let now = onerecord_tls_policy_testkit::unix_now();
        let mut claims = jwt::claims(agent, Some(&self.client.der()), now);
        claims["exp"] = (now + DAY as u64).into();
        format!(
            "Authorization: Bearer {}\n",
            self.token_issuer.sign(&claims)
        )
    }
}
