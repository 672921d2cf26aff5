//! Send batches: a send split into batch jobs that any worker on any replica can claim.
//!
//! The send's job writes every recipient to the delivery ledger first, `pending`, each with
//! its batch number and the subscriber as the list gave it ([`SendBatches::plan_deliveries`]).
//! It then queues one job per batch (`{send job}.b{n}`, marked with the send's job as its
//! parent, so queueing twice queues nothing new). A batch job reads its slice back from the
//! ledger ([`SendBatches::batch_recipients`]) and sends it through the ledger's usual
//! begin/finish rule. Batch jobs are claimed like any job (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), and also by the send's own job through [`SendBatches::claim_batch`], so a
//! single worker never waits on batches nobody runs.

use crate::StoreError;
use crate::ledger::{SendKey, ledger_email};
use crate::model::{Job, JobStatus, NewJob};
use async_trait::async_trait;
use std::collections::HashMap;

/// One recipient of a send, as it is listed before the send begins.
#[derive(Debug, Clone, Copy)]
pub struct Planned<'a> {
    /// The address as the list gave it; stored trimmed and lower-cased, one row per address.
    pub email: &'a str,
    pub subscriber_id: Option<&'a str>,
    /// The subscriber as the list gave it (JSON), for the batch that sends to them.
    pub recipient: &'a str,
    pub batch: i64,
}

/// Rows a planning statement writes at most (6 parameters each).
const PLAN_CHUNK: usize = 500;

#[async_trait]
pub trait SendBatches: Send + Sync {
    /// Lists recipients of a send as `pending`, each in its batch, in one transaction. An
    /// address the send already lists in a batch keeps its row; one listed outside any batch
    /// (begun before the send was split) keeps its state and joins the batch. Returns the rows
    /// written.
    async fn plan_deliveries(
        &self,
        send: SendKey<'_>,
        rows: &[Planned<'_>],
        now_ms: i64,
    ) -> Result<u64, StoreError>;
    /// How many batches the send was split into (its highest batch number plus one).
    async fn planned_batches(&self, send: SendKey<'_>) -> Result<i64, StoreError>;
    /// One batch's subscribers as the list gave them (JSON), in address order.
    async fn batch_recipients(
        &self,
        send: SendKey<'_>,
        batch: i64,
    ) -> Result<Vec<String>, StoreError>;
    /// Queues a batch job of `parent` under the id given, unless one has that id already;
    /// true when it was queued now.
    async fn enqueue_batch(
        &self,
        id: &str,
        parent: &str,
        job: &NewJob,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Claims one of `parent`'s batch jobs that is due, or whose worker's lease ran out.
    async fn claim_batch(
        &self,
        parent: &str,
        worker: &str,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<Job>, StoreError>;
    /// After a send's list is written: brings the database's statistics of the ledger up to
    /// date, so the planner keeps using the ledger's index as it grows by the list (PostgreSQL's
    /// ANALYZE; SQLite needs nothing).
    async fn ledger_grew(&self) -> Result<(), StoreError>;
    /// `parent`'s batch jobs counted by status.
    async fn batch_counts(&self, parent: &str) -> Result<HashMap<JobStatus, i64>, StoreError>;
    /// Cancels `parent`'s batch jobs that have not started (a send cancelled while it runs;
    /// batches already running end as they would); returns how many.
    async fn cancel_batches(&self, parent: &str, now_ms: i64) -> Result<u64, StoreError>;
    /// Queues `parent`'s cancelled and failed batch jobs again, with their attempts back to
    /// none (a send retried); returns how many. Their ledger rows decide whom they send to:
    /// a recipient delivered already is not sent again.
    async fn reopen_batches(&self, parent: &str, now_ms: i64) -> Result<u64, StoreError>;
    /// `parent`'s batch jobs counted by the worker that last claimed them (never claimed ones
    /// are left out), busiest first.
    async fn batch_workers(&self, parent: &str) -> Result<Vec<(String, i64)>, StoreError>;
}

/// Both backends run the same SQL; only the row type and PostgreSQL's row lock differ.
macro_rules! send_batches_impl {
    ($ty:ty, $db:ty, $lock:literal, $analyze:literal) => {
        #[async_trait]
        impl SendBatches for $ty {
            async fn ledger_grew(&self) -> Result<(), StoreError> {
                if $analyze {
                    sqlx::query("ANALYZE deliveries").execute(&self.pool).await?;
                }
                Ok(())
            }

            async fn plan_deliveries(
                &self,
                send: SendKey<'_>,
                rows: &[Planned<'_>],
                now_ms: i64,
            ) -> Result<u64, StoreError> {
                // An address given twice is listed once, at its first place (PostgreSQL refuses
                // a statement that would touch one row twice).
                let mut seen = std::collections::HashSet::with_capacity(rows.len());
                let rows: Vec<&Planned<'_>> =
                    rows.iter().filter(|r| seen.insert(ledger_email(r.email))).collect();
                let mut tx = self.pool.begin().await?;
                let mut added = 0;
                for chunk in rows.chunks(PLAN_CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO deliveries (job_id, target, email, subscriber_id, recipient, batch, message_id, state, created_ms, updated_ms) ",
                    );
                    q.push_values(chunk, |mut b, r| {
                        b.push_bind(send.job_id)
                            .push_bind(send.target)
                            .push_bind(ledger_email(r.email))
                            .push_bind(r.subscriber_id)
                            .push_bind(r.recipient)
                            .push_bind(r.batch)
                            .push_bind("")
                            .push_bind("pending")
                            .push_bind(now_ms)
                            .push_bind(now_ms);
                    });
                    // A row begun before the send was split (by an earlier build's attempt)
                    // joins a batch, keeping its state; a row in a batch keeps it.
                    q.push(
                        " ON CONFLICT (job_id, target, email) DO UPDATE SET batch = excluded.batch, recipient = excluded.recipient WHERE deliveries.batch IS NULL",
                    );
                    added += q.build().execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                Ok(added)
            }

            async fn planned_batches(&self, send: SendKey<'_>) -> Result<i64, StoreError> {
                let n: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(batch) FROM deliveries WHERE job_id = $1 AND target = $2",
                )
                .bind(send.job_id)
                .bind(send.target)
                .fetch_one(&self.pool)
                .await?;
                Ok(n.map_or(0, |n| n + 1))
            }

            async fn batch_recipients(
                &self,
                send: SendKey<'_>,
                batch: i64,
            ) -> Result<Vec<String>, StoreError> {
                let rows: Vec<Option<String>> = sqlx::query_scalar(
                    "SELECT recipient FROM deliveries WHERE job_id = $1 AND target = $2 AND batch = $3 ORDER BY email",
                )
                .bind(send.job_id)
                .bind(send.target)
                .bind(batch)
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().flatten().collect())
            }

            async fn enqueue_batch(
                &self,
                id: &str,
                parent: &str,
                job: &NewJob,
                now_ms: i64,
            ) -> Result<bool, StoreError> {
                let channels = serde_json::to_string(&job.channels)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let n = sqlx::query(
                    "INSERT INTO jobs (id, document_id, channels, status, attempts, max_attempts, run_at_ms, created_ms, scheduled_ms, payload, correlation_id, retry_of, batch_id, parent_id)
                     VALUES ($1, $2, $3, 'pending', 0, $4, $5, $6, $7, $8, $9, NULL, NULL, $10)
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(id)
                .bind(&job.document_id)
                .bind(channels)
                .bind(job.max_attempts.max(1))
                .bind(job.run_at_ms)
                .bind(now_ms)
                .bind(job.scheduled_ms)
                .bind(job.payload.to_string())
                .bind(&job.correlation_id)
                .bind(parent)
                .execute(&self.pool)
                .await?
                .rows_affected();
                Ok(n > 0)
            }

            async fn claim_batch(
                &self,
                parent: &str,
                worker: &str,
                now_ms: i64,
                lease_ms: i64,
            ) -> Result<Option<Job>, StoreError> {
                use crate::claims::{self, Scope};
                sqlx::query(claims::expire(Scope::BatchesOf))
                    .bind(now_ms)
                    .bind(parent)
                    .execute(&self.pool)
                    .await?;
                let sql = claims::claim($lock, Scope::BatchesOf);
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(worker)
                    .bind(now_ms + lease_ms)
                    .bind(now_ms)
                    .bind(parent)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(Self::job_from_row).transpose()
            }

            async fn cancel_batches(&self, parent: &str, now_ms: i64) -> Result<u64, StoreError> {
                Ok(sqlx::query(
                    "UPDATE jobs SET status = 'cancelled', completed_ms = $1, last_error = 'cancelled with its send before it started'
                     WHERE parent_id = $2 AND status = 'pending'",
                )
                .bind(now_ms)
                .bind(parent)
                .execute(&self.pool)
                .await?
                .rows_affected())
            }

            async fn reopen_batches(&self, parent: &str, now_ms: i64) -> Result<u64, StoreError> {
                Ok(sqlx::query(
                    "UPDATE jobs SET status = 'pending', attempts = 0, run_at_ms = $1, completed_ms = NULL,
                         lease_until_ms = NULL, last_error = NULL, errors = '[]'
                     WHERE parent_id = $2 AND status IN ('cancelled', 'failed', 'partial')",
                )
                .bind(now_ms)
                .bind(parent)
                .execute(&self.pool)
                .await?
                .rows_affected())
            }

            async fn batch_workers(&self, parent: &str) -> Result<Vec<(String, i64)>, StoreError> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT worker, COUNT(*) AS n FROM jobs WHERE parent_id = $1 AND worker IS NOT NULL GROUP BY worker ORDER BY n DESC, worker",
                )
                .bind(parent)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| Ok((r.try_get("worker")?, r.try_get("n")?)))
                    .collect()
            }

            async fn batch_counts(
                &self,
                parent: &str,
            ) -> Result<HashMap<JobStatus, i64>, StoreError> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "SELECT status, COUNT(*) AS n FROM jobs WHERE parent_id = $1 GROUP BY status",
                )
                .bind(parent)
                .fetch_all(&self.pool)
                .await?;
                let mut counts = HashMap::new();
                for r in rows {
                    let status: String = r.try_get("status")?;
                    counts.insert(status.parse().map_err(StoreError::Corrupt)?, r.try_get("n")?);
                }
                Ok(counts)
            }
        }
    };
}

send_batches_impl!(crate::SqliteStore, sqlx::Sqlite, "", false);
send_batches_impl!(
    crate::PostgresStore,
    sqlx::Postgres,
    "FOR UPDATE SKIP LOCKED",
    true
);
