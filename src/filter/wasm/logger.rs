//! A `log` backend over `proxy_log` that never panics (the SDK's unwraps),
//! and that asks Envoy's level first, so a line Envoy would drop is never
//! formatted (allowed requests log at debug; Envoy runs at info).

use super::{abi, abi_values};

struct ProxyLogger;

static LOGGER: ProxyLogger = ProxyLogger;

/// proxy-wasm levels: trace 0, debug 1, info 2, warn 3, error 4.
fn proxy_level(level: log::Level) -> u32 {
    match level {
        log::Level::Trace => abi_values::LOG_TRACE,
        log::Level::Debug => 1,
        log::Level::Info => 2,
        log::Level::Warn => 3,
        log::Level::Error => 4,
    }
}

impl log::Log for ProxyLogger {
    /// Read per check, not cached: operators change the level at run time
    /// (`/logging`) and expect the next request to follow it. An unreadable
    /// level enables everything, as before the host could tell.
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        abi::log_level().is_none_or(|host| proxy_level(metadata.level()) >= host)
    }

    fn log(&self, record: &log::Record<'_>) {
        // `log::debug!` does not ask `enabled`; a dropped line costs one check.
        if self.enabled(record.metadata()) {
            abi::log(proxy_level(record.level()), &record.args().to_string());
        }
    }

    fn flush(&self) {}
}

pub fn install() {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
    }
}
