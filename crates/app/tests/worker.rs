//! The worker against a real SQLite store and both mocks on random ports.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_app::Core;
use halcytone_app::settings::ServerConfig;
use halcytone_app::worker::{JobSpec, PublishSpec, Worker};
use halcytone_content::{Brand, Templates};
use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_publish::retry::RetryPolicy;
use halcytone_publish::{Publishing, Settings};
use halcytone_store::{JobStatus, NewJob, SqliteStore, Store};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

const SAMPLE: &str = include_str!("../../../samples/living-document.md");

struct Env {
    worker: Worker,
    store: Arc<dyn Store>,
    crm: Url,
    platform: Url,
    _dir: tempfile::TempDir,
    _stops: Vec<tokio::sync::oneshot::Sender<()>>,
}

async fn mock(kind: MockKind, stops: &mut Vec<tokio::sync::oneshot::Sender<()>>) -> Url {
    let store = halcytone_mocks::store::Store::in_memory().await.unwrap();
    let router = halcytone_mocks::router(kind, MockConfig::new(kind), store)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(halcytone_mocks::serve(listener, router, async {
        let _ = rx.await;
    }));
    stops.push(tx);
    url
}

async fn env() -> Env {
    let mut stops = Vec::new();
    let crm = mock(MockKind::Crm, &mut stops).await;
    let platform = mock(MockKind::Platform, &mut stops).await;
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("h.db")).await.unwrap());
    let settings = Settings {
        dry_run: true,
        crm_url: crm.clone(),
        platform_url: platform.clone(),
        mock_urls: vec![crm.clone(), platform.clone()],
        crm_api_key: None,
        platform_api_key: None,
        timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 1,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
        email_batch_size: 500,
        email_rate: 1000.0,
        web_rate: 1000.0,
        social_rate: 1000.0,
        email_transport: Default::default(),
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
        _stops: stops,
    }
}

async fn enqueue(store: &dyn Store, targets: &[&str]) -> String {
    let (doc, _) = store
        .put_document("file:samples/living-document.md", "markdown", SAMPLE, 0)
        .await
        .unwrap();
    let spec = JobSpec::Publish(Box::new(PublishSpec::new(
        targets.iter().map(|t| t.to_string()).collect(),
        1_795_500_000_000,
    )));
    let job = NewJob {
        document_id: doc.id,
        channels: spec.targets().to_vec(),
        payload: spec.to_payload(),
        run_at_ms: 0,
        scheduled_ms: None,
        max_attempts: 3,
        correlation_id: "corr-worker".into(),
        retry_of: None,
        batch_id: None,
    };
    store.enqueue(job, 0).await.unwrap().id
}

async fn total(url: &Url, query: &str) -> u64 {
    let v: Value = reqwest::get(url.join(&format!("api/v1/captures?{query}")).unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
