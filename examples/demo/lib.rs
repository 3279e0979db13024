//! The `make run` demo: its PKI, backend and Envoy set-up, shared by the
//! demo binary (`main.rs`) and the end-to-end suite's demo tests.

pub mod backend;
pub mod setup;
