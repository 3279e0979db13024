//! The PKI every end-to-end test starts from, and its files on disk.

use super::pki::{CertSpec, Issued, KeyKind, issue, self_signed};
use super::tempdir::TempDir;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Server and client sides have separate roots, as in production (a public
/// server CA; ONE Record CAs for clients), so trusting the wrong one shows.
pub struct TestPki {
    pub server_ca: Issued,
    /// EC P-256 for `localhost`, used by the TLS 1.2+ listeners.
    pub server: Issued,
    /// RSA, because the TLS 1.0/1.1 suites the legacy listener offers are RSA ones.
    pub legacy_server: Issued,
    /// The CA that issues ONE Record client certificates.
    pub client_ca: Issued,
    /// A valid client certificate issued directly by `client_ca`.
    pub client: Issued,
}

impl TestPki {
    pub fn generate() -> TestPki {
        let server_ca = self_signed(&CertSpec::ca("Test Server Root CA"));
        let server = issue(&CertSpec::server("localhost"), &server_ca);
        let legacy_server = issue(
            &CertSpec::server("localhost").key(KeyKind::Rsa(2048)),
            &server_ca,
        );
        let client_ca = self_signed(&CertSpec::ca("Test ONE Record Client CA"));
        let client = issue(&CertSpec::client("airline-1"), &client_ca);
        TestPki {
            server_ca,
            server,
            legacy_server,
            client_ca,
            client,
        }
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
