//! Medians, the comparison tables, the targets, and the Markdown written
//! into docs/benchmarks.md.

use crate::configs::Kind;
use std::fmt::Write as _;

mod targets;
pub use targets::*;

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

/// What `kind` (F: the token bound, G: OCSP, H: the lean profile) adds to the plugin E on one
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
