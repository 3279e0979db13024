//! `make bench`: Envoy with eight HTTP filter configurations side by side
//! (docs/benchmarks.md explains the method and the targets).
//!
//! Envoy (`--concurrency 1`) runs pinned to one CPU; oha, the backends and
//! this program share another. All Envoys start once and the configurations
//! then run in alternation (A B … H, A B … H, ...) so that drifting
//! background load hits them alike; the report gives per-round medians. Each
//! run is measured by oha (req/s, latency) and by Envoy's own CPU time per
//! request from `/proc/<pid>/stat`, which stays meaningful when the load
//! generator, not Envoy, is the bottleneck.
//!
//! `--profile` (`make bench-profile`) instead runs the hostcall probe step by
//! step between the no-op filter and the plugin, to attribute the plugin's cost.
//!
//! `bench` starts the processes and runs the rounds (`bench::summary` writes
//! the report), `configs` holds the eight Envoy configurations, `load` drives
//! oha, and `machine` waits for a quiet machine and describes it.

use onerecord_tls_policy_testkit as support;

mod bench;
mod configs;
mod cpu;
mod load;
mod machine;
mod memory;
mod options;
mod report;
mod upstream;

use bench::Bench;
use configs::{DIRECT, Kind, PROXIED};
use macro_bench::splice;
use options::Options;
use report::Sample;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// As fast as possible over `--many-connections` connections.
    ManyConnections,
    /// As fast as possible over HTTP/2, `--http2-streams` per connection.
    Http2,
}

type Samples = BTreeMap<(Phase, Route), Vec<(Kind, Sample)>>;

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
        // A later load that fails still reports what the earlier ones
        // measured (then the run fails): a long run is not lost whole.
        let later = (|| {
            bench.rounds(Phase::FixedRate, Some(rate), &mut samples)?;
            if options.many_connections > 0 {
                bench.rounds(Phase::ManyConnections, None, &mut samples)?;
            }
            if options.http2_streams > 0 {
                bench.rounds(Phase::Http2, None, &mut samples)?;
            }
            Ok::<(), String>(())
        })();
        let markdown = bench.markdown(rate, &upstreams, &samples);
        if let Err(e) = later {
            write(options, &stopped_early(&markdown, &e))?;
            return Err(e);
        }
        markdown
    };
    write(options, &markdown)
}

/// `markdown` with a line under its title saying that the run stopped at
/// `error` (its first line), and that the tables hold what came before.
fn stopped_early(markdown: &str, error: &str) -> String {
    let first = error.lines().next().unwrap_or_default();
    let note = format!(
        "\n\n**This run stopped early**: {first}. The tables hold what it measured before; a load with fewer rounds than the others, or none, was cut short.\n\n"
    );
    markdown.replacen("\n\n", &note, 1)
}

/// Prints the report and splices it into `--write`'s file.
fn write(options: &Options, markdown: &str) -> Result<(), String> {
    println!("\n{markdown}");
    if let Some(path) = &options.write {
        let doc = std::fs::read_to_string(path).unwrap_or_default();
        let marker = if options.profile {
            "macro-bench-profile"
        } else {
            "macro-bench"
        };
        std::fs::write(path, splice::splice(&doc, marker, markdown))
            .map_err(|e| format!("write {}: {e}", path.display()))?;
        println!("written to {}", path.display());
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

#[cfg(test)]
mod tests {
    use super::stopped_early;

    #[test]
    fn a_run_that_stopped_says_so_under_its_title() {
        let markdown = "## Results\n\nGenerated by `make bench`.\n\n### Targets\n";
        let error = "E https://localhost:1/direct: Envoy completed 9 requests, 2 of them not 2xx\nEnvoy's log:\n[envoy] 503";
        let noted = stopped_early(markdown, error);
        assert!(noted.starts_with("## Results\n\n**This run stopped early**: E https://localhost:1/direct: Envoy completed 9 requests, 2 of them not 2xx. The tables"));
        assert!(!noted.contains("[envoy] 503"));
        assert!(noted.ends_with("\n\nGenerated by `make bench`.\n\n### Targets\n"));
    }
}
