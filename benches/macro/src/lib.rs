//! What the benchmark driver and the hostcall counter share: the client
//! certificate and the update of the generated parts of docs/benchmarks.md.

pub mod client;
pub mod splice;
