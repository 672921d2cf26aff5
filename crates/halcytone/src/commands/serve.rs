//! `halcytone serve`: the API service and its job worker, configured from the environment.

use super::database::open;
use super::generate::brand;
use super::mock::shutdown_signal;
use crate::cli::ServeArgs;
use anyhow::{Context, Result, anyhow};
use halcytone_content::Templates;
use halcytone_http::{Application, ServerConfig};
use halcytone_publish::{Publishing, Settings};
use std::process::ExitCode;
use std::sync::Arc;

pub fn run(args: &ServeArgs) -> Result<ExitCode> {
    let get = |name: &str| std::env::var(name).ok();
    let config = ServerConfig::from_vars(&get).map_err(|e| anyhow!("configuration: {e}"))?;
    let settings =
        Settings::from_vars(&get, args.dry_run).map_err(|e| anyhow!("configuration: {e}"))?;
    let brand = brand(&args.brand)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let service = config.service_name.clone();
    runtime.block_on(async {
        let tracing_on = super::start_tracing(&service)?;
        // On SQLite the database's directory belongs to this server while it runs.
        let _lock = match crate::data_lock::sqlite_dir(&args.db.database_url) {
            Some(dir) => {
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create data directory {}", dir.display()))?;
                Some(crate::data_lock::acquire(&dir, "halcytone serve")?)
            }
            None => None,
        };
        let store = open(&args.db).await?;
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {}:{} (is another process using it?)",
                    args.host, args.port
                )
            })?;
        let dry_run = settings.dry_run;
        let app = Application::build(
            config,
            store,
            Arc::new(Publishing::new(settings)?),
            Arc::new(Templates::defaults()),
            brand,
            listener,
        )?;
        tracing::info!(event = "ready", addr = %app.addr, dry_run, "startup complete: API ready, listening");
        eprintln!(
            "Halcytone API on http://{} (dry run: {dry_run}); docs at /docs",
            app.addr
        );
        if let Some(port) = app.state.config.metrics_port {
            super::serve_metrics(&args.host, port, app.state.clone()).await?;
        }
        app.run(shutdown_signal()).await?;
        if tracing_on {
            halcytone_telemetry::shutdown().await;
        }
        eprintln!("API stopped");
        Ok(ExitCode::SUCCESS)
    })
}
