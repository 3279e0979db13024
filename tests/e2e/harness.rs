//! Checks of the end-to-end harness itself: no Envoy outlives its test,
//! and the echo upstream reports requests faithfully.

use onerecord_tls_policy_testkit as support;

use serde_json::json;
use std::sync::atomic::{AtomicU32, Ordering};
use support::client::connect_plain;
use support::http::Request;
use support::stack::Stack;
use support::upstream::{Echo, Upstream};

/// Whether `pid` is a live (or unreaped) Envoy; a reused pid is not.
fn envoy_running(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|cmd| String::from_utf8_lossy(&cmd).contains("envoy"))
        .unwrap_or(false)
}

#[test]
fn envoy_is_gone_after_drop() {
    let s = Stack::start(json!({}));
    let pid = s.envoy.pid();
    assert!(envoy_running(pid));
    drop(s);
    assert!(!envoy_running(pid), "Envoy {pid} outlived its Stack");
}

#[test]
fn envoy_is_gone_after_a_panicking_test() {
    let pid = AtomicU32::new(0);
    let dir = std::sync::Mutex::new(None);
    let outcome = std::panic::catch_unwind(|| {
        let s = Stack::start(json!({}));
        pid.store(s.envoy.pid(), Ordering::SeqCst);
        *dir.lock().unwrap() = Some(s.envoy.dir().path().to_path_buf());
        panic!("deliberate panic with Envoy running");
    });
    assert!(outcome.is_err());
    let pid = pid.load(Ordering::SeqCst);
    assert!(
        pid != 0 && !envoy_running(pid),
        "Envoy {pid} outlived a panicking test"
    );
    // A failing test keeps its directory for inspection; this one failed on purpose.
    if let Some(dir) = dir.lock().unwrap().take() {
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn upstream_echoes_every_header_value_on_a_keep_alive_connection() {
    let upstream = Upstream::start();
    let mut conn = connect_plain(upstream.addr());
    for i in 0..3 {
        let req = Request::post(&format!("/path/{i}"), b"body")
            .header("X-Twice", "a")
            .header("x-twice", "b");
        let echo = Echo::of(&conn.send(&req).expect("echo answer"));
        assert_eq!(echo.path(), format!("/path/{i}"));
        assert_eq!(echo.get(":method"), Some("POST"));
        assert_eq!(echo.all("x-twice"), ["a", "b"]);
    }
    assert_eq!(upstream.count(), 3);
}
