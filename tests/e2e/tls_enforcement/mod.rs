//! The filter against a real Envoy: TLS version floor, mTLS requirements,
//! the ONE Record deny, backend annotations, audit mode, bad configuration.
//! Each test runs its own Envoy and upstream, so they run in parallel.

mod audit;
mod configuration;
mod deny;
mod requirements;
mod stripping;
mod versions;
