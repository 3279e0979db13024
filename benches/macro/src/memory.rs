//! Envoy's memory from /proc: its resident set after a run and its peak
//! so far, and the report's table of them.

use crate::configs::Kind;
use std::fmt::Write as _;
use std::io;

/// `VmRSS` and `VmHWM` of one process, read after a run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Memory {
    /// Resident set now.
    pub rss_kib: u64,
    /// The largest resident set since the process started: it includes the
    /// moments inside a run when all its connections were open.
    pub hwm_kib: u64,
}

impl Memory {
    pub fn read(pid: u32) -> io::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        Memory::parse(&status).ok_or_else(|| io::Error::other("no VmRSS/VmHWM in /proc status"))
    }

    /// From the text of `/proc/<pid>/status` (`VmHWM:   123456 kB`).
    pub fn parse(status: &str) -> Option<Memory> {
        let field = |name: &str| {
            status.lines().find_map(|line| {
                let value = line.strip_prefix(name)?.strip_prefix(':')?;
                value.trim().strip_suffix("kB")?.trim().parse().ok()
            })
        };
        Some(Memory {
            rss_kib: field("VmRSS")?,
            hwm_kib: field("VmHWM")?,
        })
    }
}

/// One configuration's Envoy, read after its last run of each kind; `None`
/// when that run did not happen (`--many-connections 0`, `--only`).
#[derive(Clone, Copy, Debug)]
pub struct MemoryRow {
    pub kind: Kind,
    /// After the last saturated run with `--connections` connections, per route.
    pub few_direct: Option<Memory>,
    pub few_proxied: Option<Memory>,
    /// After the last many-connections run (the routes alternate; the last is proxied).
    pub many: Option<Memory>,
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn cell(value: Option<f64>) -> String {
    value.map_or("–".to_string(), |v| format!("{v:.1}"))
}

/// The Markdown table: RSS after the few-connection runs, the peak by
/// then, RSS and peak after the many-connections runs, how much they
/// raised the peak, and that peak's difference to the ceiling's (A).
pub fn table(rows: &[MemoryRow], few: u32, many: u32) -> String {
    let peak_many = |kind: Kind| {
        rows.iter()
            .find(|r| r.kind == kind)
            .and_then(MemoryRow::peak_many)
    };
    let ceiling = peak_many(Kind::NoFilter);
    let mut out = format!(
        "| config | RSS MiB after {few} connections, direct | … proxied | peak MiB by then | RSS MiB after {many} connections | peak MiB by then | peak grew by | peak − A |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    );
    let signed = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:+.1}"));
    for r in rows {
        let (before, peak) = (r.peak_few(), peak_many(r.kind));
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} | {} | {} | {} | {} |",
            r.kind.key(),
            r.kind.label(),
            cell(r.few_direct.map(|m| mib(m.rss_kib))),
            cell(r.few_proxied.map(|m| mib(m.rss_kib))),
            cell(before),
            cell(r.many.map(|m| mib(m.rss_kib))),
            cell(peak),
            signed(peak.zip(before).map(|(p, b)| p - b)),
            signed(peak.zip(ceiling).map(|(p, a)| p - a)),
        );
    }
    out
}

impl MemoryRow {
    /// The peak, MiB, after the few-connection runs.
    pub fn peak_few(&self) -> Option<f64> {
        [self.few_direct, self.few_proxied]
            .iter()
            .flatten()
            .map(|m| m.hwm_kib)
            .max()
            .map(mib)
    }

    /// The peak, MiB, after the many-connections runs.
    pub fn peak_many(&self) -> Option<f64> {
        self.many.map(|m| mib(m.hwm_kib))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tenvoy\nVmPeak:\t 2390000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t12\n";

    #[test]
    fn reads_rss_and_peak_from_proc_status() {
        assert_eq!(
            Memory::parse(STATUS),
            Some(Memory {
                rss_kib: 102_400,
                hwm_kib: 204_800
            })
        );
        // A kernel thread has neither; a field without its unit is not taken.
        assert_eq!(Memory::parse("Name:\tkthreadd\nThreads:\t1\n"), None);
        assert_eq!(Memory::parse("VmRSS:\t1\nVmHWM:\t2 kB\n"), None);
        // This process has both.
        let own = Memory::read(std::process::id()).unwrap();
        assert!(own.rss_kib > 0 && own.hwm_kib >= own.rss_kib);
    }

    fn at(rss_mib: u64, hwm_mib: u64) -> Option<Memory> {
        Some(Memory {
            rss_kib: rss_mib * 1024,
            hwm_kib: hwm_mib * 1024,
        })
    }

    #[test]
    fn the_table_compares_each_peak_with_the_ceilings() {
        let rows = [
            MemoryRow {
                kind: Kind::NoFilter,
                few_direct: at(40, 41),
                few_proxied: at(42, 44),
                many: at(150, 200),
            },
            MemoryRow {
                kind: Kind::Plugin,
                few_direct: at(60, 61),
                few_proxied: at(62, 63),
                many: at(170, 212),
            },
            MemoryRow {
                kind: Kind::Lean,
                few_direct: at(58, 60),
                few_proxied: None,
                many: None,
            },
        ];
        let md = table(&rows, 16, 2048);
        let lines: Vec<&str> = md.lines().collect();
        assert!(lines[0].contains("after 16 connections") && lines[0].contains("after 2048"));
        assert_eq!(
            lines[2],
            "| A no filter (ceiling) | 40.0 | 42.0 | 44.0 | 150.0 | 200.0 | +156.0 | +0.0 |"
        );
        assert!(lines[3].ends_with("| 60.0 | 62.0 | 63.0 | 170.0 | 212.0 | +149.0 | +12.0 |"));
        assert!(lines[4].ends_with("| 58.0 | – | 60.0 | – | – | – | – |"));
    }
}
