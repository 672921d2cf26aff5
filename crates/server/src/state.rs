//! The shared state every handler sees.

use crate::cache::ResponseCache;
use crate::cache::invalidation::Invalidator;
use crate::cache::signature::Verifier;
use crate::config::ServerConfig;
use crate::http::metrics::HttpMetrics;
use crate::http::rate_limit::{Budget, RateLimiter};
use chrono::{DateTime, Utc};
use halcytone_content::{Brand, Templates};
use halcytone_publish::Publishing;
use halcytone_store::Store;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Notify, Semaphore};

/// Cheap to clone: one reference count, whatever the number of parts.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Parts>);

impl std::ops::Deref for AppState {
    type Target = Parts;
    fn deref(&self) -> &Parts {
        &self.0
    }
}

#[derive(Debug)]
pub struct Parts {
    pub config: Arc<ServerConfig>,
    pub store: Arc<dyn Store>,
    pub publishing: Arc<Publishing>,
    pub templates: Arc<Templates>,
    pub brand: Arc<Brand>,
    pub http_metrics: Arc<HttpMetrics>,
    pub app_metrics: Arc<halcytone_app::metrics::AppMetrics>,
    pub rate_limiter: Arc<RateLimiter>,
    pub in_flight: Arc<Semaphore>,
    /// Turns to run content generation off the executor (`GENERATION_CONCURRENCY`).
    pub generation_slots: Arc<Semaphore>,
    /// Rendered answers of the read-heavy GET routes.
    pub cache: Arc<ResponseCache>,
    pub invalidator: Arc<Invalidator>,
    /// Signatures of inbound cache webhooks already used (replay protection).
    pub webhook_signatures: Arc<Verifier>,
    pub health: Arc<crate::routes::health::HealthCache>,
    /// Woken when a job is queued, so an idle worker in this process starts at once.
    pub job_queued: Arc<Notify>,
    /// Job transitions, for `/ws/jobs` and cache invalidation.
    pub job_events: Arc<crate::events::JobEvents>,
    /// Fetchers of remote living documents (URL, Google Docs, Notion).
    pub sources: halcytone_sources::Sources,
    /// Remote documents fetched recently (`SOURCE_CACHE_SECONDS`).
    pub fetched: Arc<crate::documents::FetchMemo>,
    /// Halcytone Live rooms (WebSocket connections by session).
    pub live: Arc<crate::live::hub::LiveHub>,
    /// Live sessions as their platform events describe them.
    pub live_sessions: Arc<crate::live::events::LiveSessions>,
    /// Stored outbound credentials and the keys the publishers use.
    pub credentials: Arc<crate::credentials::Credentials>,
    /// Sessions of the web console at `/ui` (key id and scopes, never the key).
    pub ui_sessions: Arc<crate::console::session::Sessions>,
    pub started: Instant,
    pub started_at: DateTime<Utc>,
}

impl AppState {
    pub fn new(
        config: ServerConfig,
        store: Arc<dyn Store>,
        publishing: Arc<Publishing>,
        templates: Arc<Templates>,
        brand: Brand,
    ) -> std::io::Result<AppState> {
        let sources = halcytone_sources::Sources::new(config.sources.clone())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let cache = Arc::new(ResponseCache::new(
            config.cache.enabled,
            config.cache.max_entries,
            config.cache.max_bytes,
            config.cache.ttl,
        ));
        let invalidator = Arc::new(Invalidator::new(
            cache.clone(),
            config.cache.cdn.clone(),
            publishing.clone(),
            store.clone(),
        ));
        crate::social::attach(&config, store.clone(), &publishing);
        let credentials = Arc::new(crate::credentials::Credentials::new(
            config.keyring.clone(),
            &publishing,
        ));
        Ok(AppState(Arc::new(Parts {
            rate_limiter: Arc::new(RateLimiter::new(
                Budget::per_second(config.read_rate_per_second, config.read_burst),
                Budget::per_minute(config.rate_limit_per_minute),
            )),
            in_flight: Arc::new(Semaphore::new(config.max_concurrent_requests)),
            generation_slots: Arc::new(Semaphore::new(config.generation_concurrency)),
            config: Arc::new(config),
            store,
            publishing,
            templates,
            brand: Arc::new(brand),
            http_metrics: Arc::default(),
            app_metrics: Arc::default(),
            cache,
            invalidator,
            webhook_signatures: Arc::default(),
            health: Arc::default(),
            job_queued: Arc::default(),
            job_events: Arc::default(),
            started: Instant::now(),
            started_at: Utc::now(),
            sources,
            fetched: Arc::default(),
            live: Arc::default(),
            live_sessions: Arc::default(),
            credentials,
            ui_sessions: Arc::default(),
        })))
    }
}
