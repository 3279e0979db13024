//! `make bench`: Envoy with five HTTP filter configurations side by side
//! (docs/benchmarks.md explains the method and the targets).
//!
//! Envoy (`--concurrency 1`) runs pinned to one CPU; oha, the backends and
//! this program share another. All Envoys start once and the configurations
//! then run in alternation (A B C D E, A B C D E, ...) so that drifting
//! background load hits them alike; the report gives per-round medians. Each
//! run is measured by oha (req/s, latency) and by Envoy's own CPU time per
//! request from `/proc/<pid>/stat`, which stays meaningful when the load
//! generator, not Envoy, is the bottleneck.
//!
//! `--profile` (`make bench-profile`) instead runs the hostcall probe step by
//! step between the no-op filter and the plugin, to attribute the plugin's cost.

use onerecord_tls_policy_testkit as support;

mod configs;
mod cpu;
mod load;
mod options;
mod report;
mod upstream;

use configs::{DIRECT, ECHO, Inputs, Kind, LADDER, LUA_HEADER, PROXIED};
use load::{Load, Oha};
use macro_bench::splice;
use options::Options;
use report::{Row, Sample, Verdict};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::bootstrap::{Files, TLS};
use support::client::TlsClient;
use support::envoy::{self, Envoy};
use support::fixture::{PkiFiles, TestPki};
use support::pki::{CertSpec, Issued, issue, pem_bundle};
use support::tempdir::TempDir;
use support::upstream::{Echo, Upstream};
use upstream::LeanUpstream;

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn request_stop(_signal: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn main() {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) if message.is_empty() => {
            println!("{}", options::USAGE);
            return;
        }
        Err(message) => {
            eprintln!("{message}\n\n{}", options::USAGE);
            std::process::exit(2);
        }
    };
    // SAFETY: the handler only stores to an atomic. Ctrl-C then ends the
    // benchmark after the current run, and every process is stopped on the way out.
    unsafe {
        for signal in [libc::SIGINT, libc::SIGTERM] {
            libc::signal(signal, request_stop as *const () as libc::sighandler_t);
        }
    }
    if let Err(message) = run(&options) {
        eprintln!("bench: {message}");
        std::process::exit(1);
    }
}

/// The two kinds of route every configuration serves.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Route {
    Direct,
    Proxied,
}

impl Route {
    fn path(self) -> &'static str {
        match self {
            Route::Direct => DIRECT,
            Route::Proxied => PROXIED,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Route::Direct => "direct",
            Route::Proxied => "proxied",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Route::Direct => "direct_response",
            Route::Proxied => "proxied to the lean upstream",
        }
    }
}

/// Which load a run applied.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Saturated,
    FixedRate,
}

type Samples = BTreeMap<(Phase, Route), Vec<(Kind, Sample)>>;

/// Files and processes shared by every run; dropping it stops them all.
struct Bench {
    options: Options,
    kinds: Vec<Kind>,
    routes: Vec<Route>,
    oha: Oha,
    // Declared before the backends and the directory, so Envoy stops first.
    envoys: Vec<(Kind, Envoy)>,
    _lean: LeanUpstream,
    _echo: Upstream,
    _dir: TempDir,
    /// 1-minute load averages seen before each round.
    loads: Vec<f64>,
    load_at_start: f64,
    wasm: PathBuf,
    noop_wasm: PathBuf,
}

fn run(options: &Options) -> Result<(), String> {
    let mut bench = Bench::start(options)?;
    let markdown = if options.profile {
        bench.warm_up()?;
        let mut samples = Samples::new();
        bench.rounds(Phase::Saturated, None, &mut samples)?;
        bench.profile_markdown(&samples)
    } else {
        let upstreams = bench.compare_upstreams()?;
        bench.warm_up()?;
        let mut samples = Samples::new();
        bench.rounds(Phase::Saturated, None, &mut samples)?;
        let rate = options.rate.unwrap_or_else(|| auto_rate(&samples));
        bench.rounds(Phase::FixedRate, Some(rate), &mut samples)?;
        bench.markdown(rate, &upstreams, &samples)
    };
    println!("\n{markdown}");
    if let Some(path) = &options.write {
        let doc = std::fs::read_to_string(path).unwrap_or_default();
        let marker = if options.profile {
            "macro-bench-profile"
        } else {
            "macro-bench"
        };
        std::fs::write(path, splice::splice(&doc, marker, &markdown))
            .map_err(|e| format!("write {}: {e}", path.display()))?;
        println!("written to {}", path.display());
    }
    Ok(())
}

impl Bench {
    /// Generates the PKI, starts the backends and one Envoy per
    /// configuration, and checks that each does what it claims.
    fn start(options: &Options) -> Result<Bench, String> {
        let repo = support::repo_root();
        cpu::pin_current_thread(options.load_cpu)
            .map_err(|e| format!("cannot pin to CPU {}: {e}", options.load_cpu))?;
        let oha_bin = load::locate(&repo);
        let noop_wasm = locate(&repo, "NOOP_WASM", "noop_filter.wasm");
        let probe_wasm = locate(&repo, "PROBE_WASM", "examples/hostcall_probe.wasm");
        let mut needed = vec![("oha", &oha_bin), ("no-op filter", &noop_wasm)];
        if options.profile {
            needed.push(("hostcall probe", &probe_wasm));
        }
        for (what, path) in needed {
            if !path.is_file() {
                return Err(format!(
                    "{what} not found at {} (run `make bench`)",
                    path.display()
                ));
            }
        }
        let wasm = envoy::wasm();
        let load_at_start = wait_for_quiet(options);

        // The harness's PKI plus an issuing CA: clients send leaf +
        // intermediate, and the plugin completes the path with the pinned root's PEM.
        let pki = TestPki::generate();
        let issuing = issue(&CertSpec::ca("Bench ONE Record Issuing CA"), &pki.client_ca);
        let leaf = issue(&CertSpec::client("forwarder-42"), &issuing);
        let dir = TempDir::new("bench");
        let pki_files = PkiFiles::write(&pki, &dir);
        let client_cert = dir.write("client-chain.pem", pem_bundle(&[&leaf, &issuing]));
        let client_key = dir.write("client.key", leaf.key_pem());

        // Both backends run in this process, on the load generator's CPU.
        let lean = LeanUpstream::start().map_err(|e| format!("lean upstream: {e}"))?;
        let echo = Upstream::start();
        let inputs = Inputs {
            files: Files {
                wasm: wasm.clone(),
                server_cert: pki_files.server_cert.clone(),
                server_key: pki_files.server_key.clone(),
                legacy_cert: pki_files.legacy_cert.clone(),
                legacy_key: pki_files.legacy_key.clone(),
                client_ca: pki_files.client_ca.clone(),
            },
            noop_wasm: &noop_wasm,
            probe_wasm: &probe_wasm,
            client_root_sha256: pki.client_ca.sha256_hex(),
            client_root_pem: pki.client_ca.pem(),
            lean_upstream: lean.addr(),
            echo_upstream: echo.addr(),
        };

        let mut kinds = if options.profile {
            Kind::ladder()
        } else {
            Kind::ALL.to_vec()
        };
        // Everything is reported relative to the ceiling, so A always runs.
        kinds.retain(|k| {
            options.only.is_empty() || *k == Kind::NoFilter || options.only.contains(&k.key())
        });
        let mut envoys = Vec::new();
        for &kind in &kinds {
            let bootstrap = configs::bootstrap(kind, &inputs);
            let envoy_dir = TempDir::new(&format!("bench-{}", kind.key()));
            let started = cpu::on_cpu(options.envoy_cpu, options.load_cpu, || {
                Envoy::start(envoy_dir, &bootstrap)
            })
            .map_err(|e| format!("cannot pin to CPU {}: {e}", options.envoy_cpu))?;
            let envoy = started.map_err(|exited| {
                format!(
                    "Envoy for {} exited ({}):\n{}",
                    kind.label(),
                    exited.status,
                    envoy::tail(&exited.log, 30)
                )
            })?;
            check(kind, &envoy, &pki, &leaf, &issuing)?;
            println!(
                "{} {}: Envoy pid {} on CPU {}, checked",
                kind.key(),
                kind.label(),
                envoy.pid(),
                options.envoy_cpu
            );
            envoys.push((kind, envoy));
        }
        Ok(Bench {
            options: options.clone(),
            kinds,
            routes: vec![Route::Direct, Route::Proxied],
            oha: Oha {
                bin: oha_bin,
                cert: client_cert,
                key: client_key,
                ca: pki_files.server_ca.clone(),
                scratch: dir.path().to_path_buf(),
                cpu: options.load_cpu,
                home_cpu: options.load_cpu,
            },
            envoys,
            _lean: lean,
            _echo: echo,
            _dir: dir,
            loads: Vec::new(),
            load_at_start,
            wasm,
            noop_wasm,
        })
    }

    fn envoy(&self, kind: Kind) -> &Envoy {
        self.envoys
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, e)| e)
            .expect("every configuration has an Envoy")
    }

    fn load(&self, kind: Kind, path: &str, duration: Duration, rate: Option<u32>) -> Load {
        let addr = self.envoy(kind).listener(TLS);
        Load {
            // `localhost` is the name on the server certificate.
            url: format!("https://localhost:{}{path}", addr.port()),
            duration,
            connections: self.options.connections,
            rate,
        }
    }

    /// One oha run against one Envoy, with Envoy's CPU time and request
    /// count read around it (the admin reads stay outside the window).
    fn measure(&self, kind: Kind, load: &Load) -> Result<Measured, String> {
        if STOP.load(Ordering::SeqCst) {
            return Err("interrupted".into());
        }
        let envoy = self.envoy(kind);
        let cpu_of = |pid: u32| cpu::process_seconds(pid).map_err(|e| format!("pid {pid}: {e}"));
        let before = Completed::read(envoy);
        let (envoy_before, own_before) = (cpu_of(envoy.pid())?, cpu_of(std::process::id())?);
        let started = Instant::now();
        let outcome = self.oha.run(load)?;
        let wall = started.elapsed().as_secs_f64();
        let (envoy_after, own_after) = (cpu_of(envoy.pid())?, cpu_of(std::process::id())?);
        let after = Completed::read(envoy);
        let requests = after.all.saturating_sub(before.all);
        let not_ok = requests.saturating_sub(after.ok.saturating_sub(before.ok));
        if requests == 0 || not_ok > 0 {
            return Err(format!(
                "{} {}: Envoy completed {requests} requests, {not_ok} of them not 2xx; log:\n{}",
                kind.key(),
                load.url,
                envoy.log_tail(20)
            ));
        }
        let per_request = |seconds: f64| seconds * 1e6 / requests as f64;
        Ok(Measured {
            sample: Sample {
                rps: outcome.rps,
                p50_us: outcome.p50_us,
                p99_us: outcome.p99_us,
                cpu_us_per_req: per_request(envoy_after - envoy_before),
                cpu_busy: (envoy_after - envoy_before) / wall,
            },
            upstream_cpu_us_per_req: per_request(own_after - own_before),
            client_errors: outcome.failed,
        })
    }

    /// The harness's echo backend against the lean one, behind the ceiling
    /// configuration, to show the proxied runs measure Envoy, not the backend.
    fn compare_upstreams(&self) -> Result<Vec<(&'static str, Measured)>, String> {
        println!("\nupstream check (A, proxied):");
        let duration = self.options.duration;
        let mut results = Vec::new();
        for (name, path) in [("harness echo", ECHO), ("lean", PROXIED)] {
            let load = self.load(Kind::NoFilter, path, duration, None);
            let m = self.measure(Kind::NoFilter, &load)?;
            println!(
                "  {name}: {:.0} req/s, Envoy {:.1} µs/req, backend {:.1} µs/req",
                m.sample.rps, m.sample.cpu_us_per_req, m.upstream_cpu_us_per_req
            );
            results.push((name, m));
        }
        Ok(results)
    }

    /// JIT tiers, connection pools and the plugin's verdict cache warm up
    /// before anything is recorded.
    fn warm_up(&self) -> Result<(), String> {
        println!(
            "\nwarm-up, {:?} per configuration and route",
            self.options.warmup
        );
        for &route in &self.routes {
            for &kind in &self.kinds {
                let load = self.load(kind, route.path(), self.options.warmup, None);
                self.measure(kind, &load)?;
            }
        }
        Ok(())
    }

    fn rounds(
        &mut self,
        phase: Phase,
        rate: Option<u32>,
        samples: &mut Samples,
    ) -> Result<(), String> {
        let what = match rate {
            None => "as fast as possible".to_string(),
            Some(rate) => format!("fixed rate {rate} req/s"),
        };
        for round in 1..=self.options.rounds {
            let load_average = cpu::load_average();
            self.loads.push(load_average);
            println!(
                "\n{what}, round {round}/{} (load average {load_average:.2})",
                self.options.rounds
            );
            for &route in &self.routes {
                for &kind in &self.kinds {
                    let load = self.load(kind, route.path(), self.options.duration, rate);
                    let m = self.measure(kind, &load)?;
                    let s = m.sample;
                    println!(
                        "  {:<7} {:<3} {:>6.0} req/s  p50 {:>6.0} µs  p99 {:>6.0} µs  Envoy {:>5.1} µs/req, busy {:>3.0} %{}",
                        route.name(),
                        kind.key(),
                        s.rps,
                        s.p50_us,
                        s.p99_us,
                        s.cpu_us_per_req,
                        s.cpu_busy * 100.0,
                        if m.client_errors > 0 {
                            format!("  ({} client-side errors)", m.client_errors)
                        } else {
                            String::new()
                        }
                    );
                    samples.entry((phase, route)).or_default().push((kind, s));
                }
            }
        }
        Ok(())
    }

    fn rows(&self, samples: &Samples, phase: Phase, route: Route) -> Vec<Row> {
        let runs = samples
            .get(&(phase, route))
            .map(Vec::as_slice)
            .unwrap_or_default();
        self.kinds
            .iter()
            .map(|&kind| {
                let mine: Vec<Sample> = runs
                    .iter()
                    .filter(|(k, _)| *k == kind)
                    .map(|(_, s)| *s)
                    .collect();
                (kind, report::summarize(&mine))
            })
            .collect()
    }

    /// The run's circumstances, shared by both reports.
    fn preamble(&self, title: &str) -> String {
        let machine = Machine::probe(&self.oha);
        let o = &self.options;
        let (lo, hi) = self
            .loads
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &l| {
                (lo.min(l), hi.max(l))
            });
        format!(
            "{title}\n\n\
             Generated by `make {}` on {}.\n\n\
             - Machine: {} CPUs, {}; Linux {}\n\
             - Envoy {} (`--concurrency 1`, CPU {}); load generator {} (CPU {}, with both backends), {} keep-alive HTTP/1.1 connections, TLS 1.3, client certificate (leaf + intermediate, P-256)\n\
             - {} rounds of {} s per configuration and route, after a {} s warm-up; medians over the rounds\n\
             - 1-minute load average: {:.2} at the start, {:.2}–{:.2} over the rounds\n\
             - `.wasm` sizes: onerecord_tls_policy {} bytes, no-op filter {} bytes\n\n",
            if o.profile { "bench-profile" } else { "bench" },
            report::utc(support::unix_now()),
            machine.cpus,
            machine.cpu_model,
            machine.kernel,
            machine.envoy,
            o.envoy_cpu,
            machine.oha,
            o.load_cpu,
            o.connections,
            o.rounds,
            o.duration.as_secs_f64(),
            o.warmup.as_secs_f64(),
            self.load_at_start,
            lo,
            hi,
            file_size(&self.wasm),
            file_size(&self.noop_wasm),
        )
    }

    fn markdown(
        &self,
        rate: u32,
        upstreams: &[(&'static str, Measured)],
        samples: &Samples,
    ) -> String {
        let mut md = self.preamble("## Results");
        for (phase, heading) in [
            (Phase::Saturated, "As fast as possible".to_string()),
            (Phase::FixedRate, format!("Fixed rate, {rate} req/s")),
        ] {
            for &route in &self.routes {
                md.push_str(&format!("### {heading}, {}\n\n", route.title()));
                md.push_str(&report::table(&self.rows(samples, phase, route)));
                md.push('\n');
            }
        }
        md.push_str("### Upstream check (A, proxied, one run each)\n\n");
        md.push_str("| backend | req/s | Envoy CPU µs/req | backend CPU µs/req |\n| --- | ---: | ---: | ---: |\n");
        for (name, m) in upstreams {
            md.push_str(&format!(
                "| {name} | {:.0} | {:.1} | {:.1} |\n",
                m.sample.rps, m.sample.cpu_us_per_req, m.upstream_cpu_us_per_req
            ));
        }
        md.push_str("\n### Targets\n\n| target | measured | |\n| --- | --- | --- |\n");
        let mut verdicts: Vec<Verdict> = Vec::new();
        for &route in &self.routes {
            verdicts.extend(report::cpu_targets(
                route.name(),
                &self.rows(samples, Phase::Saturated, route),
            ));
        }
        verdicts.extend(report::throughput_target(&self.rows(
            samples,
            Phase::Saturated,
            Route::Proxied,
        )));
        for &route in &self.routes {
            verdicts.extend(report::latency_target(
                route.name(),
                rate,
                &self.rows(samples, Phase::FixedRate, route),
            ));
        }
        verdicts.push(report::size_target(file_size(&self.wasm)));
        for v in &verdicts {
            md.push_str(&v.line());
            md.push('\n');
        }
        md
    }

    fn profile_markdown(&self, samples: &Samples) -> String {
        let mut md = self.preamble("### Hostcalls step by step");
        // Proxied too: with a backend in the loop the same calls cost more.
        for route in [Route::Direct, Route::Proxied] {
            md.push_str(&format!(
                "Envoy CPU per request, {}, as fast as possible:\n\n",
                route.title()
            ));
            md.push_str(&report::ladder(&self.rows(
                samples,
                Phase::Saturated,
                route,
            )));
            md.push('\n');
        }
        md
    }
}

#[derive(Clone, Copy)]
struct Measured {
    sample: Sample,
    /// This process's CPU per request: the backends, when proxied.
    upstream_cpu_us_per_req: f64,
    /// Failures oha saw (connection errors, non-200, requests cut at the deadline).
    client_errors: u64,
}

/// Envoy's own count of requests on the benchmark listener.
struct Completed {
    all: u64,
    ok: u64,
}

impl Completed {
    fn read(envoy: &Envoy) -> Completed {
        let counters = support::vm::counters(envoy);
        let get = |name: &str| {
            counters
                .get(&format!("http.{TLS}.{name}"))
                .copied()
                .unwrap_or(0)
        };
        Completed {
            all: get("downstream_rq_completed"),
            ok: get("downstream_rq_2xx"),
        }
    }
}

/// Each Envoy must do what its configuration claims before it is timed.
fn check(
    kind: Kind,
    envoy: &Envoy,
    pki: &TestPki,
    leaf: &Issued,
    issuing: &Issued,
) -> Result<(), String> {
    let addr = envoy.listener(TLS);
    let fail = |what: String| Err(format!("{} {}: {what}", kind.key(), kind.label()));
    let client = TlsClient::new(&pki.server_ca.cert)
        .cert(leaf)
        .chain(&[issuing]);
    for path in [DIRECT, PROXIED] {
        let status = client.get(addr, path).status;
        if status != 200 {
            return fail(format!(
                "GET {path} with the client certificate got {status}"
            ));
        }
    }
    let echo = Echo::of(&client.get(addr, ECHO));
    let digest = leaf.sha256_hex();
    let expected: Vec<(&str, String)> = match kind {
        Kind::Plugin => vec![
            ("x-onerecord-mtls", "verified".to_string()),
            ("x-onerecord-client-sha256", digest),
            (
                "x-onerecord-trust-anchor-sha256",
                pki.client_ca.sha256_hex(),
            ),
        ],
        Kind::Lua => vec![(LUA_HEADER, format!("TLSv1.3 {digest}"))],
        // The probe sets the plugin's annotations with placeholder values.
        Kind::Probe(n) if LADDER[..n].iter().any(|(step, _)| *step == "annotate") => {
            vec![("x-onerecord-mtls", "verified".to_string())]
        }
        _ => vec![],
    };
    for (name, value) in &expected {
        if echo.get(name) != Some(value.as_str()) {
            return fail(format!(
                "backend got {name}: {:?}, expected {value:?}",
                echo.get(name)
            ));
        }
    }
    let anonymous = TlsClient::new(&pki.server_ca.cert).get(addr, DIRECT).status;
    let refuses = matches!(kind, Kind::Rbac | Kind::Plugin);
    if (anonymous == 403) != refuses {
        return fail(format!(
            "GET {DIRECT} without a client certificate got {anonymous}"
        ));
    }
    Ok(())
}

/// 1000 req/s, or a quarter of the slowest configuration's saturated
/// throughput if that is lower: a round rate, comparable between machines,
/// at which Envoy is idle most of the time.
fn auto_rate(samples: &Samples) -> u32 {
    let mut by_config: BTreeMap<(Route, String), Vec<f64>> = BTreeMap::new();
    for ((phase, route), runs) in samples {
        if *phase == Phase::Saturated {
            for (kind, s) in runs {
                by_config
                    .entry((*route, kind.key()))
                    .or_default()
                    .push(s.rps);
            }
        }
    }
    let slowest = by_config
        .values_mut()
        .map(|rps| report::median(rps))
        .fold(f64::INFINITY, f64::min);
    (((slowest / 4.0 / 100.0).floor() as u32) * 100).clamp(100, 1000)
}

/// Waits (up to `--quiet-wait`) for the 1-minute load average to drop below
/// `--quiet-load`; returns the load average it starts at.
fn wait_for_quiet(options: &Options) -> f64 {
    let deadline = Instant::now() + options.quiet_wait;
    loop {
        let load = cpu::load_average();
        if load < options.quiet_load || Instant::now() >= deadline || STOP.load(Ordering::SeqCst) {
            if load >= options.quiet_load {
                println!(
                    "load average {load:.2} ≥ {}; measuring anyway (noisy)",
                    options.quiet_load
                );
            }
            return load;
        }
        println!(
            "load average {load:.2}; waiting for < {} ...",
            options.quiet_load
        );
        std::thread::sleep(Duration::from_secs(15));
    }
}

struct Machine {
    cpus: usize,
    cpu_model: String,
    kernel: String,
    envoy: String,
    oha: String,
}

impl Machine {
    fn probe(oha: &Oha) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| {
                let (key, value) = l.split_once(':')?;
                (key.trim() == "model name").then(|| value.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let version = Command::new(envoy::binary())
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        // "<path>  version: <commit>/1.40.0/Clean/RELEASE/BoringSSL"
        let envoy = version
            .split_once("version: ")
            .and_then(|(_, v)| v.split('/').nth(1))
            .map(str::to_string)
            .unwrap_or_else(|| version.trim().to_string());
        Machine {
            // Not available_parallelism(): this thread is pinned to one CPU.
            // SAFETY: sysconf only reads a system constant.
            cpus: unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(0) as usize,
            cpu_model,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .unwrap_or_default()
                .trim()
                .to_string(),
            envoy,
            oha: oha.version(),
        }
    }
}

/// `$VAR`, else the file in the no-op filter crate's target directory.
fn locate(repo: &Path, var: &str, file: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo
            .join("target/bench-noop/wasm32-wasip1/release")
            .join(file),
    }
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}
