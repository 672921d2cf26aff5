//! The worker against a real SQLite store and both mocks on random ports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_app::Core;
use halcytone_app::settings::ServerConfig;
use halcytone_app::worker::Worker;
use halcytone_content::{Brand, Templates};
use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_publish::retry::RetryPolicy;
use halcytone_publish::{Publishing, Settings};
use halcytone_store::{JobStatus, SqliteStore, Store};
use halcytone_testkit::http::{get_json, set_mock_fault};
use halcytone_testkit::pg::ScratchSchema;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

mod common;

use common::{SAMPLE, enqueue, enqueue_text};

struct Env {
    worker: Worker,
    store: Arc<dyn Store>,
    crm: Url,
    platform: Url,
    _dir: tempfile::TempDir,
    _mocks: Vec<halcytone_mocks::LocalMock>,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("h.db")).await.unwrap());
    env_on(store, dir).await
}

async fn env_on(store: Arc<dyn Store>, dir: tempfile::TempDir) -> Env {
    let mut mocks = Vec::new();
    for kind in [MockKind::Crm, MockKind::Platform] {
        let mock = halcytone_mocks::spawn_local(kind, MockConfig::new(kind)).await;
        mocks.push(mock.unwrap());
    }
    let crm = Url::parse(&mocks[0].url).unwrap();
    let platform = Url::parse(&mocks[1].url).unwrap();
    let settings = Settings {
        retry: RetryPolicy {
            max_attempts: 1,
            ..Settings::rehearsal(&crm, &platform).retry
        },
        email_rate: 1000.0,
        web_rate: 1000.0,
        social_rate: 1000.0,
        ..Settings::rehearsal(&crm, &platform)
    };
    let publishing = Arc::new(Publishing::new(settings).unwrap());
    let core = Core::new(
        ServerConfig::local(),
        store.clone(),
        publishing,
        Arc::new(Templates::defaults()),
        Brand::default(),
    )
    .unwrap();
    let mut worker = Worker::new(&core, "test-worker".into(), Duration::from_millis(0));
    worker.lease = Duration::from_secs(30);
    worker.wake = Arc::default();
    Env {
        worker,
        store,
        crm,
        platform,
        _dir: dir,
        _mocks: mocks,
    }
}

async fn total(url: &Url, query: &str) -> u64 {
    let v = get_json(
        &reqwest::Client::new(),
        url.join(&format!("api/v1/captures?{query}")).unwrap(),
    )
    .await;
    v["total"].as_u64().unwrap()
}

#[tokio::test]
async fn a_job_publishes_every_target_and_records_results() {
    let e = env().await;
    let id = enqueue(e.store.as_ref(), &["email", "website", "social_twitter"]).await;
    let (ran, status) = e.worker.run_once().await.unwrap().unwrap();
    assert_eq!((ran.as_str(), status), (id.as_str(), JobStatus::Completed));
    let job = e.store.job(&id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Completed);
    for name in ["email", "website", "social_twitter"] {
        assert_eq!(
            job.results[name]["status"], "success",
            "{name}: {}",
            job.results
        );
    }
    assert!(total(&e.crm, "kind=email").await >= 1);
    assert_eq!(total(&e.platform, "kind=content").await, 1);
    assert_eq!(
        total(&e.platform, "kind=social").await,
        1,
        "only the network asked for"
    );
    assert!(
        e.worker.run_once().await.unwrap().is_none(),
        "queue drained"
    );
}

#[tokio::test]
async fn transient_failures_retry_the_job_then_end_partial_without_sending_twice() {
    let e = env().await;
    reqwest::Client::new()
        .put(e.platform.join("api/v1/faults").unwrap())
        .json(&json!({ "route": "POST /api/v1/content/publish", "status": 503 }))
        .send()
        .await
        .unwrap();
    let id = enqueue(e.store.as_ref(), &["email", "web"]).await;
    assert_eq!(
        e.worker.run_once().await.unwrap().unwrap().1,
        JobStatus::Pending,
        "released for a retry"
    );
    assert_eq!(
        e.worker.run_once().await.unwrap().unwrap().1,
        JobStatus::Pending
    );
    assert_eq!(
        e.worker.run_once().await.unwrap().unwrap().1,
        JobStatus::Partial,
        "attempts exhausted"
    );
    let job = e.store.job(&id).await.unwrap().unwrap();
    assert_eq!(job.attempts, 3);
    assert_eq!(job.results["email"]["status"], "success");
    assert_eq!(job.results["web"]["status"], "failed");
    assert!(job.errors[0].contains("503"), "{:?}", job.errors);
    let batches = total(&e.crm, "kind=email").await;
    assert_eq!(
        batches, 2,
        "three attempts, the newsletter batches were captured once"
    );
}

#[tokio::test]
async fn unrunnable_jobs_fail_with_the_reason() {
    let e = env().await;
    let id = enqueue(e.store.as_ref(), &["carrier_pigeon"]).await;
    assert_eq!(
        e.worker.run_once().await.unwrap().unwrap().1,
        JobStatus::Failed
    );
    let job = e.store.job(&id).await.unwrap().unwrap();
    assert!(
        job.errors[0].contains("unknown channel 'carrier_pigeon'"),
        "{:?}",
        job.errors
    );
}

/// All captures of a kind on a mock.
async fn captured(url: &Url, kind: &str) -> Vec<Value> {
    let all = url.join(&format!("api/v1/captures?kind={kind}&limit=10000"));
    let v = get_json(&reqwest::Client::new(), all.unwrap()).await;
    v["captures"].as_array().cloned().unwrap_or_default()
}

/// A PostgreSQL store in a schema of its own, when `HALCYTONE_TEST_DATABASE_URL` is set; the
/// schema is dropped with the returned guard.
async fn postgres_store() -> Option<(Arc<dyn Store>, ScratchSchema)> {
    let schema = ScratchSchema::create().await?;
    Some((halcytone_store::open(&schema.url).await.unwrap(), schema))
}

/// Chaos: two workers share one PostgreSQL queue while the mocks fail 30% of the calls
/// that publish. However the attempts fall, the jobs report exactly what the mocks
/// captured: every channel reported delivered has its captures, each idempotency key
/// captured once, and every capture belongs to a channel reported delivered.
#[tokio::test]
async fn two_workers_under_faults_report_exactly_what_the_mocks_captured() {
    let Some((store, _schema)) = postgres_store().await else {
        eprintln!("skipped: HALCYTONE_TEST_DATABASE_URL is not set");
        return;
    };
    let e = env_on(store, tempfile::tempdir().unwrap()).await;
    let http = reqwest::Client::new();
    for (mock, routes) in [
        (
            &e.crm,
            &["POST /api/v1/email/send", "POST /api/v1/email/batch"][..],
        ),
        (
            &e.platform,
            &["POST /api/v1/content/publish", "POST /api/v1/social/post"][..],
        ),
    ] {
        for (i, route) in routes.iter().enumerate() {
            let rule = json!({ "route": route, "status": 503, "probability": 0.3, "seed": 7 + i });
            set_mock_fault(&http, mock, &rule).await;
        }
    }
    const JOBS: usize = 12;
    let targets = ["email", "website", "social_twitter"];
    let mut ids = Vec::new();
    for i in 0..JOBS {
        // Each job its own content, so its idempotency keys are its own.
        let text = SAMPLE.replace(
            "Two minutes of this is enough",
            &format!("Two minutes (run {i}) of this is enough"),
        );
        ids.push(enqueue_text(e.store.as_ref(), &targets, &text, &format!("chaos-{i}"), 12).await);
    }
    let mut second = e.worker.clone();
    second.id = "test-worker-2".into();
    let drain = |w: Worker| async move {
        let mut idle = 0;
        while idle < 20 {
            match w.run_once().await.unwrap() {
                Some(_) => idle = 0,
                None => {
                    idle += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    };
    tokio::join!(drain(e.worker.clone()), drain(second));
    let mut jobs = std::collections::HashMap::new();
    for id in &ids {
        let job = e.store.job(id).await.unwrap().unwrap();
        assert!(job.status.is_terminal(), "{id} ended: {:?}", job.status);
        jobs.insert(job.correlation_id.clone(), job);
    }
    let attempts: i64 = jobs.values().map(|j| j.attempts).sum();
    assert!(
        attempts > JOBS as i64,
        "the faults made attempts fail: {attempts} attempts for {JOBS} jobs"
    );
    let mut delivered = 0;
    for (mock, kind, target) in [
        (&e.crm, "email", "email"),
        (&e.platform, "content", "website"),
        (&e.platform, "social", "social_twitter"),
    ] {
        let captures = captured(mock, kind).await;
        let mut keys = std::collections::HashSet::new();
        for c in &captures {
            let key = c["idempotency_key"].as_str().unwrap().to_string();
            assert!(keys.insert(key.clone()), "{key} captured twice");
            let corr = c["correlation_id"].as_str().unwrap();
            let job = &jobs[corr];
            assert_eq!(
                job.results[target]["status"], "success",
                "{kind} capture {key} of {corr} has a delivered result: {}",
                job.results
            );
        }
        for (corr, job) in &jobs {
            if job.results[target]["status"] == "success" {
                delivered += 1;
                let mine = captures
                    .iter()
                    .filter(|c| c["correlation_id"] == corr.as_str())
                    .count();
                let expected = if kind == "email" { mine.max(1) } else { 1 };
                assert!(
                    mine >= 1 && mine == expected,
                    "{target} of {corr} reported delivered: {mine} capture(s)"
                );
            }
        }
    }
    assert!(
        delivered >= JOBS * targets.len() * 9 / 10,
        "with twelve attempts nearly every channel goes out: {delivered}"
    );
}
