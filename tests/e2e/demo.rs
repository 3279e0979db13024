//! The `make run` demo: every command it prints answers as the policy
//! requires, its configuration stays derivable from envoy/envoy.yaml, its
//! backend speaks ONE Record JSON-LD, and Ctrl-C leaves nothing running.

use onerecord_tls_policy_testkit as support;

use onerecord_tls_policy_demo::{backend, setup};

use serde_json::{Value, json};
use setup::{Demo, DemoPki, Derivation, Ports, StartError};
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::client::connect_plain;
use support::http::Request;
use support::tempdir::TempDir;
use support::upstream::Upstream;

fn example_yaml() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("envoy/envoy.yaml"))
        .expect("read envoy/envoy.yaml")
}

#[test]
fn every_printed_command_answers_as_the_policy_requires() {
    let demo = match Demo::start(Ports::ANY, TempDir::new("demo")) {
        Ok(demo) => demo,
        Err(e) => panic!("{e}"),
    };
    let checked = demo.self_check();
    let report: String = checked
        .iter()
        .map(|c| {
            format!(
                "{}: got {} {:?}\n  {}\n",
                c.case.id,
                c.outcome.summary(),
                c.problems,
                c.case.command()
            )
        })
        .collect();
    assert!(checked.iter().all(|c| c.ok()), "{report}");

    // Pinned here as well, so that weakening a case's expectation fails too.
    let got: Vec<(&str, Option<u16>, Option<&str>)> = checked
        .iter()
        .map(|c| {
            (
                c.case.id,
                c.outcome.status,
                c.outcome.deny_reason.as_deref().or(c
                    .outcome
                    .facts
                    .get(setup::POLICY)
                    .map(String::as_str)),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("plaintext", Some(403), Some("tls_required")),
            ("tls12", Some(200), None),
            ("tls13_object", Some(200), None),
            ("forged_headers", Some(200), None),
            ("tls11_refused", None, None),
            ("tls11_filter", Some(403), Some("tls_version_too_low")),
            (
                "mtls_missing",
                Some(403),
                Some("client_certificate_required")
            ),
            ("mtls_verified", Some(200), None),
            ("action_requests", Some(200), None),
            (
                "action_requests_no_token",
                Some(401),
                Some("token_required")
            ),
            (
                "action_requests_other_agent",
                Some(403),
                Some("token_agent_mismatch")
            ),
            ("unpinned", Some(403), Some("untrusted_ca")),
            ("expired", Some(403), Some("certificate_expired")),
            (
                "audit",
                Some(200),
                Some("audit-deny; reason=client_certificate_required")
            ),
        ],
        "{report}"
    );

    let case = |id: &str| checked.iter().find(|c| c.case.id == id).expect("case");
    let verified = &case("mtls_verified").outcome.facts;
    assert_eq!(
        verified.get(setup::MTLS).map(String::as_str),
        Some("verified")
    );
    assert_eq!(verified.get(setup::TRUST_ANCHOR), Some(&demo.pinned_sha256));
    assert!(
        verified
            .get(setup::CLIENT_SUBJECT)
            .is_some_and(|s| s.contains("CN=demo-airline")),
        "{verified:?}"
    );
    // The printed commands use the demo's own files and listeners.
    let mtls_command = case("mtls_verified").case.command();
    assert!(mtls_command.contains("client.pem") && mtls_command.contains("client.key"));
    assert!(
        case("audit")
            .case
            .command()
            .contains(&demo.url(setup::AUDIT, ""))
    );

    // The CA lists a client verified on an open connection: the same
    // connection is refused within refresh_seconds (and the worker's tick).
    let step = demo.revoke_on_open_connection();
    assert_eq!(step.failure, None, "{step:#?}");
    assert_eq!(
        (step.before.status, step.before.facts.get(setup::MTLS)),
        (Some(200), Some(&"verified".to_string())),
        "{step:#?}"
    );
    assert_eq!(
        (step.after.status, step.after.deny_reason.as_deref()),
        (Some(403), Some("certificate_revoked")),
        "{step:#?}"
    );
    assert!(step.requests >= 2, "{step:#?}");
    assert!(
        step.took <= Duration::from_secs(setup::CRL_REFRESH_SECONDS + 1),
        "{step:#?}"
    );
    assert!(step.ok(), "{:?}", step.problems());
    // The other clients of that CA are not on the CRL.
    let again = demo.self_check();
    let verified_again = again
        .iter()
        .find(|c| c.case.id == "mtls_verified")
        .expect("case");
    assert!(verified_again.ok(), "{:?}", verified_again.problems);
}

/// A PKI and a derivation into `dir`, as `Demo::start` does it.
fn derive_into(dir: &TempDir, example: &str) -> Result<String, String> {
    let pki = DemoPki::generate();
    pki.write(dir.path());
    setup::derive_config(
        example,
        &Derivation {
            dir: dir.path(),
            wasm: &support::envoy::wasm(),
            ports: Ports::ANY,
            backend: ([127, 0, 0, 1], 9).into(),
            pinned_sha256: &pki.root.sha256_hex(),
            pinned_pem: &pki.root.pem(),
            jwks: &pki.token_issuer.jwks().to_string(),
            crl_server: ([127, 0, 0, 1], 9).into(),
            crl_signer_pem: &pki.intermediate.pem(),
        },
    )
}

#[test]
fn derivation_carries_over_stats_and_access_logs_added_to_the_example() {
    let mut example: Value = serde_norway::from_str(&example_yaml()).expect("parse envoy.yaml");
    example["stats_config"] = json!({ "stats_tags": [
        { "tag_name": "demo_tag", "regex": "^onerecord_tls_policy\\.demo(\\.(\\w+))$" }
    ]});
    let file_log = |path: &str| {
        json!([{ "name": "envoy.access_loggers.file", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
            "path": path
        }}])
    };
    example["admin"]["access_log"] = file_log("/dev/null");
    for listener in example["static_resources"]["listeners"]
        .as_array_mut()
        .expect("listeners")
    {
        listener["filter_chains"][0]["filters"][0]["typed_config"]["access_log"] =
            file_log("/var/log/envoy/onerecord-access.log");
    }
    let example = serde_norway::to_string(&example).expect("YAML");

    let dir = TempDir::new("demo-derive");
    let derived = derive_into(&dir, &example).expect("derive");
    assert!(!derived.contains("/etc/envoy/"), "{derived}");
    assert!(!derived.contains("/var/log/"), "{derived}");
    assert!(derived.contains("demo_tag"), "{derived}");
    assert!(derived.contains("/dev/null"), "{derived}");
    let access_log = dir.join("access.log").display().to_string();
    assert_eq!(derived.matches(access_log.as_str()).count(), 4, "{derived}");

    // Envoy reads every file, loads the wasm and runs the plugin's check.
    let config = dir.write("envoy.yaml", &derived);
    let (status, output) = support::envoy::validate(&config);
    assert!(status.success(), "{output}");
}

#[test]
fn derivation_names_what_it_cannot_use() {
    let dir = TempDir::new("demo-derive-errors");
    let example = example_yaml();

    let mut no_https: Value = serde_norway::from_str(&example).expect("parse");
    no_https["static_resources"]["listeners"]
        .as_array_mut()
        .expect("listeners")
        .retain(|l| l["name"] != setup::HTTPS);
    let err = derive_into(&dir, &serde_norway::to_string(&no_https).unwrap()).unwrap_err();
    assert!(err.contains("onerecord_https"), "{err}");

    let broken = example.replace("\"mode\": \"enforce\"", "\"mode\": \"block\"");
    assert_ne!(
        broken, example,
        "envoy/envoy.yaml sets \"mode\": \"enforce\""
    );
    let err = derive_into(&dir, &broken).unwrap_err();
    assert!(err.contains("`mode`"), "{err}");
}

#[test]
fn backend_answers_in_one_record_json_ld_and_shows_the_facts_it_received() {
    let backend = Upstream::serve(([127, 0, 0, 1], 0).into(), Arc::new(backend::answer))
        .expect("start backend");
    let mut conn = connect_plain(backend.addr());
    let send = |conn: &mut support::client::Connection, req: Request| {
        let resp = conn.send(&req).expect("backend answer");
        assert_eq!(
            resp.header("content-type"),
            Some("application/ld+json"),
            "{resp:?}"
        );
        (resp.status, resp.json(), resp)
    };

    let (status, info, _) = send(
        &mut conn,
        Request::get("/")
            .header("x-onerecord-tls-version", "TLSv1.3")
            .header("x-other", "not a fact"),
    );
    assert_eq!(status, 200);
    assert_eq!(info["@type"], "api:ServerInformation");
    assert_eq!(
        info["@context"]["api"],
        "https://onerecord.iata.org/ns/api#"
    );
    assert_eq!(
        info["@context"]["cargo"],
        "https://onerecord.iata.org/ns/cargo#"
    );
    assert_eq!(info["@id"], "https://localhost/");
    assert_eq!(
        info[backend::FACTS_KEY],
        json!({ "x-onerecord-tls-version": "TLSv1.3" })
    );

    let (status, piece, _) = send(&mut conn, Request::get("/logistics-objects/p-1"));
    assert_eq!(status, 200);
    assert_eq!(piece["@type"], "cargo:Piece");
    assert_eq!(piece["@id"], "https://localhost/logistics-objects/p-1");
    assert_eq!(piece[backend::FACTS_KEY], json!({}));

    let (status, created, resp) = send(
        &mut conn,
        Request::post("/access-delegations", b"{}").header(
            "x-onerecord-client-uri-san",
            "https://1r.example.com/agents/a",
        ),
    );
    assert_eq!(status, 201);
    assert_eq!(created["@type"], "api:AccessDelegationRequest");
    assert_eq!(
        created["api:isRequestedBy"]["@id"],
        "https://1r.example.com/agents/a"
    );
    assert_eq!(resp.header("location"), created["@id"].as_str());

    let (status, revoked, _) = send(
        &mut conn,
        Request {
            method: "DELETE".into(),
            ..Request::get("/action-requests/r-1")
        },
    );
    assert_eq!(status, 200);
    assert_eq!(
        revoked["api:hasRequestStatus"]["@id"],
        "api:REQUEST_REVOKED"
    );

    for (req, want) in [
        (Request::post("/logistics-objects/p-1", b"{}"), 405),
        (Request::get("/logistics-objects/"), 404),
        (Request::get("/access-delegationsX"), 404),
    ] {
        let (status, error, _) = send(&mut conn, req);
        assert_eq!(status, want, "{error}");
        assert_eq!(error["@type"], "api:Error");
    }
}

#[test]
fn busy_fixed_ports_are_reported_before_anything_starts() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port();
    let ports = Ports {
        audit: port,
        ..Ports::ANY
    };
    let dir = TempDir::new("demo-busy");
    let path = dir.path().to_path_buf();
    match Demo::start(ports, dir) {
        Err(e @ StartError::PortsBusy(_)) => {
            let StartError::PortsBusy(busy) = &e else {
                unreachable!()
            };
            assert_eq!(busy, &vec![port]);
            let message = e.to_string();
            assert!(message.contains(&port.to_string()), "{message}");
            assert!(message.contains("--any-ports"), "{message}");
        }
        Err(e) => panic!("expected PortsBusy, got {e}"),
        Ok(_) => panic!("the demo started although port {port} is taken"),
    }
    assert!(!path.join("envoy.yaml").exists(), "nothing is set up first");
}

/// The demo example, built (a no-op after `cargo test --all-targets`).
fn demo_binary() -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "-p",
            "onerecord-tls-policy-demo",
            "--bin",
            "demo",
            "--message-format=json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo build -p onerecord-tls-policy-demo failed"
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "demo")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo reported no demo executable")
}

fn running(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|cmd| String::from_utf8_lossy(&cmd).contains("envoy"))
        .unwrap_or(false)
}

#[test]
fn ctrl_c_stops_the_demo_its_envoy_and_its_backend() {
    let dir = TempDir::new("demo-ctrl-c");
    let mut command = Command::new(demo_binary());
    command
        .args(["--any-ports", "--dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut demo = support::process::Group::spawn(command).expect("start the demo");
    let stdout = demo.take_stdout().expect("piped stdout");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });

    let mut output = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !output
        .iter()
        .any(|l: &String| l.starts_with("Press Ctrl-C"))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => output.push(line),
            Err(_) => panic!("the demo did not get ready; output:\n{}", output.join("\n")),
        }
    }
    let text = output.join("\n");
    assert!(!text.contains("UNEXPECTED"), "{text}");
    assert!(
        text.contains("A revocation reaches a client on its open connection")
            && text.contains("got 403 certificate_revoked [as expected]"),
        "{text}"
    );
    // Where the monitoring kit is, as paths from the repository root.
    for (what, file) in onerecord_tls_policy_demo::MONITORING_FILES {
        assert!(text.contains(&format!("    {what}: {file}")), "{text}");
    }
    let envoy_pid: u32 = text
        .split("(pid ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|pid| pid.parse().ok())
        .unwrap_or_else(|| panic!("no Envoy pid in:\n{text}"));
    let backend: SocketAddr = text
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|port| format!("127.0.0.1:{port}").parse().ok())
        .unwrap_or_else(|| panic!("no backend address in:\n{text}"));
    assert!(running(envoy_pid));

    // What a terminal's Ctrl-C sends to the foreground process.
    // SAFETY: a signal to the child this test started and has not reaped.
    unsafe { libc::kill(demo.id() as libc::pid_t, libc::SIGINT) };
    let status = demo
        .wait_timeout(Duration::from_secs(20))
        .expect("the demo did not exit after Ctrl-C");
    assert!(status.success(), "demo exited with {status}");
    // The rest of the output, up to the end of the pipe.
    let rest: Vec<String> =
        std::iter::from_fn(|| lines.recv_timeout(Duration::from_secs(5)).ok()).collect();
    assert!(
        rest.iter().any(|l| l.starts_with("Stopped Envoy")),
        "{rest:?}"
    );
    assert!(!running(envoy_pid), "Envoy {envoy_pid} outlived the demo");
    assert!(
        TcpStream::connect_timeout(&backend, Duration::from_secs(1)).is_err(),
        "the backend still listens on {backend}"
    );
}
