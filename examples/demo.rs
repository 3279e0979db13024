//! `make run`: Envoy with the filter, configured by `envoy/envoy.yaml`, in
//! front of an echo backend, plus curl commands to try against it.
//!
//! Everything lives in `.cache/demo/`. Ctrl-C stops Envoy and exits.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use support::envoy::{self, Envoy};
use support::fixture::TestPki;
use support::tempdir::TempDir;
use support::upstream::Upstream;

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn request_stop(_signal: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Demo certificates, written where the curl commands can use them.
struct DemoCerts {
    server_ca: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
    client_ca_sha256: String,
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = TempDir::persistent(&root.join(".cache/demo"));
    let wasm = envoy::wasm();
    envoy::binary();

    let certs = write_pki(&dir);
    let upstream = Upstream::start();
    let example =
        std::fs::read_to_string(root.join("envoy/envoy.yaml")).expect("read envoy/envoy.yaml");
    let config = dir.write(
        "envoy.yaml",
        demo_config(&example, &dir, &wasm, &certs, upstream.addr().port()),
    );

    // SAFETY: the handler only stores to an atomic.
    unsafe {
        libc::signal(
            libc::SIGINT,
            request_stop as *const () as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGTERM,
            request_stop as *const () as libc::sighandler_t,
        );
    }
    let envoy = match Envoy::start_file(dir, &config) {
        Ok(envoy) => envoy,
        Err(exited) => {
            eprintln!(
                "Envoy exited ({}):\n{}",
                exited.status,
                envoy::tail(&exited.log, 30)
            );
            std::process::exit(1);
        }
    };
    let https = envoy.listener("onerecord_https").port();
    let http = envoy.listener("onerecord_http").port();
    let log = envoy.dir().join("envoy.log");
    println!(
        "Envoy {} is up with envoy/envoy.yaml (log: {}).",
        envoy.pid(),
        log.display()
    );
    println!(
        "HTTPS on port {https}, plain HTTP on port {http}, echo backend on {}.\n",
        upstream.addr()
    );
    println!("Demo change: the HTTPS listener accepts TLS 1.0 and 1.1 handshakes here, so you can");
    println!("see the filter's own 403; envoy/envoy.yaml keeps Envoy's floor at TLS 1.2.\n");

    let ca = certs.server_ca.display().to_string();
    let url = |port: u16, scheme: &str, path: &str| format!("{scheme}://localhost:{port}{path}");
    let tries: Vec<(&str, Vec<String>)> = vec![
        (
            "plaintext",
            args(&["-si", &url(http, "http", "/logistics-objects/1")]),
        ),
        (
            "TLS 1.2",
            args(&[
                "-si",
                "--cacert",
                &ca,
                "--tlsv1.2",
                "--tls-max",
                "1.2",
                &url(https, "https", "/logistics-objects/1"),
            ]),
        ),
        (
            "TLS 1.1",
            args(&[
                "-si",
                "--cacert",
                &ca,
                "--tlsv1.1",
                "--tls-max",
                "1.1",
                "--ciphers",
                "DEFAULT@SECLEVEL=0",
                &url(https, "https", "/logistics-objects/1"),
            ]),
        ),
        (
            "mTLS route, no client certificate",
            args(&[
                "-si",
                "--cacert",
                &ca,
                &url(https, "https", "/access-delegations/1"),
            ]),
        ),
        (
            "mTLS route, client certificate",
            args(&[
                "-si",
                "--cacert",
                &ca,
                "--cert",
                &certs.client_cert.display().to_string(),
                "--key",
                &certs.client_key.display().to_string(),
                &url(https, "https", "/access-delegations/1"),
            ]),
        ),
    ];
    for (what, curl_args) in &tries {
        println!("# {what}: answers {}", outcome(curl_args));
        println!(
            "curl {}\n",
            curl_args
                .iter()
                .map(|a| shell_quote(a))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    println!("Press Ctrl-C to stop.");

    let mut envoy = envoy;
    while !STOP.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(200));
        if let Some(status) = envoy.exited() {
            eprintln!(
                "Envoy stopped by itself ({status}); log tail:\n{}",
                envoy.log_tail(30)
            );
            std::process::exit(1);
        }
    }
    let status = envoy.stop();
    println!(
        "\nEnvoy stopped ({}).",
        status.map(|s| s.to_string()).unwrap_or_default()
    );
}

fn write_pki(dir: &TempDir) -> DemoCerts {
    let pki = TestPki::generate();
    std::fs::create_dir_all(dir.join("certs")).expect("create certs dir");
    // RSA, so that the TLS 1.0/1.1 suites work for the demo's TLS 1.1 try.
    dir.write("certs/server.pem", pki.legacy_server.pem());
    dir.write("certs/server.key", pki.legacy_server.key_pem());
    dir.write("certs/client-ca.pem", pki.client_ca.pem());
    DemoCerts {
        server_ca: dir.write("certs/server-ca.pem", pki.server_ca.pem()),
        // Leaf and issuing CA: the filter anchors at a pinned CA the client presents.
        client_cert: dir.write(
            "certs/client-chain.pem",
            pki.client.pem() + &pki.client_ca.pem(),
        ),
        client_key: dir.write("certs/client.key", pki.client.key_pem()),
        client_ca_sha256: pki.client_ca.sha256_hex(),
    }
}

/// `envoy/envoy.yaml` made runnable here: local paths, free ports, loopback
/// only, the demo CA's fingerprint, and TLS 1.0+ at the handshake.
fn demo_config(
    example: &str,
    dir: &TempDir,
    wasm: &Path,
    certs: &DemoCerts,
    backend_port: u16,
) -> String {
    let certs_dir = format!("{}/", dir.join("certs").display());
    let edits: Vec<(&str, String)> = vec![
        (
            "/etc/envoy/onerecord_tls_policy.wasm",
            wasm.display().to_string(),
        ),
        ("/etc/envoy/certs/", certs_dir),
        ("0.0.0.0", "127.0.0.1".into()),
        ("port_value: 9901", "port_value: 0".into()),
        ("port_value: 8443", "port_value: 0".into()),
        ("port_value: 8000", "port_value: 0".into()),
        ("port_value: 8080", format!("port_value: {backend_port}")),
        (
            "0000000000000000000000000000000000000000000000000000000000000000",
            certs.client_ca_sha256.clone(),
        ),
    ];
    let mut text = example.to_string();
    for (from, to) in edits {
        assert!(
            text.contains(from),
            "envoy/envoy.yaml no longer contains {from:?}; update examples/demo.rs"
        );
        text = text.replace(from, &to);
    }
    let floor = "tls_minimum_protocol_version: TLSv1_2";
    let line = text
        .lines()
        .find(|l| l.trim() == floor)
        .expect("envoy/envoy.yaml sets TLSv1_2")
        .to_string();
    let indent = &line[..line.len() - line.trim_start().len()];
    let legacy = format!(
        "{indent}tls_minimum_protocol_version: TLSv1_0\n{indent}cipher_suites: [ECDHE-RSA-AES128-SHA, ECDHE-RSA-AES128-GCM-SHA256, ECDHE-RSA-AES256-GCM-SHA384]"
    );
    text.replace(&line, &legacy)
}

fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Runs the curl command once and summarises the answer: status and deny reason.
fn outcome(curl_args: &[String]) -> String {
    let out = Command::new("curl")
        .args(curl_args)
        .args(["--max-time", "10"])
        .output();
    let Ok(out) = out else {
        return "curl not found".into();
    };
    if !out.status.success() {
        return format!(
            "curl failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let status = text
        .lines()
        .next()
        .unwrap_or_default()
        .split(' ')
        .nth(1)
        .unwrap_or("?")
        .to_string();
    let reason = text.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("x-onerecord-deny-reason:")
            .map(|r| r.trim().to_string())
    });
    match reason {
        Some(reason) => format!("{status} {reason}"),
        None => status,
    }
}

fn shell_quote(arg: &str) -> String {
    if arg
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:=@".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}
