//! The weekly update end to end: a Google Doc (wiremock answering like Google's token
//! endpoint and Docs API) → a schedule on Tuesdays 10:00 America/New_York → a run at a
//! chosen "now" → L2 content waits for approval → two reviewers approve → published through
//! the mocks exactly once, with every job transition on /ws/jobs. Also: missed runs collapse
//! into one, an unchanged document makes no new version, bad schedules are 422s.

use crate::helpers::{
    Backend, TestApp, config, next_json, notion_app_page, notion_config, notion_query,
    notion_results, spawn_app_with,
};
use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use halcytone_http::schedules::runner::tick;
use halcytone_store::ScheduleRun;
use reqwest::StatusCode;
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PEM_BEGIN: &str = concat!("-----BEGIN ", "PRIVATE KEY-----");
const PEM_END: &str = concat!("-----END ", "PRIVATE KEY-----");

/// A service account made now: a fresh RSA key that belongs to no Google project.
fn service_account() -> String {
    let key = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let der: Pkcs8V1Der<'static> = key.as_der().unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let mut pem = format!("{PEM_BEGIN}\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str(PEM_END);
    json!({
        "type": "service_account",
        "client_email": "weekly@halcytone-test.iam.gserviceaccount.com",
        "private_key": pem,
        "token_uri": "https://oauth2.halcytone-test.invalid/token",
    })
    .to_string()
}

/// One paragraph of a Google Docs `documents.get` answer: `paragraph.elements[].textRun
/// .content` with a `paragraphStyle.namedStyleType` (HEADING_2, HEADING_3, NORMAL_TEXT).
fn paragraph(style: &str, text: &str) -> Value {
    json!({ "paragraph": {
        "elements": [{ "textRun": { "content": format!("{text}\n") } }],
        "paragraphStyle": { "namedStyleType": style },
    }})
}

/// The weekly update as a Google Doc: one featured item, so it needs L2 review.
fn google_doc() -> Value {
    json!({
        "documentId": "weekly-doc",
        "title": "Weekly update",
        "body": { "content": [
            paragraph("HEADING_2", "[Breathscape] Recent Updates"),
            paragraph("HEADING_3", "Tuesday's featured release"),
            paragraph("NORMAL_TEXT", "<!-- featured: true -->"),
            paragraph("NORMAL_TEXT", "- **Date:** 2026-11-30"),
            paragraph("NORMAL_TEXT", "- **Content:** Breathscape now remembers your favourite pacing and offers it first, so an evening session starts in one tap instead of three."),
        ]},
    })
}

async fn google(server: &MockServer, doc_hits: u64) {
    // Google's OAuth token endpoint: a form with the JWT-bearer grant → an access token.
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "ya29.test-token", "expires_in": 3599, "token_type": "Bearer"
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/documents/weekly-doc"))
        .and(header("authorization", "Bearer ya29.test-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(google_doc()))
        .expect(doc_hits)
        .mount(server)
        .await;
}

async fn app_with_google(server: &MockServer) -> TestApp {
    let mut c = config();
    c.sources.google_credentials_json = Some(service_account());
    c.sources.google_token_url = Some(format!("{}/token", server.uri()));
    c.sources.google_docs_base_url = server.uri();
    spawn_app_with(Backend::Sqlite, c).await.unwrap()
}

/// Creates the schedule `body` with the write key; it must be created.
async fn create_schedule(app: &TestApp, body: &str) -> Value {
    let a = app
        .post("/api/v2/schedules", Some(&app.write_key), body)
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body
}

async fn weekly(app: &TestApp) -> Value {
    create_schedule(
        app,
        r#"{"name": "Weekly update", "cron": "0 10 * * TUE", "timezone": "America/New_York", "document_id": "gdocs:weekly-doc", "channels": ["email", "website"]}"#,
    )
    .await
}

/// When `schedule` (as the API shows it) runs next.
fn next_run(schedule: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(schedule["next_run_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// What the scheduler runs when it ticks at `now`.
async fn runs_at(app: &TestApp, now: DateTime<Utc>) -> Vec<ScheduleRun> {
    tick(&app.state, now).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_weekly_google_doc_waits_for_approval_then_publishes_once() {
    let server = MockServer::start().await;
    // Fetched once per run: this week's and next week's.
    google(&server, 2).await;
    let app = app_with_google(&server).await;
    let mut ws = app.ws(&format!("/ws/jobs?api_key={}", app.read_key)).await;
    let schedule = weekly(&app).await;
    let next = next_run(&schedule);
    // Tuesdays 10:00 in New York is 14:00 or 15:00 UTC.
    assert!(
        matches!(
            next.format("%a %H:%M").to_string().as_str(),
            "Tue 15:00" | "Tue 14:00"
        ),
        "{next}"
    );
    // Before its time nothing runs.
    assert!(
        runs_at(&app, next - chrono::Duration::minutes(1))
            .await
            .is_empty()
    );
    let runs = runs_at(&app, next + chrono::Duration::seconds(5)).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "awaiting_approval", "{}", runs[0].detail);
    assert!(runs[0].detail.contains("L2"), "{}", runs[0].detail);
    let id = runs[0].version_id.clone().unwrap();
    let v = app.get_as_reader(&format!("/api/v2/content/{id}")).await;
    assert_eq!(v.body["status"], "in_review", "{}", v.text);
    assert!(
        v.text.contains("featured release"),
        "the Google Doc's text: {}",
        v.text
    );
    assert!(
        app.captures(&app.crm, "email").await.is_empty(),
        "nothing sent before approval"
    );
    // Two reviewers (neither is the scheduler that submitted it).
    let senior = app.new_writer_key("senior editor").await;
    let marketing = app.new_writer_key("marketing").await;
    let approve_path = format!("/api/v2/content/{id}/approve");
    let a = app.post(&approve_path, Some(&senior), "{}").await;
    assert_eq!(a.body["status"], "in_review", "{}", a.text);
    let a = app.post(&approve_path, Some(&marketing), "{}").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let job = a.body["job"]["job_id"]
        .as_str()
        .expect("approval of a scheduled version publishes it")
        .to_string();
    let done = app.wait_job(&job).await;
    assert_eq!(done["status"], "completed", "{done}");
    let emails = app.captures(&app.crm, "email").await;
    let posts = app.captures(&app.platform, "content").await;
    assert!(!emails.is_empty());
    assert_eq!(posts.len(), 1, "one web post: {posts:?}");
    assert!(posts[0].to_string().contains("featured release"));
    // The stream saw the job queued, claimed and completed.
    let mut seen = Vec::new();
    while seen.last().map(|(_, s): &(String, String)| s.as_str()) != Some("completed") {
        let e = next_json(&mut ws).await;
        if e["job"]["job_id"] == job.as_str() {
            seen.push((
                e["type"].as_str().unwrap().to_string(),
                e["job"]["status"].as_str().unwrap().to_string(),
            ));
        }
    }
    assert_eq!(
        seen,
        [
            ("job_update".to_string(), "pending".to_string()),
            ("job_status_change".to_string(), "in_progress".to_string()),
            ("job_status_change".to_string(), "completed".to_string()),
        ]
    );
    // The same document next week: no new version, nothing sent again.
    let later = runs_at(
        &app,
        next + chrono::Duration::days(7) + chrono::Duration::seconds(5),
    )
    .await;
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].status, "unchanged", "{}", later[0].detail);
    assert_eq!(
        app.captures(&app.platform, "content").await.len(),
        1,
        "published exactly once"
    );
    let shown = app
        .get_as_reader(&format!(
            "/api/v2/schedules/{}",
            schedule["schedule_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(
        shown.body["runs"].as_array().unwrap().len(),
        2,
        "{}",
        shown.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_runs_run_once_and_bad_schedules_are_refused() {
    let server = MockServer::start().await;
    google(&server, 1).await;
    let app = app_with_google(&server).await;
    let key = Some(app.write_key.as_str());
    for (body, field) in [
        (
            r#"{"name": "x", "cron": "0 10 * *", "timezone": "UTC"}"#,
            "cron",
        ),
        (
            r#"{"name": "x", "cron": "0 10 * * TUE", "timezone": "Mars/Base"}"#,
            "timezone",
        ),
        (
            r#"{"name": "x", "scheduled_for": "2001-01-01T00:00:00Z"}"#,
            "scheduled_for",
        ),
        (r#"{"name": "x"}"#, "cron"),
        (r#"{"cron": "0 10 * * TUE"}"#, "name"),
        (
            r#"{"name": "x", "cron": "0 10 * * TUE", "document_id": "sharepoint:1"}"#,
            "document_id",
        ),
    ] {
        let a = app.post("/api/v2/schedules", key, body).await;
        a.assert_invalid_field(field, body);
    }
    assert!(
        app.store.schedules().await.unwrap().is_empty(),
        "nothing stored"
    );
    let schedule = weekly(&app).await;
    let id = schedule["schedule_id"].as_str().unwrap().to_string();
    let next = next_run(&schedule);
    // Down for three weeks: one run, and the next is the occurrence after "now".
    let now = next + chrono::Duration::days(21) + chrono::Duration::hours(1);
    let runs = runs_at(&app, now).await;
    assert_eq!(runs.len(), 1);
    assert!(runs_at(&app, now).await.is_empty());
    let s = app.get_as_reader(&format!("/api/v2/schedules/{id}")).await;
    let following = next_run(&s.body);
    assert!(
        following > now && following - now <= chrono::Duration::days(7),
        "{following}"
    );
    // Pause: never due; resume: due again; delete.
    // `action` (pause or resume) applied to the schedule.
    let schedule_action = async |action: &str| {
        let path = format!("/api/v2/schedules/{id}/{action}");
        app.post(&path, key, "").await
    };
    assert_eq!(schedule_action("pause").await.body["status"], "paused");
    assert!(
        runs_at(&app, now + chrono::Duration::days(30))
            .await
            .is_empty()
    );
    assert_eq!(schedule_action("resume").await.body["status"], "active");
    assert_eq!(schedule_action("resume").await.status, StatusCode::CONFLICT);
    assert_eq!(
        app.delete(&format!("/api/v2/schedules/{id}"), key)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get(&format!("/api/v2/schedules/{id}"), key)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_source_fails_ends_failed_with_the_reason() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant", "error_description": "Invalid JWT Signature."
        })))
        .mount(&server)
        .await;
    let app = app_with_google(&server).await;
    let schedule = weekly(&app).await;
    let next = next_run(&schedule);
    let runs = runs_at(&app, next + chrono::Duration::seconds(1)).await;
    assert_eq!(runs[0].status, "failed");
    assert!(
        runs[0].detail.contains("Invalid JWT Signature"),
        "{}",
        runs[0].detail
    );
    // Terminal: the run is not retried; the schedule moves on to next week.
    assert!(
        runs_at(&app, next + chrono::Duration::minutes(10))
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notion_and_url_sources_run_on_a_schedule_too() {
    let server = MockServer::start().await;
    // Notion's database query: {results: [page], has_more, next_cursor}; plain update → L1.
    let page = notion_app_page(
        "2026-11-28T09:00:00.000Z",
        "Quiet hours reminder",
        "Breathscape can now hold reminders during the quiet hours you choose, so evenings stay calm.",
        "2026-11-28",
    );
    notion_query("db-weekly")
        .respond_with(notion_results(&[page]))
        .expect(1)
        .mount(&server)
        .await;
    let c = notion_config(&server, "secret_test_notion");
    let app = spawn_app_with(Backend::Sqlite, c).await.unwrap();
    let notion = create_schedule(&app, r#"{"name": "Notion weekly", "cron": "30 9 * * MON", "timezone": "Europe/Berlin", "document_id": "notion:db-weekly", "channels": ["website"]}"#).await;
    let next = next_run(&notion);
    let runs = runs_at(&app, next + chrono::Duration::seconds(1)).await;
    assert_eq!(
        runs[0].status, "queued",
        "L1 content publishes at once: {}",
        runs[0].detail
    );
    let done = app.wait_job(runs[0].job_id.as_deref().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    let posts = app.captures(&app.platform, "content").await;
    assert!(
        posts
            .iter()
            .any(|p| p.to_string().contains("Quiet hours reminder")),
        "{posts:?}"
    );
    // A URL on the loopback address is refused by default, and the run says why.
    let u = create_schedule(
        &app,
        &format!(
            r#"{{"name": "URL daily", "cron": "0 8 * * *", "document_id": "url:{}/doc.md"}}"#,
            server.uri()
        ),
    )
    .await;
    let next = next_run(&u);
    let runs = runs_at(&app, next + chrono::Duration::seconds(1)).await;
    let url_run = runs
        .iter()
        .find(|r| r.schedule_id == u["schedule_id"].as_str().unwrap())
        .unwrap();
    assert_eq!(url_run.status, "failed");
    assert!(url_run.detail.contains("127.0.0.1"), "{}", url_run.detail);
}
