//! Wiring: builds the state and router on a bound listener (port 0 in tests), runs the
//! embedded job worker beside the HTTP server, and shuts both down gracefully.

use crate::config::ServerConfig;
use crate::routes;
use crate::state::AppState;
use crate::worker::Worker;
use halcytone_app::Core;
use halcytone_content::{Brand, Templates};
use halcytone_publish::Publishing;
use halcytone_store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// A built API service, ready to serve.
#[derive(Debug)]
pub struct Application {
    pub state: AppState,
    listener: TcpListener,
    pub addr: SocketAddr,
}

impl Application {
    pub fn build(
        config: ServerConfig,
        store: Arc<dyn Store>,
        publishing: Arc<Publishing>,
        templates: Arc<Templates>,
        brand: Brand,
        listener: TcpListener,
    ) -> std::io::Result<Application> {
        let addr = listener.local_addr()?;
        Ok(Application {
            state: AppState::new(
                Core::new(config, store, publishing, templates, brand)
                    .map_err(|e| std::io::Error::other(e.to_string()))?,
            ),
            listener,
            addr,
        })
    }

    /// A worker sharing this service's store, publishers and wake-up signal.
    pub fn worker(&self, id: String) -> Worker {
        Worker::new(&self.state.core, id, Duration::from_secs(2))
    }

    /// Serves until `shutdown` completes; runs the embedded worker unless disabled.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        log_security(&self.state.config);
        // Jobs other replicas run reach this one's /ws/jobs and cache (PostgreSQL).
        self.state.job_events.relay(self.state.store.clone()).await;
        if let Err(e) = self
            .state
            .credentials
            .sync(self.state.store.as_ref(), &self.state.publishing)
            .await
        {
            tracing::error!(error = %e, "stored credentials could not be read; using the environment's keys");
        }
        let worker = self.state.config.run_worker.then(|| {
            let w = self.worker(format!(
                "api-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ));
            let mut rx = stop_rx.clone();
            tokio::spawn(w.run(Duration::from_millis(500), async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }))
        });
        // What other replicas drop from their caches, this one drops too (PostgreSQL).
        let peers = halcytone_app::cache::peers::spawn(
            self.state.store.clone(),
            self.state.invalidator.cache.clone(),
            self.state.invalidator.origin.clone(),
        )
        .await;
        let invalidation = crate::cache::after_publish::spawn(
            self.state.invalidator.clone(),
            &self.state.job_events,
            self.state.config.cache.invalidate_on_publish,
        );
        // Webhook messages owed by anyone are sent by every worker process's dispatcher.
        let webhooks = self
            .state
            .config
            .run_worker
            .then(|| {
                halcytone_app::webhooks::dispatch::spawn(self.state.core.clone(), stop_rx.clone())
            })
            .flatten();
        let scheduler = self.state.config.run_worker.then(|| {
            crate::schedules::runner::spawn(
                self.state.core.clone(),
                self.state.config.scheduler_interval,
            )
        });
        let analytics = self
            .state
            .config
            .run_worker
            .then_some(self.state.config.analytics_refresh)
            .flatten()
            .map(|every| {
                crate::campaigns::spawn_refresher(
                    self.state.store.clone(),
                    self.state.publishing.clone(),
                    every,
                    self.state.config.analytics_refresh_days,
                )
            });
        let health = routes::health::spawn_refresher(self.state.clone());
        let router = routes::router(self.state.clone());
        let served = axum::serve(
            self.listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        })
        .await;
        if let Some(w) = worker {
            // The worker finishes the job in hand before it stops.
            let _ = w.await;
        }
        invalidation.abort();
        if let Some(p) = peers {
            p.abort();
        }
        health.abort();
        if let Some(s) = scheduler {
            s.abort();
        }
        if let Some(a) = analytics {
            a.abort();
        }
        if let Some(w) = webhooks {
            // The attempt in hand is recorded before the dispatcher stops.
            let _ = w.await;
        }
        served
    }
}

/// One start-up line naming the request guards in force (the runbooks grep for "security",
/// "middleware", "auth" and "key").
fn log_security(config: &ServerConfig) {
    let cors = match &config.cors {
        halcytone_app::settings::CorsOrigins::Any => "*".to_string(),
        halcytone_app::settings::CorsOrigins::List(l) if l.is_empty() => "none".to_string(),
        halcytone_app::settings::CorsOrigins::List(l) => l.join(" "),
    };
    tracing::info!(
        event = "security",
        auth = "API key (Authorization: Bearer or X-API-Key); public: health, metrics, docs, catalogues, previews",
        cors = %cors,
        rate_limit_per_minute = config.rate_limit_per_minute,
        max_concurrent_requests = config.max_concurrent_requests,
        request_timeout_s = config.request_timeout.as_secs(),
        max_body_bytes = config.max_body_bytes,
        "security middleware on: API key auth, CORS, rate limits, body limits, request timeouts, security headers"
    );
}
