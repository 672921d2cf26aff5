//! The shared state every handler sees.

use crate::cache::ResponseCache;
use crate::cache::invalidation::Invalidator;
use crate::cache::signature::Verifier;
use crate::http::metrics::HttpMetrics;
use crate::http::rate_limit::{Budget, RateLimiter};
use chrono::{DateTime, Utc};
use halcytone_app::Core;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;

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
    /// The application: settings, store, publishers, sources, credentials, job signals.
    pub core: Core,
    pub http_metrics: Arc<HttpMetrics>,
    pub rate_limiter: Arc<RateLimiter>,
    pub in_flight: Arc<Semaphore>,
    /// Rendered answers of the read-heavy GET routes.
    pub cache: Arc<ResponseCache>,
    pub invalidator: Arc<Invalidator>,
    /// Signatures of inbound cache webhooks already used (replay protection).
    pub webhook_signatures: Arc<Verifier>,
    pub health: Arc<crate::routes::health::HealthCache>,
    /// Sessions of the web console at `/ui` (key id and scopes, never the key).
    pub ui_sessions: Arc<crate::console::session::Sessions>,
    pub started: Instant,
    pub started_at: DateTime<Utc>,
}

/// Every handler reaches the application's parts (`state.store`, `state.config`) directly.
impl std::ops::Deref for Parts {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl AppState {
    /// The edge's state around an application core: the response cache (kept fresh by the
    /// core's content changes), the invalidator, request budgets and console sessions.
    pub fn new(core: Core) -> AppState {
        let config = &core.config;
        let cache = Arc::new(ResponseCache::new(
            config.cache.enabled,
            config.cache.max_entries,
            config.cache.max_bytes,
            config.cache.ttl,
        ));
        let stale = cache.clone();
        core.content_changes.listen(move |tags| {
            stale.invalidate_tags(tags);
        });
        let invalidator = Arc::new(Invalidator::new(
            cache.clone(),
            config.cache.cdn.clone(),
            core.publishing.clone(),
            core.store.clone(),
        ));
        // The exporter keeps histogram samples until upkeep folds them into buckets.
        halcytone_app::metrics::AppMetrics::keep_bounded(
            &core.app_metrics,
            std::time::Duration::from_secs(5),
        );
        AppState(Arc::new(Parts {
            rate_limiter: Arc::new(RateLimiter::new(
                Budget::per_second(config.read_rate_per_second, config.read_burst),
                Budget::per_minute(config.rate_limit_per_minute),
            )),
            in_flight: Arc::new(Semaphore::new(config.max_concurrent_requests)),
            http_metrics: Arc::default(),
            cache,
            invalidator,
            webhook_signatures: Arc::default(),
            health: Arc::default(),
            started: Instant::now(),
            started_at: Utc::now(),
            ui_sessions: Arc::default(),
            core,
        }))
    }
}
