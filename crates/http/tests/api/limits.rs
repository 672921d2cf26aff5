//! Request budgets at the edge: the key is judged before the body, each route's body limit
//! is named in its 413, content generation stops at its time budget with 503 and
//! `Retry-After`, and nothing a refused request sent is stored.

use crate::helpers::*;
use reqwest::StatusCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends `head` and the first bytes of a body announced longer, then stops writing; returns
/// the status line the server answered.
async fn truncated_request(base: &str, head: &str, sent: &str) -> String {
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(sent.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_and_a_truncated_body_on_a_key_only_route_is_401() {
    let app = spawn_app_with(Backend::Sqlite, config()).await.unwrap();
    let head = "POST /api/v2/content/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n";
    let status = truncated_request(&app.base, head, "{\"document\": \"## [Tips").await;
    assert!(status.contains(" 401 "), "{status}");
    assert_eq!(app.jobs_count().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_and_a_publish_request_with_a_wrongly_typed_field_is_401() {
    let app = spawn_app_with(Backend::Sqlite, config()).await.unwrap();
    for path in ["/api/v1/generate-content", "/api/v2/generate-content"] {
        for body in [
            r#"{"send_email": "yes please"}"#,
            r#"{"preview_only": false, "tone": 7}"#,
            r#"{"preview_only": "true"}"#,
            "{not json",
        ] {
            let a = app.post(path, None, body).await;
            assert_eq!(
                a.status,
                StatusCode::UNAUTHORIZED,
                "{path} {body}: {}",
                a.text
            );
            assert_eq!(a.body["error"]["code"], "missing_api_key");
        }
        // A preview still needs no key, and its fields are judged as before.
        let a = app
            .post(path, None, r#"{"preview_only": true, "tone": 7}"#)
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
        assert_eq!(a.body["error"]["field"], "tone");
        // With a key, a wrongly typed field is the caller's mistake, named.
        let a = app
            .post(
                path,
                Some(&app.write_key),
                r#"{"send_email": "yes please"}"#,
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
        assert_eq!(a.body["error"]["field"], "send_email");
    }
    assert_eq!(app.jobs_count().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generation_over_its_time_budget_is_stopped_with_503_and_retry_after() {
    let mut c = config();
    c.generation_timeout = Duration::from_millis(1);
    let app = spawn_app_with(Backend::Sqlite, c).await.unwrap();
    let words = "slow breathing sensor update ".repeat(8_000);
    let body = serde_json::json!({
        "preview_only": true,
        "document": format!("## [Tips] Tips\n\n### One long item\n\n{words}\n"),
    });
    let a = app
        .post("/api/v2/generate-content", None, &body.to_string())
        .await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text);
    assert_eq!(a.body["error"]["code"], "generation_timeout");
    assert!(a.headers.contains_key("retry-after"));
    let detail = a.body["detail"].as_str().unwrap();
    assert!(detail.contains("GENERATION_TIMEOUT_SECONDS"), "{detail}");
    app.assert_metric("halcytone_content_generation_timeouts_total 1")
        .await;
    // The service still answers.
    assert_eq!(app.get("/health", None).await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_route_names_its_own_body_limit() {
    let mut c = config();
    c.max_document_bytes = 64 * 1024;
    c.max_body_bytes = 2048;
    let app = spawn_app_with(Backend::Sqlite, c).await.unwrap();
    let doc = "x".repeat(70 * 1024);
    let a = app
        .post_json(
            "/api/v2/generate-content",
            None,
            &serde_json::json!({ "preview_only": true, "document": doc }),
        )
        .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);
    let detail = a.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("65536") && detail.contains("MAX_DOCUMENT_BYTES"),
        "{detail}"
    );
    // A route without a document has the smaller limit, named as such.
    let a = app
        .post_json(
            "/api/v2/schedules",
            Some(&app.write_key),
            &serde_json::json!({ "name": "x".repeat(4096) }),
        )
        .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap()
            .contains("MAX_BODY_BYTES")
    );
    assert_eq!(app.jobs_count().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_with_its_own_budget_is_held_to_it() {
    let app = spawn_app_with(Backend::Sqlite, config()).await.unwrap();
    let (key, secret) = app
        .store
        .create_api_key("script", &[halcytone_store::Scope::Write], 1)
        .await
        .unwrap();
    let limits = halcytone_store::KeyLimits {
        writes_per_minute: Some(1),
        reads_per_second: Some(0),
        read_burst: None,
    };
    assert!(
        app.store
            .set_api_key_limits(&key.id, &limits)
            .await
            .unwrap()
    );
    let cancel = "/api/v2/content/sync/no-such-job";
    let a = app.delete(cancel, Some(&secret)).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.headers["ratelimit-limit"], "1");
    let a = app.delete(cancel, Some(&secret)).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS, "{}", a.text);
    // Its reads are unlimited: no budget, no headers.
    let r = app.get("/api/v2/jobs", Some(&secret)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.headers.contains_key("ratelimit-limit"));
    // Other keys keep the service's budgets.
    let w = app.delete(cancel, Some(&app.write_key)).await;
    assert_eq!(w.headers["ratelimit-limit"], "3000");
}
