//! `make run`: Envoy with the filter, configured from envoy/envoy.yaml, in
//! front of a small ONE Record backend, on fixed local ports:
//!
//!   8443  HTTPS, the ONE Record API        8000  plain HTTP (refused)
//!   8444  HTTPS, the same policy in audit  8445  HTTPS accepting TLS 1.0/1.1
//!   9901  Envoy admin                      8080  the backend
//!   8081  the demo CA's CRL server (fetched by the filter)
//!
//! It runs each curl command it prints once and shows what it got. Files
//! (derived envoy.yaml, certificates, Envoy's log) are in `.cache/demo/`.
//! Ctrl-C stops Envoy and the backend.
//!
//! Options: `--any-ports` (free ports instead of the fixed ones),
//! `--dir PATH` (instead of `.cache/demo`).

use onerecord_tls_policy_demo::MONITORING_FILES;
use onerecord_tls_policy_demo::setup::{self, AUDIT, Demo, HTTP, HTTPS, LEGACY_TLS, Ports, shown};
use onerecord_tls_policy_testkit::tempdir::TempDir;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn request_stop(_signal: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn main() {
    let (ports, dir) = parse_args();
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        for signal in [libc::SIGINT, libc::SIGTERM] {
            libc::signal(signal, request_stop as *const () as libc::sighandler_t);
        }
    }

    let mut demo = match Demo::start(ports, TempDir::persistent(&dir)) {
        Ok(demo) => demo,
        Err(e) => {
            eprintln!("demo: {e}");
            std::process::exit(1);
        }
    };
    print_overview(&demo);
    let checked = demo.self_check();
    print_cases(&checked);
    let revocation = demo.revoke_on_open_connection();
    print_revocation(checked.len() + 1, &revocation);
    print_metrics(&demo);
    let failed = checked.iter().filter(|c| !c.ok()).count() + usize::from(!revocation.ok());
    if failed > 0 {
        println!(
            "WARNING: {failed} of {} steps did not answer as the policy requires (see above).\n",
            checked.len() + 1
        );
    }
    println!("Press Ctrl-C to stop.");

    while !STOP.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(200));
        if let Some(status) = demo.envoy_exited() {
            eprintln!(
                "Envoy stopped by itself ({status}); log tail:\n{}",
                demo.envoy_log_tail(30)
            );
            std::process::exit(1);
        }
    }
    let status = demo.stop();
    println!(
        "\nStopped Envoy ({}) and the backend.",
        status.map(|s| s.to_string()).unwrap_or_default()
    );
}

fn parse_args() -> (Ports, PathBuf) {
    let mut ports = Ports::FIXED;
    let mut dir = onerecord_tls_policy_testkit::repo_root().join(".cache/demo");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.len()) {
            ("--any-ports", _) => ports = Ports::ANY,
            ("--dir", 1..) => dir = PathBuf::from(args.next().unwrap_or_default()),
            _ => {
                eprintln!("usage: demo [--any-ports] [--dir PATH]");
                std::process::exit(2);
            }
        }
    }
    (ports, dir)
}

fn print_overview(demo: &Demo) {
    let version = setup::envoy_version().unwrap_or_else(|| "?".into());
    println!(
        "ONE Record demo: Envoy {version} (pid {}) with the onerecord_tls_policy filter.",
        demo.envoy_pid()
    );
    println!(
        "Configuration: {}, derived from envoy/envoy.yaml. Envoy log: {}\n",
        shown(&demo.config),
        shown(&demo.envoy_log())
    );
    let crl_server = format!(
        "the demo issuing CA's CRL server ({}), fetched by the filter",
        setup::CRL_PATH
    );
    let rows = [
        (
            demo.url(HTTPS, ""),
            "the ONE Record API: TLS 1.2+, mTLS on /access-delegations and /action-requests",
        ),
        (
            demo.url(HTTP, ""),
            "plain HTTP: every request gets 403 tls_required",
        ),
        (
            demo.url(AUDIT, ""),
            "demo only: the same policy in audit mode",
        ),
        (
            demo.url(LEGACY_TLS, ""),
            "demo only: also completes TLS 1.0/1.1 handshakes, so the filter's own verdict shows",
        ),
        (
            format!("http://{}", demo.backend_addr()),
            "the demo ONE Record backend (reach it through Envoy)",
        ),
        (format!("http://{}", demo.crl_addr()), &crl_server),
        (demo.admin_url(""), "Envoy admin"),
    ];
    for (url, what) in rows {
        println!("  {url:<24}  {what}");
    }
    println!(
        "\nPinned CA: ONE Record Demo Root CA ({}), sha256 {}.",
        shown(&demo.files.root),
        demo.pinned_sha256
    );
    println!(
        "Envoy's trusted_ca also accepts \"Unlisted Partner CA\" and, on these listeners, expired\n\
         client certificates, so the filter is what refuses them.\n"
    );
    println!("Each command below ran once at startup; \"got\" is what it answered.\n");
}

fn print_cases(checked: &[setup::Checked]) {
    for (n, c) in checked.iter().enumerate() {
        let mark = if c.ok() { "as expected" } else { "UNEXPECTED" };
        println!("{:>2}. {}", n + 1, c.case.title);
        println!("    got {} [{mark}]", c.outcome.summary());
        for problem in &c.problems {
            println!("      {problem}");
        }
        if !c.outcome.facts.is_empty() {
            println!("    the backend received:");
            for (name, value) in &c.outcome.facts {
                println!("      {name}: {value}");
            }
        }
        println!("    {}\n", c.case.command());
    }
}

fn print_revocation(n: usize, step: &setup::Revocation) {
    let mark = if step.ok() {
        "as expected"
    } else {
        "UNEXPECTED"
    };
    println!("{n:>2}. A revocation reaches a client on its open connection");
    println!(
        "    the filter fetches the demo issuing CA's CRL from {} every {} s (crl_sources)",
        step.crl_url,
        setup::CRL_REFRESH_SECONDS
    );
    println!(
        "    one keep-alive connection to {} presenting {} (leaf + intermediate):",
        step.url, step.client_subject
    );
    println!(
        "    got {} ({}: {})",
        step.before.summary(),
        setup::MTLS,
        step.before
            .facts
            .get(setup::MTLS)
            .map_or("-", String::as_str)
    );
    println!(
        "    the CA publishes a new CRL listing serial {}; the same connection asks again",
        step.client_serial
    );
    println!(
        "    {:.1} s later (request {} on it): got {} [{mark}]",
        step.took.as_secs_f64(),
        step.requests,
        step.after.summary()
    );
    for problem in step.problems() {
        println!("      {problem}");
    }
    println!(
        "    curl -s {} | openssl crl -inform DER -noout -text\n",
        step.crl_url
    );
}

fn print_metrics(demo: &Demo) {
    // Custom wasm metrics live under wasmcustom.; the filter names its own
    // onerecord_tls_policy.* (Envoy's VM stats for the plugin match too).
    let stats = demo.admin_get("/stats?filter=^wasmcustom.onerecord_tls_policy[.]");
    let text = stats.text();
    let counters: Vec<&str> = text.lines().filter(|l| !l.ends_with(": 0")).collect();
    println!("Metrics:");
    if text.trim().is_empty() {
        println!("    this build of the filter defines no counters of its own.");
    } else {
        println!("    the filter's counters that are not zero after the self-check:");
        for counter in counters {
            println!("      {counter}");
        }
    }
    println!(
        "    curl -s {} | grep onerecord_tls_policy\n    all of Envoy's stats: {}\n",
        demo.admin_url("/stats/prometheus"),
        demo.admin_url("/stats")
    );
    println!(
        "Monitoring (README: Monitoring), for a Prometheus scraping {}:",
        demo.admin_url("/stats/prometheus")
    );
    let root = onerecord_tls_policy_testkit::repo_root();
    for (what, file) in MONITORING_FILES {
        println!("    {what}: {}", shown(&root.join(file)));
    }
    println!();
}
