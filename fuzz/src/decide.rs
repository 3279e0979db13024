//! The pieces of the `decide` fuzz target: its input ([`case`]), the pool's
//! certificates ([`certs`]), the configuration and facts the input
//! describes ([`config`], [`facts`]), and the checks of the decision
//! ([`expect`]) and of the plugin's effects ([`effects`]).

pub mod case;
pub mod certs;
pub mod config;
pub mod effects;
pub mod expect;
pub mod facts;
