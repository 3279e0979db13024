//! The `make run` demo: its PKI, backend and Envoy set-up, shared by the
//! demo binary (`main.rs`) and the end-to-end suite's demo tests.

pub mod backend;
pub mod setup;

/// The operators' kit the demo points at, relative to the repository root.
pub const MONITORING_FILES: [(&str, &str); 2] = [
    (
        "Prometheus rules",
        "deploy/monitoring/onerecord-tls-policy.rules.yaml",
    ),
    (
        "Grafana dashboard",
        "deploy/monitoring/onerecord-tls-policy.dashboard.json",
    ),
];
