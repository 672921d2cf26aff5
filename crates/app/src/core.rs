//! The application's dependencies, gathered once at start and passed to every use case:
//! settings, the store, the publishers, the templates and brand, the living-document
//! sources, stored credentials, metrics, and the in-process signals (a job queued, a job
//! moved). Cheap to clone: every part is shared.

use crate::credentials::Credentials;
use crate::documents::FetchMemo;
use crate::events::{ContentChanges, JobEvents};
use crate::metrics::AppMetrics;
use crate::settings::ServerConfig;
use halcytone_content::{Brand, Templates};
use halcytone_publish::Publishing;
use halcytone_sources::Sources;
use halcytone_store::Store;
use std::sync::Arc;
use tokio::sync::{Notify, Semaphore};

#[derive(Debug, Clone)]
pub struct Core {
    pub config: Arc<ServerConfig>,
    pub store: Arc<dyn Store>,
    pub publishing: Arc<Publishing>,
    pub templates: Arc<Templates>,
    pub brand: Arc<Brand>,
    /// Generation and publish metrics, shared by the API and its embedded worker.
    pub app_metrics: Arc<AppMetrics>,
    /// Turns to run content generation off the executor (`GENERATION_CONCURRENCY`).
    pub generation_slots: Arc<Semaphore>,
    /// Woken when a job is queued, so an idle worker in this process starts at once.
    pub job_queued: Arc<Notify>,
    /// Job transitions, for `/ws/jobs` and cache invalidation.
    pub job_events: Arc<JobEvents>,
    /// Content changes, told to the edge's response cache.
    pub content_changes: Arc<ContentChanges>,
    /// Fetchers of remote living documents (URL, Google Docs, Notion).
    pub sources: Sources,
    /// Remote documents fetched recently (`SOURCE_CACHE_SECONDS`).
    pub fetched: Arc<FetchMemo>,
    /// The configured file's text while the file is unchanged.
    pub file_document: Arc<crate::documents::FileMemo>,
    /// Stored outbound credentials and the keys the publishers use.
    pub credentials: Arc<Credentials>,
    /// Halcytone Live rooms (connections by session; the edge carries them over WebSockets).
    pub live: Arc<crate::live::hub::LiveHub>,
    /// Live sessions as their platform events describe them.
    pub live_sessions: Arc<crate::live::events::LiveSessions>,
    /// Signs one-click unsubscribe links (`PUBLIC_BASE_URL` and `UNSUBSCRIBE_SECRET`).
    pub one_click: Option<Arc<crate::unsubscribe::OneClick>>,
    /// Woken when a webhook message is owed, so this process's dispatcher sends it at once.
    pub webhooks_due: Arc<Notify>,
}

/// Why the core could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("living-document sources: {0}")]
    Sources(String),
}

impl Core {
    /// Builds the core from its parts; attaches the live social clients and the stored
    /// credentials to `publishing`.
    pub fn new(
        config: ServerConfig,
        store: Arc<dyn Store>,
        publishing: Arc<Publishing>,
        templates: Arc<Templates>,
        brand: Brand,
    ) -> Result<Core, CoreError> {
        let sources =
            Sources::new(config.sources.clone()).map_err(|e| CoreError::Sources(e.to_string()))?;
        crate::social::attach(&config, store.clone(), &publishing);
        publishing.share_email_rate(Arc::new(crate::deliveries::StoreRate(store.clone())));
        let credentials = Arc::new(Credentials::new(config.keyring.clone(), &publishing));
        let one_click = crate::unsubscribe::OneClick::from_settings(&config.mailing).map(Arc::new);
        Ok(Core {
            one_click,
            webhooks_due: Arc::default(),
            generation_slots: Arc::new(Semaphore::new(config.generation_concurrency)),
            config: Arc::new(config),
            store,
            publishing,
            templates,
            brand: Arc::new(brand),
            app_metrics: Arc::default(),
            job_queued: Arc::default(),
            job_events: Arc::default(),
            content_changes: Arc::default(),
            sources,
            fetched: Arc::default(),
            file_document: Arc::default(),
            credentials,
            live: Arc::default(),
            live_sessions: Arc::default(),
        })
    }
}
