//! The PKI every end-to-end test starts from, and its files on disk.

use super::pki::{CertSpec, Issued, KeyKind, issue, pem_bundle, self_signed};
use super::tempdir::TempDir;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The common name of `TestPki::client_ca`.
pub const CLIENT_CA_NAME: &str = "Test ONE Record Client CA";
/// The common name of `TestPki::other_root`.
pub const OTHER_ROOT_NAME: &str = "Other Trusted Root CA";

/// Server and client sides have separate roots, as in production (a public
/// server CA; ONE Record CAs for clients), so trusting the wrong one shows.
pub struct TestPki {
    pub server_ca: Issued,
    /// EC P-256 for `localhost`, used by the TLS 1.2+ listeners.
    pub server: Issued,
    /// RSA, because the TLS 1.0/1.1 suites the legacy listener offers are RSA ones.
    pub legacy_server: Issued,
    /// The CA that issues ONE Record client certificates: the root the
    /// suites pin. Its key usage (keyCertSign, cRLSign) is a CA's only.
    pub client_ca: Issued,
    /// A valid client certificate issued directly by `client_ca` (`airline-1`).
    pub client: Issued,
    /// A second client of `client_ca` in good standing (`forwarder-1`).
    pub forwarder: Issued,
    /// A root Envoy trusts where a test says so (`envoy_trust`), pinned nowhere.
    pub other_root: Issued,
    /// Issued by `other_root` (`outsider-1`): Envoy accepts it, the policy does not.
    pub outsider: Issued,
}

impl TestPki {
    pub fn generate() -> TestPki {
        let server_ca = self_signed(&CertSpec::ca("Test Server Root CA"));
        let server = issue(&CertSpec::server("localhost"), &server_ca);
        let legacy_server = issue(
            &CertSpec::server("localhost").key(KeyKind::Rsa(2048)),
            &server_ca,
        );
        let client_ca = self_signed(&CertSpec::ca(CLIENT_CA_NAME));
        let client = issue(&CertSpec::client("airline-1"), &client_ca);
        let forwarder = issue(&CertSpec::client("forwarder-1"), &client_ca);
        let other_root = self_signed(&CertSpec::ca(OTHER_ROOT_NAME));
        let outsider = issue(&CertSpec::client("outsider-1"), &other_root);
        TestPki {
            server_ca,
            server,
            legacy_server,
            client_ca,
            client,
            forwarder,
            other_root,
            outsider,
        }
    }

    /// What Envoy validates client certificates against where the trust
    /// decision is to be the filter's: the pinned root and the unpinned one.
    pub fn envoy_trust(&self) -> String {
        pem_bundle(&[&self.client_ca, &self.other_root])
    }

    /// One PKI per test binary: RSA key generation is the slow part.
    pub fn shared() -> &'static TestPki {
        static PKI: OnceLock<TestPki> = OnceLock::new();
        PKI.get_or_init(TestPki::generate)
    }
}

/// Where `PkiFiles::write` put each PEM.
#[derive(Clone, Debug)]
pub struct PkiFiles {
    pub server_ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub legacy_cert: PathBuf,
    pub legacy_key: PathBuf,
    pub client_ca: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl PkiFiles {
    pub fn write(pki: &TestPki, dir: &TempDir) -> PkiFiles {
        PkiFiles {
            server_ca: dir.write("server-ca.pem", pki.server_ca.pem()),
            server_cert: dir.write("server.pem", pki.server.pem()),
            server_key: dir.write("server.key", pki.server.key_pem()),
            legacy_cert: dir.write("legacy-server.pem", pki.legacy_server.pem()),
            legacy_key: dir.write("legacy-server.key", pki.legacy_server.key_pem()),
            client_ca: dir.write("client-ca.pem", pki.client_ca.pem()),
            client_cert: dir.write("client.pem", pki.client.pem()),
            client_key: dir.write("client.key", pki.client.key_pem()),
        }
    }
}
