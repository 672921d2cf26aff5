//! The service as an operator runs it, as processes: `halcytone up` end to end, a `serve`
//! killed with SIGKILL in the middle of jobs and restarted, and two `serve` processes
//! sharing one PostgreSQL queue.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_testkit::http::{get_text, queue_job, send_for_json};
use halcytone_testkit::pg::ScratchSchema;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "service-test-admin-key-0001";

mod common;

use common::{Proc, UP_ON_FREE_PORTS, spawn};

/// Sends `sig` (e.g. `-TERM`) to the child.
fn signal(p: &Proc, sig: &str) {
    let _ = Command::new("kill")
        .args([sig, &p.0.id().to_string()])
        .status();
}

/// `halcytone up` in `dir` with every service on a free port, plus `extra` arguments.
fn spawn_up(dir: &Path, extra: &[&str]) -> (Proc, String) {
    let mut args = UP_ON_FREE_PORTS.to_vec();
    args.extend_from_slice(extra);
    spawn(&args, dir, &[], true)
}

fn mock(service: &str, dir: &Path) -> (Proc, String) {
    spawn(
        &[
            "mock",
            service,
            "--port",
            "0",
            "--data-dir",
            &dir.to_string_lossy(),
        ],
        dir,
        &[],
        false,
    )
}

fn serve_env(dir: &Path, db: &str, crm: &str, platform: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", db.to_string()),
        ("DRY_RUN_MODE", "true".into()),
        ("MOCK_CRM_BASE_URL", crm.into()),
        ("MOCK_PLATFORM_BASE_URL", platform.into()),
        ("API_KEY", KEY.into()),
        ("PORT", "0".into()),
        ("JOB_LEASE_SECONDS", "1".into()),
        ("WEB_RATE_PER_SECOND", "10000".into()),
        ("EMAIL_RATE_PER_SECOND", "10000".into()),
        ("SOCIAL_RATE_PER_SECOND", "10000".into()),
        ("HALCYTONE_DATA_DIR", dir.to_string_lossy().into_owned()),
    ]
}

fn doc(n: usize) -> String {
    format!(
        "# Weekly {n}\n\n## Breathscape Updates\n\n### Release {n} ships\nVersion {n} brings calmer pacing and a clearer summary after each session.\n"
    )
}

/// The address of mock `name` (`crm`, `platform`) in `/api/v1/services/status`, without a
/// trailing slash.
fn mock_url(status: &Value, name: &str) -> String {
    status["service_info"][name]["url"]
        .as_str()
        .unwrap()
        .trim_end_matches('/')
        .to_string()
}

/// GET `url` (with a Bearer key when given) and read the answer as JSON.
async fn get_json(http: &reqwest::Client, url: &str, key: Option<&str>) -> Value {
    let mut req = http.get(url);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.unwrap().json().await.unwrap()
}

async fn jobs(http: &reqwest::Client, api: &str) -> Vec<Value> {
    let v = get_json(http, &format!("{api}/api/v2/jobs?limit=1000"), Some(KEY)).await;
    v["jobs"].as_array().cloned().unwrap()
}

async fn captures(http: &reqwest::Client, mock: &str, kind: &str) -> Vec<Value> {
    let url = format!("{mock}/api/v1/captures?kind={kind}&limit=1000");
    get_json(http, &url, None).await["captures"]
        .as_array()
        .cloned()
        .unwrap()
}

fn terminal(j: &Value) -> bool {
    matches!(
        j["status"].as_str(),
        Some("completed" | "partial" | "failed" | "cancelled")
    )
}

/// Polls job `id` at `api` until it is terminal; fails the test when `within` has passed.
async fn wait_for_job(
    http: &reqwest::Client,
    api: &str,
    id: &str,
    key: &str,
    within: Duration,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let j = get_json(http, &format!("{api}/api/v2/jobs/{id}"), Some(key)).await;
        if terminal(&j) {
            return j;
        }
        assert!(Instant::now() < deadline, "job {id} did not finish: {j}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `.env` of the earlier service's deployment guide, as it is written there (a 30-character
/// encryption key, mock URLs on 8001/8002, a multiprocess directory we do not need).
const SEED_DOT_ENV: &str = "# Halcytone Content Generator - Dry Run Configuration

# === CORE SETTINGS ===
DRY_RUN_MODE=true
USE_MOCK_SERVICES=true
SERVICE_NAME=halcytone-dry-run

# === MOCK SERVICE ENDPOINTS ===
MOCK_CRM_BASE_URL=http://localhost:8001
MOCK_PLATFORM_BASE_URL=http://localhost:8002

# === SECURITY ===
API_KEY_ENCRYPTION_KEY=production-encryption-key-2025
JWT_SECRET_KEY=production-jwt-secret-2025

# === PERFORMANCE ===
MAX_CONCURRENT_REQUESTS=100
REQUEST_TIMEOUT=30
RATE_LIMIT_PER_MINUTE=1000

# === MONITORING ===
MONITORING_ENABLED=true
PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus_multiproc
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_starts_with_the_seeds_own_dot_env() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".env"), SEED_DOT_ENV).unwrap();
    let (_up, api) = spawn_up(dir.path(), &[]);
    let http = reqwest::Client::new();
    let health: Value = http
        .get(format!("{api}/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        matches!(health["status"].as_str(), Some("healthy" | "degraded")),
        "{health}"
    );
    let root: Value = http.get(&api).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        root["name"], "halcytone-dry-run",
        "SERVICE_NAME is read: {root}"
    );
    assert_eq!(root["dry_run"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_runs_the_whole_stack_from_one_command() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (up, api) = spawn_up(dir.path(), &[]);
    let http = reqwest::Client::new();
    let health = http.get(format!("{api}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    eprintln!("start to healthy: {:?}", started.elapsed());
    // The acceptance curl: no key, a form content type, all channels back.
    let preview = send_for_json(
        http.post(format!("{api}/api/v2/generate-content"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(r#"{"preview_only":true}"#),
    )
    .await;
    assert!(preview["newsletter"]["html"].is_string());
    assert!(preview["web_update"]["html"].is_string());
    assert_eq!(preview["social_posts"].as_array().unwrap().len(), 4);
    // A sync job with the key `up` generated.
    let key = std::fs::read_to_string(dir.path().join("data/api-key.txt")).unwrap();
    let key = key.trim();
    let id = queue_job(
        http.post(format!("{api}/api/v2/content/sync"))
            .bearer_auth(key)
            .body(r#"{"channels":["email","website","social_twitter","social_linkedin","social_facebook"]}"#),
    )
    .await;
    let done = wait_for_job(&http, &api, &id, key, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "completed", "{done}");
    let status = get_json(&http, &format!("{api}/api/v1/services/status"), Some(key)).await;
    let crm = mock_url(&status, "crm");
    let platform = mock_url(&status, "platform");
    assert!(!captures(&http, &crm, "email").await.is_empty());
    assert_eq!(captures(&http, &platform, "content").await.len(), 1);
    assert_eq!(captures(&http, &platform, "social").await.len(), 3);
    assert!(dir.path().join("data/halcytone.db").exists());
    let log = std::fs::read_to_string(dir.path().join("logs/app.log")).unwrap();
    assert!(
        log.contains(&format!("\"job_id\":\"{id}\"")),
        "JSON log lines name the job"
    );
    // Every log search of the seeds' runbooks and troubleshooting guide, as written there,
    // one preview and one dry-run publish later: each finds what it looks for (the line
    // count at least), and the search for errors finds none.
    let seed_greps: [(&str, usize); 13] = [
        (r#"grep "content_generation" logs/app.log"#, 2),
        (r#"grep "publisher_action" logs/app.log"#, 5),
        (r#"grep "dry_run" logs/app.log"#, 8),
        (r#"grep -i "dry.*run" logs/app.log | tail -10"#, 8),
        (r#"grep -i "publisher" logs/app.log | tail -20"#, 5),
        (
            r#"tail -n 20 logs/app.log | grep -E "(startup|ready|listening)""#,
            1,
        ),
        (r#"grep -i "database" logs/app.log | tail -10"#, 1),
        (r#"grep -i "query\|database" logs/app.log | tail -20"#, 1),
        (r#"grep -i "connection.*pool" logs/app.log"#, 1),
        (r#"grep -i "auth\|token\|key" logs/app.log | tail -10"#, 1),
        (r#"grep -i "middleware\|security" logs/app.log"#, 1),
        (r#"grep -i "listening\|port\|server" logs/*mock*.log"#, 2),
        (r#"grep -E "(ERROR|CRITICAL|Exception)" logs/app.log"#, 0),
    ];
    for (command, least) in seed_greps {
        let out = std::process::Command::new("bash")
            .args(["-c", command])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let found = String::from_utf8_lossy(&out.stdout).lines().count();
        if least == 0 {
            assert_eq!(found, 0, "{command} found errors:\n{log}");
        } else {
            assert!(
                found >= least,
                "{command}: {found} lines, wanted {least}:\n{log}"
            );
        }
    }
    signal(&up, "-TERM");
    let mut up = up;
    let status = up.0.wait().unwrap();
    assert!(status.success(), "up stops cleanly on SIGTERM: {status:?}");
}

/// `halcytone up` with SMTP mail and no DKIM key configured: it makes one in its data
/// directory, signs with it, and the capture verifies the signature.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_signs_smtp_mail_with_a_dkim_key_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("EMAIL_TRANSPORT", "smtp"),
        ("SMTP_FROM", "Halcytone <newsletter@example.com>"),
    ];
    let (_up, api) = common::up(dir.path(), &env);
    let key_file = dir.path().join("data/dkim/halcytone.pem");
    let pem = std::fs::read_to_string(&key_file).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
    let http = reqwest::Client::new();
    let key = std::fs::read_to_string(dir.path().join("data/api-key.txt")).unwrap();
    let key = key.trim();
    send_for_json(
        http.post(format!("{api}/api/v2/content/sync"))
            .bearer_auth(key)
            .body(r#"{"channels":["email"]}"#),
    )
    .await;
    let status = get_json(&http, &format!("{api}/api/v1/services/status"), Some(key)).await;
    let crm = mock_url(&status, "crm");
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = loop {
        let caps = captures(&http, &crm, "email").await;
        if let Some(c) = caps.into_iter().next() {
            break c;
        }
        assert!(Instant::now() < deadline, "no message reached the capture");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let dkim = &first["request"]["dkim"];
    assert_eq!(dkim["result"], "pass", "{dkim}");
    assert_eq!(dkim["domain"], "example.com");
    assert_eq!(dkim["selector"], "halcytone");
    assert_eq!(dkim["algorithm"], "rsa-sha256");
    // `dkim record` prints the record of the key `up` keeps.
    let record = Command::new(env!("CARGO_BIN_EXE_halcytone"))
        .args(["dkim", "record"])
        .current_dir(dir.path())
        .env("DKIM_PRIVATE_KEY_FILE", &key_file)
        .env("SMTP_FROM", "Halcytone <newsletter@example.com>")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&record.stdout);
    assert!(
        printed.starts_with("halcytone._domainkey.example.com. IN TXT \"v=DKIM1; k=rsa; p="),
        "{printed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serve_killed_mid_job_finishes_every_job_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (_crm, crm) = mock("crm", dir.path());
    let (_platform, platform) = mock("platform", dir.path());
    let http = reqwest::Client::new();
    // Every web publish takes 400 ms, so the kill lands while jobs are running.
    http.put(format!("{platform}/api/v1/faults"))
        .json(&json!({ "route": "POST /api/v1/content/publish", "status": 503, "probability": 0.0, "latency_ms": 400 }))
        .send()
        .await
        .unwrap();
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    let env = serve_env(dir.path(), &db, &crm, &platform);
    let (first, api) = spawn(&["serve"], dir.path(), &env, false);
    const N: usize = 6;
    for n in 0..N {
        let r = http
            .post(format!("{api}/api/v2/content/sync"))
            .bearer_auth(KEY)
            .json(&json!({ "document_id": format!("doc-{n}"), "channels": ["website"], "document": doc(n) }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
    }
    // One more, due after the restart: it must still run, at its time.
    let at = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let r = http
        .post(format!("{api}/api/v2/content/sync"))
        .bearer_auth(KEY)
        .json(&json!({ "document_id": "scheduled", "channels": ["website"], "document": doc(99), "schedule_time": at }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let js = jobs(&http, &api).await;
        if js.iter().any(|j| j["status"] == "in_progress")
            && js.iter().any(|j| j["status"] == "completed")
        {
            break;
        }
        assert!(Instant::now() < deadline, "no job got going: {js:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(&first, "-KILL");
    drop(first);
    let (_second, api) = spawn(&["serve"], dir.path(), &env, false);
    let deadline = Instant::now() + Duration::from_secs(30);
    let js = loop {
        let js = jobs(&http, &api).await;
        if js.len() == N + 1 && js.iter().all(terminal) {
            break js;
        }
        assert!(Instant::now() < deadline, "jobs did not all finish: {js:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(js.iter().all(|j| j["status"] == "completed"), "{js:?}");
    assert!(
        js.iter().any(|j| j["attempts"].as_i64().unwrap() > 1),
        "the interrupted job ran again: {js:?}"
    );
    let posts = captures(&http, &platform, "content").await;
    let keys: HashSet<&str> = posts
        .iter()
        .map(|c| c["idempotency_key"].as_str().unwrap())
        .collect();
    assert_eq!(posts.len(), N + 1, "each web post captured exactly once");
    assert_eq!(keys.len(), N + 1);
    let scheduled = js.iter().find(|j| j["document_id"] == "scheduled").unwrap();
    let started =
        chrono::DateTime::parse_from_rfc3339(scheduled["started_at"].as_str().unwrap()).unwrap();
    assert!(
        started >= chrono::DateTime::parse_from_rfc3339(&at).unwrap(),
        "ran at its time: {scheduled}"
    );
}

/// Who a kill test sends to.
#[derive(Clone, Copy)]
enum List {
    /// The mock CRM's opted-in subscribers (772), in batches of 100.
    Crm,
    /// An audience of this many people imported from CSV, in four batches.
    Imported(usize),
}

/// The delivery ledger across processes: a newsletter sent over SMTP by one `serve`, that
/// process killed with SIGKILL about a third of the way through, and the send finished by
/// another `serve` — on PostgreSQL a second replica already running, on SQLite the same
/// server restarted on its data directory. Every subscriber gets the newsletter; only the
/// messages in flight at the kill may arrive twice, and the job counts them (`uncertain`).
async fn a_killed_sender_leaves_each_subscriber_one_newsletter(
    db: &str,
    restart: bool,
    list: List,
) {
    let dir = tempfile::tempdir().unwrap();
    let (_crm, crm, smtp_port) = crm_with_smtp(dir.path(), &[]).await;
    let (_platform, platform) = mock("platform", dir.path());
    let http = reqwest::Client::new();
    let crm_list = get_json(
        &http,
        &format!("{crm}/api/v1/users/subscribers?status=active&newsletter_opt_in=true&limit=1"),
        None,
    )
    .await;
    let (subscribers, rate, batch) = match list {
        List::Crm => (
            crm_list["total"].as_u64().unwrap() as usize,
            "150",
            "100".to_string(),
        ),
        List::Imported(n) => (n, "4000", n.div_ceil(4).to_string()),
    };
    let mut env = serve_env(dir.path(), db, &crm, &platform);
    env.retain(|(k, _)| *k != "EMAIL_RATE_PER_SECOND");
    env.extend(smtp_env(smtp_port));
    env.extend([
        ("EMAIL_RATE_PER_SECOND", rate.to_string()),
        // Several batch jobs: the kill lands in one, the survivor claims the rest.
        ("SEND_BATCH_SIZE", batch),
        ("SMTP_CONNECTIONS", CONNECTIONS.to_string()),
    ]);
    let (first, api) = spawn(&["serve"], dir.path(), &env, false);
    let api = api.trim_end_matches('/').to_string();
    let mut sync = json!({ "document_id": "weekly", "channels": ["email"], "document": doc(1) });
    if let List::Imported(n) = list {
        sync["audience_id"] = json!(import_audience(&http, &api, n).await);
    }
    let job_id = queue_job(
        http.post(format!("{api}/api/v2/content/sync"))
            .bearer_auth(KEY)
            .json(&sync),
    )
    .await;
    let captured = |http: reqwest::Client, crm: String| async move {
        let url = format!("{crm}/api/v1/captures?kind=email&limit=1");
        get_json(&http, &url, None).await["total"].as_u64().unwrap() as usize
    };
    let repeated = |http: reqwest::Client, crm: String| async move {
        let url = format!("{crm}/api/v1/captures?kind=email&status=duplicate&limit=1");
        get_json(&http, &url, None).await["total"].as_u64().unwrap() as usize
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = captured(http.clone(), crm.clone()).await;
        if now >= subscribers / 3 {
            break;
        }
        let job = get_json(&http, &format!("{api}/api/v2/jobs/{job_id}"), Some(KEY)).await;
        assert!(
            Instant::now() < deadline,
            "the send did not get going: {now} captured; {job}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A second replica already running, or (SQLite: one server per data directory) none.
    let second = (!restart).then(|| spawn(&["serve"], dir.path(), &env, false));
    signal(&first, "-KILL");
    drop(first);
    let at_kill = captured(http.clone(), crm.clone()).await;
    assert!(at_kill < subscribers, "the kill came too late: {at_kill}");
    let (_second, api) = match second {
        Some(s) => s,
        None => spawn(&["serve"], dir.path(), &env, false),
    };
    let api = api.trim_end_matches('/').to_string();
    let job = wait_for_job(&http, &api, &job_id, KEY, Duration::from_secs(300)).await;
    assert_eq!(job["status"], "completed", "{job}");
    // The capture marks a message whose Message-ID reached the same recipient before as a
    // duplicate; the rest are distinct recipients.
    let twice = repeated(http.clone(), crm.clone()).await;
    let total = captured(http.clone(), crm.clone()).await;
    assert_eq!(
        total - twice,
        subscribers,
        "every subscriber got the newsletter"
    );
    if let List::Crm = list {
        // The list fits one page of captures: check the addresses themselves.
        let caps = captures(&http, &crm, "email").await;
        let distinct: HashSet<&str> = caps
            .iter()
            .map(|c| c["request"]["envelope"]["rcpt_to"][0].as_str().unwrap())
            .collect();
        assert_eq!(distinct.len(), subscribers);
    }
    // One message in flight on each connection when it was killed.
    assert!(
        twice <= CONNECTIONS,
        "only the messages in flight may be sent twice: {twice}"
    );
    let r = &job["recipients"];
    assert_eq!(r["sent"].as_u64(), Some(subscribers as u64), "{job}");
    assert!(r["uncertain"].as_u64().unwrap() as usize >= twice, "{job}");
    eprintln!("killed at {at_kill} of {subscribers} captured; {twice} sent twice; recipients {r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_send_leaves_each_subscriber_one_newsletter() {
    let Some(schema) = ScratchSchema::create().await else {
        eprintln!("skipped: set HALCYTONE_TEST_DATABASE_URL to run the two-replica send test");
        return;
    };
    a_killed_sender_leaves_each_subscriber_one_newsletter(&schema.url, false, List::Crm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_send_and_restarted_leaves_each_subscriber_one_newsletter() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    a_killed_sender_leaves_each_subscriber_one_newsletter(&db, true, List::Crm).await;
}

/// SMTP_CONNECTIONS of the kill tests: at most this many messages are in flight at the kill.
const CONNECTIONS: usize = 4;

/// A mock CRM with its SMTP capture, both on free ports, capturing under `dir` (up to 100,000
/// captures); its address and the SMTP port.
async fn crm_with_smtp(dir: &Path, env: &[(&str, String)]) -> (Proc, String, String) {
    let data = dir.to_string_lossy().into_owned();
    let args = [
        "mock",
        "crm",
        "--port",
        "0",
        "--smtp-port",
        "0",
        "--data-dir",
        &data,
        "--retention",
        "100000",
    ];
    let (proc, crm) = spawn(&args, dir, env, false);
    let crm = crm.trim_end_matches('/').to_string();
    let health = get_json(&reqwest::Client::new(), &format!("{crm}/health"), None).await;
    let smtp_port = health["smtp_port"].as_u64().unwrap().to_string();
    (proc, crm, smtp_port)
}

/// `serve`'s settings for sending email over SMTP to the mock CRM's capture on `smtp_port`.
fn smtp_env(smtp_port: String) -> [(&'static str, String); 4] {
    [
        ("EMAIL_TRANSPORT", "smtp".to_string()),
        ("SMTP_HOST", "127.0.0.1".to_string()),
        (
            "SMTP_FROM",
            "Halcytone <newsletter@example.com>".to_string(),
        ),
        ("MOCK_SMTP_PORT", smtp_port),
    ]
}

/// People in the imported-list kill tests: `KILL_TEST_READERS`, else 1,000. Issue 18's
/// acceptance run sets 20,000 (`KILL_TEST_READERS=20000 cargo nextest run --release -p
/// halcytone --test service imported_readers`): a debug build sends a few dozen a second.
fn kill_test_readers() -> usize {
    std::env::var("KILL_TEST_READERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

/// Issue 18's acceptance run: people imported from CSV, two replicas on PostgreSQL, the one
/// sending killed about a third of the way through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_readers_get_one_newsletter_each_across_a_kill() {
    let Some(schema) = ScratchSchema::create().await else {
        eprintln!("skipped: set HALCYTONE_TEST_DATABASE_URL to run the two-replica send test");
        return;
    };
    let list = List::Imported(kill_test_readers());
    a_killed_sender_leaves_each_subscriber_one_newsletter(&schema.url, false, list).await;
}

/// The same on SQLite: one server killed and restarted on its data directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_readers_get_one_newsletter_each_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    let list = List::Imported(kill_test_readers());
    a_killed_sender_leaves_each_subscriber_one_newsletter(&db, true, list).await;
}

/// Creates an audience over the API and imports `n` people into it from CSV; answers its id.
async fn import_audience(http: &reqwest::Client, api: &str, n: usize) -> String {
    let made = send_for_json(
        http.post(format!("{api}/api/v2/audiences"))
            .bearer_auth(KEY)
            .json(&json!({ "name": format!("{n} readers") })),
    )
    .await;
    let id = made["id"].as_str().unwrap().to_string();
    let mut csv = String::from("email,first_name\n");
    for i in 0..n {
        csv.push_str(&format!("reader{i:05}@example.com,Reader{i}\n"));
    }
    let imported = send_for_json(
        http.post(format!("{api}/api/v2/audiences/{id}/subscribers/import"))
            .bearer_auth(KEY)
            .header("content-type", "text/csv")
            .body(csv),
    )
    .await;
    assert_eq!(imported["imported"], n, "{imported}");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_share_one_postgres_queue_without_running_a_job_twice() {
    let Some(schema) = ScratchSchema::create().await else {
        eprintln!("skipped: set HALCYTONE_TEST_DATABASE_URL to run the two-replica test");
        return;
    };
    let url = schema.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let (_crm, crm) = mock("crm", dir.path());
    let (_platform, platform) = mock("platform", dir.path());
    // Queue 200 jobs before any worker runs.
    let store = halcytone_store::open(&url).await.unwrap();
    const N: usize = 200;
    for n in 0..N {
        let (d, _) = store
            .put_document(&format!("doc-{n}"), "auto", &doc(n), 0)
            .await
            .unwrap();
        let spec = json!({ "targets": ["website"], "as_of_ms": 1_795_500_000_000i64 });
        store
            .enqueue(
                halcytone_store::NewJob {
                    document_id: d.id,
                    channels: vec!["website".into()],
                    payload: spec,
                    run_at_ms: 0,
                    scheduled_ms: None,
                    max_attempts: 3,
                    correlation_id: format!("c-{n}"),
                    retry_of: None,
                    batch_id: None,
                },
                0,
            )
            .await
            .unwrap();
    }
    let mut env = serve_env(dir.path(), &url, &crm, &platform);
    env.retain(|(k, _)| *k != "JOB_LEASE_SECONDS");
    let (_a, api) = spawn(&["serve"], dir.path(), &env, false);
    let (_b, _) = spawn(&["serve"], dir.path(), &env, false);
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let counts = store.job_counts().await.unwrap();
        if counts.get("completed").copied().unwrap_or(0) as usize == N {
            break;
        }
        assert!(Instant::now() < deadline, "queue not drained: {counts:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (all, total) = store
        .jobs(&halcytone_store::JobFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(total as usize, N);
    assert!(all.iter().all(|j| j.attempts == 1), "no job ran twice");
    let workers: HashSet<String> = all
        .iter()
        .filter_map(|j| j.worker.clone())
        .map(|w| w.split('-').take(2).collect::<Vec<_>>().join("-"))
        .collect();
    assert_eq!(workers.len(), 2, "both processes took jobs: {workers:?}");
    let posts = captures(&http, &platform, "content").await;
    assert_eq!(posts.len(), N, "each job published exactly once");
    let _ = api;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_port_serves_metrics_apart_from_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let db = format!("sqlite://{}", dir.path().join("h.db").display());
    let mut env = serve_env(dir.path(), &db, "http://127.0.0.1:1", "http://127.0.0.1:2");
    env.push(("METRICS_PORT", port.to_string()));
    let (_serve, api) = spawn(&["serve"], dir.path(), &env, false);
    let http = reqwest::Client::new();
    http.get(format!("{api}/health")).send().await.unwrap();
    let text = get_text(&http, format!("http://127.0.0.1:{port}/metrics")).await;
    assert!(text.contains("route=\"/health\""), "{text}");
    assert!(text.contains("halcytone_dry_run_mode 1"));
    let other = http
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404, "only /metrics on the metrics port");
}

/// Runs `halcytone serve` on `db` with nothing else around it and returns its exit status
/// and stderr; it is expected to refuse to start.
fn serve_refused(dir: &Path, db: &str) -> (std::process::ExitStatus, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_halcytone"));
    cmd.args(["serve"])
        .current_dir(dir)
        .env_remove("API_KEY")
        .env("DATABASE_URL", db)
        .env("DRY_RUN_MODE", "true")
        .env("PORT", "0")
        .env("LOG_DIR", dir.join("logs"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(60));
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_second_server_on_one_data_directory_exits_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_dir = data.to_string_lossy();
    let (up, _api) = spawn_up(dir.path(), &["--smtp-port", "0", "--data-dir", &data_dir]);
    let db = format!("sqlite://{}/halcytone.db", data.display());
    let (status, err) = serve_refused(dir.path(), &db);
    assert!(!status.success(), "{err}");
    assert!(err.contains("in use by another Halcytone server"), "{err}");
    assert!(err.contains(&format!("pid {}", up.0.id())), "{err}");
    assert!(err.contains("halcytone up"), "{err}");
    drop(up);
}

#[test]
fn an_empty_database_file_stops_the_server_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("halcytone.db");
    std::fs::write(&path, b"").unwrap();
    let (status, err) = serve_refused(dir.path(), &format!("sqlite://{}", path.display()));
    assert!(!status.success(), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("empty"), "{err}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "left as it was");
}

/// SMTP chaos, seeded: the capture refuses a fifth of the recipients at RCPT TO, chosen by
/// the seed and the address. The send reports exactly those as not delivered, and the
/// capture holds exactly the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_smtp_chaos_run_reports_its_refused_recipients_failed() {
    const READERS: usize = 60;
    const SEED: u64 = 7;
    let dir = tempfile::tempdir().unwrap();
    let chaos_env = [
        ("MOCK_SEED", SEED.to_string()),
        ("MOCK_SMTP_REJECT_PERCENT", "20".to_string()),
        ("MOCK_SMTP_REJECT_CODE", "550".to_string()),
    ];
    let (_crm, crm, smtp_port) = crm_with_smtp(dir.path(), &chaos_env).await;
    let (_platform, platform) = mock("platform", dir.path());
    let http = reqwest::Client::new();
    let chaos = get_json(&http, &format!("{crm}/api/v1/smtp/chaos"), None).await;
    assert_eq!(chaos["reject_percent"], 20, "{chaos}");
    let db = format!("sqlite://{}/h.db", dir.path().display());
    let mut env = serve_env(dir.path(), &db, &crm, &platform);
    env.extend(smtp_env(smtp_port));
    let (_serve, api) = spawn(&["serve"], dir.path(), &env, false);
    let api = api.trim_end_matches('/').to_string();
    let audience = import_audience(&http, &api, READERS).await;
    let sync = json!({ "document_id": "weekly", "channels": ["email"], "document": doc(1), "audience_id": audience });
    let job_id = queue_job(
        http.post(format!("{api}/api/v2/content/sync"))
            .bearer_auth(KEY)
            .json(&sync),
    )
    .await;
    let job = wait_for_job(&http, &api, &job_id, KEY, Duration::from_secs(120)).await;
    // Who the seed refuses, worked out here the way the capture does.
    let rule = halcytone_mocks::smtp_chaos::SmtpChaos {
        reject_percent: 20,
        seed: SEED,
        ..Default::default()
    };
    let everyone: Vec<String> = (0..READERS)
        .map(|i| format!("reader{i:05}@example.com"))
        .collect();
    let refused: HashSet<&str> = everyone
        .iter()
        .filter(|a| rule.rejects(a))
        .map(String::as_str)
        .collect();
    assert!(
        !refused.is_empty() && refused.len() < READERS / 2,
        "{refused:?}"
    );
    let caps = captures(&http, &crm, "email").await;
    let delivered: HashSet<&str> = caps
        .iter()
        .map(|c| c["request"]["envelope"]["rcpt_to"][0].as_str().unwrap())
        .collect();
    let expected: HashSet<&str> = everyone
        .iter()
        .map(String::as_str)
        .filter(|a| !refused.contains(a))
        .collect();
    assert_eq!(
        delivered, expected,
        "the capture holds exactly the recipients not refused"
    );
    let r = &job["recipients"];
    assert_eq!(
        r["sent"].as_u64(),
        Some((READERS - refused.len()) as u64),
        "{job}"
    );
    let not_delivered = r["failed"].as_u64().unwrap() + r["refused"].as_u64().unwrap();
    assert_eq!(
        not_delivered,
        refused.len() as u64,
        "refused recipients are reported failed: {job}"
    );
    assert_ne!(
        job["status"], "completed",
        "a send with refused recipients is not complete: {job}"
    );
}
