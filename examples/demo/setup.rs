//! The demo, shared by `make run` (main.rs) and tests/demo.rs: a demo PKI, the
//! ONE Record backend, Envoy on a configuration derived from envoy/envoy.yaml,
//! and a self-check that runs every curl command the demo prints and compares
//! the answer with what the policy must do.

use crate::backend::{self, FACTS_KEY};
use onerecord_tls_policy_core::config::Config;
use onerecord_tls_policy_testkit::curl::parse_dump;
use onerecord_tls_policy_testkit::envoy::{self, Envoy, Exited};
use onerecord_tls_policy_testkit::http::Response;
use onerecord_tls_policy_testkit::pki::{
    CertSpec, Issued, KeyKind, issue, pem_bundle, self_signed,
};
use onerecord_tls_policy_testkit::tempdir::TempDir;
use onerecord_tls_policy_testkit::upstream::Upstream;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Arc;

/// Listeners of envoy/envoy.yaml, and the two the demo adds.
pub const HTTPS: &str = "onerecord_https";
pub const HTTP: &str = "onerecord_http";
pub const AUDIT: &str = "demo_audit";
pub const LEGACY_TLS: &str = "demo_legacy_tls";
const BACKEND_CLUSTER: &str = "onerecord_backend";

const WASM_FILTER: &str = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const TLS_CONTEXT: &str =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext";
/// envoy/envoy.yaml is written for a container with its files under here.
const EXAMPLE_ROOT: &str = "/etc/envoy/";
const EXAMPLE_WASM: &str = "/etc/envoy/onerecord_tls_policy.wasm";
/// BoringSSL's TLS 1.0/1.1 suites (CBC, SHA-1 MAC, RSA), plus TLS 1.2 ones.
const LEGACY_CIPHERS: &[&str] = &[
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-RSA-AES256-SHA",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
];
/// OpenSSL 3 refuses TLS 1.1 at its default security level.
const CURL_TLS11: &[&str] = &[
    "--tlsv1.1",
    "--tls-max",
    "1.1",
    "--ciphers",
    "DEFAULT@SECLEVEL=0",
];

pub const TLS_VERSION: &str = "x-onerecord-tls-version";
pub const MTLS: &str = "x-onerecord-mtls";
pub const CLIENT_SHA256: &str = "x-onerecord-client-sha256";
pub const CLIENT_SUBJECT: &str = "x-onerecord-client-subject";
pub const CLIENT_URI_SAN: &str = "x-onerecord-client-uri-san";
pub const TRUST_ANCHOR: &str = "x-onerecord-trust-anchor-sha256";
pub const RULE: &str = "x-onerecord-rule";
pub const POLICY: &str = "x-onerecord-policy";
const DENY_REASON: &str = "x-onerecord-deny-reason";

const DAY: i64 = 86_400;

/// Where each part of the demo listens (on 127.0.0.1). 0 means any free port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    pub https: u16,
    pub http: u16,
    pub audit: u16,
    pub legacy_tls: u16,
    pub admin: u16,
    pub backend: u16,
}

impl Ports {
    /// `make run`: the ports of envoy/envoy.yaml, and two more for the
    /// demo's own listeners.
    pub const FIXED: Ports = Ports {
        https: 8443,
        http: 8000,
        audit: 8444,
        legacy_tls: 8445,
        admin: 9901,
        backend: 8080,
    };
    /// Free ports, chosen at bind time (tests; `--any-ports`).
    pub const ANY: Ports = Ports {
        https: 0,
        http: 0,
        audit: 0,
        legacy_tls: 0,
        admin: 0,
        backend: 0,
    };

    fn listener(&self, name: &str) -> Option<u16> {
        match name {
            HTTPS => Some(self.https),
            HTTP => Some(self.http),
            AUDIT => Some(self.audit),
            LEGACY_TLS => Some(self.legacy_tls),
            _ => None,
        }
    }

    /// The fixed ports that something on this machine already listens on.
    pub fn busy(&self) -> Vec<u16> {
        let all = [
            self.https,
            self.http,
            self.audit,
            self.legacy_tls,
            self.admin,
            self.backend,
        ];
        all.into_iter()
            .filter(|port| *port != 0 && TcpListener::bind(("127.0.0.1", *port)).is_err())
            .collect()
    }
}

/// The demo's certificates. Client side: a pinned root with an intermediate
/// that issues the good and the expired client; a second root Envoy trusts
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
}

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
        DemoPki {
            server_ca,
            server,
            root,
            intermediate,
            client,
            unpinned_ca,
            unpinned_client,
            expired_client,
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
        }
    }
}

/// What `derive_config` fills into envoy/envoy.yaml.
pub struct Derivation<'a> {
    /// Stands in for `/etc/envoy/`.
    pub dir: &'a Path,
    pub wasm: &'a Path,
    pub ports: Ports,
    pub backend: SocketAddr,
    pub pinned_sha256: &'a str,
    /// Completes the clients' chains (they send leaf + intermediate).
    pub pinned_pem: &'a str,
}

/// envoy/envoy.yaml made runnable here. The changes are structural, so
/// additions to the example (stats, access logs) carry over untouched:
/// `/etc/envoy/` paths point into `dir`, file access logs too; listeners,
/// admin and backend use loopback and `ports`; the demo root CA is pinned;
/// Envoy accepts expired client certificates on the HTTPS listener so the
/// filter is what refuses them; and two demo-only copies of that listener are
/// added, one in audit mode and one that accepts TLS 1.0/1.1 handshakes.
pub fn derive_config(example: &str, d: &Derivation) -> Result<String, String> {
    let mut config: Value = serde_norway::from_str(example)
        .map_err(|e| format!("envoy/envoy.yaml does not parse: {e}"))?;

    visit_strings(&mut config, &|s| relocate(s, d));
    let access_log = d.dir.join("access.log");
    visit_objects(&mut config, &mut |object| {
        let is_file_log = object
            .get("@type")
            .and_then(Value::as_str)
            .is_some_and(|t| t.ends_with(".FileAccessLog"));
        let path = object
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("/dev/");
        if is_file_log && !path.starts_with("/dev/") && !Path::new(path).starts_with(d.dir) {
            object.insert("path".into(), json!(access_log));
        }
    });

    let admin = config
        .pointer_mut("/admin/address/socket_address")
        .ok_or("envoy/envoy.yaml has no admin.address.socket_address")?;
    *admin = json!({ "address": "127.0.0.1", "port_value": d.ports.admin });

    let mut pins = 0;
    visit_wasm_configs(&mut config, &mut |_, plugin| {
        plugin.insert("trusted_ca_sha256".into(), json!([d.pinned_sha256]));
        plugin.insert("ca_certificates_pem".into(), json!(d.pinned_pem));
        pins += 1;
    })?;
    if pins == 0 {
        return Err("envoy/envoy.yaml has no envoy.filters.http.wasm filter".into());
    }

    let listeners = config
        .pointer_mut("/static_resources/listeners")
        .and_then(Value::as_array_mut)
        .ok_or("envoy/envoy.yaml has no static_resources.listeners")?;
    for name in [HTTPS, HTTP] {
        if !listeners.iter().any(|l| l["name"] == name) {
            return Err(format!(
                "envoy/envoy.yaml has no listener {name:?}; update examples/demo/setup.rs"
            ));
        }
    }
    let https = listeners
        .iter_mut()
        .find(|l| l["name"] == HTTPS)
        .ok_or("unreachable: HTTPS listener checked above")?;
    let mut contexts = 0;
    visit_objects(https, &mut |object| {
        if object.get("@type").and_then(Value::as_str) == Some(TLS_CONTEXT) {
            let validation = object
                .get_mut("common_tls_context")
                .and_then(|c| c.get_mut("validation_context"))
                .and_then(Value::as_object_mut);
            if let Some(validation) = validation {
                validation.insert("allow_expired_certificate".into(), json!(true));
                contexts += 1;
            }
        }
    });
    if contexts == 0 {
        return Err(format!(
            "listener {HTTPS:?} has no DownstreamTlsContext with a validation_context"
        ));
    }

    let mut audit = https.clone();
    audit["name"] = json!(AUDIT);
    visit_wasm_configs(&mut audit, &mut |filter, plugin| {
        plugin.insert("mode".into(), json!("audit"));
        if let Some(name) = filter.get_mut("name") {
            *name = json!(format!("{}_audit", name.as_str().unwrap_or_default()));
        }
    })?;
    let mut legacy = https.clone();
    legacy["name"] = json!(LEGACY_TLS);
    visit_objects(&mut legacy, &mut |object| {
        if object.get("@type").and_then(Value::as_str) != Some(TLS_CONTEXT) {
            return;
        }
        let common = object
            .entry("common_tls_context")
            .or_insert_with(|| json!({}));
        let params = &mut common["tls_params"];
        params["tls_minimum_protocol_version"] = json!("TLSv1_0");
        params["cipher_suites"] = json!(LEGACY_CIPHERS);
    });
    listeners.push(audit);
    listeners.push(legacy);
    for listener in listeners.iter_mut() {
        let port = listener["name"]
            .as_str()
            .and_then(|name| d.ports.listener(name))
            .unwrap_or(0);
        listener["address"] =
            json!({ "socket_address": { "address": "127.0.0.1", "port_value": port } });
    }

    let cluster = config
        .pointer_mut("/static_resources/clusters")
        .and_then(Value::as_array_mut)
        .and_then(|clusters| clusters.iter_mut().find(|c| c["name"] == BACKEND_CLUSTER))
        .ok_or(format!(
            "envoy/envoy.yaml has no cluster {BACKEND_CLUSTER:?}"
        ))?;
    visit_objects(cluster, &mut |object| {
        if let Some(socket) = object.get_mut("socket_address") {
            *socket =
                json!({ "address": d.backend.ip().to_string(), "port_value": d.backend.port() });
        }
    });

    // Refuse here, with the filter's own message, what Envoy would refuse.
    let mut invalid = Vec::new();
    visit_wasm_configs(&mut config, &mut |_, plugin| {
        if let Err(e) = Config::parse(Value::Object(plugin.clone()).to_string().as_bytes()) {
            invalid.push(e.to_string());
        }
    })?;
    if let Some(e) = invalid.first() {
        return Err(e.clone());
    }

    let yaml = serde_norway::to_string(&config).map_err(|e| e.to_string())?;
    Ok(format!(
        "# Derived from envoy/envoy.yaml by examples/demo (see derive_config):\n\
         # local paths and ports, the demo root CA pinned, and the demo-only\n\
         # listeners {AUDIT} and {LEGACY_TLS}.\n{yaml}"
    ))
}

/// `/etc/envoy/...` → the same file under `dir`; the wasm → the built one.
fn relocate(text: &str, d: &Derivation) -> Option<String> {
    if text == EXAMPLE_WASM {
        return Some(d.wasm.display().to_string());
    }
    let rest = text.strip_prefix(EXAMPLE_ROOT)?;
    Some(d.dir.join(rest).display().to_string())
}

fn visit_strings(value: &mut Value, f: &dyn Fn(&str) -> Option<String>) {
    match value {
        Value::String(text) => {
            if let Some(new) = f(text) {
                *text = new;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| visit_strings(v, f)),
        Value::Object(map) => map.values_mut().for_each(|v| visit_strings(v, f)),
        _ => {}
    }
}

fn visit_objects(value: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| visit_objects(v, f)),
        Value::Object(map) => {
            f(map);
            map.values_mut().for_each(|v| visit_objects(v, f));
        }
        _ => {}
    }
}

/// Edits a wasm filter's `config` and its plugin configuration (the JSON).
type WasmConfigEdit<'a> = dyn FnMut(&mut Map<String, Value>, &mut Map<String, Value>) + 'a;

/// Calls `f(plugin config, plugin JSON)` for every wasm HTTP filter under
/// `value` and writes the JSON back as the filter's StringValue.
fn visit_wasm_configs(value: &mut Value, f: &mut WasmConfigEdit) -> Result<(), String> {
    let mut result = Ok(());
    visit_objects(value, &mut |object| {
        if result.is_err() || object.get("@type").and_then(Value::as_str) != Some(WASM_FILTER) {
            return;
        }
        let Some(plugin) = object.get_mut("config").and_then(Value::as_object_mut) else {
            result = Err("a wasm filter has no config".to_string());
            return;
        };
        let text = plugin
            .get("configuration")
            .and_then(|c| c.get("value"))
            .and_then(Value::as_str)
            .unwrap_or("{}");
        let mut json = match serde_json::from_str::<Map<String, Value>>(text) {
            Ok(json) => json,
            Err(e) => {
                result = Err(format!(
                    "the plugin configuration is not a JSON object: {e}"
                ));
                return;
            }
        };
        f(plugin, &mut json);
        let text = serde_json::to_string_pretty(&json).unwrap_or_default();
        plugin.insert(
            "configuration".into(),
            json!({ "@type": "type.googleapis.com/google.protobuf.StringValue", "value": text }),
        );
    });
    result
}

/// Why the demo could not start.
#[derive(Debug)]
pub enum StartError {
    PortsBusy(Vec<u16>),
    Backend(SocketAddr, std::io::Error),
    Config(String),
    Envoy(Exited),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::PortsBusy(ports) => {
                let list: Vec<String> = ports.iter().map(u16::to_string).collect();
                write!(
                    f,
                    "port(s) {} on 127.0.0.1 already in use (an earlier demo still \
                     running? `ss -ltnp` shows who listens). Free them, or use free ports \
                     instead: `make run DEMO_ARGS=--any-ports`.",
                    list.join(", ")
                )
            }
            StartError::Backend(addr, e) => {
                write!(f, "cannot start the demo backend on {addr}: {e}")
            }
            StartError::Config(e) => write!(f, "cannot derive the demo configuration: {e}"),
            StartError::Envoy(exited) => write!(
                f,
                "Envoy exited during start ({}); log tail:\n{}",
                exited.status,
                envoy::tail(&exited.log, 30)
            ),
        }
    }
}

/// A running demo: Envoy with the filter, in front of the ONE Record backend.
pub struct Demo {
    // First, so it is dropped first: Envoy stops before its backend.
    envoy: Envoy,
    backend: Upstream,
    pub files: DemoFiles,
    pub pinned_sha256: String,
    pub client_sha256: String,
    pub dir: PathBuf,
    pub config: PathBuf,
}

impl Demo {
    /// Generates the PKI into `dir`, starts the backend and Envoy, and
    /// returns once Envoy serves on every listener.
    pub fn start(ports: Ports, dir: TempDir) -> Result<Demo, StartError> {
        let busy = ports.busy();
        if !busy.is_empty() {
            return Err(StartError::PortsBusy(busy));
        }
        let pki = DemoPki::generate();
        let files = pki.write(dir.path());
        let backend_addr = SocketAddr::from(([127, 0, 0, 1], ports.backend));
        let backend = Upstream::serve(backend_addr, Arc::new(backend::answer))
            .map_err(|e| StartError::Backend(backend_addr, e))?;
        let example_path = onerecord_tls_policy_testkit::repo_root().join("envoy/envoy.yaml");
        let example = std::fs::read_to_string(&example_path)
            .map_err(|e| StartError::Config(format!("read {}: {e}", example_path.display())))?;
        let pinned_sha256 = pki.root.sha256_hex();
        let derived = derive_config(
            &example,
            &Derivation {
                dir: dir.path(),
                wasm: &envoy::wasm(),
                ports,
                backend: backend.addr(),
                pinned_sha256: &pinned_sha256,
                pinned_pem: &pki.root.pem(),
            },
        )
        .map_err(StartError::Config)?;
        let config = dir.write("envoy.yaml", derived);
        let dir_path = dir.path().to_path_buf();
        let envoy = Envoy::start_file(dir, &config).map_err(StartError::Envoy)?;
        Ok(Demo {
            envoy,
            backend,
            files,
            pinned_sha256,
            client_sha256: pki.client.sha256_hex(),
            dir: dir_path,
            config,
        })
    }

    /// `https://localhost:<port><path>` of a listener (`http://` for plaintext).
    pub fn url(&self, listener: &str, path: &str) -> String {
        let scheme = if listener == HTTP { "http" } else { "https" };
        let port = self.envoy.listener(listener).port();
        format!("{scheme}://localhost:{port}{path}")
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://localhost:{}{path}", self.envoy.admin_addr().port())
    }

    pub fn admin_get(&self, path: &str) -> Response {
        self.envoy.admin_get(path)
    }

    pub fn backend_addr(&self) -> SocketAddr {
        self.backend.addr()
    }

    pub fn envoy_pid(&self) -> u32 {
        self.envoy.pid()
    }

    pub fn envoy_log(&self) -> PathBuf {
        self.dir.join("envoy.log")
    }

    pub fn envoy_log_tail(&self, lines: usize) -> String {
        self.envoy.log_tail(lines)
    }

    /// Envoy's exit status, if it stopped by itself.
    pub fn envoy_exited(&mut self) -> Option<ExitStatus> {
        self.envoy.exited()
    }

    /// Stops Envoy, then the backend.
    pub fn stop(self) -> Option<ExitStatus> {
        let Demo { envoy, backend, .. } = self;
        let status = envoy.stop();
        drop(backend);
        status
    }

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
                "/action-requests with the demo client",
                tls(&client, self.url(HTTPS, "/action-requests/demo-1")),
                Expect::allow(200, "api:ActionRequest")
                    .fact(MTLS, "verified")
                    .fact(RULE, "action-requests"),
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

/// A path as the user would type it: relative to the current directory
/// when it is inside it.
pub fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// `1.40.0` from `envoy --version`.
pub fn envoy_version() -> Option<String> {
    let out = Command::new(envoy::binary())
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split("version:")
        .nth(1)?
        .split('/')
        .nth(1)
        .map(|v| v.trim().to_string())
}

/// One request the demo shows.
#[derive(Clone, Debug)]
pub struct Case {
    /// Stable name, for tests/demo.rs.
    #[allow(dead_code)]
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
    let response = match parse_dump(&out.stdout) {
        Ok(response) => response,
        Err(e) => {
            return Outcome {
                failure: Some((0, format!("unreadable answer: {e}"))),
                ..Outcome::default()
            };
        }
    };
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
