//! The `halcytone` command line: offline generation and validation of a living document.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod input;
mod samples;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A .env file in the working directory supplies variables not already set.
    let _ = dotenvy::dotenv();
    let cli = cli::Cli::parse();
    init_tracing(cli.verbose);
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(verbose: bool) {
    let default = if verbose { "debug" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LOG_LEVEL")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
