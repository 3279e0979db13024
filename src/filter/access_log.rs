//! Sets the access-log property (its value is made in the core,
//! [`effects::access_log`](crate::effects::access_log)).

use super::Host;
use std::sync::atomic::{AtomicBool, Ordering};

pub use crate::effects::access_log::{FILTER_STATE_KEY, PROPERTY, value};

static FAILURE_LOGGED: AtomicBool = AtomicBool::new(false);

/// Sets the property: one host call. A failure is logged once per VM and
/// changes nothing else.
pub fn record_value(host: &mut dyn Host, value: &str) {
    if let Err(e) = host.set_property(PROPERTY, value.as_bytes())
        && !FAILURE_LOGGED.swap(true, Ordering::Relaxed)
    {
        log::error!(
            "onerecord-tls-policy: cannot set the access-log property {FILTER_STATE_KEY} ({}); further failures are not logged",
            e.0
        );
    }
}
