//! Both mocks over real HTTP on random ports: triggers, capture, idempotency, faults,
//! journal, retention and deterministic data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_mocks::store::Store;
use halcytone_testkit::http::{get, get_text};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

mod common;

struct TestMock {
    base: String,
    http: reqwest::Client,
    _served: common::Served,
}

async fn spawn(kind: MockKind, tweak: impl FnOnce(&mut MockConfig)) -> TestMock {
    let mut config = MockConfig::new(kind);
    config.slow_delay = Duration::from_millis(300);
    config.seed = 7;
    tweak(&mut config);
    let store = Store::in_memory().await.unwrap();
    let state = halcytone_mocks::state(kind, config, store).await.unwrap();
    let served = common::serve_app(state).await;
    TestMock {
        base: served.base.clone(),
        http: reqwest::Client::new(),
        _served: served,
    }
}

impl TestMock {
    /// Posts `body(trigger)` for each case: each answers its status with a `detail`.
    async fn assert_triggers(
        &self,
        path: &str,
        cases: &[(&str, StatusCode)],
        body: impl Fn(&str) -> Value,
    ) {
        for (trigger, status) in cases {
            let (got, answer) = self.post(path, body(trigger)).await;
            assert_eq!(got, *status, "{trigger}");
            assert!(answer["detail"].is_string(), "{answer}");
        }
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.post_with(path, body, &[]).await
    }
    async fn post_with(
        &self,
        path: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body), headers).await
    }
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None, &[]).await
    }
    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, Some(body), &[]).await
    }
    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::DELETE, path, None, &[]).await
    }
    /// Sends `method path` with an optional JSON body and extra headers; the status and the
    /// JSON answer (`null` when the body is not JSON).
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req.json(&body);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        (resp.status(), resp.json().await.unwrap_or(Value::Null))
    }
    async fn captures(&self, query: &str) -> Value {
        self.get(&format!("/api/v1/captures?{query}")).await.1
    }
}

/// Asserts that an answer has status `status` and a `detail` that mentions `mentions`.
#[track_caller]
fn assert_problem((got, body): (StatusCode, Value), status: StatusCode, mentions: &str) {
    assert_eq!(got, status, "{body}");
    let detail = body["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("no detail: {body}"));
    assert!(detail.contains(mentions), "{mentions} in {body}");
}

fn email(subject: &str) -> Value {
    json!({ "subject": subject, "html_content": "<p>Hello</p>", "text_content": "Hello", "campaign_id": "camp-1" })
}

#[tokio::test]
async fn health_reports_the_service() {
    for (kind, name) in [
        (MockKind::Crm, "mock-crm"),
        (MockKind::Platform, "mock-platform"),
    ] {
        let m = spawn(kind, |_| {}).await;
        let (status, body) = m.get("/health").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "healthy");
        assert_eq!(body["service"], name);
    }
}

#[tokio::test]
async fn crm_subject_triggers_answer_as_documented_and_capture_nothing() {
    let m = spawn(MockKind::Crm, |_| {}).await;
    let cases = [
        ("an error test", StatusCode::INTERNAL_SERVER_ERROR),
        ("Timeout test", StatusCode::REQUEST_TIMEOUT),
        ("INVALID address", StatusCode::BAD_REQUEST),
    ];
    m.assert_triggers("/api/v1/email/send", &cases, email).await;
    assert_eq!(
        m.captures("").await["total"],
        0,
        "failed sends are not captured"
    );
    let started = Instant::now();
    let (got, body) = m.post("/api/v1/email/send", email("slow test")).await;
    assert_eq!(got, StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "slow is delayed"
    );
    assert_eq!(body["status"], "sent");
    assert_eq!(body["recipients_count"], 1000);
    assert_eq!(m.captures("").await["total"], 1);
}

#[tokio::test]
async fn platform_triggers_answer_as_documented() {
    let m = spawn(MockKind::Platform, |_| {}).await;
    let cases = [
        ("error case", StatusCode::BAD_REQUEST),
        ("invalid test", StatusCode::BAD_REQUEST),
        ("Forbidden words", StatusCode::FORBIDDEN),
        ("timeout please", StatusCode::REQUEST_TIMEOUT),
    ];
    m.assert_triggers(
        "/api/v1/content/publish",
        &cases,
        |title| json!({ "title": title, "content": "Body" }),
    )
    .await;
    let (got, body) = m
        .post(
            "/api/v1/content/publish",
            json!({ "title": "A draft post", "content": "Body" }),
        )
        .await;
    assert_eq!(got, StatusCode::OK);
    assert_eq!(body["status"], "draft");
    for (post, status) in [
        (
            json!({ "platform": "myspace", "content": "hi" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({ "platform": "twitter", "content": "a banned word" }),
            StatusCode::FORBIDDEN,
        ),
    ] {
        let (got, _) = m.post("/api/v1/social/post", post.clone()).await;
        assert_eq!(got, status, "{post}");
    }
    let (got, body) = m
        .post(
            "/api/v1/social/post",
            json!({ "platform": "instagram", "content": "Breathe", "hashtags": ["#Calm"] }),
        )
        .await;
    assert_eq!(got, StatusCode::OK);
    assert_eq!(body["status"], "posted");
    assert_eq!(m.captures("kind=social").await["total"], 1);
    assert_eq!(m.captures("channel=social:instagram").await["total"], 1);
}

#[tokio::test]
async fn bad_bodies_name_the_problem() {
    let m = spawn(MockKind::Crm, |_| {}).await;
    let missing_subject = m
        .post("/api/v1/email/send", json!({ "html_content": "x" }))
        .await;
    assert_problem(missing_subject, StatusCode::UNPROCESSABLE_ENTITY, "subject");
    let resp = m
        .http
        .post(format!("{}/api/v1/email/send", m.base))
        .header("content-type", "application/json")
        .body("{\"subject\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON"),
        "{body}"
    );
    let bad_recipient = m
        .post(
            "/api/v1/email/send",
            json!({ "subject": "Hi there", "html_content": "x", "recipients": ["not-an-email"] }),
        )
        .await;
    assert_problem(
        bad_recipient,
        StatusCode::UNPROCESSABLE_ENTITY,
        "recipients[0]",
    );
    assert_eq!(m.captures("").await["total"], 0, "nothing half-captured");
}

#[tokio::test]
async fn an_idempotent_retry_captures_once() {
    let m = spawn(MockKind::Crm, |_| {}).await;
    let key = [("Idempotency-Key", "v1:email:newsletter")];
    let (s1, b1) = m
        .post_with("/api/v1/email/send", email("Weekly update"), &key)
        .await;
    let resp = m
        .http
        .post(format!("{}/api/v1/email/send", m.base))
        .header("Idempotency-Key", "v1:email:newsletter")
        .json(&email("Weekly update"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()
            .get("idempotent-replayed")
            .map(|v| v.to_str().unwrap()),
        Some("true")
    );
    let (s2, b2) = (resp.status(), resp.json::<Value>().await.unwrap());
    assert_eq!((s1, &b1), (s2, &b2), "same key, same answer");
    let caps = m.captures("").await;
    assert_eq!(caps["total"], 1);
    assert_eq!(
        caps["captures"][0]["idempotency_key"],
        "v1:email:newsletter"
    );
    let (s3, _) = m.post_with("/api/v1/email/batch", json!({ "subject": "Weekly update", "html_content": "x", "recipients": [{ "email": "a@example.com" }] }), &key).await;
    assert_eq!(
        s3,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a key belongs to one route"
    );
    // A failed first attempt is not remembered: the retry can succeed.
    let k2 = [("Idempotency-Key", "k2")];
    let (s, _) = m
        .post_with("/api/v1/email/send", email("error once"), &k2)
        .await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    let (s, _) = m
        .post_with("/api/v1/email/send", email("fine now"), &k2)
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn captures_are_searchable_and_keep_the_full_payload() {
    let m = spawn(MockKind::Crm, |_| {}).await;
    m.post("/api/v1/email/send", email("Breathe in: Sleep Sessions"))
        .await;
    m.post("/api/v1/email/send", json!({ "subject": "Other news today", "html_content": "<b>x</b>", "campaign_id": "camp-2" })).await;
    let (status, batch) = m
        .post("/api/v1/email/batch", json!({ "subject": "Batch send", "html_content": "<p>b</p>", "recipients": [{ "email": "a@example.com", "name": "A" }, { "email": "b@example.com" }], "campaign_id": "camp-1" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{batch}");
    assert_eq!(batch["accepted"], 2);
    assert_eq!(m.captures("").await["total"], 3);
    assert_eq!(m.captures("q=sleep").await["total"], 1);
    assert_eq!(m.captures("campaign=camp-1").await["total"], 2);
    assert_eq!(
        m.captures("since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z")
            .await["total"],
        3
    );
    assert_eq!(m.captures("until=2000-01-01T00:00:00Z").await["total"], 0);
    // Bounds with an offset or whole seconds compare as instants, not as text.
    let at = chrono::DateTime::parse_from_rfc3339(first_created(&m).await.as_str()).unwrap();
    let plus_one = at.with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap());
    let since = plus_one
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        .replace('+', "%2B");
    assert_eq!(
        m.captures(&format!("since={since}")).await["total"],
        3,
        "since {since}"
    );
    let later = (at + chrono::Duration::seconds(3600))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
        .replace('+', "%2B");
    assert_eq!(m.captures(&format!("until={later}")).await["total"], 3);
    let bad_since = m.get("/api/v1/captures?since=yesterday").await;
    assert_problem(bad_since, StatusCode::UNPROCESSABLE_ENTITY, "since");
    let first = m.captures("q=sleep").await["captures"][0].clone();
    assert_eq!(first["request"]["html_content"], "<p>Hello</p>");
    assert_eq!(first["request"]["text_content"], "Hello");
    let id = first["id"].as_str().unwrap();
    let (status, one) = m.get(&format!("/api/v1/captures/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["subject"], "Breathe in: Sleep Sessions");
    assert_eq!(
        m.get("/api/v1/captures/nope").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, st) = m.get(&format!("/api/v1/email/{id}/status")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!st["events"].as_array().unwrap().is_empty());
}

/// The creation time of the oldest capture, truncated to whole seconds.
async fn first_created(m: &TestMock) -> String {
    let all = m.captures("limit=1000").await;
    let oldest = all["captures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["created_at"].as_str().unwrap().to_string())
        .min()
        .unwrap();
    let t = chrono::DateTime::parse_from_rfc3339(&oldest).unwrap();
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn retention_keeps_the_newest_captures() {
    let m = spawn(MockKind::Crm, |c| c.retention = 3).await;
    for i in 0..5 {
        m.post("/api/v1/email/send", email(&format!("Issue number {i}")))
            .await;
    }
    let caps = m.captures("").await;
    assert_eq!(caps["total"], 3);
    assert_eq!(caps["captures"][0]["subject"], "Issue number 4");
    assert_eq!(caps["captures"][2]["subject"], "Issue number 2");
    // The stats count every send accepted, and the retained ones apart.
    let (_, stats) = m.get("/api/v1/stats").await;
    assert_eq!(stats["emails_sent"], 5, "{stats}");
    assert_eq!(stats["emails_retained"], 3, "{stats}");
    // A reset starts the count again.
    m.delete("/api/v1/test-data").await;
    let (_, stats) = m.get("/api/v1/stats").await;
    assert_eq!(stats["emails_sent"], 0, "{stats}");
}

async fn fault_run(seed: u64) -> Vec<u16> {
    let m = spawn(MockKind::Crm, |_| {}).await;
    let (status, _) = m
        .put("/api/v1/faults", json!({ "route": "POST /api/v1/email/send", "status": 503, "probability": 0.3, "seed": seed }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut statuses = Vec::new();
    for i in 0..40 {
        statuses.push(
            m.post("/api/v1/email/send", email(&format!("Message {i}")))
                .await
                .0
                .as_u16(),
        );
    }
    let captured = m.captures("").await["total"].as_u64().unwrap();
    assert_eq!(
        captured as usize,
        statuses.iter().filter(|s| **s == 200).count(),
        "only accepted sends are captured"
    );
    statuses
}

#[tokio::test]
async fn fault_injection_is_reproducible_by_seed() {
    let a = fault_run(11).await;
    let b = fault_run(11).await;
    assert_eq!(a, b, "same seed, same failures");
    let failures = a.iter().filter(|s| **s == 503).count();
    assert!(
        (3..=22).contains(&failures),
        "{failures} failures of 40 at 30%"
    );
    assert_ne!(a, fault_run(12).await, "another seed, another sequence");
}

#[tokio::test]
async fn fault_api_validates_and_clears() {
    let m = spawn(MockKind::Platform, |_| {}).await;
    let unknown_route = m
        .put("/api/v1/faults", json!({ "route": "POST /api/v1/nothing" }))
        .await;
    assert_problem(
        unknown_route,
        StatusCode::NOT_FOUND,
        "POST /api/v1/content/publish",
    );
    let (status, _) = m
        .put(
            "/api/v1/faults",
            json!({ "route": "GET /health", "status": 500, "probability": 2.0 }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    m.put(
        "/api/v1/faults",
        json!({ "route": "GET /health", "latency_ms": 200, "probability": 0.0 }),
    )
    .await;
    let started = Instant::now();
    assert_eq!(m.get("/health").await.0, StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "latency injected"
    );
    let (_, listing) = m.get("/api/v1/faults").await;
    assert_eq!(listing["faults"][0]["requests"], 1);
    m.delete("/api/v1/faults").await;
    assert_eq!(
        m.get("/api/v1/faults").await.1["faults"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        m.delete("/api/v1/faults?route=GET%20/health").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn journal_records_requests_with_correlation_ids() {
    let m = spawn(MockKind::Crm, |_| {}).await;
    let resp = m
        .http
        .post(format!("{}/api/v1/email/send", m.base))
        .header("X-Correlation-ID", "corr-123")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .json(&email("Hello journal"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers().get("x-correlation-id").unwrap(), "corr-123");
    let (_, j) = m.get("/api/v1/journal?limit=5").await;
    let entry = j["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "/api/v1/email/send")
        .unwrap()
        .clone();
    assert_eq!(entry["correlation_id"], "corr-123");
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["route"], "/api/v1/email/send");
    assert!(
        entry["traceparent"]
            .as_str()
            .unwrap()
            .starts_with("00-4bf9")
    );
    assert_eq!(
        m.captures("").await["captures"][0]["correlation_id"],
        "corr-123"
    );
}

#[tokio::test]
async fn generated_data_is_deterministic_for_a_seed() {
    let run = || async {
        let m = spawn(MockKind::Crm, |_| {}).await;
        let (_, c) = m
            .post(
                "/api/v1/campaigns",
                json!({ "name": "November newsletter" }),
            )
            .await;
        let id = c["campaign_id"].as_str().unwrap().to_string();
        m.post("/api/v1/email/send", json!({ "subject": "November news", "html_content": "x", "campaign_id": id, "recipients": ["a@example.com", "b@example.com"] })).await;
        let (_, mut a) = m.get(&format!("/api/v1/campaigns/{id}/analytics")).await;
        a["last_updated"] = Value::Null;
        let (_, subs) = m.get("/api/v1/users/subscribers?limit=3&offset=10").await;
        (id, a, subs)
    };
    let (id1, a1, s1) = run().await;
    let (id2, a2, s2) = run().await;
    assert_eq!(id1, id2);
    assert_eq!(a1, a2);
    assert_eq!(a1["sent"], 2);
    assert_eq!(s1, s2);
    assert_eq!(s1["subscribers"].as_array().unwrap().len(), 3);
    assert_eq!(s1["total"], 900, "active subscribers of the 1000");
    assert_eq!(
        s1["subscribers"][0]["id"], "sub_0011",
        "sub_0009 is unsubscribed"
    );
}

#[tokio::test]
async fn content_lifecycle_and_reset() {
    let m = spawn(MockKind::Platform, |_| {}).await;
    let (status, created) = m
        .post("/api/v1/content/publish", json!({ "title": "Sleep Sessions", "content": "# Body", "content_type": "blog_post", "tags": ["sleep"] }))
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = created["content_id"].as_str().unwrap();
    assert_eq!(created["status"], "published");
    let (_, got) = m.get(&format!("/api/v1/content/{id}")).await;
    assert_eq!(got["title"], "Sleep Sessions");
    let (_, updated) = m
        .put(
            &format!("/api/v1/content/{id}"),
            json!({ "title": "Sleep Sessions, updated" }),
        )
        .await;
    assert_eq!(updated["title"], "Sleep Sessions, updated");
    assert!(updated["updated_at"].is_string());
    let (_, list) = m.get("/api/v1/content?content_type=blog_post").await;
    assert_eq!(list["total"], 1);
    let (status, _) = m
        .post(
            "/api/v1/webhooks/content",
            json!({ "event_type": "content.archived", "content_id": id }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        m.get(&format!("/api/v1/content/{id}")).await.1["status"],
        "archived"
    );
    let (status, a1) = m.get(&format!("/api/v1/analytics/content/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        a1["views"],
        m.get(&format!("/api/v1/analytics/content/{id}")).await.1["views"]
    );
    let (_, stats) = m.get("/api/v1/stats").await;
    assert_eq!(stats["content_published"], 1);
    assert_eq!(
        m.delete(&format!("/api/v1/content/{id}")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        m.get(&format!("/api/v1/content/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
    m.post(
        "/api/v1/content/publish",
        json!({ "title": "Another", "content": "x" }),
    )
    .await;
    let (status, _) = m.delete("/api/v1/test-data").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(m.captures("").await["total"], 0);
}

#[tokio::test]
async fn metrics_are_prometheus_text_labelled_by_route() {
    let m = spawn(MockKind::Crm, |_| {}).await;
    m.post("/api/v1/email/send", email("Metrics please")).await;
    m.post("/api/v1/email/send", email("error please")).await;
    m.get("/api/v1/email/abc/status").await;
    let resp = get(&m.http, format!("{}/metrics", m.base)).await;
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = resp.text().await.unwrap();
    assert!(text.contains("mock_crm_up 1"), "{text}");
    assert!(
        text.contains(
            r#"mock_crm_requests_total{method="POST",route="/api/v1/email/send",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"mock_crm_requests_total{method="POST",route="/api/v1/email/send",status="500"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/email/{message_id}/status",status="404""#),
        "the template, never the raw path: {text}"
    );
    assert!(text.contains(r#"mock_crm_request_duration_seconds_bucket{method="POST",route="/api/v1/email/send",le="+Inf"} 2"#), "{text}");
    assert!(
        text.contains(r#"mock_crm_captured_total{kind="email"} 1"#),
        "{text}"
    );
    assert!(text.contains("mock_crm_simulated_errors_total 1"), "{text}");
    let p = spawn(MockKind::Platform, |_| {}).await;
    let text = get_text(&p.http, format!("{}/metrics", p.base)).await;
    assert!(
        text.contains("mock_platform_up 1") && !text.contains("mock_crm"),
        "{text}"
    );
}

#[tokio::test]
async fn openapi_lists_every_route_and_swagger_ui_is_offline() {
    for (kind, routes) in [
        (MockKind::Crm, halcytone_mocks::crm::FAULT_ROUTES),
        (MockKind::Platform, halcytone_mocks::platform::FAULT_ROUTES),
    ] {
        let m = spawn(kind, |_| {}).await;
        let (status, doc) = m.get("/openapi.json").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(doc["openapi"], "3.1.0");
        let listed =
            |method: &str, path: &str| doc["paths"][path][method.to_lowercase()].is_object();
        for route in routes.iter().chain(
            [
                "PUT /api/v1/faults",
                "GET /api/v1/captures",
                "GET /api/v1/journal",
                "GET /metrics",
                "DELETE /api/v1/test-data",
            ]
            .iter(),
        ) {
            let (method, path) = route.split_once(' ').unwrap();
            assert!(
                listed(method, path),
                "{route} missing from the OpenAPI document"
            );
        }
        let resp = get(&m.http, format!("{}/docs/", m.base)).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let html = resp.text().await.unwrap();
        assert!(html.contains("swagger-ui"), "{html}");
        assert!(!html.contains("https://"), "no outside assets: {html}");
        let init = get_text(&m.http, format!("{}/docs/swagger-initializer.js", m.base)).await;
        assert!(init.contains("/openapi.json"), "{init}");
        let bundle = get(&m.http, format!("{}/docs/swagger-ui-bundle.js", m.base)).await;
        assert_eq!(bundle.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn unknown_routes_and_bad_query_strings_answer_json_and_are_journalled() {
    let m = spawn(MockKind::Crm, |_| {}).await;
    let nope = m.get("/api/v1/nope").await;
    assert_problem(nope, StatusCode::NOT_FOUND, "no such route");
    let bad_limit = m.get("/api/v1/users/subscribers?limit=abc").await;
    assert_problem(bad_limit, StatusCode::UNPROCESSABLE_ENTITY, "limit");
    let (_, journal) = m.get("/api/v1/journal?limit=10").await;
    assert!(
        journal["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["path"] == "/api/v1/nope"),
        "{journal}"
    );
    let (status, _) = m.get("/docs/").await;
    assert_eq!(status, StatusCode::OK, "Swagger UI still served");
}

/// The Graph API the mock Platform plays: a Page post is captured; a bad token, Page id,
/// version or an empty post get the Graph API's error shape with its code.
#[tokio::test]
async fn the_graph_api_page_feed_answers_like_facebook() {
    let m = spawn(MockKind::Platform, |_| {}).await;
    let send = |path: &str, token: &str, body: &str| {
        m.http
            .post(format!("{}{path}", m.base))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body.to_string())
            .send()
    };
    let ok = send(
        "/v21.0/104000000000001/feed",
        "page-token",
        "message=Calm+in+five+minutes&link=https%3A%2F%2Fhalcytone.example%2Fu",
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let body: Value = ok.json().await.unwrap();
    let id = body["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("104000000000001_"), "{body}");
    let (_, captured) = m.get(&format!("/api/v1/captures/{id}")).await;
    assert_eq!(
        captured["request"]["via"], "facebook-graph-api",
        "{captured}"
    );
    assert_eq!(captured["request"]["content"], "Calm in five minutes");
    assert_eq!(captured["request"]["link"], "https://halcytone.example/u");
    for (path, token, body, code) in [
        ("/v21.0/104000000000001/feed", "expired-1", "message=a", 190),
        ("/v21.0/my-page/feed", "t", "message=a", 100),
        ("/v21.0/104000000000001/feed", "t", "message=+", 100),
        ("/latest/104000000000001/feed", "t", "message=a", 2500),
    ] {
        let r = send(path, token, body).await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{path} {token} {body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], code, "{e}");
        assert_eq!(e["error"]["type"], "OAuthException");
    }
}

#[tokio::test]
async fn people_imported_from_csv_join_the_subscriber_list() {
    let m = spawn(MockKind::Crm, |_| {}).await;
    let import = |kind: &'static str, body: &'static str| {
        m.http
            .post(format!("{}/api/v1/subscribers/import", m.base))
            .header("Content-Type", kind)
            .body(body)
            .send()
    };
    let csv = "email,first_name,tags,newsletter_opt_in,plan\n\
        new1@clinic.example,Ann,beta;vip,,pro\n\
        not-an-address,Bob,,,\n\
        new2@clinic.example,Cleo,,no,\n\
        NEW1@clinic.example,Annie,beta,,team\n";
    let r = import("text/csv", csv).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let out: Value = r.json().await.unwrap();
    assert_eq!(out["imported"], 2, "{out}");
    assert_eq!(out["updated"], 1, "{out}");
    assert_eq!(out["refused"], 1, "{out}");
    assert_eq!(out["refusals"][0]["line"], 3, "{out}");
    assert_eq!(out["total"], 1002);

    // Active and opted in: the 772 virtual ones, then Annie (Cleo opted out).
    let (_, subs) = m
        .get("/api/v1/users/subscribers?limit=1000&offset=770&newsletter_opt_in=true")
        .await;
    assert_eq!(subs["total"], 773, "{subs}");
    let last = &subs["subscribers"][2];
    assert_eq!(last["id"], "sub_1000", "{subs}");
    assert_eq!(last["first_name"], "Annie");
    assert_eq!(last["metadata"]["plan"], "team");
    let (_, all) = m
        .get("/api/v1/users/subscribers?status=all&limit=5&offset=1000")
        .await;
    assert_eq!(all["total"], 1002, "{all}");

    let r = import("application/json", "{}").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = import("text/csv", "name\nAnn\n").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("email column"),
        "{body}"
    );
}
