//! The `halcytone` command line: offline generation and validation of a living document.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod data_lock;
mod dotenv;
mod input;
mod logging;
mod output;
mod progress;
mod samples;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // A .env file (in the working directory or the nearest folder above it) supplies
    // variables not already set; a line that cannot be read is reported with its number.
    if let Some(path) = dotenv::find() {
        dotenv::load(&path);
    }
    let cli = cli::Cli::parse();
    // `up` runs the mocks in this process: their lines get their own files too.
    let log_dir = match &cli.command {
        cli::Command::Up(a) => Some((a.log_dir.clone(), true)),
        cli::Command::Serve(a) => Some((a.log_dir.clone(), false)),
        _ => None,
    };
    match log_dir {
        Some((dir, mock_logs)) => {
            if let Err(e) = logging::init_service(&dir, cli.verbose, mock_logs) {
                eprintln!("error: cannot write logs under {}: {e}", dir.display());
                return ExitCode::from(2);
            }
        }
        None => logging::init_cli(cli.verbose),
    }
    match commands::run(cli.command) {
        Ok(code) => code,
        // The reader of our output has gone (`| head`): stop quietly.
        Err(err) if output::is_broken_pipe(&err) => ExitCode::from(output::BROKEN_PIPE_STATUS),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
