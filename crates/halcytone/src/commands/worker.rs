//! `halcytone worker`: runs publish jobs from the queue until SIGTERM (or, with `--drain`,
//! until no job is due).

use super::database::open;
use super::generate::brand;
use super::mock::shutdown_signal;
use crate::cli::WorkerArgs;
use anyhow::{Context, Result, anyhow, bail};
use halcytone_content::Templates;
use halcytone_http::worker::Worker;
use halcytone_publish::{Publishing, Settings};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

pub fn run(args: &WorkerArgs) -> Result<ExitCode> {
    if !(args.poll_seconds > 0.0 && args.poll_seconds <= 60.0) {
        bail!("--poll-seconds (WORKER_POLL_SECONDS): must be more than 0 and at most 60");
    }
    let settings = Settings::from_vars(&|name| std::env::var(name).ok(), args.dry_run)
        .map_err(|e| anyhow!("configuration: {e}"))?;
    let server = halcytone_http::ServerConfig::from_vars(&|name| std::env::var(name).ok())
        .map_err(|e| anyhow!("configuration: {e}"))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let tracing_on = super::start_tracing(&server.service_name)?;
        let store = open(&args.db).await?;
        let publishing = Arc::new(Publishing::new(settings)?);
        let templates = Arc::new(Templates::defaults());
        let brand = brand(&args.brand)?;
        // The worker's own metrics, on METRICS_PORT when set.
        let core = halcytone_app::Core::new(
            server.clone(),
            store.clone(),
            publishing.clone(),
            templates.clone(),
            brand.clone(),
        )?;
        let state = halcytone_http::AppState::new(core);
        // What this worker runs reaches the API replicas' /ws/jobs (PostgreSQL).
        state.job_events.relay(store.clone()).await;
        if let Some(port) = server.metrics_port {
            let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
            super::serve_metrics(&host, port, state.clone()).await?;
        }
        // A worker alone is woken by nothing in its process: it polls.
        let mut worker = Worker::new(
            &state.core,
            format!(
                "worker-{}-{}",
                std::process::id(),
                chrono::Utc::now().timestamp_millis()
            ),
            Duration::from_secs(5),
        );
        worker.wake = Arc::default();
        if args.drain {
            let mut ran = 0;
            while let Some((id, status)) = worker.run_once().await? {
                eprintln!("{id}: {status}");
                ran += 1;
            }
            eprintln!("queue drained: {ran} job(s) run");
        } else {
            eprintln!("{} waiting for jobs and due schedules", worker.id);
            // The scheduler runs beside every worker; replicas take each run once.
            let scheduler = halcytone_http::schedules::runner::spawn(
                state.core.clone(),
                server.scheduler_interval,
            );
            // So does the refresh of recent campaigns' figures from the CRM.
            let analytics = server.analytics_refresh.map(|every| {
                halcytone_http::campaigns::spawn_refresher(
                    state.store.clone(),
                    state.publishing.clone(),
                    every,
                    server.analytics_refresh_days,
                )
            });
            // And the webhook dispatcher: messages any replica owes are sent by any worker.
            let (stop_webhooks, webhooks_stop) = tokio::sync::watch::channel(false);
            let webhooks =
                halcytone_app::webhooks::dispatch::spawn(state.core.clone(), webhooks_stop);
            worker
                .run(
                    Duration::from_secs_f64(args.poll_seconds),
                    shutdown_signal(),
                )
                .await;
            let _ = stop_webhooks.send(true);
            if let Some(w) = webhooks {
                let _ = w.await;
            }
            scheduler.abort();
            if let Some(a) = analytics {
                a.abort();
            }
            eprintln!("worker stopped");
        }
        if tracing_on {
            halcytone_telemetry::shutdown().await;
        }
        Ok(ExitCode::SUCCESS)
    })
}
