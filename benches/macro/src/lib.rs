//! What the benchmark driver and the hostcall counter share: the update of
//! the generated parts of docs/benchmarks.md.

pub mod splice;
