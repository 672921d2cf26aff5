//! The two backends. Their SQL is shared (numbered `$N` parameters work on both); what differs
//! is the pool type, the migrations and PostgreSQL's `FOR UPDATE SKIP LOCKED` when claiming.

use crate::model::*;
use crate::{Store, StoreError, sha256_hex};
use async_trait::async_trait;
use serde_json::Value;
use sqlx::Row;
use std::collections::BTreeMap;

pub(crate) const JOB_COLUMNS: &str = "id, document_id, channels, status, attempts, max_attempts, run_at_ms, lease_until_ms, worker, created_ms, started_ms, completed_ms, scheduled_ms, payload, results, errors, last_error, correlation_id, retry_of, batch_id";

fn json(text: &str, what: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// A stored budget: negative or too large values cannot be written, so they read as unset.
fn limit(stored: Option<i64>) -> Option<u32> {
    stored.and_then(|n| u32::try_from(n).ok())
}

macro_rules! store_impl {
    ($ty:ident, $pool:ty, $row:ty, $backend:literal, $lock:literal, $migrations:literal) => {
        impl $ty {
            fn version_from_row(row: &$row) -> Result<ContentVersion, StoreError> {
                let channels: String = row.try_get("channels")?;
                let options: String = row.try_get("options")?;
                Ok(ContentVersion {
                    id: row.try_get("id")?,
                    document_id: row.try_get("document_id")?,
                    label: row.try_get("label")?,
                    content_hash: row.try_get("content_hash")?,
                    channels: serde_json::from_value(json(&channels, "version channels")?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    options: json(&options, "version options")?,
                    job_id: row.try_get("job_id")?,
                    created_ms: row.try_get("created_ms")?,
                    review_state: row.try_get("review_state")?,
                    review_level: row.try_get("review_level")?,
                    review: json(&row.try_get::<String, _>("review")?, "version review")?,
                    updated_ms: row.try_get("updated_ms")?,
                    schedule_id: row.try_get("schedule_id")?,
                })
            }

            fn schedule_from_row(row: &$row) -> Result<Schedule, StoreError> {
                let channels: String = row.try_get("channels")?;
                let last: Option<String> = row.try_get("last_result")?;
                Ok(Schedule {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    cron: row.try_get("cron")?,
                    timezone: row.try_get("timezone")?,
                    scheduled_for_ms: row.try_get("scheduled_for_ms")?,
                    document_id: row.try_get("document_id")?,
                    channels: serde_json::from_value(json(&channels, "schedule channels")?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    options: json(&row.try_get::<String, _>("options")?, "schedule options")?,
                    status: row.try_get("status")?,
                    next_run_ms: row.try_get("next_run_ms")?,
                    last_run_ms: row.try_get("last_run_ms")?,
                    last_result: last.as_deref().map(|t| json(t, "schedule result")).transpose()?,
                    created_by: row.try_get("created_by")?,
                    created_ms: row.try_get("created_ms")?,
                    updated_ms: row.try_get("updated_ms")?,
                })
            }

            fn credential_from_row(row: &$row) -> Result<StoredCredential, StoreError> {
                Ok(StoredCredential {
                    name: row.try_get("name")?,
                    sealed: row.try_get("sealed")?,
                    key_id: row.try_get("key_id")?,
                    meta: json(&row.try_get::<String, _>("meta")?, "credential meta")?,
                    revision: row.try_get("revision")?,
                    created_ms: row.try_get("created_ms")?,
                    updated_ms: row.try_get("updated_ms")?,
                })
            }

            fn segment_from_row(row: &$row) -> Result<Segment, StoreError> {
                Ok(Segment {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    rule: row.try_get("rule")?,
                    description: row.try_get("description")?,
                    intro: row.try_get("intro")?,
                    cta_text: row.try_get("cta_text")?,
                    cta_url: row.try_get("cta_url")?,
                    created_by: row.try_get("created_by")?,
                    created_ms: row.try_get("created_ms")?,
                    updated_ms: row.try_get("updated_ms")?,
                })
            }

            fn ab_test_from_row(row: &$row) -> Result<AbTest, StoreError> {
                let assignment: Option<String> = row.try_get("assignment")?;
                Ok(AbTest {
                    id: row.try_get("id")?,
                    job_id: row.try_get("job_id")?,
                    remainder_job_id: row.try_get("remainder_job_id")?,
                    segment_id: row.try_get("segment_id")?,
                    subjects: serde_json::from_str(&row.try_get::<String, _>("subjects")?)
                        .map_err(|e| StoreError::Corrupt(format!("A/B test subjects: {e}")))?,
                    test_fraction: row.try_get("test_fraction")?,
                    decide_after_ms: row.try_get("decide_after_ms")?,
                    status: row.try_get("status")?,
                    assignment: assignment
                        .map(|a| serde_json::from_str(&a))
                        .transpose()
                        .map_err(|e| StoreError::Corrupt(format!("A/B test assignment: {e}")))?,
                    winner: row.try_get("winner")?,
                    results: json(&row.try_get::<String, _>("results")?, "A/B test results")?,
                    reason: row.try_get("reason")?,
                    created_ms: row.try_get("created_ms")?,
                    updated_ms: row.try_get("updated_ms")?,
                    decided_ms: row.try_get("decided_ms")?,
                })
            }

            fn campaign_from_row(row: &$row) -> Result<EmailCampaign, StoreError> {
                let fetched_ms: Option<i64> = row.try_get("fetched_ms")?;
                let stat = |k: &str| -> Result<i64, StoreError> {
                    Ok(row.try_get::<Option<i64>, _>(k)?.unwrap_or(0))
                };
                let stats = match fetched_ms {
                    None => None,
                    Some(_) => Some(CampaignStats {
                        sent: stat("sent")?,
                        delivered: stat("delivered")?,
                        opened: stat("opened")?,
                        clicked: stat("clicked")?,
                        unsubscribed: stat("unsubscribed")?,
                        bounced: stat("bounced")?,
                    }),
                };
                Ok(EmailCampaign {
                    campaign_id: row.try_get("campaign_id")?,
                    job_id: row.try_get("job_id")?,
                    ab_test_id: row.try_get("ab_test_id")?,
                    variant: row.try_get("variant")?,
                    subject: row.try_get("subject")?,
                    segment_id: row.try_get("segment_id")?,
                    recipients: row.try_get("recipients")?,
                    stats,
                    fetched_ms,
                    created_ms: row.try_get("created_ms")?,
                })
            }

            fn run_from_row(row: &$row) -> Result<ScheduleRun, StoreError> {
                Ok(ScheduleRun {
                    id: row.try_get("id")?,
                    schedule_id: row.try_get("schedule_id")?,
                    due_ms: row.try_get("due_ms")?,
                    started_ms: row.try_get("started_ms")?,
                    finished_ms: row.try_get("finished_ms")?,
                    status: row.try_get("status")?,
                    version_id: row.try_get("version_id")?,
                    job_id: row.try_get("job_id")?,
                    detail: row.try_get("detail")?,
                })
            }

            pub(crate) fn job_from_row(row: &$row) -> Result<Job, StoreError> {
                let status: String = row.try_get("status")?;
                let channels: String = row.try_get("channels")?;
                let errors: String = row.try_get("errors")?;
                Ok(Job {
                    id: row.try_get("id")?,
                    document_id: row.try_get("document_id")?,
                    channels: serde_json::from_value(json(&channels, "channels")?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    status: status.parse().map_err(StoreError::Corrupt)?,
                    attempts: row.try_get("attempts")?,
                    max_attempts: row.try_get("max_attempts")?,
                    run_at_ms: row.try_get("run_at_ms")?,
                    lease_until_ms: row.try_get("lease_until_ms")?,
                    worker: row.try_get("worker")?,
                    created_ms: row.try_get("created_ms")?,
                    started_ms: row.try_get("started_ms")?,
                    completed_ms: row.try_get("completed_ms")?,
                    scheduled_ms: row.try_get("scheduled_ms")?,
                    payload: json(&row.try_get::<String, _>("payload")?, "payload")?,
                    results: json(&row.try_get::<String, _>("results")?, "results")?,
                    errors: serde_json::from_value(json(&errors, "errors")?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    last_error: row.try_get("last_error")?,
                    correlation_id: row.try_get("correlation_id")?,
                    retry_of: row.try_get("retry_of")?,
                    batch_id: row.try_get("batch_id")?,
                })
            }

            /// The results of a job `worker` holds in progress; `None` when it does not.
            async fn held_results(&self, id: &str, worker: &str) -> Result<Option<Value>, StoreError> {
                let row = sqlx::query("SELECT results FROM jobs WHERE id = $1 AND worker = $2 AND status = 'in_progress'")
                    .bind(id).bind(worker).fetch_optional(&self.pool).await?;
                row.map(|r| json(&r.try_get::<String, _>("results")?, "job results")).transpose()
            }

            fn key_from_row(row: &$row) -> Result<ApiKey, StoreError> {
                let scopes: String = row.try_get("scopes")?;
                Ok(ApiKey {
                    id: row.try_get("id")?,
                    name: row.try_get("name")?,
                    prefix: row.try_get("prefix")?,
                    scopes: scopes.split(',').filter_map(Scope::parse).collect(),
                    created_ms: row.try_get("created_ms")?,
                    revoked_ms: row.try_get("revoked_ms")?,
                    limits: KeyLimits {
                        reads_per_second: limit(row.try_get("reads_per_second")?),
                        read_burst: limit(row.try_get("read_burst")?),
                        writes_per_minute: limit(row.try_get("writes_per_minute")?),
                    },
                })
            }

            fn document_from_row(row: &$row) -> Result<DocumentRecord, StoreError> {
                Ok(DocumentRecord {
                    id: row.try_get("id")?,
                    hash: row.try_get("hash")?,
                    source: row.try_get("source")?,
                    format: row.try_get("format")?,
                    body: row.try_get("body")?,
                    created_ms: row.try_get("created_ms")?,
                })
            }
        }

        #[async_trait]
        impl Store for $ty {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
                sqlx::migrate!($migrations).run(&self.pool).await?;
                self.migrations().await
            }

            async fn migrations(&self) -> Result<Vec<i64>, StoreError> {
                let rows = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version").fetch_all(&self.pool).await?;
                rows.iter().map(|r| Ok(r.try_get("version")?)).collect()
            }

            async fn put_document(&self, source: &str, format: &str, body: &str, now_ms: i64) -> Result<(DocumentRecord, bool), StoreError> {
                let hash = sha256_hex(body);
                let id = format!("doc_{}", &hash[..16]);
                let inserted = sqlx::query("INSERT INTO documents (id, hash, source, format, body, created_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hash) DO NOTHING")
                    .bind(&id).bind(&hash).bind(source).bind(format).bind(body).bind(now_ms)
                    .execute(&self.pool).await?.rows_affected() > 0;
                let row = sqlx::query("SELECT * FROM documents WHERE hash = $1").bind(&hash).fetch_one(&self.pool).await?;
                Ok((Self::document_from_row(&row)?, inserted))
            }

            async fn document(&self, id: &str) -> Result<Option<DocumentRecord>, StoreError> {
                let row = sqlx::query("SELECT * FROM documents WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::document_from_row).transpose()
            }

            async fn enqueue(&self, job: NewJob, now_ms: i64) -> Result<Job, StoreError> {
                let id = format!("job_{}", uuid::Uuid::new_v4().simple());
                let channels = serde_json::to_string(&job.channels).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let sql = format!("INSERT INTO jobs (id, document_id, channels, status, attempts, max_attempts, run_at_ms, created_ms, scheduled_ms, payload, correlation_id, retry_of, batch_id)
                     VALUES ($1, $2, $3, 'pending', 0, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING {JOB_COLUMNS}");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&id).bind(&job.document_id).bind(channels).bind(job.max_attempts.max(1)).bind(job.run_at_ms)
                    .bind(now_ms).bind(job.scheduled_ms).bind(job.payload.to_string()).bind(&job.correlation_id).bind(&job.retry_of).bind(&job.batch_id)
                    .fetch_one(&self.pool).await?;
                Self::job_from_row(&row)
            }

            async fn claim(&self, worker: &str, now_ms: i64, lease_ms: i64) -> Result<Option<Job>, StoreError> {
                use crate::claims::{self, Scope};
                sqlx::query(claims::expire(Scope::Any)).bind(now_ms).execute(&self.pool).await?;
                let sql = claims::claim($lock, Scope::Any);
                let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(worker).bind(now_ms + lease_ms).bind(now_ms).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::job_from_row).transpose()
            }

            async fn heartbeat(&self, id: &str, worker: &str, lease_until_ms: i64) -> Result<bool, StoreError> {
                let n = sqlx::query("UPDATE jobs SET lease_until_ms = $1 WHERE id = $2 AND worker = $3 AND status = 'in_progress'")
                    .bind(lease_until_ms).bind(id).bind(worker).execute(&self.pool).await?.rows_affected();
                Ok(n > 0)
            }

            async fn finish(&self, id: &str, worker: &str, status: JobStatus, results: &Value, errors: &[String], now_ms: i64) -> Result<Option<JobStatus>, StoreError> {
                // Only the worker holding the job writes its results, so reading them first
                // and writing them back under the same holder condition is safe.
                let Some(previous) = self.held_results(id, worker).await? else {
                    return Ok(None);
                };
                let merged = crate::results::merge(&previous, results);
                let status = crate::results::status_of(&merged, status);
                let errors = serde_json::to_string(errors).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let n = sqlx::query("UPDATE jobs SET status = $1, results = $2, errors = $3, completed_ms = $4, lease_until_ms = NULL
                     WHERE id = $5 AND worker = $6 AND status = 'in_progress'")
                    .bind(status.as_str()).bind(merged.to_string()).bind(errors).bind(now_ms).bind(id).bind(worker)
                    .execute(&self.pool).await?.rows_affected();
                Ok((n > 0).then_some(status))
            }

            async fn release(&self, id: &str, worker: &str, results: &Value, error: &str, retry_at_ms: i64, now_ms: i64) -> Result<Option<JobStatus>, StoreError> {
                let row = sqlx::query("SELECT attempts, max_attempts, results FROM jobs WHERE id = $1 AND worker = $2 AND status = 'in_progress'")
                    .bind(id).bind(worker).fetch_optional(&self.pool).await?;
                let Some(row) = row else {
                    return Ok(None);
                };
                let attempts: i64 = row.try_get("attempts")?;
                let max_attempts: i64 = row.try_get("max_attempts")?;
                let previous = json(&row.try_get::<String, _>("results")?, "job results")?;
                let merged = crate::results::merge(&previous, results);
                let status = if attempts >= max_attempts {
                    crate::results::status_of(&merged, JobStatus::Failed)
                } else {
                    JobStatus::Pending
                };
                let row = sqlx::query("UPDATE jobs SET
                         status = $1,
                         completed_ms = CASE WHEN $1 = 'pending' THEN NULL ELSE $2 END,
                         run_at_ms = $3, lease_until_ms = NULL, last_error = $4, results = $5
                     WHERE id = $6 AND worker = $7 AND status = 'in_progress' RETURNING status")
                    .bind(status.as_str()).bind(now_ms).bind(retry_at_ms).bind(error).bind(merged.to_string()).bind(id).bind(worker)
                    .fetch_optional(&self.pool).await?;
                match row {
                    Some(r) => Ok(Some(r.try_get::<String, _>("status")?.parse().map_err(StoreError::Corrupt)?)),
                    None => Ok(None),
                }
            }

            async fn cancel(&self, id: &str, now_ms: i64) -> Result<Option<Job>, StoreError> {
                sqlx::query("UPDATE jobs SET status = 'cancelled', completed_ms = $1 WHERE id = $2 AND status = 'pending'")
                    .bind(now_ms).bind(id).execute(&self.pool).await?;
                self.job(id).await
            }

            async fn job(&self, id: &str) -> Result<Option<Job>, StoreError> {
                let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
                let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::job_from_row).transpose()
            }

            async fn jobs(&self, f: &JobFilter) -> Result<(Vec<Job>, i64), StoreError> {
                let status = f.status.map(|s| s.as_str().to_string());
                // The channels column holds a JSON array; match the quoted name, LIKE-escaped.
                let channel = f.channel.as_ref().map(|c| {
                    let escaped = c.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_").replace('"', "");
                    format!("%\"{escaped}\"%")
                });
                let filter = "($1 IS NULL OR status = $1) AND ($2 IS NULL OR channels LIKE $2 ESCAPE '\\') AND ($3 IS NULL OR created_ms >= $3) AND ($4 IS NULL OR created_ms < $4) AND ($5 IS NULL OR batch_id = $5) AND parent_id IS NULL";
                let total: i64 = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) AS n FROM jobs WHERE {filter}")))
                    .bind(&status).bind(&channel).bind(f.created_since_ms).bind(f.created_until_ms).bind(&f.batch_id)
                    .fetch_one(&self.pool).await?.try_get("n")?;
                let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE {filter} ORDER BY created_ms DESC, id DESC LIMIT $6 OFFSET $7");
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(&status).bind(&channel).bind(f.created_since_ms).bind(f.created_until_ms).bind(&f.batch_id)
                    .bind(f.limit.clamp(1, 10_000)).bind(f.offset.max(0))
                    .fetch_all(&self.pool).await?;
                let jobs = rows.iter().map(Self::job_from_row).collect::<Result<Vec<_>, _>>()?;
                Ok((jobs, total))
            }

            async fn job_counts(&self) -> Result<BTreeMap<String, i64>, StoreError> {
                let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").fetch_all(&self.pool).await?;
                let mut counts: BTreeMap<String, i64> = JobStatus::ALL.iter().map(|s| (s.as_str().to_string(), 0)).collect();
                for r in rows {
                    counts.insert(r.try_get("status")?, r.try_get("n")?);
                }
                Ok(counts)
            }

            async fn queue_lag_ms(&self, now_ms: i64) -> Result<Option<i64>, StoreError> {
                let row = sqlx::query("SELECT MIN(run_at_ms) AS due FROM jobs WHERE status = 'pending' AND run_at_ms <= $1")
                    .bind(now_ms).fetch_one(&self.pool).await?;
                let due: Option<i64> = row.try_get("due")?;
                Ok(due.map(|d| (now_ms - d).max(0)))
            }

            async fn create_api_key(&self, name: &str, scopes: &[Scope], now_ms: i64) -> Result<(ApiKey, String), StoreError> {
                let secret = format!("hk_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
                let id = format!("key_{}", uuid::Uuid::new_v4().simple());
                let scopes_text = scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",");
                let row = sqlx::query("INSERT INTO api_keys (id, name, prefix, hash, scopes, created_ms) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *")
                    .bind(&id).bind(name).bind(&secret[..10]).bind(sha256_hex(&secret)).bind(scopes_text).bind(now_ms)
                    .fetch_one(&self.pool).await?;
                Ok((Self::key_from_row(&row)?, secret))
            }

            async fn api_key(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
                let row = sqlx::query("SELECT * FROM api_keys WHERE hash = $1").bind(sha256_hex(secret)).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::key_from_row).transpose()
            }

            async fn api_key_by_id(&self, id: &str) -> Result<Option<ApiKey>, StoreError> {
                let row = sqlx::query("SELECT * FROM api_keys WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::key_from_row).transpose()
            }

            async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
                let rows = sqlx::query("SELECT * FROM api_keys ORDER BY created_ms, id").fetch_all(&self.pool).await?;
                rows.iter().map(Self::key_from_row).collect()
            }

            async fn set_api_key_limits(&self, id: &str, limits: &KeyLimits) -> Result<bool, StoreError> {
                let n = sqlx::query("UPDATE api_keys SET reads_per_second = $1, read_burst = $2, writes_per_minute = $3 WHERE id = $4")
                    .bind(limits.reads_per_second.map(i64::from))
                    .bind(limits.read_burst.map(i64::from))
                    .bind(limits.writes_per_minute.map(i64::from))
                    .bind(id).execute(&self.pool).await?.rows_affected();
                Ok(n > 0)
            }

            async fn revoke_api_key(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
                let n = sqlx::query("UPDATE api_keys SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL")
                    .bind(now_ms).bind(id).execute(&self.pool).await?.rows_affected();
                Ok(n > 0)
            }

            async fn put_batch(&self, b: &Batch) -> Result<(), StoreError> {
                let channels = serde_json::to_string(&b.channels).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sqlx::query("INSERT INTO batches (id, created_ms, period, channels, dry_run, items, scheduled_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(&b.id).bind(b.created_ms).bind(&b.period).bind(channels).bind(i64::from(b.dry_run)).bind(b.items.to_string()).bind(b.scheduled_ms)
                    .execute(&self.pool).await?;
                Ok(())
            }

            async fn batch(&self, id: &str) -> Result<Option<Batch>, StoreError> {
                let Some(row) = sqlx::query("SELECT * FROM batches WHERE id = $1").bind(id).fetch_optional(&self.pool).await? else {
                    return Ok(None);
                };
                let channels: String = row.try_get("channels")?;
                let items: String = row.try_get("items")?;
                let dry_run: i64 = row.try_get("dry_run")?;
                Ok(Some(Batch {
                    id: row.try_get("id")?,
                    created_ms: row.try_get("created_ms")?,
                    period: row.try_get("period")?,
                    channels: serde_json::from_value(json(&channels, "batch channels")?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    dry_run: dry_run != 0,
                    items: json(&items, "batch items")?,
                    scheduled_ms: row.try_get("scheduled_ms")?,
                }))
            }

            async fn mark_batch_scheduled(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
                let n = sqlx::query("UPDATE batches SET scheduled_ms = $1 WHERE id = $2 AND scheduled_ms IS NULL")
                    .bind(now_ms).bind(id).execute(&self.pool).await?.rows_affected();
                Ok(n > 0)
            }

            async fn put_content_version(&self, v: &ContentVersion) -> Result<(), StoreError> {
                let channels = serde_json::to_string(&v.channels).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sqlx::query("INSERT INTO content_versions (id, document_id, label, content_hash, channels, options, job_id, created_ms, review_state, review_level, review, updated_ms, schedule_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)")
                    .bind(&v.id).bind(&v.document_id).bind(&v.label).bind(&v.content_hash).bind(channels).bind(v.options.to_string()).bind(&v.job_id).bind(v.created_ms)
                    .bind(&v.review_state).bind(&v.review_level).bind(v.review.to_string()).bind(v.updated_ms).bind(&v.schedule_id)
                    .execute(&self.pool).await?;
                Ok(())
            }

            async fn update_review(&self, id: &str, from: &str, to: &str, level: Option<&str>, review: &Value, job_id: Option<&str>, now_ms: i64) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE content_versions SET review_state = $1, review_level = COALESCE($2, review_level), review = $3, job_id = COALESCE($4, job_id), updated_ms = $5 WHERE id = $6 AND review_state = $7")
                    .bind(to).bind(level).bind(review.to_string()).bind(job_id).bind(now_ms).bind(id).bind(from)
                    .execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn versions_in_review_state(&self, state: &str, limit: i64) -> Result<Vec<ContentVersion>, StoreError> {
                let rows = sqlx::query("SELECT * FROM content_versions WHERE review_state = $1 ORDER BY created_ms, id LIMIT $2")
                    .bind(state).bind(limit.clamp(1, 1000)).fetch_all(&self.pool).await?;
                rows.iter().map(Self::version_from_row).collect()
            }

            async fn schedule_version_for_hash(&self, schedule_id: &str, content_hash: &str) -> Result<Option<ContentVersion>, StoreError> {
                let row = sqlx::query("SELECT * FROM content_versions WHERE schedule_id = $1 AND content_hash = $2 ORDER BY created_ms DESC, id DESC LIMIT 1")
                    .bind(schedule_id).bind(content_hash).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::version_from_row).transpose()
            }

            async fn put_schedule(&self, s: &Schedule) -> Result<(), StoreError> {
                let channels = serde_json::to_string(&s.channels).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sqlx::query("INSERT INTO schedules (id, name, cron, timezone, scheduled_for_ms, document_id, channels, options, status, next_run_ms, last_run_ms, last_result, created_by, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)")
                    .bind(&s.id).bind(&s.name).bind(&s.cron).bind(&s.timezone).bind(s.scheduled_for_ms).bind(&s.document_id).bind(channels)
                    .bind(s.options.to_string()).bind(&s.status).bind(s.next_run_ms).bind(s.last_run_ms).bind(s.last_result.as_ref().map(Value::to_string))
                    .bind(&s.created_by).bind(s.created_ms).bind(s.updated_ms)
                    .execute(&self.pool).await?;
                Ok(())
            }

            async fn schedule(&self, id: &str) -> Result<Option<Schedule>, StoreError> {
                let row = sqlx::query("SELECT * FROM schedules WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::schedule_from_row).transpose()
            }

            async fn schedules(&self) -> Result<Vec<Schedule>, StoreError> {
                let rows = sqlx::query("SELECT * FROM schedules ORDER BY created_ms, id").fetch_all(&self.pool).await?;
                rows.iter().map(Self::schedule_from_row).collect()
            }

            async fn due_schedules(&self, now_ms: i64) -> Result<Vec<Schedule>, StoreError> {
                let rows = sqlx::query("SELECT * FROM schedules WHERE status = 'active' AND next_run_ms IS NOT NULL AND next_run_ms <= $1 ORDER BY next_run_ms, id LIMIT 100")
                    .bind(now_ms).fetch_all(&self.pool).await?;
                rows.iter().map(Self::schedule_from_row).collect()
            }

            async fn advance_schedule(&self, id: &str, expected_next_ms: i64, next_ms: Option<i64>, now_ms: i64) -> Result<bool, StoreError> {
                let status = if next_ms.is_some() { "active" } else { "completed" };
                let done = sqlx::query("UPDATE schedules SET next_run_ms = $1, last_run_ms = $2, status = $3, updated_ms = $4 WHERE id = $5 AND status = 'active' AND next_run_ms = $6")
                    .bind(next_ms).bind(expected_next_ms).bind(status).bind(now_ms).bind(id).bind(expected_next_ms)
                    .execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_schedule_status(&self, id: &str, status: &str, next_run_ms: Option<i64>, now_ms: i64) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE schedules SET status = $1, next_run_ms = $2, updated_ms = $3 WHERE id = $4")
                    .bind(status).bind(next_run_ms).bind(now_ms).bind(id)
                    .execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn delete_schedule(&self, id: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM schedules WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn put_schedule_run(&self, r: &ScheduleRun) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO schedule_runs (id, schedule_id, due_ms, started_ms, finished_ms, status, version_id, job_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO UPDATE SET finished_ms = EXCLUDED.finished_ms, status = EXCLUDED.status, version_id = EXCLUDED.version_id, job_id = EXCLUDED.job_id, detail = EXCLUDED.detail")
                    .bind(&r.id).bind(&r.schedule_id).bind(r.due_ms).bind(r.started_ms).bind(r.finished_ms).bind(&r.status).bind(&r.version_id).bind(&r.job_id).bind(&r.detail)
                    .execute(&self.pool).await?;
                Ok(())
            }

            async fn schedule_runs(&self, schedule_id: &str, limit: i64) -> Result<Vec<ScheduleRun>, StoreError> {
                let rows = sqlx::query("SELECT * FROM schedule_runs WHERE schedule_id = $1 ORDER BY started_ms DESC, id DESC LIMIT $2")
                    .bind(schedule_id).bind(limit.clamp(1, 1000)).fetch_all(&self.pool).await?;
                rows.iter().map(Self::run_from_row).collect()
            }

            async fn content_version(&self, id: &str) -> Result<Option<ContentVersion>, StoreError> {
                let row = sqlx::query("SELECT * FROM content_versions WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::version_from_row).transpose()
            }

            async fn content_versions(&self, limit: i64, offset: i64) -> Result<(Vec<ContentVersion>, i64), StoreError> {
                let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM content_versions").fetch_one(&self.pool).await?.try_get("n")?;
                let rows = sqlx::query("SELECT * FROM content_versions ORDER BY created_ms DESC, id DESC LIMIT $1 OFFSET $2")
                    .bind(limit.clamp(1, 1000)).bind(offset.max(0)).fetch_all(&self.pool).await?;
                Ok((rows.iter().map(Self::version_from_row).collect::<Result<Vec<_>, _>>()?, total))
            }

            async fn record_invalidation(&self, at_ms: i64, request_id: &str, actor: &str, request: &Value, result: &Value) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO cache_invalidations (at_ms, request_id, actor, request, result) VALUES ($1, $2, $3, $4, $5)")
                    .bind(at_ms).bind(request_id).bind(actor).bind(request.to_string()).bind(result.to_string())
                    .execute(&self.pool).await?;
                Ok(())
            }

            async fn invalidations(&self, limit: i64) -> Result<Vec<CacheInvalidation>, StoreError> {
                let rows = sqlx::query("SELECT * FROM cache_invalidations ORDER BY seq DESC LIMIT $1").bind(limit.clamp(1, 1000)).fetch_all(&self.pool).await?;
                rows.iter().map(|row| {
                    let request: String = row.try_get("request")?;
                    let result: String = row.try_get("result")?;
                    Ok(CacheInvalidation {
                        seq: row.try_get("seq")?,
                        at_ms: row.try_get("at_ms")?,
                        request_id: row.try_get("request_id")?,
                        actor: row.try_get("actor")?,
                        request: json(&request, "invalidation request")?,
                        result: json(&result, "invalidation result")?,
                    })
                }).collect()
            }

            async fn invalidation_count(&self) -> Result<i64, StoreError> {
                let row = sqlx::query("SELECT COUNT(*) AS n FROM cache_invalidations").fetch_one(&self.pool).await?;
                Ok(row.try_get("n")?)
            }

            async fn put_credential(&self, name: &str, sealed: &str, key_id: &str, meta: &Value, now_ms: i64) -> Result<StoredCredential, StoreError> {
                sqlx::query("INSERT INTO credentials (name, sealed, key_id, meta, revision, created_ms, updated_ms) VALUES ($1, $2, $3, $4, 1, $5, $5) \
                             ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, key_id = excluded.key_id, meta = excluded.meta, revision = credentials.revision + 1, updated_ms = excluded.updated_ms")
                    .bind(name).bind(sealed).bind(key_id).bind(meta.to_string()).bind(now_ms)
                    .execute(&self.pool).await?;
                self.credential(name).await?.ok_or_else(|| StoreError::Corrupt(format!("credential {name} vanished while it was written")))
            }

            async fn replace_credential(&self, name: &str, expected_revision: i64, sealed: &str, key_id: &str, meta: &Value, now_ms: i64) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE credentials SET sealed = $1, key_id = $2, meta = $3, revision = revision + 1, updated_ms = $4 WHERE name = $5 AND revision = $6")
                    .bind(sealed).bind(key_id).bind(meta.to_string()).bind(now_ms).bind(name).bind(expected_revision)
                    .execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn credential(&self, name: &str) -> Result<Option<StoredCredential>, StoreError> {
                let row = sqlx::query("SELECT * FROM credentials WHERE name = $1").bind(name).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::credential_from_row).transpose()
            }

            async fn credentials(&self) -> Result<Vec<StoredCredential>, StoreError> {
                let rows = sqlx::query("SELECT * FROM credentials ORDER BY name").fetch_all(&self.pool).await?;
                rows.iter().map(Self::credential_from_row).collect()
            }

            async fn record_social_post(&self, network: &str, mode: &str, post_id: &str, sent_ms: i64) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("INSERT INTO social_posts (network, mode, post_id, sent_ms) VALUES ($1, $2, $3, $4)")
                    .bind(network).bind(mode).bind(post_id).bind(sent_ms)
                    .execute(&mut *tx).await?;
                sqlx::query("DELETE FROM social_posts WHERE network = $1 AND sent_ms < $2")
                    .bind(network).bind(sent_ms - crate::SOCIAL_POSTS_KEPT_MS)
                    .execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn social_posts_since(&self, network: &str, mode: &str, since_ms: i64) -> Result<Vec<i64>, StoreError> {
                let rows = sqlx::query("SELECT sent_ms FROM social_posts WHERE network = $1 AND mode = $2 AND sent_ms > $3 ORDER BY sent_ms")
                    .bind(network).bind(mode).bind(since_ms)
                    .fetch_all(&self.pool).await?;
                rows.iter().map(|r| r.try_get::<i64, _>("sent_ms").map_err(StoreError::from)).collect()
            }

            async fn delete_credential(&self, name: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM credentials WHERE name = $1").bind(name).execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn put_segment(&self, s: &Segment) -> Result<bool, StoreError> {
                let done = sqlx::query("INSERT INTO segments (id, name, rule, description, intro, cta_text, cta_url, created_by, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (name) DO NOTHING")
                    .bind(&s.id).bind(&s.name).bind(&s.rule).bind(&s.description).bind(&s.intro).bind(&s.cta_text).bind(&s.cta_url).bind(&s.created_by).bind(s.created_ms).bind(s.updated_ms)
                    .execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn segment(&self, id: &str) -> Result<Option<Segment>, StoreError> {
                let row = sqlx::query("SELECT * FROM segments WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::segment_from_row).transpose()
            }

            async fn segments(&self) -> Result<Vec<Segment>, StoreError> {
                let rows = sqlx::query("SELECT * FROM segments ORDER BY name").fetch_all(&self.pool).await?;
                rows.iter().map(Self::segment_from_row).collect()
            }

            async fn delete_segment(&self, id: &str) -> Result<bool, StoreError> {
                let done = sqlx::query("DELETE FROM segments WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn put_ab_test(&self, t: &AbTest) -> Result<(), StoreError> {
                let subjects = serde_json::to_string(&t.subjects).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let assignment = t.assignment.as_ref().map(serde_json::to_string).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                sqlx::query("INSERT INTO ab_tests (id, job_id, remainder_job_id, segment_id, subjects, test_fraction, decide_after_ms, status, assignment, winner, results, reason, created_ms, updated_ms, decided_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)")
                    .bind(&t.id).bind(&t.job_id).bind(&t.remainder_job_id).bind(&t.segment_id).bind(subjects).bind(t.test_fraction).bind(t.decide_after_ms)
                    .bind(&t.status).bind(assignment).bind(t.winner).bind(t.results.to_string()).bind(&t.reason).bind(t.created_ms).bind(t.updated_ms).bind(t.decided_ms)
                    .execute(&self.pool).await?;
                Ok(())
            }

            async fn update_ab_test(&self, t: &AbTest) -> Result<bool, StoreError> {
                let assignment = t.assignment.as_ref().map(serde_json::to_string).transpose().map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let done = sqlx::query("UPDATE ab_tests SET remainder_job_id = $2, status = $3, assignment = $4, winner = $5, results = $6, reason = $7, updated_ms = $8, decided_ms = $9, job_id = $10 WHERE id = $1")
                    .bind(&t.id).bind(&t.remainder_job_id).bind(&t.status).bind(assignment).bind(t.winner).bind(t.results.to_string()).bind(&t.reason).bind(t.updated_ms).bind(t.decided_ms).bind(&t.job_id)
                    .execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn ab_test(&self, id: &str) -> Result<Option<AbTest>, StoreError> {
                let row = sqlx::query("SELECT * FROM ab_tests WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::ab_test_from_row).transpose()
            }

            async fn ab_tests(&self, limit: i64) -> Result<Vec<AbTest>, StoreError> {
                let rows = sqlx::query("SELECT * FROM ab_tests ORDER BY created_ms DESC, id DESC LIMIT $1").bind(limit).fetch_all(&self.pool).await?;
                rows.iter().map(Self::ab_test_from_row).collect()
            }

            async fn record_campaign(&self, c: &EmailCampaign) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO email_campaigns (campaign_id, job_id, ab_test_id, variant, subject, segment_id, recipients, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (campaign_id) DO UPDATE SET recipients = excluded.recipients, job_id = excluded.job_id")
                    .bind(&c.campaign_id).bind(&c.job_id).bind(&c.ab_test_id).bind(&c.variant).bind(&c.subject).bind(&c.segment_id).bind(c.recipients).bind(c.created_ms)
                    .execute(&self.pool).await?;
                Ok(())
            }

            async fn set_campaign_stats(&self, campaign_id: &str, st: &CampaignStats, fetched_ms: i64) -> Result<bool, StoreError> {
                let done = sqlx::query("UPDATE email_campaigns SET sent = $2, delivered = $3, opened = $4, clicked = $5, unsubscribed = $6, bounced = $7, fetched_ms = $8 WHERE campaign_id = $1")
                    .bind(campaign_id).bind(st.sent).bind(st.delivered).bind(st.opened).bind(st.clicked).bind(st.unsubscribed).bind(st.bounced).bind(fetched_ms)
                    .execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn campaign(&self, campaign_id: &str) -> Result<Option<EmailCampaign>, StoreError> {
                let row = sqlx::query("SELECT * FROM email_campaigns WHERE campaign_id = $1").bind(campaign_id).fetch_optional(&self.pool).await?;
                row.as_ref().map(Self::campaign_from_row).transpose()
            }

            async fn campaigns(&self, since_ms: i64, limit: i64) -> Result<Vec<EmailCampaign>, StoreError> {
                let rows = sqlx::query("SELECT * FROM email_campaigns WHERE created_ms >= $1 ORDER BY created_ms DESC, campaign_id LIMIT $2").bind(since_ms).bind(limit).fetch_all(&self.pool).await?;
                rows.iter().map(Self::campaign_from_row).collect()
            }

            async fn audit(&self, actor: &str, action: &str, target: &str, detail: &str, now_ms: i64) -> Result<(), StoreError> {
                sqlx::query("INSERT INTO audit_log (at_ms, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)")
                    .bind(now_ms).bind(actor).bind(action).bind(target).bind(detail).execute(&self.pool).await?;
                Ok(())
            }

            async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
                let rows = sqlx::query("SELECT * FROM audit_log ORDER BY seq DESC LIMIT $1").bind(limit.clamp(1, 1000)).fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|r| {
                        Ok(AuditEntry {
                            seq: r.try_get("seq")?,
                            at_ms: r.try_get("at_ms")?,
                            actor: r.try_get("actor")?,
                            action: r.try_get("action")?,
                            target: r.try_get("target")?,
                            detail: r.try_get("detail")?,
                        })
                    })
                    .collect()
            }
        }
    };
}

/// SQLite: one file, WAL, a small pool (SQLite has one writer at a time).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(crate) pool: sqlx::SqlitePool,
}

/// The first bytes of every SQLite database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Refuses a file that exists but cannot be a SQLite database (empty, or another kind of
/// file), so a server never starts an empty database over data it cannot read. A missing
/// file is fine: it will be created.
pub fn check_sqlite_file(path: &std::path::Path) -> Result<(), StoreError> {
    use std::io::Read;
    let refuse = |reason: String| StoreError::NotADatabase {
        path: path.display().to_string(),
        reason,
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(refuse(format!("cannot be read ({e})"))),
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if len == 0 {
        return Err(refuse("the file is empty (0 bytes)".into()));
    }
    let mut head = [0_u8; 16];
    match file.read_exact(&mut head) {
        Ok(()) if &head == SQLITE_HEADER => Ok(()),
        Ok(()) => Err(refuse(
            "the file does not start with the SQLite header".into(),
        )),
        Err(_) => Err(refuse(format!("the file is only {len} bytes long"))),
    }
}

impl SqliteStore {
    pub async fn open(path: &std::path::Path) -> Result<Self, StoreError> {
        check_sqlite_file(path)?;
        use sqlx::sqlite::{
            SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(10));
        const POOL: u32 = 4;
        let pool = SqlitePoolOptions::new()
            .max_connections(POOL)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        // The runbooks grep the log for the database and its connection pool.
        tracing::info!(
            event = "database",
            backend = "sqlite",
            path = %path.display(),
            pool_max = POOL,
            "database connected: SQLite {}, connection pool of {POOL}, migrations applied",
            path.display()
        );
        Ok(SqliteStore { pool })
    }
}

/// PostgreSQL: several API and worker processes share it; claims skip locked rows.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pub(crate) pool: sqlx::PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        const POOL: u32 = 10;
        let options: sqlx::postgres::PgConnectOptions = url.parse()?;
        // Where, never who: the log names the host and database, not the user or password.
        let at = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(POOL)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        tracing::info!(
            event = "database",
            backend = "postgres",
            at = %at,
            pool_max = POOL,
            "database connected: PostgreSQL {at}, connection pool of {POOL}, migrations applied"
        );
        Ok(PostgresStore { pool })
    }
}

store_impl!(
    SqliteStore,
    sqlx::SqlitePool,
    sqlx::sqlite::SqliteRow,
    "sqlite",
    "",
    "./migrations/sqlite"
);
store_impl!(
    PostgresStore,
    sqlx::PgPool,
    sqlx::postgres::PgRow,
    "postgres",
    "FOR UPDATE SKIP LOCKED",
    "./migrations/postgres"
);
