//! `halcytone mock crm|platform`: one mock service, in the foreground, until Ctrl-C or SIGTERM.

use crate::cli::MockArgs;
use anyhow::{Context, Result, bail};
use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_mocks::store::Store;
use std::process::ExitCode;
use std::time::Duration;

pub fn run(args: &MockArgs) -> Result<ExitCode> {
    let kind = match args.service.trim().to_ascii_lowercase().as_str() {
        "crm" => MockKind::Crm,
        "platform" => MockKind::Platform,
        other => bail!("unknown mock '{other}'; mocks: crm, platform"),
    };
    if args.retention < 1 {
        bail!("--retention (MOCK_CAPTURE_RETENTION): must be at least 1");
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(serve(kind, args))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(kind: MockKind, args: &MockArgs) -> Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create data directory {}", args.data_dir.display()))?;
    let db = args.data_dir.join(kind.database_file());
    let store = Store::open(&db)
        .await
        .with_context(|| format!("cannot open capture database {}", db.display()))?;
    let mut config = MockConfig::new(kind);
    config.seed = args.seed;
    config.retention = args.retention;
    if let Some(ms) = args.slow_delay_ms {
        config.slow_delay = Duration::from_millis(ms);
    }
    let port = args.port.unwrap_or(kind.default_port());
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), port))
        .await
        .with_context(|| {
            format!(
                "cannot listen on {}:{port} (is another process using it?)",
                args.host
            )
        })?;
    let addr = listener.local_addr()?;
    eprintln!(
        "{} listening on http://{addr} (captures in {})",
        kind.service_name(),
        db.display()
    );
    tracing::info!(service = kind.service_name(), %addr, "listening");
    let router = halcytone_mocks::router(kind, config, store)
        .await
        .with_context(|| format!("cannot prepare {}", db.display()))?;
    halcytone_mocks::serve(listener, router, shutdown_signal()).await?;
    eprintln!("{} stopped", kind.service_name());
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
