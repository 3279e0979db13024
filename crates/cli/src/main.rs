//! `onerecord-tls-policy`: the operator CLI of the ONE Record TLS policy
//! filter. It runs the filter's own code natively: `Config::parse` for
//! configuration checks and `Policy::decide` for verdicts, so what it says is
//! what the filter in Envoy would do with the same facts.

mod args;
mod certs;
mod check_config;
mod crls;
mod explain;
mod fingerprint;
mod limbo;
mod ocsp;
mod report;

use std::process::ExitCode;

/// Exit status for a usage, input or configuration error.
pub const EXIT_ERROR: u8 = 2;

/// A failure that ends the command with [`EXIT_ERROR`]; the message is for the operator.
#[derive(Debug)]
pub struct Failure(pub String);

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Failure(message.into())
    }
}

fn main() -> ExitCode {
    use args::{Cli, Command};
    use clap::Parser;

    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Fingerprint(a) => fingerprint::run(a),
        Command::CheckConfig(a) => check_config::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Limbo(a) => limbo::run(a),
    };
    match outcome {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
