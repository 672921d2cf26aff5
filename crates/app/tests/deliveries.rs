//! The delivery ledger through the worker: a newsletter sent over SMTP to the mock CRM's
//! capture, with a worker that stopped partway. The worker that takes the job over sends
//! only to the recipients not yet delivered, sends again (marked uncertain) the one left in
//! flight, and the job reports every recipient sent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_app::Core;
use halcytone_app::settings::ServerConfig;
use halcytone_app::worker::{PublishSpec, Worker};
use halcytone_content::{Brand, Templates};
use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_publish::{Publishing, Settings};
use halcytone_store::ledger::{DeliveryStart, DeliveryState, Finish, SendKey};
use halcytone_store::{JobStatus, NewJob, SqliteStore, Store};
use halcytone_testkit::http::get_json;
use halcytone_testkit::pg::ScratchSchema;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

mod common;

use common::{SAMPLE, enqueue_spec, enqueue_text};

struct Env {
    core: Core,
    store: Arc<dyn Store>,
    crm: Url,
    _mocks: Vec<halcytone_mocks::LocalMock>,
}

/// Dry-run publishing with `EMAIL_TRANSPORT=smtp` to the mock CRM's capture.
async fn env(store: Arc<dyn Store>) -> Env {
    let (crm_mock, platform_mock) = mocks().await;
    let core = core(&store, &crm_mock, &platform_mock, "100000", 1_000);
    Env {
        core,
        store,
        crm: Url::parse(&crm_mock.url).unwrap(),
        _mocks: vec![crm_mock, platform_mock],
    }
}

async fn mocks() -> (halcytone_mocks::LocalMock, halcytone_mocks::LocalMock) {
    let mut crm_config = MockConfig::new(MockKind::Crm);
    crm_config.smtp_port = Some(0);
    let crm_mock = halcytone_mocks::spawn_local(MockKind::Crm, crm_config)
        .await
        .unwrap();
    let platform_mock =
        halcytone_mocks::spawn_local(MockKind::Platform, MockConfig::new(MockKind::Platform))
            .await
            .unwrap();
    (crm_mock, platform_mock)
}

/// A core (one replica) sending over SMTP at `rate` a second.
fn core(
    store: &Arc<dyn Store>,
    crm_mock: &halcytone_mocks::LocalMock,
    platform_mock: &halcytone_mocks::LocalMock,
    rate: &str,
    send_batch_size: usize,
) -> Core {
    let smtp_port = crm_mock.smtp_port.unwrap().to_string();
    let vars: HashMap<&str, &str> = [
        ("DRY_RUN_MODE", "true"),
        ("MOCK_CRM_BASE_URL", crm_mock.url.as_str()),
        ("MOCK_PLATFORM_BASE_URL", platform_mock.url.as_str()),
        ("MOCK_SMTP_PORT", smtp_port.as_str()),
        ("EMAIL_TRANSPORT", "smtp"),
        ("SMTP_HOST", "127.0.0.1"),
        ("SMTP_FROM", "Halcytone <newsletter@example.com>"),
        ("EMAIL_BATCH_SIZE", "250"),
        ("EMAIL_RATE_PER_SECOND", rate),
        ("PUBLISH_RETRY_BASE_MS", "1"),
    ]
    .into_iter()
    .collect();
    let settings = Settings::from_vars(&|k| vars.get(k).map(|v| v.to_string()), false).unwrap();
    let mut config = ServerConfig::local();
    config.send_batch_size = send_batch_size;
    Core::new(
        config,
        store.clone(),
        Arc::new(Publishing::new(settings).unwrap()),
        Arc::new(Templates::defaults()),
        Brand::default(),
    )
    .unwrap()
}

fn worker(core: &Core, id: &str) -> Worker {
    let mut w = Worker::new(core, id.into(), Duration::from_millis(0));
    w.lease = Duration::from_secs(30);
    w.wake = Arc::default();
    w
}

async fn enqueue_email(store: &dyn Store) -> String {
    enqueue_text(store, &["email"], SAMPLE, "corr-ledger", 3).await
}

async fn crm_json(crm: &Url, path: &str) -> Value {
    get_json(&reqwest::Client::new(), crm.join(path).unwrap()).await
}

/// The CRM's opted-in subscribers' addresses, in its order.
async fn subscribers(crm: &Url) -> Vec<String> {
    let list = crm_json(
        crm,
        "api/v1/users/subscribers?status=active&newsletter_opt_in=true&limit=1000",
    )
    .await;
    list["subscribers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["email"].as_str().unwrap().to_string())
        .collect()
}

/// `smtp:sent=N,failed=M[,uncertain=K]` summed over the job's email batches.
fn counts(job: &halcytone_store::Job) -> (u64, u64, u64) {
    let mut sums = (0, 0, 0);
    for batch in job.results["email"]["publishes"].as_array().unwrap() {
        let figures = batch["external_id"].as_str().unwrap();
        for pair in figures.trim_start_matches("smtp:").split(',') {
            let (k, v) = pair.split_once('=').unwrap();
            let n: u64 = v.parse().unwrap();
            match k {
                "sent" => sums.0 += n,
                "failed" => sums.1 += n,
                "uncertain" => sums.2 += n,
                other => panic!("unknown count {other} in {figures}"),
            }
        }
    }
    sums
}

async fn a_takeover_sends_only_what_was_not_delivered(store: Arc<dyn Store>) {
    let e = env(store).await;
    let everyone = subscribers(&e.crm).await;
    let total = everyone.len();
    assert!(total > 500, "the mock CRM's opted-in list: {total}");
    let id = enqueue_email(e.store.as_ref()).await;
    // A first worker claimed the job, delivered to the first 300 recipients, had one more in
    // flight, and stopped (its lease ran out a minute ago).
    let now = chrono::Utc::now().timestamp_millis();
    let claimed = e.store.claim("stopped-worker", now - 60_000, 1_000).await;
    assert_eq!(claimed.unwrap().unwrap().id, id);
    let send = SendKey {
        job_id: &id,
        target: "email",
    };
    for (i, email) in everyone.iter().take(301).enumerate() {
        let start = DeliveryStart {
            send,
            email,
            subscriber_id: None,
            message_id: "<earlier@example.com>",
            holder: None,
        };
        e.store.begin_delivery(&start, now - 59_000).await.unwrap();
        if i < 300 {
            let done = Finish::Delivered {
                provider_id: "250 earlier",
            };
            e.store
                .finish_delivery(send, email, done, now - 59_000)
                .await
                .unwrap();
        }
    }

    let (ran, status) = worker(&e.core, "second-worker")
        .run_once()
        .await
        .unwrap()
        .unwrap();
    assert_eq!((ran.as_str(), status), (id.as_str(), JobStatus::Completed));

    // The capture got the rest: the recipient in flight and everyone never tried.
    let caps = crm_json(&e.crm, "api/v1/captures?kind=email&limit=1").await;
    assert_eq!(caps["total"].as_u64().unwrap() as usize, total - 300);
    let dups = crm_json(
        &e.crm,
        "api/v1/captures?kind=email&status=duplicate&limit=1",
    )
    .await;
    assert_eq!(dups["total"], 0);
    let job = e.store.job(&id).await.unwrap().unwrap();
    assert_eq!(counts(&job), (total as u64, 0, 1), "{}", job.results);
    let shown = halcytone_app::deliveries::recipients(e.store.as_ref(), &job)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            &shown["total"],
            &shown["sent"],
            &shown["uncertain"],
            &shown["sending"]
        ),
        (&total.into(), &total.into(), &1.into(), &0.into()),
        "{shown}"
    );
    let ledger = e.store.delivery_counts(send).await.unwrap();
    assert_eq!(ledger.of(DeliveryState::Delivered), total as i64);
    assert_eq!((ledger.total, ledger.uncertain), (total as i64, 1));
    let earlier = e
        .store
        .deliveries(send, Some(DeliveryState::Delivered), None, 10_000)
        .await
        .unwrap();
    let kept = earlier
        .iter()
        .filter(|d| d.provider_id.as_deref() == Some("250 earlier"))
        .count();
    assert_eq!(kept, 300, "the first worker's deliveries are untouched");
}

#[tokio::test]
async fn a_takeover_sends_only_what_was_not_delivered_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("h.db")).await.unwrap();
    a_takeover_sends_only_what_was_not_delivered(Arc::new(store)).await;
}

#[tokio::test]
async fn a_takeover_sends_only_what_was_not_delivered_on_postgres() {
    let Some(schema) = ScratchSchema::create().await else {
        eprintln!("skipped: HALCYTONE_TEST_DATABASE_URL is not set");
        return;
    };
    let store = halcytone_store::open(&schema.url).await.unwrap();
    a_takeover_sends_only_what_was_not_delivered(store).await;
}

#[tokio::test]
async fn a_retry_of_a_job_continues_its_send() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("h.db")).await.unwrap());
    let e = env(store).await;
    let total = subscribers(&e.crm).await.len();
    let id = enqueue_email(e.store.as_ref()).await;
    let w = worker(&e.core, "w1");
    w.run_once().await.unwrap().unwrap();
    // The same job queued again as a retry (as POST /api/v2/jobs/{id}/retry does): its send
    // is the first job's, so nobody gets the newsletter twice.
    let first = e.store.job(&id).await.unwrap().unwrap();
    let retry = NewJob {
        document_id: first.document_id.clone(),
        channels: first.channels.clone(),
        payload: first.payload.clone(),
        run_at_ms: 0,
        scheduled_ms: None,
        max_attempts: 3,
        correlation_id: "corr-retry".into(),
        retry_of: Some(id.clone()),
        batch_id: None,
    };
    let again = e.store.enqueue(retry, 0).await.unwrap();
    let (ran, status) = w.run_once().await.unwrap().unwrap();
    assert_eq!(
        (ran.as_str(), status),
        (again.id.as_str(), JobStatus::Completed)
    );
    let caps = crm_json(&e.crm, "api/v1/captures?kind=email&limit=1").await;
    assert_eq!(caps["total"].as_u64().unwrap() as usize, total);
    let job = e.store.job(&again.id).await.unwrap().unwrap();
    assert_eq!(counts(&job), (total as u64, 0, 0), "{}", job.results);
}

/// Three replicas (three cores on one database, each configured at 100 emails a second)
/// sending three newsletters at once keep to 100 a second together, not 300.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_keep_one_send_rate_together() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _schema) = replicas_store(dir.path()).await;
    let (crm_mock, platform_mock) = mocks().await;
    const PEOPLE: usize = 100;
    audience(store.as_ref(), "aud_rate", "Rate test", PEOPLE).await;
    for n in 0..3 {
        let text = SAMPLE.replace(
            "Two minutes of this is enough",
            &format!("Run {n} is enough"),
        );
        let spec = PublishSpec {
            audience_id: Some("aud_rate".into()),
            ..PublishSpec::new(vec!["email".into()], 1_795_500_000_000)
        };
        enqueue_spec(store.as_ref(), spec, &text, "corr-rate", 3).await;
    }
    let replicas: Vec<Worker> = (0..3)
        .map(|n| {
            worker(
                &core(&store, &crm_mock, &platform_mock, "100", 1_000),
                &format!("replica-{n}"),
            )
        })
        .collect();
    let started = std::time::Instant::now();
    let runs: Vec<_> = replicas
        .into_iter()
        .map(|w| tokio::spawn(async move { w.run_once().await.unwrap().unwrap() }))
        .collect();
    for r in runs {
        let (_, status) = r.await.unwrap();
        assert_eq!(status, JobStatus::Completed);
    }
    let took = started.elapsed().as_secs_f64();
    let crm = Url::parse(&crm_mock.url).unwrap();
    let caps = crm_json(&crm, "api/v1/captures?kind=email&limit=1").await;
    let sent = caps["total"].as_u64().unwrap() as f64;
    assert_eq!(sent as usize, 3 * PEOPLE);
    // The shared bucket starts with a burst of 10; after it, 100 a second for all three.
    let rate = (sent - 10.0) / took;
    eprintln!("{sent} messages from three replicas in {took:.2} s: {rate:.1} a second");
    assert!(
        rate <= 110.0,
        "three replicas sent {rate:.1} a second together"
    );
    assert!(
        rate >= 50.0,
        "the shared rate should not starve them: {rate:.1}"
    );
}

/// A send of 250 recipients in batches of 50: the send's job lists everyone in the ledger and
/// queues five batch jobs; a second worker that only polls the queue claims some of them while
/// the first runs the rest. Everyone gets one message, the send is reported from the ledger,
/// and the job list shows the send, not its batches.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_the_batches_of_one_send() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _schema) = replicas_store(dir.path()).await;
    let (crm_mock, platform_mock) = mocks().await;
    const PEOPLE: usize = 250;
    let id = send_to_audience(store.as_ref(), "aud_batches", PEOPLE).await;
    // 1,000 a second between them: a batch of 50 takes about 50 ms.
    let first = worker(
        &core(&store, &crm_mock, &platform_mock, "1000", 50),
        "first",
    );
    let second = worker(
        &core(&store, &crm_mock, &platform_mock, "1000", 50),
        "second",
    );
    let send = tokio::spawn(async move { first.run_once().await.unwrap().unwrap() });
    // The second worker starts once the first holds the send, so it can only help.
    for _ in 0..500 {
        let job = store.job(&id).await.unwrap().unwrap();
        if job.status == JobStatus::InProgress {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let helper = tokio::spawn(async move {
        let mut ran = Vec::new();
        for _ in 0..400 {
            match second.run_once().await.unwrap() {
                Some((job, _)) => ran.push(job),
                None => tokio::time::sleep(Duration::from_millis(5)).await,
            }
            if ran.len() >= 2 {
                break;
            }
        }
        ran
    });
    let (ran, status) = send.await.unwrap();
    assert_eq!((ran.as_str(), status), (id.as_str(), JobStatus::Completed));
    let helped = helper.await.unwrap();

    let batches: Vec<String> = (0..5)
        .map(|i| halcytone_app::send_batches::batch_id(&id, i))
        .collect();
    let sixth = halcytone_app::send_batches::batch_id(&id, 5);
    assert!(
        store.job(&sixth).await.unwrap().is_none(),
        "250 recipients in batches of 50 are five batches"
    );
    let mut by_worker: HashMap<String, usize> = HashMap::new();
    for b in &batches {
        let job = store.job(b).await.unwrap().expect("batch job");
        assert_eq!(job.status, JobStatus::Completed, "{b}: {}", job.results);
        *by_worker.entry(job.worker.unwrap()).or_default() += 1;
    }
    assert!(!helped.is_empty(), "the second worker claimed no batch");
    assert!(helped.iter().all(|j| batches.contains(j)), "{helped:?}");
    assert_eq!(by_worker.get("second").copied(), Some(helped.len()));
    assert_eq!(by_worker.values().sum::<usize>(), 5, "{by_worker:?}");
    // What the job's JSON shows as `batches.by_worker`.
    let counted: HashMap<String, usize> = store
        .batch_workers(&id)
        .await
        .unwrap()
        .into_iter()
        .map(|(w, n)| (w, n as usize))
        .collect();
    assert_eq!(counted, by_worker);

    let crm = Url::parse(&crm_mock.url).unwrap();
    assert_captured_once(&crm, PEOPLE).await;
    let job = store.job(&id).await.unwrap().unwrap();
    assert_eq!(counts(&job), (PEOPLE as u64, 0, 0), "{}", job.results);
    let shown = halcytone_app::deliveries::recipients(store.as_ref(), &job)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (&shown["total"], &shown["sent"]),
        (&250.into(), &250.into()),
        "{shown}"
    );
    assert_eq!(
        (&shown["pending"], &shown["sending"]),
        (&0.into(), &0.into()),
        "{shown}"
    );
    let (listed, total) = store
        .jobs(&halcytone_store::JobFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(total, 1, "batch jobs stay out of the job list");
    assert_eq!(listed[0].id, id);
}

/// An audience of `people` active readers (`reader000@example.com`, …).
async fn audience(store: &dyn Store, id: &str, name: &str, people: usize) {
    store.create_audience(id, name, 0).await.unwrap();
    let members: Vec<halcytone_store::audiences::Member> = (0..people)
        .map(|i| halcytone_store::audiences::Member {
            email: format!("reader{i:03}@example.com"),
            name: None,
            first_name: None,
            last_name: None,
            tags: Vec::new(),
            status: "active".into(),
            attributes: Default::default(),
        })
        .collect();
    store.upsert_members(id, &members, 0).await.unwrap();
}

/// A store several replicas share: PostgreSQL when `HALCYTONE_TEST_DATABASE_URL` is set (the
/// scratch schema lives as long as the second value), else SQLite in `dir`.
async fn replicas_store(dir: &std::path::Path) -> (Arc<dyn Store>, Option<ScratchSchema>) {
    let schema = ScratchSchema::create().await;
    let store: Arc<dyn Store> = match &schema {
        Some(s) => halcytone_store::open(&s.url).await.unwrap(),
        None => Arc::new(SqliteStore::open(&dir.join("h.db")).await.unwrap()),
    };
    (store, schema)
}

/// Queues a newsletter to a new audience `id` of `people`; returns the send's job id.
async fn send_to_audience(store: &dyn Store, id: &str, people: usize) -> String {
    audience(store, id, id, people).await;
    let spec = PublishSpec {
        audience_id: Some(id.into()),
        ..PublishSpec::new(vec!["email".into()], 1_795_500_000_000)
    };
    enqueue_spec(store, spec, SAMPLE, &format!("corr-{id}"), 3).await
}

/// The capture holds `people` emails, none of them a repeat.
async fn assert_captured_once(crm: &Url, people: usize) {
    let caps = crm_json(crm, "api/v1/captures?kind=email&limit=1").await;
    assert_eq!(caps["total"].as_u64().unwrap() as usize, people);
    let dups = crm_json(crm, "api/v1/captures?kind=email&status=duplicate&limit=1").await;
    assert_eq!(dups["total"], 0);
}

/// Delivered, pending and all rows of a send's ledger.
async fn ledger_counts(store: &dyn Store, send: &str) -> (i64, i64, i64) {
    let c = store
        .delivery_counts(halcytone_app::send_batches::send_key(send))
        .await
        .unwrap();
    (
        c.of(DeliveryState::Delivered),
        c.of(DeliveryState::Pending),
        c.total,
    )
}

/// A send of 300 recipients in batches of 50, cancelled while it runs: the batches that had
/// not started never run, the one running ends, and the send ends `cancelled` with exactly the
/// recipients it reached captured and the rest left pending. Retried, it sends to those only:
/// everyone then has one message, none two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_send_is_cancelled_then_retried_to_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _schema) = replicas_store(dir.path()).await;
    let (crm_mock, platform_mock) = mocks().await;
    const PEOPLE: usize = 300;
    let id = send_to_audience(store.as_ref(), "aud_cancel", PEOPLE).await;
    // 200 a second: a batch of 50 takes about a quarter of a second.
    let core = core(&store, &crm_mock, &platform_mock, "200", 50);
    let first = worker(&core, "first");
    let send = tokio::spawn(async move { first.run_once().await.unwrap().unwrap() });
    // Cancel once the first batch has delivered someone.
    let mut reached = false;
    for _ in 0..1000 {
        if ledger_counts(store.as_ref(), &id).await.0 > 0 {
            reached = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(reached, "the send never started delivering");
    let cancelled = halcytone_app::sends::cancel_job(&core, &id).await.unwrap();
    let halcytone_app::sends::Cancelled::Send {
        batches_cancelled, ..
    } = cancelled
    else {
        panic!("a running send is stopped, not cancelled as a pending job: {cancelled:?}");
    };
    assert!(batches_cancelled >= 1, "{batches_cancelled}");
    let (ran, status) = send.await.unwrap();
    assert_eq!((ran.as_str(), status), (id.as_str(), JobStatus::Cancelled));
    let (delivered, pending, total) = ledger_counts(store.as_ref(), &id).await;
    assert_eq!(total, PEOPLE as i64);
    assert!(
        delivered > 0 && pending > 0,
        "{delivered} delivered, {pending} pending"
    );
    assert_eq!(delivered + pending, total);
    let crm = Url::parse(&crm_mock.url).unwrap();
    let caps = crm_json(&crm, "api/v1/captures?kind=email&limit=1").await;
    assert_eq!(
        caps["total"].as_i64().unwrap(),
        delivered,
        "captured = delivered"
    );
    // Nothing is left to run: the cancelled batches stay cancelled.
    assert!(worker(&core, "idle").run_once().await.unwrap().is_none());

    let (_, again) = halcytone_app::sends::retry_job(&core, &id).await.unwrap();
    let second = worker(&core, "second");
    let mut finished = None;
    for _ in 0..50 {
        match second.run_once().await.unwrap() {
            Some((job, status)) if job == again.id => {
                finished = Some(status);
                break;
            }
            Some(_) => {}
            None => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    assert_eq!(finished, Some(JobStatus::Completed));
    assert_eq!(
        ledger_counts(store.as_ref(), &id).await,
        (PEOPLE as i64, 0, PEOPLE as i64)
    );
    assert_captured_once(&crm, PEOPLE).await;
}
