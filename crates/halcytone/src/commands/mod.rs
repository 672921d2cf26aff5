//! One module per subcommand; shared loading of the living document.

use crate::output::out;
mod audience;
mod config;
mod credentials;
mod database;
mod dkim;
mod generate;
mod jobs;
mod mock;
mod publish;
mod serve;
mod up;
mod validate;
mod worker;

use crate::cli::{Command, SourceArgs};
use crate::input;
use anyhow::{Context, Result, anyhow};
use chrono::{DateTime, Utc};
use halcytone_content::{LivingDocument, ParseError, SourceFormat, parse, session};
use std::process::ExitCode;

pub fn run(command: Command) -> Result<ExitCode> {
    match command {
        Command::Up(args) => up::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Generate(args) => generate::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Mock(args) => mock::run(&args),
        Command::Dkim(cmd) => dkim::run(cmd),
        Command::Migrate(args) => database::migrate(&args),
        Command::Config(crate::cli::ConfigCommand::Check { connect, brand }) => {
            config::check(connect, &brand)
        }
        Command::Worker(args) => worker::run(&args),
        Command::Keys(cmd) => database::keys(cmd),
        Command::Audience(cmd) => audience::run(cmd),
        Command::Jobs(crate::cli::JobsCommand::Watch { job_id, db }) => jobs::watch(&job_id, &db),
        Command::Credentials(cmd) => credentials::run(cmd),
        Command::Publish(args) => publish::run(&args),
        Command::Sample { kind } => {
            let text = crate::samples::by_name(&kind)?;
            out!("{text}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// A document read from disk, or why it could not be read, with a source line when known.
pub enum Loaded {
    Document(LivingDocument),
    Unreadable {
        line: Option<usize>,
        message: String,
    },
}

/// Reads, detects and parses the file named by `args`. I/O problems are `Err`;
/// content problems are `Ok(Loaded::Unreadable)` so `validate` can print them as FILE:LINE.
pub fn load(args: &SourceArgs, now: DateTime<Utc>) -> Result<Loaded> {
    let text = input::read_text(&args.file)?;
    let format = args
        .format
        .as_deref()
        .map(str::parse::<SourceFormat>)
        .transpose()
        .map_err(|e| anyhow!("--format: {e}"))?;
    if format.is_none_or(|f| f == SourceFormat::Json) && session::looks_like_session(&text) {
        return Ok(match session::parse(&text, now) {
            Ok(s) => Loaded::Document(session::to_document(&s)),
            Err(session::SessionError::Json { line, message, .. }) => Loaded::Unreadable {
                line: Some(line),
                message,
            },
            Err(e) => Loaded::Unreadable {
                line: None,
                message: e.to_string(),
            },
        });
    }
    Ok(match parse(&text, format) {
        Ok(doc) => Loaded::Document(doc),
        Err(e @ ParseError::Empty) => Loaded::Unreadable {
            line: None,
            message: format!("{e}: it holds no text"),
        },
        Err(e) => Loaded::Unreadable {
            line: e.line(),
            message: e.to_string(),
        },
    })
}

/// `FILE:LINE: ` or `FILE: ` for messages.
pub fn position(file: &std::path::Path, line: Option<usize>) -> String {
    match line {
        Some(l) => format!("{}:{l}: ", file.display()),
        None => format!("{}: ", file.display()),
    }
}

/// Starts exporting traces when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (inside a runtime).
pub fn start_tracing(service: &str) -> Result<bool> {
    match std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        None => Ok(false),
        Some(endpoint) => {
            halcytone_telemetry::init(&endpoint, service).map_err(|e| anyhow!(e))?;
            tracing::info!(%endpoint, "exporting traces over OTLP/HTTP");
            Ok(true)
        }
    }
}

/// Serves `/metrics` alone on `host:port` (METRICS_PORT) in the background.
pub async fn serve_metrics(host: &str, port: u16, state: halcytone_http::AppState) -> Result<()> {
    let listener = tokio::net::TcpListener::bind((host, port))
        .await
        .with_context(|| format!("cannot listen on {host}:{port} for metrics (METRICS_PORT)"))?;
    eprintln!("metrics on http://{}/metrics", listener.local_addr()?);
    let router = halcytone_http::routes::metrics::standalone(state);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(())
}
