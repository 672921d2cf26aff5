//! The capture store: SQLite, one file per mock, holding every accepted request with its
//! full payload, and the first response given for each `Idempotency-Key`.

use serde::Serialize;
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::Path;
use std::str::FromStr;

use crate::search::SearchText;

/// Meta key holding the highest `seq` whose email is in the body-search index
/// (migration 0006): captures above it are indexed before a search reads the index.
const SEARCH_UPTO: &str = "search:upto";

/// Emails indexed per transaction when the index catches up.
const INDEX_PAGE: i64 = 500;

/// How long writes must be quiet before the writer indexes in the background.
const QUIET: std::time::Duration = std::time::Duration::from_millis(500);

/// Puts up to `pages` pages of the captured emails above 'search:upto' into the body-search
/// index, each page in its own transaction; whether any are left after.
///
/// Only the writer task calls this, so no capture can commit below the mark afterwards.
async fn index_pending(pool: &SqlitePool, pages: usize) -> Result<bool, sqlx::Error> {
    for _ in 0..pages {
        let mut tx = pool.begin().await?;
        let upto: i64 = sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
            .bind(SEARCH_UPTO)
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or(0);
        let rows = sqlx::query(
            "SELECT seq, subject, request FROM records WHERE kind = 'email' AND captured = 1 AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(upto)
        .bind(INDEX_PAGE)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = rows.last() else {
            return Ok(false);
        };
        let last: i64 = last.try_get("seq")?;
        let mut texts = Vec::with_capacity(rows.len());
        for row in &rows {
            let request: Value =
                serde_json::from_str(&row.try_get::<String, _>("request")?).unwrap_or_default();
            let subject: Option<String> = row.try_get("subject")?;
            texts.push((
                row.try_get::<i64, _>("seq")?,
                SearchText::of(subject.as_deref(), &request),
            ));
        }
        for chunk in texts.chunks(ROWS_PER_INSERT) {
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO message_search (rowid, subject, text, html) ",
            );
            q.push_values(chunk, |mut b, (seq, t)| {
                b.push_bind(*seq)
                    .push_bind(&t.subject)
                    .push_bind(&t.text)
                    .push_bind(&t.html);
            });
            q.build().execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .bind(SEARCH_UPTO)
        .bind(last)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if rows.len() < INDEX_PAGE as usize {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A Bloom filter of the idempotency keys stored, read once when the store opens.
async fn known_keys(pool: &SqlitePool) -> Result<growable_bloom_filter::GrowableBloom, StoreError> {
    use futures_util::TryStreamExt;
    let mut known = growable_bloom_filter::GrowableBloom::new(0.01, 100_000);
    let mut keys = sqlx::query_scalar::<_, String>("SELECT key FROM idempotency").fetch(pool);
    while let Some(key) = keys.try_next().await? {
        known.insert(key.as_str());
    }
    Ok(known)
}

/// The addresses the console searches for an email record: each of the request's
/// `recipients` (an address, or an object with an `email`), lower-cased (ASCII), one a line.
fn recipient_lines(request: &Value) -> String {
    let mut out = String::new();
    for r in request["recipients"].as_array().into_iter().flatten() {
        let address = match r {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("email").and_then(Value::as_str),
            _ => None,
        };
        if let Some(a) = address {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&a.to_ascii_lowercase());
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored JSON is corrupt: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the capture writer has stopped")]
    Closed,
    #[error("group write failed: {0}")]
    Group(String),
    /// A body search SQLite could not read (FTS5 syntax); the text says why, naming `q`.
    #[error("{0}")]
    Search(String),
}

impl StoreError {
    /// `e`, as a [`StoreError::Search`] when it is about the search query of a statement that
    /// has one.
    fn searching(e: sqlx::Error, searched: bool) -> StoreError {
        let problem = e
            .as_database_error()
            .and_then(|d| crate::search::query_problem(d.message()));
        match problem {
            Some(p) if searched => StoreError::Search(p),
            _ => StoreError::Database(e),
        }
    }
}

/// A record to insert.
#[derive(Debug, Clone, Default)]
pub struct NewRecord {
    pub id: String,
    pub kind: &'static str,
    /// Whether it counts as a capture (something that would have been sent or published).
    pub captured: bool,
    pub subject: Option<String>,
    pub campaign: Option<String>,
    pub channel: Option<String>,
    pub status: Option<String>,
    pub idempotency_key: Option<String>,
    pub correlation_id: Option<String>,
    pub created_at: String,
    pub request: Value,
    pub response: Value,
    /// The message exactly as received (SMTP DATA), kept beside an email capture.
    pub raw: Option<Vec<u8>>,
}

impl NewRecord {
    /// A copy without `request` and `response` (the writer gets those serialised), so the
    /// payload is not cloned as JSON values only to be dropped.
    fn without_payload(&self) -> NewRecord {
        NewRecord {
            id: self.id.clone(),
            kind: self.kind,
            captured: self.captured,
            subject: self.subject.clone(),
            campaign: self.campaign.clone(),
            channel: self.channel.clone(),
            status: self.status.clone(),
            idempotency_key: self.idempotency_key.clone(),
            correlation_id: self.correlation_id.clone(),
            created_at: self.created_at.clone(),
            request: Value::Null,
            response: Value::Null,
            raw: self.raw.clone(),
        }
    }
}

/// A stored record.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub captured: bool,
    pub subject: Option<String>,
    pub campaign: Option<String>,
    pub channel: Option<String>,
    pub status: Option<String>,
    pub idempotency_key: Option<String>,
    pub correlation_id: Option<String>,
    pub created_at: String,
    pub updated_at: Option<String>,
    pub request: Value,
    pub response: Value,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub kinds: Vec<String>,
    pub captured_only: bool,
    /// Substring of the subject / title (case-insensitive).
    pub q: Option<String>,
    pub campaign: Option<String>,
    pub channel: Option<String>,
    pub status: Option<String>,
    /// RFC 3339 bounds on `created_at`.
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// How many records of each kind the store holds.
#[derive(Debug, Clone, Default)]
pub struct KindCounts(pub std::collections::BTreeMap<String, i64>);

impl KindCounts {
    pub fn of(&self, kind: &str) -> i64 {
        self.0.get(kind).copied().unwrap_or(0)
    }
}

/// A stored idempotent response.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub route: String,
    pub status: u16,
    pub body: Value,
}

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Every idempotency key the store may hold (a Bloom filter: no false "absent"), so a
    /// key never seen — each new SMTP message — is answered without a database read.
    known: std::sync::Arc<std::sync::Mutex<growable_bloom_filter::GrowableBloom>>,
    writer: tokio::sync::mpsc::Sender<(Work, Reply)>,
}

/// One write waiting for the writer task.
#[derive(Debug)]
struct Job {
    /// The record with its request and response already serialised (by the caller's task,
    /// so the single writer only writes).
    record: Option<(NewRecord, String, String)>,
    idempotent: Option<(String, String, u16, String)>,
    retention: i64,
    /// An email's addresses for the console's recipient search ([`recipient_lines`],
    /// taken by the caller's task too).
    recipients: Option<String>,
}

/// What the writer task is asked to do.
#[derive(Debug)]
enum Work {
    Write(Box<Job>),
    /// Bring the body-search index up to date with every capture committed so far.
    CatchUp,
}

/// Most writes grouped into one transaction.
const MAX_GROUP: usize = 256;

/// Rows per multi-row insert (12 parameters a record).
const ROWS_PER_INSERT: usize = 64;

/// The statements that write `jobs`, appended to `q`, each ended by `;`: their records, the
/// raw messages and recipient lines beside them, the counters of accepted records and the
/// remembered responses. Several statements in one query cost one round trip to SQLite's
/// connection thread (the arguments are bound across them in order).
fn push_writes(
    q: &mut sqlx::QueryBuilder<sqlx::Sqlite>,
    jobs: &[Job],
    accepted: &[(String, i64)],
    now: &str,
) {
    let records: Vec<&(NewRecord, String, String)> =
        jobs.iter().filter_map(|j| j.record.as_ref()).collect();
    for chunk in records.chunks(ROWS_PER_INSERT) {
        q.push(
            "INSERT INTO records (id, kind, captured, subject, campaign, channel, status, idempotency_key, correlation_id, created_at, request, response) ",
        );
        q.push_values(chunk, |mut b, (r, request, response)| {
            b.push_bind(&r.id)
                .push_bind(r.kind)
                .push_bind(r.captured)
                .push_bind(&r.subject)
                .push_bind(&r.campaign)
                .push_bind(&r.channel)
                .push_bind(&r.status)
                .push_bind(&r.idempotency_key)
                .push_bind(&r.correlation_id)
                .push_bind(&r.created_at)
                .push_bind(request)
                .push_bind(response);
        });
        q.push("; ");
    }
    // Each row below finds its record's seq by the record's id, inserted above.
    let raws: Vec<(&str, &[u8])> = records
        .iter()
        .filter_map(|(r, _, _)| Some((r.id.as_str(), r.raw.as_deref()?)))
        .collect();
    for chunk in raws.chunks(ROWS_PER_INSERT) {
        q.push("INSERT INTO raw_messages (seq, data) ");
        q.push_values(chunk, |mut b, (id, data)| {
            b.push("(SELECT seq FROM records WHERE id = ")
                .push_bind_unseparated(*id)
                .push_unseparated(")")
                .push_bind(*data);
        });
        q.push("; ");
    }
    let addressed: Vec<(&str, &str)> = jobs
        .iter()
        .filter_map(|j| Some((j.record.as_ref()?.0.id.as_str(), j.recipients.as_deref()?)))
        .collect();
    for chunk in addressed.chunks(ROWS_PER_INSERT) {
        q.push("INSERT OR REPLACE INTO console_recipients (seq, addresses) ");
        q.push_values(chunk, |mut b, (id, addresses)| {
            b.push("(SELECT seq FROM records WHERE id = ")
                .push_bind_unseparated(*id)
                .push_unseparated(")")
                .push_bind(*addresses);
        });
        q.push("; ");
    }
    // Counted with the records: exact, and kept when captures are pruned.
    for (key, n) in accepted {
        q.push("INSERT INTO meta (key, value) VALUES (")
            .push_bind(key.as_str())
            .push(", ")
            .push_bind(*n)
            .push(") ON CONFLICT(key) DO UPDATE SET value = value + excluded.value; ");
    }
    let remembered: Vec<&(String, String, u16, String)> =
        jobs.iter().filter_map(|j| j.idempotent.as_ref()).collect();
    for chunk in remembered.chunks(ROWS_PER_INSERT) {
        q.push("INSERT OR IGNORE INTO idempotency (key, route, status, response, created_at) ");
        q.push_values(chunk, |mut b, (key, route, status, body)| {
            b.push_bind(key)
                .push_bind(route)
                .push_bind(i64::from(*status))
                .push_bind(body)
                .push_bind(now);
        });
        q.push("; ");
    }
}

/// How many records of each kind `jobs` add, as the meta keys that count them.
fn accepted_of(jobs: &[Job]) -> Vec<(String, i64)> {
    let mut accepted: std::collections::BTreeMap<&str, i64> = Default::default();
    for (r, _, _) in jobs.iter().filter_map(|j| j.record.as_ref()) {
        *accepted.entry(r.kind).or_default() += 1;
    }
    accepted
        .into_iter()
        .map(|(kind, n)| (format!("accepted:{kind}"), n))
        .collect()
}

/// Writes `jobs` on `conn` in one round trip: inside the caller's transaction, or, when
/// `own_transaction`, in one of their own begun and committed in the same query (on failure
/// it is rolled back and nothing of them is kept).
async fn write_jobs(
    conn: &mut sqlx::SqliteConnection,
    jobs: &[Job],
    own_transaction: bool,
) -> Result<(), sqlx::Error> {
    let accepted = accepted_of(jobs);
    let now = chrono::Utc::now().to_rfc3339();
    let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(if own_transaction {
        "BEGIN IMMEDIATE; "
    } else {
        ""
    });
    push_writes(&mut q, jobs, &accepted, &now);
    if own_transaction {
        q.push("COMMIT;");
    }
    let written = q.build().persistent(false).execute(&mut *conn).await;
    if written.is_err() && own_transaction {
        // A statement (or the commit) failed and left the transaction open: end it.
        let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
    }
    written.map(|_| ())
}

/// Writes one group in a transaction: all at once when it can, else job by job, a failing job
/// rolled back to its savepoint alone (the same statements, one job at a time).
async fn write_group(
    pool: &SqlitePool,
    jobs: &[Job],
) -> Result<Vec<Result<(), StoreError>>, sqlx::Error> {
    {
        let mut conn = pool.acquire().await?;
        if write_jobs(&mut conn, jobs, true).await.is_ok() {
            return Ok(jobs.iter().map(|_| Ok(())).collect());
        }
    }
    // One statement failed: nothing of the group is kept; write it job by job to tell which.
    let mut tx = pool.begin().await?;
    let mut results = Vec::with_capacity(jobs.len());
    for job in jobs {
        sqlx::query("SAVEPOINT job").execute(&mut *tx).await?;
        match write_jobs(&mut tx, std::slice::from_ref(job), false).await {
            Ok(()) => {
                sqlx::query("RELEASE job").execute(&mut *tx).await?;
                results.push(Ok(()));
            }
            Err(e) => {
                sqlx::query("ROLLBACK TO job").execute(&mut *tx).await?;
                sqlx::query("RELEASE job").execute(&mut *tx).await?;
                results.push(Err(StoreError::Database(e)));
            }
        }
    }
    tx.commit().await?;
    Ok(results)
}

/// Deletes captures beyond the newest `retention`.
async fn prune(pool: &SqlitePool, retention: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM records WHERE captured = 1 AND seq <= (SELECT seq FROM records WHERE captured = 1 ORDER BY seq DESC LIMIT 1 OFFSET ?)",
    )
    .bind(retention.max(1))
    .execute(pool)
    .await?;
    Ok(())
}

type Reply = tokio::sync::oneshot::Sender<Result<(), StoreError>>;

/// The single writer: takes every pending write, commits them together, answers each; brings
/// the body-search index up to date when asked, and by itself once writes are quiet.
async fn writer(pool: SqlitePool, mut rx: tokio::sync::mpsc::Receiver<(Work, Reply)>) {
    let mut since_prune: i64 = 0;
    // Whether captures may wait for the index (then a quiet moment is used to index them).
    let mut unindexed = true;
    loop {
        let first = if unindexed {
            match tokio::time::timeout(QUIET, rx.recv()).await {
                Ok(first) => first,
                Err(_) => {
                    unindexed = match index_pending(&pool, 1).await {
                        Ok(more) => more,
                        Err(e) => {
                            tracing::error!(error = %e, "indexing captures for search failed");
                            false
                        }
                    };
                    continue;
                }
            }
        } else {
            rx.recv().await
        };
        let Some(first) = first else { break };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let mut jobs = Vec::with_capacity(group.len());
        let mut replies = Vec::with_capacity(group.len());
        let mut catch_ups = Vec::new();
        for (work, reply) in group {
            match work {
                Work::Write(job) => {
                    jobs.push(*job);
                    replies.push(reply);
                }
                Work::CatchUp => catch_ups.push(reply),
            }
        }
        if !jobs.is_empty() {
            let captured = jobs
                .iter()
                .filter(|j| j.record.as_ref().is_some_and(|(r, _, _)| r.captured))
                .count() as i64;
            unindexed |= captured > 0;
            write(&pool, &jobs, replies, captured, &mut since_prune).await;
        }
        if !catch_ups.is_empty() {
            let done = index_pending(&pool, usize::MAX)
                .await
                .map_err(StoreError::Database);
            unindexed = done.is_err();
            for reply in catch_ups {
                let _ = reply.send(match &done {
                    Ok(_) => Ok(()),
                    Err(e) => Err(StoreError::Group(e.to_string())),
                });
            }
        }
    }
}

/// Commits one group of writes, answers each, and prunes captures beyond the retention.
async fn write(
    pool: &SqlitePool,
    jobs: &[Job],
    replies: Vec<Reply>,
    captured: i64,
    since_prune: &mut i64,
) {
    let retention = jobs.iter().map(|j| j.retention).min().unwrap_or(i64::MAX);
    match write_group(pool, jobs).await {
        Ok(results) => {
            *since_prune += captured;
            // Prune in steps of a tenth of the retention (at most 256 captures over it).
            if captured > 0 && *since_prune >= (retention / 10).clamp(1, MAX_GROUP as i64) {
                *since_prune = 0;
                if let Err(e) = prune(pool, retention).await {
                    tracing::error!(error = %e, "pruning captures failed");
                }
            }
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(result);
            }
        }
        Err(e) => {
            let message = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(StoreError::Group(message.clone())));
            }
        }
    }
}

impl Store {
    /// Opens (creating if needed) the database file at `path` and applies migrations.
    pub async fn open(path: &Path) -> Result<Store, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(std::time::Duration::from_secs(5));
        Self::with_options(options, 4).await
    }

    /// A private in-memory database (tests).
    pub async fn in_memory() -> Result<Store, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?;
        // One connection: every connection to ":memory:" would be a different database.
        Self::with_options(options, 1).await
    }

    async fn with_options(options: SqliteConnectOptions, max: u32) -> Result<Store, StoreError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let known = known_keys(&pool).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(4 * MAX_GROUP);
        tokio::spawn(writer(pool.clone(), rx));
        Ok(Store {
            pool,
            known: std::sync::Arc::new(std::sync::Mutex::new(known)),
            writer: tx,
        })
    }

    /// Stores `record` and, when given, the idempotent response, atomically; older captures
    /// beyond `retention` are pruned. Writes from concurrent requests are grouped into one
    /// transaction by the writer task (group commit), each isolated by a savepoint.
    pub async fn commit(
        &self,
        record: Option<&NewRecord>,
        idempotent: Option<(&str, &str, u16, &Value)>,
        retention: i64,
    ) -> Result<(), StoreError> {
        if record.is_none() && idempotent.is_none() {
            return Ok(());
        }
        let job = Job {
            recipients: record
                .filter(|r| r.kind == "email")
                .map(|r| recipient_lines(&r.request)),
            record: record.map(|r| {
                (
                    r.without_payload(),
                    r.request.to_string(),
                    r.response.to_string(),
                )
            }),
            idempotent: idempotent
                .map(|(k, r, s, b)| (k.to_string(), r.to_string(), s, b.to_string())),
            retention,
        };
        // Known before it can be committed, so a reader never misses a stored key.
        if let Some((key, ..)) = &job.idempotent {
            self.known().insert(key.as_str());
        }
        self.ask(Work::Write(Box::new(job))).await
    }

    fn known(&self) -> std::sync::MutexGuard<'_, growable_bloom_filter::GrowableBloom> {
        self.known
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Hands `work` to the writer task and waits for its answer.
    async fn ask(&self, work: Work) -> Result<(), StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.writer.send((work, tx)).await.is_err() {
            return Err(StoreError::Closed);
        }
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Waits until every email captured so far is in the body-search index.
    pub async fn index_for_search(&self) -> Result<(), StoreError> {
        self.ask(Work::CatchUp).await
    }

    pub async fn idempotent(&self, key: &str) -> Result<Option<StoredResponse>, StoreError> {
        if !self.known().contains(key) {
            return Ok(None);
        }
        let row = sqlx::query("SELECT route, status, response FROM idempotency WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(StoredResponse {
                route: r.try_get("route")?,
                status: u16::try_from(r.try_get::<i64, _>("status")?).unwrap_or(200),
                body: serde_json::from_str(&r.try_get::<String, _>("response")?)?,
            })
        })
        .transpose()
    }

    /// The pool, for the modules that keep their own tables beside the records
    /// ([`crate::checks`]).
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub(crate) fn to_record(row: &sqlx::sqlite::SqliteRow) -> Result<Record, StoreError> {
        Ok(Record {
            seq: row.try_get("seq")?,
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            captured: row.try_get("captured")?,
            subject: row.try_get("subject")?,
            campaign: row.try_get("campaign")?,
            channel: row.try_get("channel")?,
            status: row.try_get("status")?,
            idempotency_key: row.try_get("idempotency_key")?,
            correlation_id: row.try_get("correlation_id")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            request: serde_json::from_str(&row.try_get::<String, _>("request")?)?,
            response: serde_json::from_str(&row.try_get::<String, _>("response")?)?,
        })
    }

    pub async fn get(&self, kind: Option<&str>, id: &str) -> Result<Option<Record>, StoreError> {
        let row = sqlx::query("SELECT * FROM records WHERE id = ? AND (? IS NULL OR kind = ?)")
            .bind(id)
            .bind(kind)
            .bind(kind)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(Self::to_record).transpose()
    }

    /// Replaces a record's request, response and status (content updates, webhooks).
    pub async fn update(
        &self,
        id: &str,
        status: Option<&str>,
        request: &Value,
        response: &Value,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE records SET status = COALESCE(?, status), request = ?, response = ?, subject = COALESCE(json_extract(?, '$.title'), subject), updated_at = ? WHERE id = ?")
            .bind(status)
            .bind(request.to_string())
            .bind(response.to_string())
            .bind(request.to_string())
            .bind(chrono::Utc::now().to_rfc3339())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn delete(&self, kind: &str, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM records WHERE id = ? AND kind = ?")
            .bind(id)
            .bind(kind)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Matching records, newest first, and how many match in all.
    pub async fn list(&self, f: &Filter) -> Result<(Vec<Record>, i64), StoreError> {
        let mut sql = String::from(" FROM records WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        if !f.kinds.is_empty() {
            sql.push_str(&format!(
                " AND kind IN ({})",
                vec!["?"; f.kinds.len()].join(", ")
            ));
            binds.extend(f.kinds.iter().cloned());
        }
        if f.captured_only {
            sql.push_str(" AND captured = 1");
        }
        let mut cond = |clause: &str, value: &Option<String>| {
            if let Some(v) = value {
                sql.push_str(clause);
                binds.push(v.clone());
            }
        };
        cond(" AND subject LIKE '%' || ? || '%' COLLATE NOCASE", &f.q);
        cond(" AND campaign = ?", &f.campaign);
        cond(" AND channel = ?", &f.channel);
        cond(" AND status = ?", &f.status);
        cond(" AND created_at >= ?", &f.since);
        cond(" AND created_at <= ?", &f.until);
        let count_sql = format!("SELECT COUNT(*) AS n{sql}");
        let mut count = sqlx::query(sqlx::AssertSqlSafe(count_sql));
        for b in &binds {
            count = count.bind(b);
        }
        let total: i64 = count.fetch_one(&self.pool).await?.try_get("n")?;
        let list_sql = format!("SELECT *{sql} ORDER BY seq DESC LIMIT ? OFFSET ?");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(list_sql));
        for b in &binds {
            query = query.bind(b);
        }
        let rows = query
            .bind(f.limit.clamp(1, 1000))
            .bind(f.offset.max(0))
            .fetch_all(&self.pool)
            .await?;
        let records = rows
            .iter()
            .map(Self::to_record)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((records, total))
    }

    /// Records per kind.
    pub async fn counts(&self) -> Result<KindCounts, StoreError> {
        self.kind_counts("SELECT kind, COUNT(*) AS n FROM records GROUP BY kind ORDER BY kind")
            .await
    }

    /// Retained records of one kind in one status.
    pub async fn count_status(&self, kind: &str, status: &str) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM records WHERE kind = ? AND status = ?")
                .bind(kind)
                .bind(status)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Everything ever accepted, per kind (records since pruned included), since the last
    /// reset.
    pub async fn accepted_counts(&self) -> Result<KindCounts, StoreError> {
        self.kind_counts(
            "SELECT substr(key, 10) AS kind, value AS n FROM meta WHERE key LIKE 'accepted:%' ORDER BY key",
        )
        .await
    }

    /// Runs a query answering `kind` and `n` columns.
    async fn kind_counts(&self, sql: &'static str) -> Result<KindCounts, StoreError> {
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        let map = rows
            .iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get("n")?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(KindCounts(map))
    }

    /// Deletes every record and idempotency entry, and the counts of what was accepted.
    pub async fn clear(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM records").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM meta WHERE key LIKE 'accepted:%'")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM idempotency")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Counts one more start of the mock over this database and returns the run number
    /// (1 for a fresh database), so ids generated in different runs never collide.
    pub async fn start_run(&self) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('runs', 1) ON CONFLICT(key) DO UPDATE SET value = value + 1 RETURNING value",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(u64::try_from(row.try_get::<i64, _>("value")?).unwrap_or(1))
    }

    /// The message exactly as received over SMTP for the capture `seq`, if it was kept.
    pub async fn raw_message(&self, seq: i64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT data FROM raw_messages WHERE seq = ?")
                .bind(seq)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// What one page of the web console lists: captures of one kind, newest first.
#[derive(Debug, Clone, Default)]
pub struct ConsoleQuery {
    /// `email`, `content` or `social`.
    pub kind: String,
    /// Case-insensitive (ASCII) substring of the subject or campaign, and for emails of a
    /// recipient's address.
    pub q: Option<String>,
    /// Exact campaign.
    pub campaign: Option<String>,
    /// Exact channel (`social:twitter`, …).
    pub channel: Option<String>,
    /// An FTS5 query over the subject, text and HTML of emails (see [`crate::search`]).
    pub search: Option<String>,
    /// Case-insensitive (ASCII) substring of a recipient's address (emails).
    pub recipient: Option<String>,
    /// Bounds on `created_at`, in its stored form ([`crate::search::time_bound`]).
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// One line of the console's inbox: the columns it shows, never the payload.
#[derive(Debug, Clone, Serialize)]
pub struct InboxRow {
    pub seq: i64,
    pub id: String,
    pub subject: Option<String>,
    pub campaign: Option<String>,
    pub created_at: String,
    /// Recipients as the mock answered (`recipients_count`, or `accepted` for a batch).
    pub recipients: Option<i64>,
    /// The request's `metadata.variant`, as text.
    pub variant: Option<String>,
    /// The capture this one repeats (an SMTP message sent again under the same Message-ID).
    pub duplicate_of: Option<String>,
}

/// One line of the console's list of web posts.
#[derive(Debug, Clone, Serialize)]
pub struct PostRow {
    pub seq: i64,
    pub id: String,
    pub title: Option<String>,
    pub campaign: Option<String>,
    pub status: Option<String>,
    pub created_at: String,
    pub slug: Option<String>,
    /// The request's `metadata.seo_score`, as text.
    pub seo_score: Option<String>,
    /// The request's `tags`, as JSON text.
    pub tags: Option<String>,
}

/// The `WHERE` clause of a console query and its bound values, in order.
fn console_where(q: &ConsoleQuery) -> (String, Vec<String>) {
    let mut sql = String::from(" FROM records WHERE kind = ? AND captured = 1");
    let mut binds = vec![q.kind.clone()];
    if let Some(c) = &q.campaign {
        sql.push_str(" AND campaign = ?");
        binds.push(c.clone());
    }
    if let Some(c) = &q.channel {
        sql.push_str(" AND channel = ?");
        binds.push(c.clone());
    }
    if let Some(text) = q.q.as_deref().filter(|t| !t.is_empty()) {
        // ASCII only, as SQLite's lower() is.
        let text = text.to_ascii_lowercase();
        sql.push_str(
            " AND (instr(lower(COALESCE(subject, '')), ?) > 0 OR instr(lower(COALESCE(campaign, '')), ?) > 0",
        );
        binds.push(text.clone());
        binds.push(text.clone());
        if q.kind == "email" {
            // Addresses kept beside each email (console_recipients), so no payload is read.
            sql.push_str(
                " OR EXISTS (SELECT 1 FROM console_recipients AS cr WHERE cr.seq = records.seq AND instr(cr.addresses, ?) > 0)",
            );
            binds.push(text);
        }
        sql.push(')');
    }
    if let Some(text) = q.recipient.as_deref().filter(|t| !t.is_empty()) {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM console_recipients AS cr WHERE cr.seq = records.seq AND instr(cr.addresses, ?) > 0)",
        );
        binds.push(text.to_ascii_lowercase());
    }
    if let Some(since) = &q.since {
        sql.push_str(" AND created_at >= ?");
        binds.push(since.clone());
    }
    if let Some(until) = &q.until {
        sql.push_str(" AND created_at <= ?");
        binds.push(until.clone());
    }
    if let Some(search) = q.search.as_deref().filter(|t| !t.is_empty()) {
        // The matching rowids are read from the index once; the page is then taken newest
        // first on records' own indexes.
        sql.push_str(" AND seq IN (SELECT rowid FROM message_search WHERE message_search MATCH ?)");
        binds.push(search.to_string());
    }
    (sql, binds)
}

impl Store {
    /// The `WHERE` clause of `q` ([`console_where`]), once the body-search index holds every
    /// capture when `q` searches bodies.
    async fn console_where(&self, q: &ConsoleQuery) -> Result<(String, Vec<String>), StoreError> {
        if q.search.as_deref().is_some_and(|t| !t.is_empty()) {
            self.index_for_search().await?;
        }
        Ok(console_where(q))
    }

    /// One page of console rows, newest first: the page's seqs are chosen first (on the
    /// covering indexes), so payload fields — `extra` columns over `r.request` and
    /// `r.response` — are read for those rows only. Every row also has seq, id, subject,
    /// campaign, status and created_at.
    async fn console_page(
        &self,
        q: &ConsoleQuery,
        extra: &str,
    ) -> Result<Vec<sqlx::sqlite::SqliteRow>, StoreError> {
        let (sql, binds) = self.console_where(q).await?;
        let sql = format!(
            "WITH page AS (SELECT seq{sql} ORDER BY seq DESC LIMIT ? OFFSET ?)
             SELECT r.seq, r.id, r.subject, r.campaign, r.status, r.created_at, {extra}
             FROM records AS r JOIN page ON page.seq = r.seq ORDER BY r.seq DESC"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            query = query.bind(b);
        }
        query
            .bind(q.limit.clamp(1, 1000))
            .bind(q.offset.max(0))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| StoreError::searching(e, q.search.is_some()))
    }

    /// A page of the inbox (emails), newest first, reading only the columns it shows.
    pub async fn inbox_rows(&self, q: &ConsoleQuery) -> Result<Vec<InboxRow>, StoreError> {
        let rows = self
            .console_page(
                q,
                "COALESCE(json_extract(r.response, '$.recipients_count'), json_extract(r.response, '$.accepted')) AS recipients,
                 CAST(json_extract(r.request, '$.metadata.variant') AS TEXT) AS variant,
                 CAST(json_extract(r.response, '$.duplicate_of') AS TEXT) AS duplicate_of",
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(InboxRow {
                    seq: r.try_get("seq")?,
                    id: r.try_get("id")?,
                    subject: r.try_get("subject")?,
                    campaign: r.try_get("campaign")?,
                    created_at: r.try_get("created_at")?,
                    recipients: r.try_get("recipients").ok().flatten(),
                    variant: r.try_get("variant")?,
                    duplicate_of: r.try_get("duplicate_of")?,
                })
            })
            .collect()
    }

    /// A page of web posts, newest first, reading only the columns the list shows.
    pub async fn post_rows(&self, q: &ConsoleQuery) -> Result<Vec<PostRow>, StoreError> {
        let rows = self
            .console_page(
                q,
                "CAST(json_extract(r.request, '$.slug') AS TEXT) AS slug,
                 CAST(json_extract(r.request, '$.metadata.seo_score') AS TEXT) AS seo_score,
                 CASE json_type(r.request, '$.tags') WHEN 'array' THEN json_extract(r.request, '$.tags') END AS tags",
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PostRow {
                    seq: r.try_get("seq")?,
                    id: r.try_get("id")?,
                    title: r.try_get("subject")?,
                    campaign: r.try_get("campaign")?,
                    status: r.try_get("status")?,
                    created_at: r.try_get("created_at")?,
                    slug: r.try_get("slug")?,
                    seo_score: r.try_get("seo_score")?,
                    tags: r.try_get("tags")?,
                })
            })
            .collect()
    }

    /// How many captures a console query matches.
    pub async fn console_count(&self, q: &ConsoleQuery) -> Result<i64, StoreError> {
        let (sql, binds) = self.console_where(q).await?;
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) AS n{sql}")));
        for b in &binds {
            query = query.bind(b);
        }
        Ok(query
            .fetch_one(&self.pool)
            .await
            .map_err(|e| StoreError::searching(e, q.search.is_some()))?
            .try_get("n")?)
    }

    /// The campaigns of captures of `kind`, most recently used first, with their counts.
    pub async fn console_campaigns(
        &self,
        kind: &str,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT campaign, COUNT(*) AS n FROM records
             WHERE kind = ? AND captured = 1 AND campaign IS NOT NULL
             GROUP BY campaign ORDER BY MAX(seq) DESC LIMIT ?",
        )
        .bind(kind)
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("campaign")?, r.try_get("n")?)))
            .collect()
    }

    /// The newest capture's `seq` (of `kind`, when given; 0 when there is none).
    pub async fn latest_capture_seq(&self, kind: Option<&str>) -> Result<i64, StoreError> {
        // One statement per case, so SQLite answers MAX from an index.
        let query = match kind {
            Some(k) => sqlx::query(
                "SELECT COALESCE(MAX(seq), 0) AS seq FROM records WHERE kind = ? AND captured = 1",
            )
            .bind(k),
            None => {
                sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM records WHERE captured = 1")
            }
        };
        Ok(query.fetch_one(&self.pool).await?.try_get("seq")?)
    }

    /// How many captures (of `kind`, when given) were stored after `seq`.
    pub async fn captures_after(&self, kind: Option<&str>, seq: i64) -> Result<i64, StoreError> {
        let query = match kind {
            Some(k) => sqlx::query(
                "SELECT COUNT(*) AS n FROM records WHERE kind = ? AND captured = 1 AND seq > ?",
            )
            .bind(k),
            None => sqlx::query("SELECT COUNT(*) AS n FROM records WHERE captured = 1 AND seq > ?"),
        };
        Ok(query.bind(seq).fetch_one(&self.pool).await?.try_get("n")?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn record(id: &str) -> NewRecord {
        NewRecord {
            id: id.into(),
            kind: "email",
            captured: true,
            subject: Some(format!("about {id}")),
            campaign: None,
            channel: Some("email".into()),
            status: Some("sent".into()),
            idempotency_key: None,
            correlation_id: None,
            created_at: "2026-12-07T00:00:00Z".into(),
            request: json!({ "recipients": [format!("{id}@example.com")] }),
            response: json!({ "message_id": id }),
            raw: None,
        }
    }

    /// The console's recipient lines read both shapes a request names recipients in, as the
    /// trigger of migration 0003 did, and ignore what is not an address.
    #[test]
    fn recipient_lines_read_strings_and_objects() {
        let request = json!({ "recipients": [
            "Ann@Example.com",
            { "email": "BOB@example.com", "name": "Bob" },
            { "name": "no address" },
            42,
        ] });
        assert_eq!(
            recipient_lines(&request),
            "ann@example.com\nbob@example.com"
        );
        assert_eq!(recipient_lines(&json!({})), "");
    }

    /// A key stored before the store opened is still found (the filter in front of the
    /// lookup is filled from the database), and a key never stored is not.
    #[tokio::test]
    async fn remembered_keys_are_found_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mock.db");
        let body = json!({ "ok": true });
        {
            let store = Store::open(&path).await.unwrap();
            store
                .commit(
                    Some(&record("a")),
                    Some(("key-a", "POST /x", 201, &body)),
                    10,
                )
                .await
                .unwrap();
            assert!(store.idempotent("key-a").await.unwrap().is_some());
        }
        let store = Store::open(&path).await.unwrap();
        let stored = store.idempotent("key-a").await.unwrap().unwrap();
        assert_eq!((stored.route.as_str(), stored.status), ("POST /x", 201));
        assert!(store.idempotent("key-b").await.unwrap().is_none());
    }

    /// Writes that reach the writer together share a transaction; one that fails (a second
    /// record under an id already stored) fails alone, and the others are kept and counted.
    #[tokio::test]
    async fn a_failing_write_in_a_group_fails_alone() {
        let store = Store::in_memory().await.unwrap();
        let (a, b, c, d) = (record("a"), record("a"), record("c"), record("d"));
        let body = json!({ "ok": true });
        let (ra, rb, rc, rd) = tokio::join!(
            store.commit(Some(&a), None, 100),
            store.commit(Some(&b), None, 100),
            store.commit(Some(&c), Some(("key-c", "POST /x", 201, &body)), 100),
            store.commit(Some(&d), None, 100),
        );
        assert_eq!([ra.is_ok(), rb.is_ok()].iter().filter(|ok| **ok).count(), 1);
        assert!(rc.is_ok() && rd.is_ok(), "{rc:?} {rd:?}");
        for id in ["a", "c", "d"] {
            assert!(
                store.get(Some("email"), id).await.unwrap().is_some(),
                "{id}"
            );
        }
        assert_eq!(
            store.idempotent("key-c").await.unwrap().unwrap().status,
            201
        );
        assert_eq!(store.accepted_counts().await.unwrap().of("email"), 3);
    }
}
