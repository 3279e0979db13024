//! `access_log_filter_state`: the decision is written for access logs unless
//! the configuration turns it off, and turning it off changes nothing else.

use super::mock::MockHost;
use super::{Action, Plugin, configure};
use crate::filter::access_log::PROPERTY;

fn plugin(config: &str) -> Plugin {
    configure(&mut MockHost::default(), Ok(config.as_bytes().to_vec())).unwrap()
}

/// A TLS request without a client certificate, on a route where none is needed.
fn served(plugin: &mut Plugin) -> MockHost {
    let mut host = MockHost::tls("TLSv1.3");
    let (action, _) = plugin.on_request_headers(&mut host);
    assert_eq!(action, Action::Continue);
    host
}

#[test]
fn the_decision_is_written_for_access_logs_by_default_and_only_then() {
    let on = served(&mut plugin("{}"));
    let logged = String::from_utf8(on.set_properties[PROPERTY].clone()).unwrap();
    assert!(logged.starts_with("decision=allow;"), "{logged}");

    let off = served(&mut plugin(r#"{"access_log_filter_state":false}"#));
    assert!(!off.set_properties.contains_key(PROPERTY));
    // The request itself is treated alike: the same annotations.
    assert_eq!(off.headers, on.headers);
}
