//! CPU time from /proc and pinning to one CPU.

use std::io;

/// User plus system CPU time of process `pid`, all threads, in seconds
/// (`utime` + `stime` from `/proc/<pid>/stat`).
pub fn process_seconds(pid: u32) -> io::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may hold spaces and parentheses; fields follow the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| io::Error::other("malformed /proc stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `rest` starts at field 3.
    let ticks = |i: usize| -> io::Result<u64> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| io::Error::other("malformed /proc stat"))
    };
    let total = ticks(11)? + ticks(12)?;
    Ok(total as f64 / clock_ticks_per_second())
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

/// Restricts the calling thread to `cpu`. Threads and processes it starts
/// afterwards inherit this, which is how Envoy and the load generator are
/// pinned (as `taskset -c <cpu>` would).
pub fn pin_current_thread(cpu: usize) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; sched_setaffinity(0, ..) affects this thread only.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Runs `f` with the calling thread pinned to `cpu`, then pins it back to `home`.
pub fn on_cpu<T>(cpu: usize, home: usize, f: impl FnOnce() -> T) -> io::Result<T> {
    pin_current_thread(cpu)?;
    let out = f();
    pin_current_thread(home)?;
    Ok(out)
}

/// Clock ticks since boot over all CPUs: (all, stolen). Stolen time is what
/// the hypervisor gave to other guests while this one wanted to run; a
/// contended host inflates every per-request figure.
pub fn ticks() -> (u64, u64) {
    ticks_of(&std::fs::read_to_string("/proc/stat").unwrap_or_default())
}

fn ticks_of(stat: &str) -> (u64, u64) {
    // "cpu  user nice system idle iowait irq softirq steal guest guest_nice";
    // guest time is already counted in user.
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|f| f.parse().ok())
        .collect();
    (fields.iter().sum(), fields.get(7).copied().unwrap_or(0))
}

/// The share of CPU time stolen between two [`ticks`] readings, in percent.
pub fn stolen_percent(from: (u64, u64), to: (u64, u64)) -> f64 {
    let all = to.0.saturating_sub(from.0);
    if all == 0 {
        return f64::NAN;
    }
    100.0 * to.1.saturating_sub(from.1) as f64 / all as f64
}

/// The 1-minute load average.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

#[cfg(test)]
mod tests {
    use super::{stolen_percent, ticks_of};

    #[test]
    fn stolen_time_is_the_steal_column_over_all_but_guest_time() {
        let before = ticks_of("cpu  100 0 50 800 0 0 10 40 30 0\ncpu0 1 2 3\n");
        let after = ticks_of("cpu  300 0 100 1400 0 0 20 180 90 0\n");
        assert_eq!(before, (1000, 40));
        assert_eq!(after, (2000, 180));
        assert_eq!(stolen_percent(before, after), 14.0);
        assert!(stolen_percent(after, after).is_nan());
        assert_eq!(ticks_of(""), (0, 0));
    }
}
