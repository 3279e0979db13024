//! One test's world: PKI files, an echo upstream and an Envoy running the
//! filter with the given plugin configuration.

use super::bootstrap::{self, EnvoySpec, Files};
use super::client::TlsClient;
use super::curl::Curl;
use super::envoy::{self, Envoy, Exited};
use super::fixture::{PkiFiles, TestPki};
use super::http::Response;
use super::onerecord::deny_reason;
use super::tempdir::TempDir;
use super::upstream::Upstream;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;

pub struct Stack {
    // Declared first so it is dropped first: Envoy stops before its upstream.
    pub envoy: Envoy,
    pub upstream: Upstream,
    pub pki: &'static TestPki,
    pub files: PkiFiles,
}

impl Stack {
    /// Starts Envoy with `plugin_config` and the default listeners and routes.
    pub fn start(plugin_config: Value) -> Stack {
        Stack::start_spec(EnvoySpec::new(&plugin_config))
    }

    pub fn start_spec(spec: EnvoySpec) -> Stack {
        Stack::start_edited(spec, |_, _| {})
    }

    /// Starts Envoy on the bootstrap for `spec` after `edit` changed it;
    /// `edit` also gets the test directory, for files the change refers to.
    pub fn start_edited(spec: EnvoySpec, edit: impl FnOnce(&mut Value, &TempDir)) -> Stack {
        let (dir, files, upstream, mut config) = prepare(&spec);
        edit(&mut config, &dir);
        match Envoy::start(dir, &config) {
            Ok(envoy) => Stack {
                envoy,
                upstream,
                pki: TestPki::shared(),
                files,
            },
            Err(exited) => panic!(
                "Envoy exited during start ({}); log:\n{}",
                exited.status,
                envoy::tail(&exited.log, 40)
            ),
        }
    }

    /// Starts Envoy with a configuration it must refuse; returns how it exited.
    pub fn start_expecting_exit(spec: EnvoySpec) -> Exited {
        let (dir, _files, _upstream, config) = prepare(&spec);
        Envoy::start_expecting_exit(dir, &config)
    }

    /// Writes a bootstrap for `spec` (and the PKI it names) into `dir`,
    /// without starting anything: for `envoy --mode validate`.
    pub fn bootstrap_file(dir: &TempDir, name: &str, spec: EnvoySpec) -> PathBuf {
        let unused_upstream: SocketAddr = ([127, 0, 0, 1], 9).into();
        let (_, config) = render_in(dir, &spec, unused_upstream);
        dir.write(
            name,
            serde_json::to_string_pretty(&config).expect("bootstrap JSON"),
        )
    }

    /// The pin for the test client CA, as `trusted_ca_sha256` wants it.
    pub fn client_ca_sha256() -> String {
        TestPki::shared().client_ca.sha256_hex()
    }

    pub fn tls(&self) -> SocketAddr {
        self.envoy.listener(bootstrap::TLS)
    }

    pub fn plain(&self) -> SocketAddr {
        self.envoy.listener(bootstrap::PLAIN)
    }

    pub fn legacy(&self) -> SocketAddr {
        self.envoy.listener(bootstrap::LEGACY)
    }

    /// A TLS 1.2+ client that trusts the test server CA and presents no certificate.
    pub fn client(&self) -> TlsClient {
        TlsClient::new(&self.pki.server_ca.cert)
    }

    /// HTTP/2 over TLS to the TLS listener.
    pub fn h2(&self) -> Curl {
        Curl::h2(self.tls(), &self.files.server_ca)
    }
}

/// Directory, PKI files, upstream and rendered bootstrap for `spec`.
fn prepare(spec: &EnvoySpec) -> (TempDir, PkiFiles, Upstream, Value) {
    let dir = TempDir::new("e2e");
    let upstream = Upstream::start();
    let (files, config) = render_in(&dir, spec, upstream.addr());
    (dir, files, upstream, config)
}

/// Writes the PKI into `dir` and renders the bootstrap pointing at it.
fn render_in(dir: &TempDir, spec: &EnvoySpec, upstream: SocketAddr) -> (PkiFiles, Value) {
    let files = PkiFiles::write(TestPki::shared(), dir);
    let client_ca = match &spec.client_ca_pem {
        Some(pem) => dir.write("client-ca-bundle.pem", pem),
        None => files.client_ca.clone(),
    };
    let paths = Files {
        wasm: envoy::wasm(),
        server_cert: files.server_cert.clone(),
        server_key: files.server_key.clone(),
        legacy_cert: files.legacy_cert.clone(),
        legacy_key: files.legacy_key.clone(),
        client_ca,
    };
    let config = bootstrap::render(spec, &paths, upstream);
    (files, config)
}

/// Refused by the filter with `reason`, nothing forwarded to the upstream.
pub fn assert_refused(s: &Stack, resp: &Response, reason: &str, what: &str) {
    assert_eq!(resp.status, 403, "{what}: {resp:#?}");
    assert_eq!(deny_reason(resp), Some(reason), "{what}: {resp:#?}");
    assert_eq!(s.upstream.count(), 0, "{what}: {:#?}", s.upstream.seen());
}
