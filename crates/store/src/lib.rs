//! Halcytone's durable state behind one [`Store`] trait, with a SQLite implementation (the
//! default, one file under `./data`) and a PostgreSQL one (`DATABASE_URL=postgres://…`, for
//! several replicas sharing one job queue). Each backend has its own migrations; both pass the
//! same test suite (`tests/suite.rs`).
#![forbid(unsafe_code)]

pub mod audiences;
mod backend;
mod claims;
pub mod ledger;
pub mod model;
pub mod notify;
pub mod rate;
pub mod results;
pub mod send_batches;
pub mod suppressions;
pub mod web_posts;
pub mod webhooks;

pub use audiences::Audiences;
pub use backend::{PostgresStore, SqliteStore, check_sqlite_file};
pub use ledger::Ledger;
pub use model::*;
pub use notify::Notifications;
pub use rate::RateBuckets;
pub use send_batches::SendBatches;
pub use suppressions::Suppressions;
pub use web_posts::WebPosts;
pub use webhooks::Webhooks;

/// How long sent social posts are remembered: longer than the widest quota window (a day).
pub const SOCIAL_POSTS_KEPT_MS: i64 = 7 * 24 * 60 * 60 * 1000;

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("unsupported DATABASE_URL '{0}': use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error(
        "{path} is not a usable SQLite database: {reason}; move it aside (or restore it from a backup) and start again — a missing file is created afresh"
    )]
    NotADatabase { path: String, reason: String },
}

/// Everything the API and the workers keep.
#[async_trait]
pub trait Store:
    Ledger
    + Audiences
    + RateBuckets
    + Notifications
    + Suppressions
    + SendBatches
    + Webhooks
    + WebPosts
    + Send
    + Sync
    + std::fmt::Debug
{
    /// "sqlite" or "postgres".
    fn backend(&self) -> &'static str;
    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Applies pending migrations (idempotent); returns the applied versions.
    async fn migrate(&self) -> Result<Vec<i64>, StoreError>;
    /// Applied migration versions.
    async fn migrations(&self) -> Result<Vec<i64>, StoreError>;

    /// Stores a document snapshot unless the same text is already stored; returns it and
    /// whether it was new.
    async fn put_document(
        &self,
        source: &str,
        format: &str,
        body: &str,
        now_ms: i64,
    ) -> Result<(DocumentRecord, bool), StoreError>;
    async fn document(&self, id: &str) -> Result<Option<DocumentRecord>, StoreError>;

    async fn enqueue(&self, job: NewJob, now_ms: i64) -> Result<Job, StoreError>;
    /// Takes the next due job (pending and due, or in progress with an expired lease) for
    /// `worker` until `now_ms + lease_ms`. Jobs whose lease expired with no attempts left fail.
    async fn claim(
        &self,
        worker: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Job>, StoreError>;
    /// Extends the lease of a job this worker holds.
    async fn heartbeat(
        &self,
        id: &str,
        worker: &str,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Ends a job this worker holds with a terminal status and its per-channel results. A
    /// channel an earlier attempt delivered keeps that result ([`results::merge`]), and the
    /// status follows the merged results. Returns the status recorded, or `None` when the
    /// worker no longer holds the job.
    async fn finish(
        &self,
        id: &str,
        worker: &str,
        status: JobStatus,
        results: &serde_json::Value,
        errors: &[String],
        now_ms: i64,
    ) -> Result<Option<JobStatus>, StoreError>;
    /// Gives a job back for another attempt at `retry_at_ms`, or fails it when no attempts
    /// remain, recording this attempt's per-channel `results` (merged as in `finish`).
    async fn release(
        &self,
        id: &str,
        worker: &str,
        results: &serde_json::Value,
        error: &str,
        retry_at_ms: i64,
        now_ms: i64,
    ) -> Result<Option<JobStatus>, StoreError>;
    /// Cancels a job that has not started; returns it, or `None` when it is unknown.
    async fn cancel(&self, id: &str, now_ms: i64) -> Result<Option<Job>, StoreError>;
    async fn job(&self, id: &str) -> Result<Option<Job>, StoreError>;
    /// Jobs newest first, and how many match.
    async fn jobs(&self, filter: &JobFilter) -> Result<(Vec<Job>, i64), StoreError>;
    async fn job_counts(&self) -> Result<BTreeMap<String, i64>, StoreError>;
    /// How long the oldest due pending job has waited (ms), if any is waiting.
    async fn queue_lag_ms(&self, now_ms: i64) -> Result<Option<i64>, StoreError>;

    /// Creates a key; returns it and the secret, which is shown once and stored only hashed.
    async fn create_api_key(
        &self,
        name: &str,
        scopes: &[Scope],
        now_ms: i64,
    ) -> Result<(ApiKey, String), StoreError>;
    /// The key a secret belongs to (looked up by its hash).
    async fn api_key(&self, secret: &str) -> Result<Option<ApiKey>, StoreError>;
    /// The key with this id, revoked or not.
    async fn api_key_by_id(&self, id: &str) -> Result<Option<ApiKey>, StoreError>;
    /// Every key, revoked ones included, oldest first.
    async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError>;
    async fn revoke_api_key(&self, id: &str, now_ms: i64) -> Result<bool, StoreError>;
    /// Sets (replaces) a key's own request budgets; false when there is no such key.
    async fn set_api_key_limits(&self, id: &str, limits: &KeyLimits) -> Result<bool, StoreError>;

    async fn put_batch(&self, batch: &Batch) -> Result<(), StoreError>;
    async fn batch(&self, id: &str) -> Result<Option<Batch>, StoreError>;
    /// Marks a batch scheduled; false when it already was (so it is scheduled once).
    async fn mark_batch_scheduled(&self, id: &str, now_ms: i64) -> Result<bool, StoreError>;

    async fn put_content_version(&self, version: &ContentVersion) -> Result<(), StoreError>;
    async fn content_version(&self, id: &str) -> Result<Option<ContentVersion>, StoreError>;
    /// Versions newest first, and how many there are.
    async fn content_versions(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<ContentVersion>, i64), StoreError>;

    /// Moves a version's review state from `from` to `to` (with its new record, and a job
    /// once it is scheduled); false when it was not in `from` (someone else moved it first).
    #[allow(clippy::too_many_arguments)]
    async fn update_review(
        &self,
        id: &str,
        from: &str,
        to: &str,
        level: Option<&str>,
        review: &serde_json::Value,
        job_id: Option<&str>,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Versions in one review state, oldest first.
    async fn versions_in_review_state(
        &self,
        state: &str,
        limit: i64,
    ) -> Result<Vec<ContentVersion>, StoreError>;
    /// The latest version a schedule made from this document hash.
    async fn schedule_version_for_hash(
        &self,
        schedule_id: &str,
        content_hash: &str,
    ) -> Result<Option<ContentVersion>, StoreError>;

    async fn put_schedule(&self, s: &Schedule) -> Result<(), StoreError>;
    async fn schedule(&self, id: &str) -> Result<Option<Schedule>, StoreError>;
    async fn schedules(&self) -> Result<Vec<Schedule>, StoreError>;
    /// Active schedules whose next run is due at `now_ms`.
    async fn due_schedules(&self, now_ms: i64) -> Result<Vec<Schedule>, StoreError>;
    /// Takes the run due at `expected_next_ms` by moving the schedule on to `next_ms` (None
    /// when nothing follows: it completes); false when another replica took it first.
    async fn advance_schedule(
        &self,
        id: &str,
        expected_next_ms: i64,
        next_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Pauses or resumes (with the next run) a schedule; false when it does not exist.
    async fn set_schedule_status(
        &self,
        id: &str,
        status: &str,
        next_run_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    async fn delete_schedule(&self, id: &str) -> Result<bool, StoreError>;
    async fn put_schedule_run(&self, run: &ScheduleRun) -> Result<(), StoreError>;
    async fn schedule_runs(
        &self,
        schedule_id: &str,
        limit: i64,
    ) -> Result<Vec<ScheduleRun>, StoreError>;

    async fn record_invalidation(
        &self,
        at_ms: i64,
        request_id: &str,
        actor: &str,
        request: &serde_json::Value,
        result: &serde_json::Value,
    ) -> Result<(), StoreError>;
    /// The latest invalidations, newest first.
    async fn invalidations(&self, limit: i64) -> Result<Vec<CacheInvalidation>, StoreError>;
    /// How many invalidations are recorded.
    async fn invalidation_count(&self) -> Result<i64, StoreError>;

    /// Stores a sealed credential, replacing any earlier one of that name.
    async fn put_credential(
        &self,
        name: &str,
        sealed: &str,
        key_id: &str,
        meta: &serde_json::Value,
        now_ms: i64,
    ) -> Result<StoredCredential, StoreError>;
    /// Replaces a credential only if it is still at `expected_revision` (a key rotation or a
    /// token refresh racing another replica); false when it changed or is gone.
    async fn replace_credential(
        &self,
        name: &str,
        expected_revision: i64,
        sealed: &str,
        key_id: &str,
        meta: &serde_json::Value,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    async fn credential(&self, name: &str) -> Result<Option<StoredCredential>, StoreError>;
    /// Every stored credential, by name.
    async fn credentials(&self) -> Result<Vec<StoredCredential>, StoreError>;
    async fn delete_credential(&self, name: &str) -> Result<bool, StoreError>;

    /// Records one post sent to a social `network` in `mode` (`live` or `dry_run`), and drops
    /// that network's records older than [`SOCIAL_POSTS_KEPT_MS`] before `sent_ms`.
    async fn record_social_post(
        &self,
        network: &str,
        mode: &str,
        post_id: &str,
        sent_ms: i64,
    ) -> Result<(), StoreError>;
    /// When each post to `network` in `mode` after `since_ms` was sent, oldest first.
    async fn social_posts_since(
        &self,
        network: &str,
        mode: &str,
        since_ms: i64,
    ) -> Result<Vec<i64>, StoreError>;

    /// Stores a new segment; false when the name is taken.
    async fn put_segment(&self, s: &Segment) -> Result<bool, StoreError>;
    async fn segment(&self, id: &str) -> Result<Option<Segment>, StoreError>;
    /// Every segment, by name.
    async fn segments(&self) -> Result<Vec<Segment>, StoreError>;
    async fn delete_segment(&self, id: &str) -> Result<bool, StoreError>;

    /// Stores a new A/B test.
    async fn put_ab_test(&self, t: &AbTest) -> Result<(), StoreError>;
    /// Writes a test's changing fields (its job, status, assignment, winner, results, reason, the
    /// remainder job, decision time); false when it is unknown.
    async fn update_ab_test(&self, t: &AbTest) -> Result<bool, StoreError>;
    async fn ab_test(&self, id: &str) -> Result<Option<AbTest>, StoreError>;
    /// The newest tests first.
    async fn ab_tests(&self, limit: i64) -> Result<Vec<AbTest>, StoreError>;

    /// Records a campaign sent; a second record of the same id (a retried job) keeps the first
    /// creation time and its figures, and takes the new recipient count.
    async fn record_campaign(&self, c: &EmailCampaign) -> Result<(), StoreError>;
    /// Stores the CRM's figures for a campaign; false when it is unknown.
    async fn set_campaign_stats(
        &self,
        campaign_id: &str,
        stats: &CampaignStats,
        fetched_ms: i64,
    ) -> Result<bool, StoreError>;
    async fn campaign(&self, campaign_id: &str) -> Result<Option<EmailCampaign>, StoreError>;
    /// Campaigns created at or after `since_ms`, newest first.
    async fn campaigns(&self, since_ms: i64, limit: i64) -> Result<Vec<EmailCampaign>, StoreError>;

    async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
        now_ms: i64,
    ) -> Result<(), StoreError>;
    async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError>;
}

/// SHA-256 hex of a secret or document body.
pub fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(2 * digest.len());
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// Opens the store a `DATABASE_URL` names (`sqlite://…`, `postgres://…`), migrating it.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        Ok(Arc::new(
            SqliteStore::open(std::path::Path::new(path)).await?,
        ))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_hex_is_the_lower_case_digest() {
        assert_eq!(
            super::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(super::sha256_hex("").len(), 64);
    }
}
