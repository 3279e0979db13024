//! Command-line options (`make bench BENCH_ARGS="..."`).

use std::path::PathBuf;
use std::time::Duration;

pub const USAGE: &str = "usage: macro-bench [options]
  --rounds N          rounds of A..H per route and load (default 5)
  --duration SECS     length of each measured run (default 6)
  --warmup SECS       unrecorded run per configuration and route first (default 3)
  --connections N     keep-alive connections from the load generator (default 16)
  --many-connections N
                      connections of the many-connections runs (default 2048; 0 skips them)
  --http2-streams N   concurrent streams per connection of the HTTP/2 runs, over
                      --connections connections (default 4; 0 skips them)
  --rate N            requests/s of the fixed-rate runs (default 1000, or a
                      quarter of the slowest saturated throughput if lower)
  --cpus E,L          CPU for Envoy, CPU for the load generator and backends (default 0,1)
  --quiet-load X      wait for a 1-minute load average below X first (default 1.5)
  --quiet-wait SECS   ... but no longer than this (default 120)
  --write PATH        put the results into PATH between its macro-bench markers
  --only A,E          run only these configurations (A is always included)
  --profile           the hostcall probe step by step instead (make bench-profile)";

#[derive(Clone, Debug)]
pub struct Options {
    pub rounds: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub connections: u32,
    /// Connections of the many-connections runs; 0 skips them.
    pub many_connections: u32,
    /// Streams per connection of the HTTP/2 runs; 0 skips them.
    pub http2_streams: u32,
    pub rate: Option<u32>,
    pub envoy_cpu: usize,
    pub load_cpu: usize,
    pub quiet_load: f64,
    pub quiet_wait: Duration,
    pub write: Option<PathBuf>,
    pub profile: bool,
    /// Configuration keys to run; empty means all.
    pub only: Vec<String>,
}

impl Options {
    pub fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut o = Options {
            rounds: 5,
            duration: Duration::from_secs(6),
            warmup: Duration::from_secs(3),
            connections: 16,
            many_connections: 2048,
            http2_streams: 4,
            rate: None,
            envoy_cpu: 0,
            load_cpu: 1,
            quiet_load: 1.5,
            quiet_wait: Duration::from_secs(120),
            write: None,
            profile: false,
            only: Vec::new(),
        };
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--rounds" => o.rounds = number(&flag, &value()?)?,
                "--duration" => o.duration = seconds(&flag, &value()?)?,
                "--warmup" => o.warmup = seconds(&flag, &value()?)?,
                "--connections" => o.connections = number(&flag, &value()?)?,
                "--many-connections" => o.many_connections = number(&flag, &value()?)?,
                "--http2-streams" => o.http2_streams = number(&flag, &value()?)?,
                "--rate" => o.rate = Some(number(&flag, &value()?)?),
                "--cpus" => {
                    let text = value()?;
                    let (envoy, load) = text
                        .split_once(',')
                        .ok_or_else(|| format!("--cpus wants E,L, got {text:?}"))?;
                    o.envoy_cpu = number(&flag, envoy)?;
                    o.load_cpu = number(&flag, load)?;
                }
                "--quiet-load" => o.quiet_load = number(&flag, &value()?)?,
                "--quiet-wait" => o.quiet_wait = seconds(&flag, &value()?)?,
                "--write" => o.write = Some(PathBuf::from(value()?)),
                "--profile" => o.profile = true,
                "--only" => {
                    o.only = value()?
                        .split(',')
                        .map(|k| k.trim().to_ascii_uppercase())
                        .collect()
                }
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        if o.rounds == 0 || o.connections == 0 || o.duration.is_zero() {
            return Err("--rounds, --connections and --duration must be positive".into());
        }
        if o.envoy_cpu == o.load_cpu {
            return Err("Envoy and the load generator need different CPUs".into());
        }
        Ok(o)
    }
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{flag}: not a valid number: {text:?}"))
}

fn seconds(flag: &str, text: &str) -> Result<Duration, String> {
    let secs: f64 = number(flag, text)?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{flag}: not a duration: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::Options;

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn the_many_connections_and_http2_runs_are_on_by_default_and_can_be_skipped() {
        let default = parse(&[]).unwrap();
        assert_eq!((default.many_connections, default.http2_streams), (2048, 4));
        let skipped = parse(&["--many-connections", "0", "--http2-streams", "0"]).unwrap();
        assert_eq!((skipped.many_connections, skipped.http2_streams), (0, 0));
        let short = parse(&[
            "--rounds",
            "1",
            "--duration",
            "1",
            "--warmup",
            "0",
            "--only",
            "B,E",
            "--many-connections",
            "64",
            "--http2-streams",
            "2",
        ])
        .unwrap();
        assert_eq!(
            (short.rounds, short.many_connections, short.http2_streams),
            (1, 64, 2)
        );
        assert_eq!(short.only, ["B", "E"]);
        assert!(parse(&["--many-connections", "lots"]).is_err());
    }
}
