//! Medians, the comparison tables, the targets, and the Markdown written
//! into docs/benchmarks.md.

use crate::configs::Kind;
use std::fmt::Write as _;

/// One load-generator run against one configuration.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub rps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Envoy's CPU time (user + system) per request Envoy completed.
    pub cpu_us_per_req: f64,
    /// Envoy's CPU time over wall time: near 1.0 means Envoy was the bottleneck.
    pub cpu_busy: f64,
}

/// Medians over the rounds, and how far the rounds spread.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub rps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub cpu_us_per_req: f64,
    pub cpu_busy: f64,
    /// (max − min) / median over the rounds.
    pub rps_spread: f64,
    pub cpu_spread: f64,
}

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn spread(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    let mid = median(&mut sorted);
    match (sorted.first(), sorted.last()) {
        (Some(lo), Some(hi)) if mid > 0.0 => (hi - lo) / mid,
        _ => f64::NAN,
    }
}

pub fn summarize(samples: &[Sample]) -> Summary {
    let pick = |f: fn(&Sample) -> f64| samples.iter().map(f).collect::<Vec<f64>>();
    let rps = pick(|s| s.rps);
    let cpu = pick(|s| s.cpu_us_per_req);
    Summary {
        rps: median(&mut rps.clone()),
        p50_us: median(&mut pick(|s| s.p50_us)),
        p99_us: median(&mut pick(|s| s.p99_us)),
        cpu_us_per_req: median(&mut cpu.clone()),
        cpu_busy: median(&mut pick(|s| s.cpu_busy)),
        rps_spread: spread(&rps),
        cpu_spread: spread(&cpu),
    }
}

/// The summaries of one table, in `Kind::ALL` order.
pub type Row = (Kind, Summary);

fn ceiling(rows: &[Row]) -> Summary {
    rows.iter()
        .find(|(k, _)| *k == Kind::NoFilter)
        .map(|(_, s)| *s)
        .expect("the ceiling is always measured")
}

/// A configuration's summary; `None` when `--only` left it out.
pub fn get(rows: &[Row], kind: Kind) -> Option<Summary> {
    rows.iter().find(|(k, _)| *k == kind).map(|(_, s)| *s)
}

/// One Markdown table: each configuration with its ratio or difference to A.
pub fn table(rows: &[Row]) -> String {
    let a = ceiling(rows);
    let mut out = String::new();
    out.push_str(
        "| config | req/s | ÷ A | p50 µs | − A | p99 µs | − A | Envoy CPU µs/req | − A | ÷ A | Envoy busy | spread req/s, CPU |\n",
    );
    out.push_str(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for (kind, s) in rows {
        let _ = writeln!(
            out,
            "| {} {} | {:.0} | {:.3} | {:.0} | {:+.0} | {:.0} | {:+.0} | {:.1} | {:+.1} | {:.2} | {:.0} % | {:.0} %, {:.0} % |",
            kind.key(),
            kind.label(),
            s.rps,
            s.rps / a.rps,
            s.p50_us,
            s.p50_us - a.p50_us,
            s.p99_us,
            s.p99_us - a.p99_us,
            s.cpu_us_per_req,
            s.cpu_us_per_req - a.cpu_us_per_req,
            s.cpu_us_per_req / a.cpu_us_per_req,
            s.cpu_busy * 100.0,
            s.rps_spread * 100.0,
            s.cpu_spread * 100.0,
        );
    }
    out
}

/// A target and whether these numbers meet it.
pub struct Verdict {
    pub target: String,
    pub measured: String,
    pub met: bool,
}

impl Verdict {
    pub fn line(&self) -> String {
        format!(
            "| {} | {} | {} |",
            self.target,
            self.measured,
            if self.met { "met" } else { "**missed**" }
        )
    }
}

/// Added CPU per request: the plugin's against the no-op wasm filter's
/// (≤ 1.5×) and, as a stretch, against Lua's.
pub fn cpu_targets(route: &str, rows: &[Row]) -> Vec<Verdict> {
    let a = ceiling(rows).cpu_us_per_req;
    let added = |k| get(rows, k).map(|s| s.cpu_us_per_req - a);
    let (Some(plugin), Some(noop), Some(lua)) =
        (added(Kind::Plugin), added(Kind::NoopWasm), added(Kind::Lua))
    else {
        return Vec::new();
    };
    vec![
        Verdict {
            target: format!("{route}: plugin's added Envoy CPU/request ≤ 1.5 × no-op wasm's"),
            measured: format!("{plugin:.1} µs vs {noop:.1} µs ({:.1} ×)", plugin / noop),
            met: plugin <= 1.5 * noop,
        },
        Verdict {
            target: format!("{route} (stretch): plugin's added Envoy CPU/request ≤ Lua's"),
            measured: format!("{plugin:.1} µs vs {lua:.1} µs"),
            met: plugin <= lua,
        },
    ]
}

/// Proxied throughput: the plugin's ratio to the ceiling within 0.03 of the
/// no-op wasm filter's.
/// The plugin's added CPU per request with many connections within 15 %
/// of its added CPU with few: the connection memo keeps them all warm.
pub fn scale_target(
    route: &str,
    (few, few_rows): (u32, &[Row]),
    (many, many_rows): (u32, &[Row]),
) -> Option<Verdict> {
    let added = |rows: &[Row]| {
        get(rows, Kind::Plugin).map(|s| s.cpu_us_per_req - ceiling(rows).cpu_us_per_req)
    };
    let (at_few, at_many) = (added(few_rows)?, added(many_rows)?);
    Some(Verdict {
        target: format!(
            "{route}: plugin's added Envoy CPU/request at {many} connections within 15 % of {few}'s"
        ),
        measured: format!(
            "{at_many:.1} µs vs {at_few:.1} µs ({:+.0} %)",
            (at_many / at_few - 1.0) * 100.0
        ),
        met: at_many <= 1.15 * at_few,
    })
}

pub fn throughput_target(rows: &[Row]) -> Option<Verdict> {
    let a = ceiling(rows).rps;
    let plugin = get(rows, Kind::Plugin)?.rps / a;
    let noop = get(rows, Kind::NoopWasm)?.rps / a;
    Some(Verdict {
        target: "proxied: plugin's req/s ÷ A within 0.03 of the no-op wasm filter's".into(),
        measured: format!("{plugin:.3} vs {noop:.3} (difference {:.3})", noop - plugin),
        met: noop - plugin <= 0.03,
    })
}

/// p99 added at the fixed rate: the plugin's p99 minus the ceiling's.
pub fn latency_target(route: &str, rate: u32, rows: &[Row]) -> Option<Verdict> {
    let a = ceiling(rows).p99_us;
    let plugin = get(rows, Kind::Plugin)?.p99_us;
    Some(Verdict {
        target: format!("{route} at {rate} req/s: plugin's p99 added ≤ 50 µs"),
        measured: format!("{:+.0} µs ({plugin:.0} vs {a:.0} µs)", plugin - a),
        met: plugin - a <= 50.0,
    })
}

/// What `kind` (F: the token bound, G: OCSP) adds to the plugin E on one
/// route, one Markdown table row: CPU, throughput, p50, and whether the
/// difference in CPU is within the rounds' spread of either; `None` when
/// `--only` left either out.
pub fn against_plugin_row(route: &str, kind: Kind, rows: &[Row]) -> Option<String> {
    let (plugin, other) = (get(rows, Kind::Plugin)?, get(rows, kind)?);
    let difference = other.cpu_us_per_req - plugin.cpu_us_per_req;
    let noise = plugin.cpu_spread.max(other.cpu_spread) * plugin.cpu_us_per_req;
    Some(format!(
        "| {route} | {:.1} | {:.1} | {difference:+.1} | {} | {:.3} | {:+.0} |",
        plugin.cpu_us_per_req,
        other.cpu_us_per_req,
        if difference.abs() <= noise {
            "yes"
        } else {
            "no"
        },
        other.rps / plugin.rps,
        other.p50_us - plugin.p50_us,
    ))
}

pub fn size_target(bytes: u64) -> Verdict {
    Verdict {
        target: "`.wasm` ≤ 1 MiB".into(),
        measured: format!("{bytes} bytes ({:.2} MiB)", bytes as f64 / 1_048_576.0),
        met: bytes <= 1_048_576,
    }
}

/// The probe ladder: Envoy CPU per request after each step, what the step
/// added, and the total above the no-op filter.
pub fn ladder(rows: &[Row]) -> String {
    let noop = get(rows, Kind::NoopWasm).map_or(f64::NAN, |s| s.cpu_us_per_req);
    let mut out = String::from(
        "| config | Envoy CPU µs/req | step adds | − B | spread |\n| --- | ---: | ---: | ---: | ---: |\n",
    );
    let mut previous: Option<f64> = None;
    for (kind, s) in rows {
        let cpu = s.cpu_us_per_req;
        let step = previous.map_or("".to_string(), |p| format!("{:+.2}", cpu - p));
        let above = if *kind == Kind::NoFilter {
            String::new()
        } else {
            format!("{:+.2}", cpu - noop)
        };
        let _ = writeln!(
            out,
            "| {} {} | {cpu:.2} | {step} | {above} | {:.0} % |",
            kind.key(),
            kind.label(),
            s.cpu_spread * 100.0
        );
        previous = Some(cpu);
    }
    out
}

/// `YYYY-MM-DD HH:MM UTC` for a Unix time, from the CLI's RFC 3339 form.
pub fn utc(unix: u64) -> String {
    let rfc3339 = onerecord_tls_policy_core::rfc3339::format_rfc3339(unix);
    let (date, time) = (rfc3339.get(..10), rfc3339.get(11..16));
    format!("{} {} UTC", date.unwrap_or("?"), time.unwrap_or("?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(1_764_282_000), "2025-11-27 22:20 UTC");
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
