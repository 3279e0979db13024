//! The targets `make bench` checks, each a line of the report's "Targets"
//! table with what was measured: the plugin's absolute budget and
//! throughput, the lean profile against the no-op and Lua filters, the
//! plugin with many connections, Envoy's memory, and the `.wasm` size.

use super::{Row, ceiling, get};
use crate::Route;
use crate::configs::Kind;
use crate::memory::MemoryRow;

/// Whether the numbers meet a target; `Info` for a row measured without one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Met,
    Missed,
    Info,
}

/// A target and whether these numbers meet it.
pub struct Verdict {
    pub target: String,
    pub measured: String,
    pub status: Status,
}

impl Verdict {
    fn checked(target: String, measured: String, met: bool) -> Verdict {
        let status = if met { Status::Met } else { Status::Missed };
        Verdict {
            target,
            measured,
            status,
        }
    }

    pub fn line(&self) -> String {
        let status = match self.status {
            Status::Met => "met",
            Status::Missed => "**missed**",
            Status::Info => "measured, no target",
        };
        format!("| {} | {} | {status} |", self.target, self.measured)
    }
}

/// The default configuration's (E) Envoy CPU per request above the
/// ceiling's on the warm mTLS path, at most.
pub fn plugin_budget_us(route: Route) -> f64 {
    match route {
        Route::Direct => 6.0,
        Route::Proxied => 12.0,
    }
}

/// The lean profile's (H) added CPU, at most this many times the no-op
/// wasm filter's, and at most Lua's plus [`LEAN_OVER_LUA_US`].
pub const LEAN_OVER_NOOP: f64 = 2.5;
pub const LEAN_OVER_LUA_US: f64 = 2.0;

/// E's proxied req/s ÷ A's, at least.
pub const PLUGIN_THROUGHPUT: f64 = 0.80;

/// `kind`'s Envoy CPU per request above the ceiling's in the same table.
fn added(rows: &[Row], kind: Kind) -> Option<f64> {
    get(rows, kind).map(|s| s.cpu_us_per_req - ceiling(rows).cpu_us_per_req)
}

/// E − A against its absolute budget on `route` (saturated runs).
pub fn plugin_cpu_target(route: Route, rows: &[Row]) -> Option<Verdict> {
    let plugin = added(rows, Kind::Plugin)?;
    let budget = plugin_budget_us(route);
    Some(Verdict::checked(
        format!(
            "{}: plugin's (E) added Envoy CPU/request ≤ {budget:.0} µs",
            route.name()
        ),
        format!("{plugin:.1} µs"),
        plugin <= budget,
    ))
}

/// E's proxied throughput against the ceiling's.
pub fn throughput_target(rows: &[Row]) -> Option<Verdict> {
    let ratio = get(rows, Kind::Plugin)?.rps / ceiling(rows).rps;
    Some(Verdict::checked(
        format!("proxied: plugin's (E) req/s ÷ A ≥ {PLUGIN_THROUGHPUT:.2}"),
        format!("{ratio:.3}"),
        ratio >= PLUGIN_THROUGHPUT,
    ))
}

/// H − A against B − A and D − A on `route`; a comparison whose
/// configuration `--only` left out is not made.
pub fn lean_targets(route: Route, rows: &[Row]) -> Vec<Verdict> {
    let Some(lean) = added(rows, Kind::Lean) else {
        return Vec::new();
    };
    let mut verdicts = Vec::new();
    if let Some(noop) = added(rows, Kind::NoopWasm) {
        let ratio = if noop > 0.0 {
            format!(" ({:.1} ×)", lean / noop)
        } else {
            String::new()
        };
        verdicts.push(Verdict::checked(
            format!(
                "{}: lean profile's (H) added Envoy CPU/request ≤ {LEAN_OVER_NOOP} × no-op wasm's (B)",
                route.name()
            ),
            format!("{lean:.1} µs vs {noop:.1} µs{ratio}"),
            lean <= LEAN_OVER_NOOP * noop,
        ));
    }
    if let Some(lua) = added(rows, Kind::Lua) {
        verdicts.push(Verdict::checked(
            format!(
                "{}: lean profile's (H) added Envoy CPU/request ≤ Lua's (D) + {LEAN_OVER_LUA_US:.0} µs",
                route.name()
            ),
            format!("{lean:.1} µs vs {lua:.1} µs + {LEAN_OVER_LUA_US:.0} µs"),
            lean <= lua + LEAN_OVER_LUA_US,
        ));
    }
    verdicts
}

/// The plugin's added CPU per request with many connections within 15 %
/// of its added CPU with few: the connection memo keeps them all warm.
pub fn scale_target(
    route: Route,
    (few, few_rows): (u32, &[Row]),
    (many, many_rows): (u32, &[Row]),
) -> Option<Verdict> {
    let (at_few, at_many) = (
        added(few_rows, Kind::Plugin)?,
        added(many_rows, Kind::Plugin)?,
    );
    Some(Verdict::checked(
        format!(
            "{}: plugin's (E) added Envoy CPU/request at {many} connections within 15 % of {few}'s",
            route.name()
        ),
        format!(
            "{at_many:.1} µs vs {at_few:.1} µs ({:+.0} %)",
            (at_many / at_few - 1.0) * 100.0
        ),
        at_many <= 1.15 * at_few,
    ))
}

/// Envoy's peak memory with many connections, the plugin's (E) against the
/// ceiling's (A), and how much the many-connections runs raised each:
/// measured and reported, without a threshold.
pub fn memory_row(many: u32, rows: &[MemoryRow]) -> Option<Verdict> {
    let of = |kind: Kind| rows.iter().find(|r| r.kind == kind);
    let (plugin, a) = (of(Kind::Plugin)?, of(Kind::NoFilter)?);
    let (plugin_peak, a_peak) = (plugin.peak_many()?, a.peak_many()?);
    let grew = |r: &MemoryRow, peak: f64| {
        r.peak_few()
            .map_or("–".to_string(), |before| format!("{:+.1}", peak - before))
    };
    Some(Verdict {
        target: format!("{many} connections: Envoy's peak RSS, plugin (E) against A"),
        measured: format!(
            "{plugin_peak:.1} MiB vs {a_peak:.1} MiB ({:+.1} MiB); the {many}-connection runs raised E's by {} MiB, A's by {} MiB",
            plugin_peak - a_peak,
            grew(plugin, plugin_peak),
            grew(a, a_peak),
        ),
        status: Status::Info,
    })
}

/// The plugin's p50 and p99 above the ceiling's at the fixed rate, for
/// reference: at a rate where Envoy is mostly idle they are scheduling
/// more than filter cost, so there is no target.
pub fn latency_row(route: Route, rate: u32, rows: &[Row]) -> Option<Verdict> {
    let (a, plugin) = (ceiling(rows), get(rows, Kind::Plugin)?);
    Some(Verdict {
        target: format!(
            "{} at {rate} req/s: plugin's (E) p50 and p99 added",
            route.name()
        ),
        measured: format!(
            "p50 {:+.0} µs, p99 {:+.0} µs ({:.0} vs {:.0} µs)",
            plugin.p50_us - a.p50_us,
            plugin.p99_us - a.p99_us,
            plugin.p99_us,
            a.p99_us
        ),
        status: Status::Info,
    })
}

pub fn size_target(bytes: u64) -> Verdict {
    Verdict::checked(
        "`.wasm` ≤ 1 MiB".into(),
        format!("{bytes} bytes ({:.2} MiB)", bytes as f64 / 1_048_576.0),
        bytes <= 1_048_576,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::Memory;
    use crate::report::Summary;

    fn summary(cpu_us_per_req: f64, rps: f64) -> Summary {
        Summary {
            rps,
            p50_us: 300.0,
            p99_us: 400.0,
            cpu_us_per_req,
            cpu_busy: 0.97,
            rps_spread: 0.05,
            cpu_spread: 0.05,
        }
    }

    /// A table with the ceiling at 20 µs and 50,000 req/s, and `others` as
    /// (kind, Envoy CPU µs/req, req/s).
    fn rows(others: &[(Kind, f64, f64)]) -> Vec<Row> {
        let mut rows = vec![(Kind::NoFilter, summary(20.0, 50_000.0))];
        rows.extend(others.iter().map(|&(k, cpu, rps)| (k, summary(cpu, rps))));
        rows
    }

    fn statuses(verdicts: &[Verdict]) -> Vec<Status> {
        verdicts.iter().map(|v| v.status).collect()
    }

    #[test]
    fn the_plugin_budget_is_absolute_and_per_route() {
        let at = |route, cpu| plugin_cpu_target(route, &rows(&[(Kind::Plugin, cpu, 1.0)]));
        let direct = at(Route::Direct, 26.0).unwrap();
        assert_eq!(direct.status, Status::Met);
        assert_eq!(
            direct.line(),
            "| direct: plugin's (E) added Envoy CPU/request ≤ 6 µs | 6.0 µs | met |"
        );
        assert_eq!(at(Route::Direct, 26.2).unwrap().status, Status::Missed);
        // The same added cost is within the proxied budget.
        assert_eq!(at(Route::Proxied, 26.2).unwrap().status, Status::Met);
        assert_eq!(at(Route::Proxied, 32.5).unwrap().status, Status::Missed);
        assert!(plugin_cpu_target(Route::Direct, &rows(&[])).is_none());
    }

    #[test]
    fn throughput_is_the_plugins_share_of_the_ceilings() {
        let at = |rps| throughput_target(&rows(&[(Kind::Plugin, 30.0, rps)])).unwrap();
        let met = at(40_000.0);
        assert_eq!((met.status, met.measured.as_str()), (Status::Met, "0.800"));
        assert_eq!(at(39_900.0).status, Status::Missed);
        assert!(throughput_target(&rows(&[(Kind::NoopWasm, 22.0, 48_000.0)])).is_none());
    }

    #[test]
    fn the_lean_profile_is_held_to_the_noop_and_lua_filters() {
        // B adds 2, D adds 3: H may add 5 (2.5 × 2) and 5 (3 + 2).
        let with = |lean| {
            rows(&[
                (Kind::NoopWasm, 22.0, 1.0),
                (Kind::Lua, 23.0, 1.0),
                (Kind::Plugin, 30.0, 1.0),
                (Kind::Lean, lean, 1.0),
            ])
        };
        let met = lean_targets(Route::Direct, &with(25.0));
        assert_eq!(statuses(&met), [Status::Met, Status::Met]);
        assert_eq!(met[0].measured, "5.0 µs vs 2.0 µs (2.5 ×)");
        assert_eq!(met[1].measured, "5.0 µs vs 3.0 µs + 2 µs");
        assert!(met[0].target.starts_with("direct: lean profile's (H)"));
        assert_eq!(
            statuses(&lean_targets(Route::Proxied, &with(25.5))),
            [Status::Missed, Status::Missed]
        );
        // Lua cheaper than 2.5 × no-op: only the Lua bound is missed.
        let cheap_lua = rows(&[
            (Kind::NoopWasm, 22.0, 1.0),
            (Kind::Lua, 22.5, 1.0),
            (Kind::Lean, 24.9, 1.0),
        ]);
        assert_eq!(
            statuses(&lean_targets(Route::Direct, &cheap_lua)),
            [Status::Met, Status::Missed]
        );
        // The no-op filter measured below the ceiling: no ratio, and missed.
        let noisy = lean_targets(
            Route::Direct,
            &rows(&[(Kind::NoopWasm, 19.5, 1.0), (Kind::Lean, 21.0, 1.0)]),
        );
        assert_eq!(statuses(&noisy), [Status::Missed]);
        assert_eq!(noisy[0].measured, "1.0 µs vs -0.5 µs");
        // Without H (or with B and D left out) there is nothing to compare.
        assert!(lean_targets(Route::Direct, &rows(&[(Kind::NoopWasm, 22.0, 1.0)])).is_empty());
        assert!(lean_targets(Route::Direct, &rows(&[(Kind::Lean, 22.0, 1.0)])).is_empty());
    }

    #[test]
    fn scale_compares_the_plugins_added_cost_at_few_and_many_connections() {
        let few = rows(&[(Kind::Plugin, 30.0, 1.0)]);
        let at = |cpu| {
            let many = rows(&[(Kind::Plugin, cpu, 1.0)]);
            scale_target(Route::Direct, (16, &few), (2048, &many)).unwrap()
        };
        let met = at(31.4);
        assert_eq!(met.status, Status::Met);
        assert_eq!(met.measured, "11.4 µs vs 10.0 µs (+14 %)");
        assert_eq!(at(31.6).status, Status::Missed);
    }

    #[test]
    fn memory_is_reported_for_the_plugin_against_the_ceiling() {
        let mib = |hwm_mib: u64| {
            Some(Memory {
                rss_kib: 0,
                hwm_kib: hwm_mib * 1024,
            })
        };
        let row = |kind, few, many| MemoryRow {
            kind,
            few_direct: None,
            few_proxied: mib(few),
            many: mib(many),
        };
        let rows = [row(Kind::NoFilter, 70, 200), row(Kind::Plugin, 120, 254)];
        let v = memory_row(2048, &rows).unwrap();
        assert_eq!(v.status, Status::Info);
        assert_eq!(
            v.measured,
            "254.0 MiB vs 200.0 MiB (+54.0 MiB); the 2048-connection runs raised E's by +134.0 MiB, A's by +130.0 MiB"
        );
        assert!(v.line().ends_with("| measured, no target |"));
        assert!(memory_row(2048, &rows[..1]).is_none());
    }

    #[test]
    fn latency_is_informational_and_size_is_checked() {
        let mut table = rows(&[(Kind::Plugin, 30.0, 1.0)]);
        table[1].1.p50_us = 355.0;
        table[1].1.p99_us = 561.0;
        let v = latency_row(Route::Proxied, 1000, &table).unwrap();
        assert_eq!(v.status, Status::Info);
        assert_eq!(v.measured, "p50 +55 µs, p99 +161 µs (561 vs 400 µs)");
        assert_eq!(size_target(1_048_576).status, Status::Met);
        assert_eq!(size_target(1_048_577).status, Status::Missed);
    }
}
