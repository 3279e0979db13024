//! The benchmark's processes and runs: the PKI, the backends and one Envoy
//! per configuration, each checked before it is timed, then oha against
//! them in alternating rounds.

mod check;
mod measured;
mod summary;

use crate::configs::{ECHO, Inputs, Kind, PROXIED};
use crate::load::{Load, Oha};
use crate::machine::{locate, wait_for_quiet};
use crate::memory::Memory;
use crate::options::Options;
use crate::report::Sample;
use crate::upstream::LeanUpstream;
use crate::{Phase, Route, STOP, Samples, configs, cpu, load};
use measured::{Completed, Measured};
use onerecord_tls_policy_testkit as support;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use support::bootstrap::{Files, TLS};
use support::envoy::{self, Envoy};
use support::fixture::{PkiFiles, TestPki};
use support::jwt::{self, TokenIssuer};
use support::ocsp_responder::{OcspResponder, free_port};
use support::pki::{CertSpec, issue, pem_bundle};
use support::tempdir::TempDir;
use support::upstream::Upstream;

/// Files and processes shared by every run; dropping it stops them all.
pub(crate) struct Bench {
    options: Options,
    kinds: Vec<Kind>,
    routes: Vec<Route>,
    oha: Oha,
    // Declared before the backends and the directory, so Envoy stops first.
    envoys: Vec<(Kind, Envoy)>,
    _lean: LeanUpstream,
    _echo: Upstream,
    _ocsp: OcspResponder,
    _dir: TempDir,
    /// 1-minute load averages seen before each round.
    loads: Vec<f64>,
    /// Each Envoy's memory after each of its runs, by load and route.
    memory: BTreeMap<(Phase, Route), Vec<(Kind, Memory)>>,
    load_at_start: f64,
    /// [`cpu::ticks`] when the timed rounds could start.
    ticks_at_start: (u64, u64),
    wasm: PathBuf,
    noop_wasm: PathBuf,
    /// F's bearer token: the client's URI SAN as `logistics_agent_uri`,
    /// bound to its certificate (`cnf.x5t#S256`).
    token: String,
}

/// Longer than any run: the token must not expire while it is measured.
const TOKEN_LIFETIME_SECS: u64 = 24 * 3600;

impl Bench {
    /// Generates the PKI, starts the backends and one Envoy per
    /// configuration, and checks that each does what it claims.
    pub(crate) fn start(options: &Options) -> Result<Bench, String> {
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
        let ticks_at_start = cpu::ticks();

        // The harness's PKI plus an issuing CA: clients send leaf +
        // intermediate, and the plugin completes the path with the pinned root's PEM.
        let pki = TestPki::generate();
        let issuing = issue(&CertSpec::ca("Bench ONE Record Issuing CA"), &pki.client_ca);
        // Its AIA names the OCSP responder G asks (the others ignore it).
        let ocsp_port = free_port();
        let leaf_spec = macro_bench::client::spec()
            .extension("authorityInfoAccess", &OcspResponder::aia(ocsp_port));
        let leaf = issue(&leaf_spec, &issuing);
        // nextUpdate an hour on: no refresh falls inside a run.
        let ocsp = OcspResponder::start(ocsp_port, &issuing, 60, &[(&leaf, false)]);
        let agent = leaf_spec.uri_sans.first().cloned().unwrap_or_default();
        let token_issuer = TokenIssuer::generate("bench");
        let now = support::unix_now();
        let mut claims = jwt::claims(&agent, Some(&leaf.der()), now);
        claims["exp"] = (now + TOKEN_LIFETIME_SECS).into();
        let token = token_issuer.sign(&claims);
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
            token_issuer: &token_issuer,
            ocsp_responder: ocsp.cluster("ocsp"),
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
            check::check(kind, &envoy, &pki, (&leaf, &issuing), (&token, &agent))?;
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
            _ocsp: ocsp,
            _dir: dir,
            loads: Vec::new(),
            memory: BTreeMap::new(),
            load_at_start,
            ticks_at_start,
            wasm,
            noop_wasm,
            token,
        })
    }

    fn envoy(&self, kind: Kind) -> &Envoy {
        self.envoys
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, e)| e)
            .expect("every configuration has an Envoy")
    }

    fn load(
        &self,
        (phase, rate): (Phase, Option<u32>),
        kind: Kind,
        path: &str,
        duration: Duration,
    ) -> Load {
        let addr = self.envoy(kind).listener(TLS);
        let o = &self.options;
        Load {
            // `localhost` is the name on the server certificate.
            url: format!("https://localhost:{}{path}", addr.port()),
            duration,
            connections: match phase {
                Phase::ManyConnections => o.many_connections,
                _ => o.connections,
            },
            rate,
            authorization: authorization(kind, &self.token),
            http2_streams: (phase == Phase::Http2).then_some(o.http2_streams),
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
                "{} {}: Envoy completed {requests} requests, {not_ok} of them not 2xx\nEnvoy's log:\n{}",
                kind.key(),
                load.url,
                envoy.log_tail(20)
            ));
        }
        // What the run claims to load Envoy with, by Envoy's own counts.
        let opened = after.connections.saturating_sub(before.connections);
        let http2 = after
            .http2_connections
            .saturating_sub(before.http2_connections);
        if opened < u64::from(load.connections) || (load.http2_streams.is_some() && http2 == 0) {
            return Err(format!(
                "{} {}: Envoy saw {opened} new connections ({http2} HTTP/2), the run asked for {}{}",
                kind.key(),
                load.url,
                load.connections,
                if load.http2_streams.is_some() {
                    " over HTTP/2"
                } else {
                    ""
                }
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
    pub(crate) fn compare_upstreams(&self) -> Result<Vec<(&'static str, Measured)>, String> {
        println!("\nupstream check (A, proxied):");
        let duration = self.options.duration;
        let mut results = Vec::new();
        for (name, path) in [("harness echo", ECHO), ("lean", PROXIED)] {
            let load = self.load((Phase::Saturated, None), Kind::NoFilter, path, duration);
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
    pub(crate) fn warm_up(&self) -> Result<(), String> {
        println!(
            "\nwarm-up, {:?} per configuration and route",
            self.options.warmup
        );
        for &route in &self.routes {
            for &kind in &self.kinds {
                let load = self.load(
                    (Phase::Saturated, None),
                    kind,
                    route.path(),
                    self.options.warmup,
                );
                self.measure(kind, &load)?;
            }
        }
        Ok(())
    }

    pub(crate) fn rounds(
        &mut self,
        phase: Phase,
        rate: Option<u32>,
        samples: &mut Samples,
    ) -> Result<(), String> {
        let o = &self.options;
        let what = match (phase, rate) {
            (_, Some(rate)) => format!("fixed rate {rate} req/s"),
            (Phase::Saturated | Phase::FixedRate, None) => "as fast as possible".to_string(),
            (Phase::ManyConnections, None) => {
                format!("{} connections, as fast as possible", o.many_connections)
            }
            (Phase::Http2, None) => format!(
                "HTTP/2, {} connections × {} streams, as fast as possible",
                o.connections, o.http2_streams
            ),
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
                    let load = self.load((phase, rate), kind, route.path(), self.options.duration);
                    let m = self.measure(kind, &load)?;
                    let s = m.sample;
                    // After the run, outside its timed window.
                    let pid = self.envoy(kind).pid();
                    let memory = Memory::read(pid).map_err(|e| format!("pid {pid}: {e}"))?;
                    println!(
                        "  {:<7} {:<3} {:>6.0} req/s  p50 {:>6.0} µs  p99 {:>6.0} µs  Envoy {:>5.1} µs/req, busy {:>3.0} %, RSS {:.0} MiB{}",
                        route.name(),
                        kind.key(),
                        s.rps,
                        s.p50_us,
                        s.p99_us,
                        s.cpu_us_per_req,
                        s.cpu_busy * 100.0,
                        memory.rss_kib as f64 / 1024.0,
                        if m.client_errors > 0 {
                            format!("  ({} client-side errors)", m.client_errors)
                        } else {
                            String::new()
                        }
                    );
                    samples.entry((phase, route)).or_default().push((kind, s));
                    self.memory
                        .entry((phase, route))
                        .or_default()
                        .push((kind, memory));
                }
            }
        }
        Ok(())
    }
}

/// The bearer token F's requests carry; the others send none.
pub(super) fn authorization(kind: Kind, token: &str) -> Option<String> {
    (kind == Kind::TokenBound).then(|| format!("Bearer {token}"))
}
