//! One suite, run against every backend: SQLite always; PostgreSQL when
//! `HALCYTONE_TEST_DATABASE_URL` names a server (each test gets its own schema).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_store::*;
use halcytone_testkit::pg::ScratchSchema;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;

/// A store and what it lives in (fields drop in order: the store before its schema).
struct Db {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    _schema: Option<ScratchSchema>,
}

async fn sqlite() -> Db {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("halcytone.db"))
        .await
        .unwrap();
    Db {
        store: Arc::new(store),
        _dir: Some(dir),
        _schema: None,
    }
}

async fn postgres() -> Option<Db> {
    let Some(schema) = ScratchSchema::create().await else {
        eprintln!("skipped: set HALCYTONE_TEST_DATABASE_URL to run the PostgreSQL suite");
        return None;
    };
    let store = PostgresStore::connect(&schema.url).await.unwrap();
    Some(Db {
        store: Arc::new(store),
        _dir: None,
        _schema: Some(schema),
    })
}

fn new_job(doc: &str, run_at_ms: i64) -> NewJob {
    NewJob {
        document_id: doc.into(),
        channels: vec!["email".into(), "web".into()],
        payload: json!({ "tone": "encouraging" }),
        run_at_ms,
        scheduled_ms: None,
        max_attempts: 3,
        correlation_id: "corr-1".into(),
        retry_of: None,
        batch_id: None,
    }
}

/// The first `limit` jobs matching `filter` (its own limit is replaced), and how many match.
async fn list_jobs(s: &dyn Store, limit: i64, filter: JobFilter) -> (Vec<Job>, i64) {
    s.jobs(&JobFilter { limit, ..filter }).await.unwrap()
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = super::sqlite().await;
                    super::$name(db.store.as_ref()).await;
                }
            )*
        }
        mod on_postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(db) = super::postgres().await {
                        super::$name(db.store.as_ref()).await;
                    }
                }
            )*
        }
    };
}

suite!(
    migrations_are_applied,
    documents_are_stored_once_per_text,
    a_job_runs_through_its_life,
    scheduled_jobs_wait_for_their_time,
    an_expired_lease_is_taken_over,
    released_jobs_retry_until_attempts_run_out,
    only_pending_jobs_can_be_cancelled,
    jobs_are_listed_filtered_and_counted,
    api_keys_are_hashed_scoped_and_revocable,
    the_audit_log_keeps_entries,
    concurrent_workers_never_share_a_job,
    batches_are_scheduled_once_and_their_jobs_found,
    content_versions_are_listed_newest_first,
    cache_invalidations_are_kept_newest_first,
    queue_lag_is_the_wait_of_the_oldest_due_job,
    review_moves_only_from_the_expected_state,
    schedules_advance_once_per_run,
    credentials_are_replaced_only_at_the_revision_read,
    segments_have_unique_names,
    ab_tests_and_campaigns_keep_their_figures,
    social_posts_are_counted_per_network_and_mode,
    a_delivered_channel_is_never_replaced_by_a_later_attempt,
    a_delivered_recipient_is_never_begun_again,
    a_recipient_left_sending_is_sent_again_as_uncertain,
    a_send_stops_when_its_worker_loses_the_job,
    recipients_are_begun_and_finished_together,
    deliveries_are_counted_and_paged_by_state,
    audiences_have_unique_names_and_count_members,
    members_are_upserted_and_paged_in_address_order,
    a_shared_bucket_grants_no_more_than_its_rate,
    webhook_messages_are_owed_once_claimed_once_and_logged,
    a_web_post_published_again_keeps_its_first_time,
);

async fn migrations_are_applied(s: &dyn Store) {
    s.ping().await.unwrap();
    assert_eq!(
        s.migrations().await.unwrap(),
        vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    );
    assert_eq!(
        s.migrate().await.unwrap(),
        vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        "migrating again changes nothing"
    );
}

async fn documents_are_stored_once_per_text(s: &dyn Store) {
    let (a, new_a) = s
        .put_document("file:samples/x.md", "markdown", "## [Tips] A\n### B\nC", 1)
        .await
        .unwrap();
    let (b, new_b) = s
        .put_document("file:samples/x.md", "markdown", "## [Tips] A\n### B\nC", 2)
        .await
        .unwrap();
    assert!(new_a && !new_b);
    assert_eq!(a, b);
    assert_eq!(a.hash.len(), 64);
    let (c, new_c) = s
        .put_document("file:samples/x.md", "markdown", "changed", 3)
        .await
        .unwrap();
    assert!(new_c && c.id != a.id);
    assert_eq!(
        s.document(&a.id).await.unwrap().unwrap().body,
        "## [Tips] A\n### B\nC"
    );
    assert!(s.document("doc_missing").await.unwrap().is_none());
}

async fn a_job_runs_through_its_life(s: &dyn Store) {
    let job = s.enqueue(new_job("doc_1", 100), 100).await.unwrap();
    assert_eq!(job.status, JobStatus::Pending);
    assert_eq!(job.attempts, 0);
    let claimed = s.claim("w1", 150, 1_000).await.unwrap().unwrap();
    assert_eq!(
        (claimed.id.as_str(), claimed.status, claimed.attempts),
        (job.id.as_str(), JobStatus::InProgress, 1)
    );
    assert_eq!(claimed.started_ms, Some(150));
    assert_eq!(claimed.lease_until_ms, Some(1_150));
    assert!(
        s.claim("w2", 160, 1_000).await.unwrap().is_none(),
        "held by w1"
    );
    assert!(s.heartbeat(&job.id, "w1", 5_000).await.unwrap());
    assert!(!s.heartbeat(&job.id, "w2", 5_000).await.unwrap());
    let results =
        json!({ "email": { "status": "success" }, "web": { "status": "failed", "error": "403" } });
    // `worker` tries to complete the job at `at`: whether the store took it.
    let complete = async |worker: &str, at: i64| {
        s.finish(&job.id, worker, JobStatus::Completed, &results, &[], at)
            .await
            .unwrap()
            .is_some()
    };
    assert!(!complete("w2", 200).await, "only the holder finishes");
    assert!(
        s.finish(
            &job.id,
            "w1",
            JobStatus::Partial,
            &results,
            &["web: 403".into()],
            200
        )
        .await
        .unwrap()
        .is_some()
    );
    let done = s.job(&job.id).await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Partial);
    assert_eq!(done.results, results);
    assert_eq!(done.errors, vec!["web: 403".to_string()]);
    assert_eq!(done.completed_ms, Some(200));
    assert_eq!(done.payload, json!({ "tone": "encouraging" }));
    assert!(!complete("w1", 300).await, "terminal stays terminal");
}

async fn scheduled_jobs_wait_for_their_time(s: &dyn Store) {
    let mut later = new_job("doc_1", 10_000);
    later.scheduled_ms = Some(10_000);
    let job = s.enqueue(later, 0).await.unwrap();
    assert!(s.claim("w", 9_999, 100).await.unwrap().is_none());
    let claimed = s.claim("w", 10_000, 100).await.unwrap().unwrap();
    assert_eq!(claimed.id, job.id);
    assert_eq!(claimed.scheduled_ms, Some(10_000));
}

async fn an_expired_lease_is_taken_over(s: &dyn Store) {
    let job = s.enqueue(new_job("doc_1", 0), 0).await.unwrap();
    s.claim("crashed", 10, 100).await.unwrap().unwrap();
    assert!(
        s.claim("w2", 50, 100).await.unwrap().is_none(),
        "lease still valid"
    );
    let again = s.claim("w2", 111, 100).await.unwrap().unwrap();
    assert_eq!(
        (again.id.as_str(), again.attempts, again.worker.as_deref()),
        (job.id.as_str(), 2, Some("w2"))
    );
    assert!(
        s.finish(
            &job.id,
            "crashed",
            JobStatus::Completed,
            &json!({}),
            &[],
            120
        )
        .await
        .unwrap()
        .is_none(),
        "the old worker lost it"
    );
    // Out of attempts with an expired lease: the job fails instead of running again.
    s.claim("w2", 0, 0).await.unwrap();
    let third = s.claim("w3", 300, 10).await.unwrap().unwrap();
    assert_eq!(third.attempts, 3);
    assert!(s.claim("w4", 400, 10).await.unwrap().is_none());
    let failed = s.job(&job.id).await.unwrap().unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert!(failed.last_error.unwrap().contains("no attempts remain"));
}

async fn released_jobs_retry_until_attempts_run_out(s: &dyn Store) {
    let mut j = new_job("doc_1", 0);
    j.max_attempts = 2;
    let job = s.enqueue(j, 0).await.unwrap();
    // Worker `w` gives the job back with `error`, to run again at `retry_at`, at time `now`.
    let release = async |error: &str, retry_at: i64, now: i64| {
        s.release(&job.id, "w", &json!({}), error, retry_at, now)
            .await
            .unwrap()
    };
    s.claim("w", 1, 100).await.unwrap().unwrap();
    assert_eq!(release("crm 503", 500, 2).await, Some(JobStatus::Pending));
    assert!(
        s.claim("w", 499, 100).await.unwrap().is_none(),
        "waits for its backoff"
    );
    s.claim("w", 500, 100).await.unwrap().unwrap();
    assert_eq!(
        release("crm 503 again", 900, 501).await,
        Some(JobStatus::Failed)
    );
    let failed = s.job(&job.id).await.unwrap().unwrap();
    assert_eq!(
        (
            failed.status,
            failed.last_error.as_deref(),
            failed.completed_ms
        ),
        (JobStatus::Failed, Some("crm 503 again"), Some(501))
    );
    assert_eq!(release("x", 0, 0).await, None);
}

async fn only_pending_jobs_can_be_cancelled(s: &dyn Store) {
    let a = s.enqueue(new_job("doc_1", 0), 0).await.unwrap();
    let b = s.enqueue(new_job("doc_1", 0), 1).await.unwrap();
    assert_eq!(
        s.cancel(&b.id, 5).await.unwrap().unwrap().status,
        JobStatus::Cancelled
    );
    let running = s.claim("w", 10, 100).await.unwrap().unwrap();
    assert_eq!(running.id, a.id, "the cancelled job is never claimed");
    assert_eq!(
        s.cancel(&a.id, 20).await.unwrap().unwrap().status,
        JobStatus::InProgress
    );
    assert!(s.cancel("job_missing", 20).await.unwrap().is_none());
}

async fn jobs_are_listed_filtered_and_counted(s: &dyn Store) {
    for i in 0..5 {
        let mut j = new_job("doc_1", 0);
        if i % 2 == 0 {
            j.channels = vec!["social_twitter".into()];
        }
        s.enqueue(j, i).await.unwrap();
    }
    let claimed = s.claim("w", 10, 100).await.unwrap().unwrap();
    let (page, total) = list_jobs(s, 2, JobFilter::default()).await;
    assert_eq!((page.len(), total), (2, 5));
    assert!(page[0].created_ms >= page[1].created_ms, "newest first");
    let by_channel = JobFilter {
        channel: Some("social_twitter".into()),
        ..JobFilter::default()
    };
    let (twitter, n) = list_jobs(s, 50, by_channel).await;
    assert_eq!(n, 3);
    assert!(
        twitter
            .iter()
            .all(|j| j.channels == vec!["social_twitter".to_string()])
    );
    let by_status = JobFilter {
        status: Some(JobStatus::InProgress),
        ..JobFilter::default()
    };
    let (running, n) = list_jobs(s, 50, by_status).await;
    assert_eq!((n, running[0].id.as_str()), (1, claimed.id.as_str()));
    let counts = s.job_counts().await.unwrap();
    assert_eq!(
        (counts["pending"], counts["in_progress"], counts["failed"]),
        (4, 1, 0)
    );
}

async fn api_keys_are_hashed_scoped_and_revocable(s: &dyn Store) {
    let (key, secret) = s
        .create_api_key("dashboard", &[Scope::Write], 1)
        .await
        .unwrap();
    assert!(secret.starts_with("hk_") && secret.len() > 40);
    assert!(secret.starts_with(&key.prefix));
    let found = s.api_key(&secret).await.unwrap().unwrap();
    assert_eq!(found, key);
    assert!(found.allows(Scope::Read) && found.allows(Scope::Write) && !found.allows(Scope::Admin));
    assert!(s.api_key("hk_wrong").await.unwrap().is_none());
    assert_eq!(s.api_key_by_id(&key.id).await.unwrap().as_ref(), Some(&key));
    assert!(s.api_key_by_id("key_missing").await.unwrap().is_none());
    // A key's own budgets: none at first, then set, then read back with the key.
    assert!(key.limits.is_empty());
    let limits = KeyLimits {
        reads_per_second: Some(50),
        read_burst: None,
        writes_per_minute: Some(0),
    };
    assert!(s.set_api_key_limits(&key.id, &limits).await.unwrap());
    assert!(!s.set_api_key_limits("key_missing", &limits).await.unwrap());
    assert_eq!(s.api_key(&secret).await.unwrap().unwrap().limits, limits);
    let (other, _) = s.create_api_key("ci", &[Scope::Read], 3).await.unwrap();
    assert!(s.revoke_api_key(&key.id, 2).await.unwrap());
    assert!(!s.revoke_api_key(&key.id, 4).await.unwrap(), "revoked once");
    assert!(
        !s.api_key(&secret)
            .await
            .unwrap()
            .unwrap()
            .allows(Scope::Read)
    );
    let listed = s.api_keys().await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|k| (k.id.as_str(), k.revoked_ms))
            .collect::<Vec<_>>(),
        vec![(key.id.as_str(), Some(2)), (other.id.as_str(), None)]
    );
}

async fn the_audit_log_keeps_entries(s: &dyn Store) {
    s.audit("key_1", "force_publish", "job_1", "{}", 1)
        .await
        .unwrap();
    s.audit("key_2", "migrate", "database", "{}", 2)
        .await
        .unwrap();
    let log = s.audit_log(10).await.unwrap();
    assert_eq!(
        log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["migrate", "force_publish"]
    );
}

async fn concurrent_workers_never_share_a_job(s: &dyn Store) {
    for i in 0..200 {
        s.enqueue(new_job("doc_1", 0), i).await.unwrap();
    }
    // Eight workers race for the queue at once; each job must be claimed exactly once.
    let claimed: Vec<String> = {
        let mut all = Vec::new();
        let results = futures_claims(s, 8).await;
        for r in results {
            all.extend(r);
        }
        all
    };
    assert_eq!(claimed.len(), 200);
    assert_eq!(
        claimed.iter().collect::<HashSet<_>>().len(),
        200,
        "no job claimed twice"
    );
}

async fn futures_claims(s: &dyn Store, workers: usize) -> Vec<Vec<String>> {
    let mut tasks = Vec::new();
    for w in 0..workers {
        tasks.push(async move {
            let mut mine = Vec::new();
            while let Some(job) = s.claim(&format!("w{w}"), 1_000, 60_000).await.unwrap() {
                mine.push(job.id);
            }
            mine
        });
    }
    let mut out = Vec::new();
    // Poll all workers together on this task.
    let joined = join_all(tasks).await;
    out.extend(joined);
    out
}

/// A tiny join_all: polls every future until all are done.
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if outputs[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => outputs[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.unwrap()).collect()
}

async fn batches_are_scheduled_once_and_their_jobs_found(s: &dyn Store) {
    let b = Batch {
        id: "batch-1".into(),
        created_ms: 10,
        period: "week".into(),
        channels: vec!["email".into(), "web".into()],
        dry_run: true,
        items: json!([{ "item_id": "batch-1-email-001" }]),
        scheduled_ms: None,
    };
    s.put_batch(&b).await.unwrap();
    assert_eq!(s.batch("batch-1").await.unwrap(), Some(b));
    assert!(s.batch("nope").await.unwrap().is_none());
    assert!(s.mark_batch_scheduled("batch-1", 20).await.unwrap());
    assert!(
        !s.mark_batch_scheduled("batch-1", 30).await.unwrap(),
        "a batch is scheduled once"
    );
    assert_eq!(
        s.batch("batch-1").await.unwrap().unwrap().scheduled_ms,
        Some(20)
    );
    let mut j = new_job("doc", 0);
    j.batch_id = Some("batch-1".into());
    s.enqueue(j, 1).await.unwrap();
    s.enqueue(new_job("doc", 0), 2).await.unwrap();
    let by_batch = JobFilter {
        batch_id: Some("batch-1".into()),
        ..JobFilter::default()
    };
    let (jobs, total) = list_jobs(s, 10, by_batch).await;
    assert_eq!(total, 1);
    assert_eq!(jobs[0].batch_id.as_deref(), Some("batch-1"));
}

async fn content_versions_are_listed_newest_first(s: &dyn Store) {
    for i in 0..3 {
        s.put_content_version(&ContentVersion {
            id: format!("cv_{i}"),
            document_id: "doc_1".into(),
            label: "weekly".into(),
            content_hash: "abc".into(),
            channels: vec!["email".into()],
            options: json!({ "tone": null }),
            job_id: Some(format!("job_{i}")),
            created_ms: i,
            review_state: "scheduled".into(),
            review_level: None,
            review: json!({}),
            updated_ms: i,
            schedule_id: None,
        })
        .await
        .unwrap();
    }
    let (list, total) = s.content_versions(2, 0).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(
        list.iter().map(|v| v.id.as_str()).collect::<Vec<_>>(),
        ["cv_2", "cv_1"]
    );
    let one = s.content_version("cv_0").await.unwrap().unwrap();
    assert_eq!(one.job_id.as_deref(), Some("job_0"));
    assert!(s.content_version("cv_9").await.unwrap().is_none());
}

async fn cache_invalidations_are_kept_newest_first(s: &dyn Store) {
    for i in 0..3 {
        s.record_invalidation(
            i,
            &format!("r{i}"),
            "key_1",
            &json!({ "pattern": "*" }),
            &json!({ "invalidated": i }),
        )
        .await
        .unwrap();
    }
    let list = s.invalidations(2).await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].request_id, "r2");
    assert_eq!(list[1].result["invalidated"], 1);
    assert_eq!(s.invalidation_count().await.unwrap(), 3);
}

async fn queue_lag_is_the_wait_of_the_oldest_due_job(s: &dyn Store) {
    assert_eq!(s.queue_lag_ms(10_000).await.unwrap(), None);
    s.enqueue(new_job("doc", 4_000), 0).await.unwrap();
    s.enqueue(new_job("doc", 7_000), 0).await.unwrap();
    s.enqueue(new_job("doc", 50_000), 0).await.unwrap();
    assert_eq!(s.queue_lag_ms(10_000).await.unwrap(), Some(6_000));
    assert_eq!(
        s.queue_lag_ms(1_000).await.unwrap(),
        None,
        "nothing due yet"
    );
}

fn draft(id: &str, schedule: Option<&str>, hash: &str, at: i64) -> ContentVersion {
    ContentVersion {
        id: id.into(),
        document_id: "doc_1".into(),
        label: "weekly".into(),
        content_hash: hash.into(),
        channels: vec!["email".into()],
        options: json!({}),
        job_id: None,
        created_ms: at,
        review_state: "draft".into(),
        review_level: None,
        review: json!({}),
        updated_ms: at,
        schedule_id: schedule.map(String::from),
    }
}

/// A version's review state and level.
fn review_of(v: &ContentVersion) -> (&str, Option<&str>) {
    (v.review_state.as_str(), v.review_level.as_deref())
}

async fn review_moves_only_from_the_expected_state(s: &dyn Store) {
    s.put_content_version(&draft("cv_a", None, "h1", 1))
        .await
        .unwrap();
    let record = json!({ "submitted_by": "key_1" });
    assert!(
        s.update_review("cv_a", "draft", "in_review", Some("L2"), &record, None, 5)
            .await
            .unwrap()
    );
    // A second, racing move from the old state does nothing.
    assert!(
        !s.update_review("cv_a", "draft", "in_review", Some("L2"), &record, None, 6)
            .await
            .unwrap()
    );
    let v = s.content_version("cv_a").await.unwrap().unwrap();
    assert_eq!(
        (review_of(&v), v.updated_ms),
        (("in_review", Some("L2")), 5)
    );
    assert_eq!(v.review["submitted_by"], "key_1");
    assert_eq!(
        s.versions_in_review_state("in_review", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        s.update_review(
            "cv_a",
            "in_review",
            "scheduled",
            None,
            &record,
            Some("job_9"),
            7
        )
        .await
        .unwrap()
    );
    let v = s.content_version("cv_a").await.unwrap().unwrap();
    assert_eq!(
        (review_of(&v), v.job_id.as_deref()),
        (("scheduled", Some("L2")), Some("job_9"))
    );
    s.put_content_version(&draft("cv_b", Some("sch_1"), "h1", 2))
        .await
        .unwrap();
    s.put_content_version(&draft("cv_c", Some("sch_1"), "h1", 3))
        .await
        .unwrap();
    let latest = s
        .schedule_version_for_hash("sch_1", "h1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.id, "cv_c");
    assert!(
        s.schedule_version_for_hash("sch_1", "h2")
            .await
            .unwrap()
            .is_none()
    );
}

async fn schedules_advance_once_per_run(s: &dyn Store) {
    let sch = Schedule {
        id: "sch_1".into(),
        name: "weekly update".into(),
        cron: Some("0 10 * * TUE".into()),
        timezone: "America/New_York".into(),
        scheduled_for_ms: None,
        document_id: None,
        channels: vec!["email".into()],
        options: json!({ "tone": "professional" }),
        status: "active".into(),
        next_run_ms: Some(1_000),
        last_run_ms: None,
        last_result: None,
        created_by: "key_1".into(),
        created_ms: 0,
        updated_ms: 0,
    };
    s.put_schedule(&sch).await.unwrap();
    assert!(s.due_schedules(999).await.unwrap().is_empty());
    assert_eq!(s.due_schedules(5_000).await.unwrap().len(), 1);
    // Two replicas race for the same run: one wins.
    assert!(
        s.advance_schedule("sch_1", 1_000, Some(9_000), 5_000)
            .await
            .unwrap()
    );
    assert!(
        !s.advance_schedule("sch_1", 1_000, Some(9_000), 5_000)
            .await
            .unwrap()
    );
    let got = s.schedule("sch_1").await.unwrap().unwrap();
    assert_eq!(
        (got.next_run_ms, got.last_run_ms, got.status.as_str()),
        (Some(9_000), Some(1_000), "active")
    );
    assert!(s.due_schedules(5_000).await.unwrap().is_empty());
    // Paused schedules are never due; resuming sets the next run.
    assert!(
        s.set_schedule_status("sch_1", "paused", None, 6_000)
            .await
            .unwrap()
    );
    assert!(s.due_schedules(100_000).await.unwrap().is_empty());
    assert!(
        s.set_schedule_status("sch_1", "active", Some(10_000), 7_000)
            .await
            .unwrap()
    );
    // The last run completes a schedule.
    assert!(
        s.advance_schedule("sch_1", 10_000, None, 11_000)
            .await
            .unwrap()
    );
    assert_eq!(
        s.schedule("sch_1").await.unwrap().unwrap().status,
        "completed"
    );
    let run = ScheduleRun {
        id: "run_1".into(),
        schedule_id: "sch_1".into(),
        due_ms: 1_000,
        started_ms: 5_000,
        finished_ms: None,
        status: "running".into(),
        version_id: None,
        job_id: None,
        detail: String::new(),
    };
    s.put_schedule_run(&run).await.unwrap();
    s.put_schedule_run(&ScheduleRun {
        finished_ms: Some(6_000),
        status: "awaiting_approval".into(),
        version_id: Some("cv_1".into()),
        ..run.clone()
    })
    .await
    .unwrap();
    let runs = s.schedule_runs("sch_1", 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].status.as_str(), runs[0].version_id.as_deref()),
        ("awaiting_approval", Some("cv_1"))
    );
    assert_eq!(s.schedules().await.unwrap().len(), 1);
    assert!(s.delete_schedule("sch_1").await.unwrap());
    assert!(!s.delete_schedule("sch_1").await.unwrap());
}

async fn credentials_are_replaced_only_at_the_revision_read(s: &dyn Store) {
    assert_eq!(s.credential("crm_api_key").await.unwrap(), None);
    let meta = json!({ "masked": "****abcd", "set_by": "key_1" });
    let a = s
        .put_credential("crm_api_key", "hv1:aaaa:one", "aaaa", &meta, 10)
        .await
        .unwrap();
    assert_eq!((a.revision, a.created_ms, a.updated_ms), (1, 10, 10));
    let b = s
        .put_credential("crm_api_key", "hv1:aaaa:two", "aaaa", &meta, 20)
        .await
        .unwrap();
    assert_eq!((b.revision, b.created_ms, b.updated_ms), (2, 10, 20));
    assert_eq!(b.sealed, "hv1:aaaa:two");
    // A writer holding revision 1 loses; one holding 2 wins.
    assert!(
        !s.replace_credential("crm_api_key", 1, "hv1:bbbb:x", "bbbb", &meta, 30)
            .await
            .unwrap()
    );
    assert!(
        s.replace_credential("crm_api_key", 2, "hv1:bbbb:three", "bbbb", &meta, 30)
            .await
            .unwrap()
    );
    let c = s.credential("crm_api_key").await.unwrap().unwrap();
    assert_eq!(
        (c.revision, c.key_id.as_str(), c.meta["masked"].as_str()),
        (3, "bbbb", Some("****abcd"))
    );
    s.put_credential("platform_api_key", "hv1:bbbb:p", "bbbb", &json!({}), 40)
        .await
        .unwrap();
    let credentials = s.credentials().await.unwrap();
    let names: Vec<&str> = credentials.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["crm_api_key", "platform_api_key"]);
    assert!(s.delete_credential("crm_api_key").await.unwrap());
    assert!(!s.delete_credential("crm_api_key").await.unwrap());
    assert!(
        !s.replace_credential("crm_api_key", 3, "hv1:bbbb:y", "bbbb", &meta, 50)
            .await
            .unwrap(),
        "a deleted credential is not brought back by a replace"
    );
}

async fn segments_have_unique_names(s: &dyn Store) {
    let seg = |id: &str, name: &str| Segment {
        id: id.into(),
        name: name.into(),
        rule: "tags contains \"beta\"".into(),
        description: None,
        intro: Some("For our beta testers".into()),
        cta_text: None,
        cta_url: Some("https://example.com/beta".into()),
        created_by: "key_1".into(),
        created_ms: 1,
        updated_ms: 1,
    };
    assert!(s.put_segment(&seg("seg_1", "Beta testers")).await.unwrap());
    assert!(
        !s.put_segment(&seg("seg_2", "Beta testers")).await.unwrap(),
        "name taken"
    );
    assert!(s.put_segment(&seg("seg_3", "All")).await.unwrap());
    let segments = s.segments().await.unwrap();
    let names: Vec<&str> = segments.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["All", "Beta testers"]);
    assert_eq!(
        s.segment("seg_1").await.unwrap().unwrap().rule,
        "tags contains \"beta\""
    );
    let one = s.segment("seg_1").await.unwrap().unwrap();
    assert_eq!(one.intro.as_deref(), Some("For our beta testers"));
    assert_eq!(one.cta_url.as_deref(), Some("https://example.com/beta"));
    assert!(s.delete_segment("seg_1").await.unwrap());
    assert!(s.segment("seg_1").await.unwrap().is_none());
}

async fn ab_tests_and_campaigns_keep_their_figures(s: &dyn Store) {
    let mut t = AbTest {
        id: "ab_1".into(),
        job_id: "job_1".into(),
        remainder_job_id: None,
        segment_id: Some("seg_1".into()),
        subjects: vec!["A — calm".into(), "B — focus".into()],
        test_fraction: 0.2,
        decide_after_ms: 3_600_000,
        status: "testing".into(),
        assignment: None,
        winner: None,
        results: serde_json::json!({}),
        reason: None,
        created_ms: 10,
        updated_ms: 10,
        decided_ms: None,
    };
    s.put_ab_test(&t).await.unwrap();
    assert!(s.put_ab_test(&t).await.is_err(), "ids are unique");
    t.status = "waiting".into();
    t.assignment = Some(vec![
        vec!["sub_1".into()],
        vec!["sub_2".into(), "sub_3".into()],
    ]);
    t.remainder_job_id = Some("job_2".into());
    t.winner = Some(1);
    t.results = serde_json::json!({"variants": [{"open_rate": 0.3}]});
    t.updated_ms = 20;
    t.decided_ms = Some(20);
    assert!(s.update_ab_test(&t).await.unwrap());
    assert_eq!(s.ab_test("ab_1").await.unwrap().unwrap(), t);
    assert_eq!(s.ab_tests(10).await.unwrap().len(), 1);
    assert!(s.ab_test("ab_2").await.unwrap().is_none());

    let c = |id: &str, at: i64| EmailCampaign {
        campaign_id: id.into(),
        job_id: "job_1".into(),
        ab_test_id: Some("ab_1".into()),
        variant: Some("v1".into()),
        subject: "A — calm".into(),
        segment_id: None,
        recipients: 100,
        stats: None,
        fetched_ms: None,
        created_ms: at,
    };
    s.record_campaign(&c("halcytone-x-v1", 5)).await.unwrap();
    s.record_campaign(&c("halcytone-x-v2", 6)).await.unwrap();
    let figures = CampaignStats {
        sent: 100,
        delivered: 97,
        opened: 30,
        clicked: 4,
        unsubscribed: 0,
        bounced: 3,
    };
    assert!(
        s.set_campaign_stats("halcytone-x-v1", &figures, 50)
            .await
            .unwrap()
    );
    assert!(!s.set_campaign_stats("nope", &figures, 50).await.unwrap());
    // A retried job records the campaign again: the figures and the creation time stay.
    s.record_campaign(&EmailCampaign {
        recipients: 101,
        job_id: "job_1b".into(),
        ..c("halcytone-x-v1", 99)
    })
    .await
    .unwrap();
    let got = s.campaign("halcytone-x-v1").await.unwrap().unwrap();
    assert_eq!(
        (got.recipients, got.created_ms, got.stats, got.fetched_ms),
        (101, 5, Some(figures), Some(50))
    );
    let listed: Vec<String> = s
        .campaigns(6, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.campaign_id)
        .collect();
    assert_eq!(listed, ["halcytone-x-v2"]);
}

async fn social_posts_are_counted_per_network_and_mode(s: &dyn Store) {
    const DAY: i64 = 24 * 3_600_000;
    for (i, at) in [1_000, 2_000, 3_000].into_iter().enumerate() {
        s.record_social_post("x", "live", &format!("x{i}"), at)
            .await
            .unwrap();
    }
    s.record_social_post("x", "dry_run", "d1", 2_500)
        .await
        .unwrap();
    s.record_social_post("linkedin", "live", "l1", 2_500)
        .await
        .unwrap();
    assert_eq!(
        s.social_posts_since("x", "live", 1_000).await.unwrap(),
        vec![2_000, 3_000],
        "after since, oldest first"
    );
    assert_eq!(
        s.social_posts_since("x", "dry_run", 0).await.unwrap(),
        vec![2_500]
    );
    assert_eq!(
        s.social_posts_since("linkedin", "live", 0).await.unwrap(),
        vec![2_500]
    );
    // A post a week later drops that network's records older than a week.
    let later = 2_500 + halcytone_store::SOCIAL_POSTS_KEPT_MS;
    s.record_social_post("x", "live", "x9", later)
        .await
        .unwrap();
    assert_eq!(
        s.social_posts_since("x", "live", 0).await.unwrap(),
        vec![3_000, later]
    );
    assert_eq!(
        s.social_posts_since("x", "dry_run", 0).await.unwrap(),
        vec![2_500]
    );
    assert_eq!(
        s.social_posts_since("linkedin", "live", 0).await.unwrap(),
        vec![2_500],
        "another network's records stay"
    );
    assert!(
        s.social_posts_since("x", "live", later + DAY)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_delivered_channel_is_never_replaced_by_a_later_attempt(s: &dyn Store) {
    let mut j = new_job("doc_1", 0);
    j.max_attempts = 3;
    let job = s.enqueue(j, 0).await.unwrap();
    // Attempt 1: the newsletter went out, the web post met a 503 and will be retried.
    s.claim("w1", 1, 100).await.unwrap().unwrap();
    let first = json!({
        "email": { "status": "success", "publishes": [{ "external_id": "cmp_1" }] },
        "website": { "status": "failed", "error": "platform 503" },
    });
    assert_eq!(
        s.release(&job.id, "w1", &first, "website: platform 503", 10, 2)
            .await
            .unwrap(),
        Some(JobStatus::Pending)
    );
    let pending = s.job(&job.id).await.unwrap().unwrap();
    assert_eq!(
        pending.results["email"]["status"], "success",
        "kept while it waits"
    );
    // Attempt 2, on another worker: the CRM's breaker is open, the web post goes out.
    s.claim("w2", 10, 100).await.unwrap().unwrap();
    let second = json!({
        "email": { "status": "failed", "error": "circuit open for crm" },
        "website": { "status": "success", "publishes": [{ "external_id": "post_9" }] },
    });
    assert_eq!(
        s.finish(
            &job.id,
            "w2",
            JobStatus::Partial,
            &second,
            &["email: circuit open".into()],
            20
        )
        .await
        .unwrap(),
        Some(JobStatus::Completed)
    );
    let done = s.job(&job.id).await.unwrap().unwrap();
    assert_eq!(done.results["email"]["status"], "success");
    assert_eq!(
        done.results["email"]["publishes"][0]["external_id"],
        "cmp_1"
    );
    assert_eq!(done.results["website"]["status"], "success");
    assert_eq!(
        done.status,
        JobStatus::Completed,
        "the status follows what went out"
    );

    // Out of attempts with one channel delivered: partial, not failed.
    let mut j = new_job("doc_1", 0);
    j.max_attempts = 1;
    let job = s.enqueue(j, 100).await.unwrap();
    s.claim("w1", 101, 100).await.unwrap().unwrap();
    assert_eq!(
        s.release(&job.id, "w1", &first, "website: platform 503", 200, 102)
            .await
            .unwrap(),
        Some(JobStatus::Partial)
    );
}

use halcytone_store::ledger::{Begun, DeliveryStart, DeliveryState, Finish, Holder, SendKey};

/// The email target of job `job`.
fn key(job: &str) -> SendKey<'_> {
    SendKey {
        job_id: job,
        target: "email",
    }
}

fn start<'a>(send: &'a str, email: &'a str, holder: Option<Holder<'a>>) -> DeliveryStart<'a> {
    DeliveryStart {
        send: key(send),
        email,
        subscriber_id: None,
        message_id: "<m@example.com>",
        holder,
    }
}

async fn a_delivered_recipient_is_never_begun_again(s: &dyn Store) {
    let d = start("send-1", "Ana@Example.com", None);
    assert_eq!(
        s.begin_delivery(&d, 10).await.unwrap(),
        Begun::Send {
            attempt: 1,
            uncertain: false
        }
    );
    let done = Finish::Delivered {
        provider_id: "250 OK",
    };
    assert!(
        s.finish_delivery(key("send-1"), "ana@example.com", done, 11)
            .await
            .unwrap()
    );
    // The same address in another case is the same recipient.
    let again = start("send-1", " ANA@example.com", None);
    assert_eq!(
        s.begin_delivery(&again, 12).await.unwrap(),
        Begun::Delivered
    );
    // A late failure report does not undo the delivery.
    let late = Finish::Failed {
        reason: "timed out",
        retryable: true,
    };
    assert!(
        !s.finish_delivery(key("send-1"), "ana@example.com", late, 13)
            .await
            .unwrap()
    );
    let rows = s.deliveries(key("send-1"), None, None, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (
            rows[0].state,
            rows[0].provider_id.as_deref(),
            rows[0].attempts
        ),
        (DeliveryState::Delivered, Some("250 OK"), 1)
    );
    // Another send is another ledger.
    assert!(matches!(
        s.begin_delivery(&start("send-2", "ana@example.com", None), 14)
            .await
            .unwrap(),
        Begun::Send { attempt: 1, .. }
    ));
}

/// Several recipients in one call answer as they would one by one: new, in flight,
/// delivered, suppressed, and an address given twice begun once.
async fn recipients_are_begun_and_finished_together(s: &dyn Store) {
    use halcytone_store::ledger::Addressed;
    use halcytone_store::suppressions::{NewSuppression, SuppressionReason};
    let to = |email| Addressed {
        email,
        subscriber_id: None,
        message_id: "<m@example.com>",
    };
    s.begin_delivery(&start("send-m", "done@example.com", None), 1)
        .await
        .unwrap();
    let delivered = Finish::Delivered { provider_id: "250" };
    s.finish_delivery(key("send-m"), "done@example.com", delivered, 2)
        .await
        .unwrap();
    s.begin_delivery(&start("send-m", "flight@example.com", None), 3)
        .await
        .unwrap();
    let gone = NewSuppression {
        email: "gone@example.com",
        reason: SuppressionReason::Bounce,
        source: None,
        detail: None,
    };
    s.suppress(&[gone], 4).await.unwrap();
    let each = [
        to("new@example.com"),
        to("DONE@example.com"),
        to("flight@example.com"),
        to("gone@example.com"),
        to("New@Example.com "),
    ];
    let begun = s
        .begin_deliveries(key("send-m"), None, &each, 5)
        .await
        .unwrap();
    assert_eq!(
        begun,
        vec![
            Begun::Send {
                attempt: 1,
                uncertain: false
            },
            Begun::Delivered,
            Begun::Send {
                attempt: 2,
                uncertain: true
            },
            Begun::Ended(DeliveryState::Suppressed),
            Begun::Ended(DeliveryState::Sending),
        ]
    );
    let failed = Finish::Failed {
        reason: "550 no such user",
        retryable: false,
    };
    let done = [
        ("new@example.com", delivered),
        ("flight@example.com", failed),
        ("done@example.com", Finish::Delivered { provider_id: "x" }),
    ];
    assert_eq!(
        s.finish_deliveries(key("send-m"), &done, 6).await.unwrap(),
        2,
        "the row delivered before is left as it was"
    );
    let row = |email| s.delivery(key("send-m"), email);
    let new = row("new@example.com").await.unwrap().unwrap();
    assert_eq!(
        (new.state, new.provider_id.as_deref()),
        (DeliveryState::Delivered, Some("250"))
    );
    let flight = row("flight@example.com").await.unwrap().unwrap();
    assert_eq!(
        (flight.state, flight.reason.as_deref()),
        (DeliveryState::Failed, Some("550 no such user"))
    );
    assert_eq!(
        row("done@example.com")
            .await
            .unwrap()
            .unwrap()
            .provider_id
            .as_deref(),
        Some("250")
    );
    assert!(
        s.begin_deliveries(key("send-m"), None, &[], 7)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_recipient_left_sending_is_sent_again_as_uncertain(s: &dyn Store) {
    let d = start("send-1", "bo@example.com", None);
    s.begin_delivery(&d, 10).await.unwrap();
    // The worker stopped here: the next begin finds the row in flight.
    assert_eq!(
        s.begin_delivery(&d, 20).await.unwrap(),
        Begun::Send {
            attempt: 2,
            uncertain: true
        }
    );
    // A retryable failure may be tried again; a final one may not.
    let retry = Finish::Failed {
        reason: "421 busy",
        retryable: true,
    };
    assert!(
        s.finish_delivery(key("send-1"), "bo@example.com", retry, 21)
            .await
            .unwrap()
    );
    assert!(matches!(
        s.begin_delivery(&d, 22).await.unwrap(),
        Begun::Send { attempt: 3, .. }
    ));
    let last = Finish::Failed {
        reason: "550 no such user",
        retryable: false,
    };
    assert!(
        s.finish_delivery(key("send-1"), "bo@example.com", last, 23)
            .await
            .unwrap()
    );
    assert_eq!(
        s.begin_delivery(&d, 24).await.unwrap(),
        Begun::Ended(DeliveryState::Failed)
    );
    s.refuse_delivery(key("send-1"), "not-an-address", None, "no @", 25)
        .await
        .unwrap();
    assert_eq!(
        s.begin_delivery(&start("send-1", "not-an-address", None), 26)
            .await
            .unwrap(),
        Begun::Ended(DeliveryState::Refused)
    );
    let counts = s.delivery_counts(key("send-1")).await.unwrap();
    assert_eq!((counts.total, counts.uncertain), (2, 1));
    assert_eq!(counts.of(DeliveryState::Failed), 1);
    assert_eq!(counts.of(DeliveryState::Refused), 1);
}

async fn a_send_stops_when_its_worker_loses_the_job(s: &dyn Store) {
    let job = s.enqueue(new_job("doc_1", 0), 0).await.unwrap();
    s.claim("w1", 10, 100).await.unwrap().unwrap();
    let mine = Holder {
        job_id: &job.id,
        worker: "w1",
    };
    let first = start("send-1", "a@example.com", Some(mine));
    assert!(matches!(
        s.begin_delivery(&first, 20).await.unwrap(),
        Begun::Send { .. }
    ));
    // The lease runs out and another worker takes the job over.
    s.claim("w2", 200, 100).await.unwrap().unwrap();
    let stale = start("send-1", "b@example.com", Some(mine));
    assert_eq!(s.begin_delivery(&stale, 210).await.unwrap(), Begun::NotHeld);
    assert!(
        s.deliveries(key("send-1"), Some(DeliveryState::Pending), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The new holder re-sends the one left in flight, as uncertain, and goes on.
    let theirs = Holder {
        job_id: &job.id,
        worker: "w2",
    };
    assert_eq!(
        s.begin_delivery(&start("send-1", "a@example.com", Some(theirs)), 220)
            .await
            .unwrap(),
        Begun::Send {
            attempt: 2,
            uncertain: true
        }
    );
    assert!(matches!(
        s.begin_delivery(&start("send-1", "b@example.com", Some(theirs)), 221)
            .await
            .unwrap(),
        Begun::Send {
            attempt: 1,
            uncertain: false
        }
    ));
}

async fn deliveries_are_counted_and_paged_by_state(s: &dyn Store) {
    for i in 0..25 {
        let email = format!("r{i:02}@example.com");
        s.begin_delivery(&start("send-1", &email, None), 10)
            .await
            .unwrap();
        if i % 5 != 0 {
            let done = Finish::Delivered { provider_id: "ok" };
            s.finish_delivery(key("send-1"), &email, done, 11)
                .await
                .unwrap();
        }
    }
    let counts = s.delivery_counts(key("send-1")).await.unwrap();
    assert_eq!(counts.total, 25);
    assert_eq!(counts.of(DeliveryState::Delivered), 20);
    assert_eq!(counts.of(DeliveryState::Sending), 5);
    let first = s
        .deliveries(key("send-1"), Some(DeliveryState::Delivered), None, 8)
        .await
        .unwrap();
    assert_eq!(first.len(), 8);
    let rest = s
        .deliveries(
            key("send-1"),
            Some(DeliveryState::Delivered),
            Some(&first[7].email),
            100,
        )
        .await
        .unwrap();
    assert_eq!(rest.len(), 12);
    assert!(rest.iter().all(|d| d.email > first[7].email));
    assert_eq!(
        s.delivery_counts(key("nothing")).await.unwrap(),
        Default::default()
    );
}

use halcytone_store::audiences::Member;

fn member(email: &str, name: Option<&str>, status: &str) -> Member {
    Member {
        email: email.into(),
        name: name.map(str::to_string),
        first_name: None,
        last_name: None,
        tags: vec!["beta".into()],
        status: status.into(),
        attributes: json!({"plan": "pro"}).as_object().cloned().unwrap(),
    }
}

async fn audiences_have_unique_names_and_count_members(s: &dyn Store) {
    let a = s.create_audience("aud_1", "Clinicians", 10).await.unwrap();
    assert_eq!(a.map(|a| a.members), Some(0));
    assert!(
        s.create_audience("aud_2", "Clinicians", 11)
            .await
            .unwrap()
            .is_none(),
        "the name is taken"
    );
    s.create_audience("aud_3", "Beta", 12)
        .await
        .unwrap()
        .unwrap();
    let names: Vec<String> = s
        .audiences()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["Beta", "Clinicians"]);
    assert!(s.audience("aud_2").await.unwrap().is_none());
    assert_eq!(
        s.audience_by_name("Beta").await.unwrap().unwrap().id,
        "aud_3"
    );
    let (ins, upd) = s
        .upsert_members(
            "aud_1",
            &[
                member("a@example.com", None, "active"),
                member("b@example.com", None, "active"),
            ],
            20,
        )
        .await
        .unwrap();
    assert_eq!((ins, upd), (2, 0));
    assert_eq!(s.member_count("aud_1").await.unwrap(), 2);
    assert_eq!(
        s.member_count("aud_3").await.unwrap(),
        0,
        "audiences are apart"
    );
    assert_eq!(s.audience("aud_1").await.unwrap().unwrap().members, 2);
    assert_eq!(s.upsert_members("aud_1", &[], 21).await.unwrap(), (0, 0));
}

async fn members_are_upserted_and_paged_in_address_order(s: &dyn Store) {
    s.create_audience("aud_1", "Everyone", 10)
        .await
        .unwrap()
        .unwrap();
    let first: Vec<Member> = (0..25)
        .rev()
        .map(|i| member(&format!("r{i:02}@example.com"), None, "active"))
        .collect();
    assert_eq!(
        s.upsert_members("aud_1", &first, 20).await.unwrap(),
        (25, 0)
    );
    // Again, with an address written differently and a new one: one update, one insert.
    let again = [
        member("  R03@Example.COM ", Some("Ann Three"), "unsubscribed"),
        member("new@example.com", None, "active"),
    ];
    assert_eq!(s.upsert_members("aud_1", &again, 30).await.unwrap(), (1, 1));
    assert_eq!(s.member_count("aud_1").await.unwrap(), 26);
    let page = s.members_page("aud_1", None, 10).await.unwrap();
    assert_eq!(page.len(), 10);
    assert_eq!(page[0].member.email, "new@example.com");
    let r03 = page
        .iter()
        .find(|m| m.member.email == "r03@example.com")
        .unwrap();
    assert_eq!(r03.member.name.as_deref(), Some("Ann Three"));
    assert_eq!(r03.member.status, "unsubscribed");
    assert_eq!(r03.member.tags, ["beta"]);
    assert_eq!(r03.member.attributes["plan"], "pro");
    assert_eq!((r03.created_ms, r03.updated_ms), (20, 30));
    let mut all = page.clone();
    let mut after = page.last().map(|m| m.member.email.clone());
    loop {
        let next = s.members_page("aud_1", after.as_deref(), 10).await.unwrap();
        let Some(last) = next.last() else { break };
        after = Some(last.member.email.clone());
        all.extend(next);
    }
    let emails: Vec<&str> = all.iter().map(|m| m.member.email.as_str()).collect();
    let mut sorted = emails.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(emails, sorted, "every member once, in address order");
    assert_eq!(emails.len(), 26);
    assert!(
        s.members_page("nothing", None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_shared_bucket_grants_no_more_than_its_rate(s: &dyn Store) {
    // Full at first: the burst, then nothing more until time passes.
    let g = s.take_tokens("email", 8, 10.0, 5.0, 1_000).await.unwrap();
    assert_eq!(g.granted, 5);
    let g = s.take_tokens("email", 8, 10.0, 5.0, 1_000).await.unwrap();
    assert_eq!((g.granted, g.left), (0, 0.0));
    // 250 ms at 10 a second: 2.5 tokens, 2 granted, half a token kept.
    let g = s.take_tokens("email", 8, 10.0, 5.0, 1_250).await.unwrap();
    assert_eq!(g.granted, 2);
    assert!((g.left - 0.5).abs() < 1e-9, "{g:?}");
    // A clock behind the bucket's adds nothing and does not move it back.
    let g = s.take_tokens("email", 8, 10.0, 5.0, 900).await.unwrap();
    assert_eq!(g.granted, 0);
    // A long pause refills only to the burst; other buckets are their own.
    let g = s
        .take_tokens("email", 100, 10.0, 5.0, 60_000)
        .await
        .unwrap();
    assert_eq!(g.granted, 5);
    assert_eq!(
        s.take_tokens("sms", 3, 1.0, 5.0, 0).await.unwrap().granted,
        3
    );
}

fn endpoint(id: &str, events: &[&str]) -> webhooks::WebhookEndpoint {
    webhooks::WebhookEndpoint {
        id: id.into(),
        url: format!("https://hooks.example/{id}"),
        events: events.iter().map(|e| e.to_string()).collect(),
        description: None,
        secret: format!("whsec_{id}"),
        previous_secret: None,
        previous_until_ms: None,
        failing: false,
        last_error: None,
        created_ms: 1,
        updated_ms: 1,
    }
}

async fn webhook_messages_are_owed_once_claimed_once_and_logged(s: &dyn Store) {
    s.create_webhook_endpoint(&endpoint("ep_a", &["job.completed"]))
        .await
        .unwrap();
    s.create_webhook_endpoint(&endpoint("ep_b", &["job.failed"]))
        .await
        .unwrap();
    let ids = vec!["ep_a".to_string(), "ep_b".to_string()];
    assert_eq!(
        s.owe_webhook_message(&ids, "msg_1", "job.completed", "{}", 100)
            .await
            .unwrap(),
        2
    );
    // The same message again (another replica saw the event): nothing new.
    assert_eq!(
        s.owe_webhook_message(&ids, "msg_1", "job.completed", "{}", 101)
            .await
            .unwrap(),
        0
    );
    // Two dispatchers at once: each message goes to one of them.
    let first = s.claim_webhook_deliveries(100, 30_000, 10).await.unwrap();
    let second = s.claim_webhook_deliveries(100, 30_000, 10).await.unwrap();
    assert_eq!(first.len(), 2);
    assert!(
        second.is_empty(),
        "a claimed message is not claimed again within its lease"
    );
    let failed = webhooks::Attempt {
        state: "pending",
        next_attempt_ms: 5_000,
        status: Some(500),
        error: Some("answered 500"),
        entry: json!({"at_ms": 100, "status": 500}),
    };
    s.record_webhook_attempt("ep_a", "msg_1", &failed, 100)
        .await
        .unwrap();
    // Not due before its next attempt; due after; a lapsed lease is taken over.
    assert!(
        s.claim_webhook_deliveries(4_999, 30_000, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let again = s
        .claim_webhook_deliveries(40_000, 30_000, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 2, "ep_a is due, ep_b's lease ran out");
    let delivered = webhooks::Attempt {
        state: "delivered",
        next_attempt_ms: 40_000,
        status: Some(204),
        error: None,
        entry: json!({"at_ms": 40_000, "status": 204}),
    };
    s.record_webhook_attempt("ep_a", "msg_1", &delivered, 40_000)
        .await
        .unwrap();
    let d = s.webhook_delivery("ep_a", "msg_1").await.unwrap().unwrap();
    assert_eq!((d.state.as_str(), d.attempts), ("delivered", 2));
    assert_eq!(d.attempt_log.as_array().unwrap().len(), 2);
    let (page, total) = s.webhook_deliveries("ep_a", 10, 0).await.unwrap();
    assert_eq!((page.len(), total), (1, 1));
    // Redelivery makes it due again, log kept.
    assert!(s.redeliver_webhook("ep_a", "msg_1", 50_000).await.unwrap());
    assert_eq!(
        s.claim_webhook_deliveries(50_000, 30_000, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // Rotation keeps the old secret for a while; failing is recorded and cleared.
    assert!(
        s.rotate_webhook_secret("ep_a", "whsec_new", 90_000, 60_000)
            .await
            .unwrap()
    );
    s.set_webhook_failing("ep_a", true, Some("answered 500"), 60_000)
        .await
        .unwrap();
    let e = s.webhook_endpoint("ep_a").await.unwrap().unwrap();
    assert_eq!(e.secret, "whsec_new");
    assert_eq!(e.previous_secret.as_deref(), Some("whsec_ep_a"));
    assert!(e.failing);
    assert_eq!(s.webhook_endpoints().await.unwrap().len(), 2);
    // Deleting an endpoint drops what it was owed.
    assert!(s.delete_webhook_endpoint("ep_a").await.unwrap());
    assert!(s.webhook_delivery("ep_a", "msg_1").await.unwrap().is_none());
    assert!(!s.delete_webhook_endpoint("ep_a").await.unwrap());
}

async fn a_web_post_published_again_keeps_its_first_time(s: &dyn Store) {
    let post = |title: &str, job: &str, at: i64, dry_run: bool| web_posts::WebPostRecord {
        slug: "halcytone-november-2026".into(),
        title: title.into(),
        url: "https://halcytone.example/updates/halcytone-november-2026".into(),
        summary: "News".into(),
        tags: vec!["app".into()],
        job_id: job.into(),
        dry_run,
        published_ms: at,
        updated_ms: at,
    };
    s.record_web_post(&post("First", "job_1", 100, true))
        .await
        .unwrap();
    s.record_web_post(&post("Second", "job_2", 200, true))
        .await
        .unwrap();
    let mut other = post("Other", "job_3", 150, true);
    other.slug = "other".into();
    s.record_web_post(&other).await.unwrap();
    let all = s.web_posts(true, 10).await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        (
            all[0].title.as_str(),
            all[0].published_ms,
            all[0].updated_ms
        ),
        ("Second", 100, 200)
    );
    assert_eq!(all[1].slug, "other");
    assert!(
        s.web_posts(false, 10).await.unwrap().is_empty(),
        "dry-run posts are kept apart"
    );
    assert_eq!(s.web_posts(true, 1).await.unwrap().len(), 1);
}
