//! Auth walks the route table; keys, scopes, rate limits, CORS and error shapes.

use crate::both_backends;
use crate::helpers::*;
use halcytone_http::auth::Access;
use halcytone_store::Scope;
use reqwest::{Method, StatusCode};

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "unknown-id" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

fn method(m: &str) -> Method {
    Method::from_bytes(m.to_ascii_uppercase().as_bytes()).unwrap()
}

both_backends!(
    every_route_demands_the_scope_its_table_entry_names,
    |app: TestApp| async move {
        let docs = halcytone_http::routes::docs();
        assert!(docs.len() >= 30, "table has {} routes", docs.len());
        for d in &docs {
            let path = concrete(d.path);
            let m = method(d.method);
            let body = if d.method == "get" || d.method == "delete" {
                None
            } else {
                Some("{}")
            };
            let anonymous = app.call(m.clone(), &path, None, body).await;
            match d.access {
                Access::Public => assert_ne!(
                    anonymous.status,
                    StatusCode::UNAUTHORIZED,
                    "{} {path} is public",
                    d.method
                ),
                Access::Key(needed) => {
                    assert_eq!(
                        anonymous.status,
                        StatusCode::UNAUTHORIZED,
                        "{} {path} without a key: {}",
                        d.method,
                        anonymous.text
                    );
                    assert!(anonymous.body["detail"].is_string());
                    let (too_weak, enough) = match needed {
                        Scope::Read => (None, &app.read_key),
                        Scope::Write => (Some(&app.read_key), &app.write_key),
                        Scope::Admin => (Some(&app.write_key), &ADMIN_KEY.to_string()),
                    };
                    if let Some(k) = too_weak {
                        let a = app.call(m.clone(), &path, Some(k), body).await;
                        assert_eq!(
                            a.status,
                            StatusCode::FORBIDDEN,
                            "{} {path} with a weaker key: {}",
                            d.method,
                            a.text
                        );
                    }
                    let a = app.call(m.clone(), &path, Some(enough), body).await;
                    assert!(
                        !matches!(a.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN),
                        "{} {path} with scope {needed:?}: {}",
                        d.method,
                        a.text
                    );
                    assert!(a.status.as_u16() < 500, "{} {path}: {}", d.method, a.text);
                }
                Access::Signed => assert_eq!(
                    anonymous.status,
                    StatusCode::UNAUTHORIZED,
                    "{} {path} unsigned: {}",
                    d.method,
                    anonymous.text
                ),
                Access::PreviewOrWrite => {
                    assert_eq!(
                        anonymous.status,
                        StatusCode::UNAUTHORIZED,
                        "{} {path} publishing without a key",
                        d.method
                    );
                    let preview = app
                        .call(m.clone(), &path, None, Some(r#"{"preview_only":true}"#))
                        .await;
                    assert_eq!(
                        preview.status,
                        StatusCode::OK,
                        "{} {path} preview: {}",
                        d.method,
                        preview.text
                    );
                    let a = app.call(m.clone(), &path, Some(&app.read_key), body).await;
                    assert_eq!(a.status, StatusCode::FORBIDDEN);
                }
            }
        }
    }
);

both_backends!(
    keys_in_quotes_in_x_api_key_and_revoked,
    |app: TestApp| async move {
        let quoted = app
            .http
            .get(format!("{}/api/v2/jobs", app.base))
            .header("Authorization", format!("Bearer \"{}\"", app.read_key))
            .send()
            .await
            .unwrap();
        assert_eq!(quoted.status(), StatusCode::OK);
        let x = app
            .http
            .get(format!("{}/api/v2/jobs", app.base))
            .header("X-API-Key", &app.read_key)
            .send()
            .await
            .unwrap();
        assert_eq!(x.status(), StatusCode::OK);
        let (key, secret) = app
            .store
            .create_api_key("temp", &[Scope::Read], 0)
            .await
            .unwrap();
        assert_eq!(
            app.get("/api/v2/jobs", Some(&secret)).await.status,
            StatusCode::OK
        );
        app.store.revoke_api_key(&key.id, 1).await.unwrap();
        let a = app.get("/api/v2/jobs", Some(&secret)).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
        assert_eq!(a.body["error"]["code"], "invalid_api_key");
        assert_eq!(
            app.get("/api/v2/jobs", Some("wrong")).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answers_429_with_retry_after() {
    let mut c = config();
    c.rate_limit_per_minute = 3;
    let app = spawn_app_with(Backend::Sqlite, c).await.unwrap();
    // Cancelling a job that does not exist is a write (404, but it draws on the budget).
    let cancel = "/api/v2/content/sync/no-such-job";
    for i in 0..3 {
        let a = app.delete(cancel, Some(&app.write_key)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert_eq!(a.headers["ratelimit-limit"], "3");
        assert_eq!(a.headers["x-ratelimit-limit"], "3");
        assert_eq!(a.header("ratelimit-remaining"), (2 - i).to_string());
    }
    let a = app.delete(cancel, Some(&app.write_key)).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.headers["retry-after"], "20");
    assert_eq!(a.headers["ratelimit-remaining"], "0");
    let detail = a.body["detail"].as_str().unwrap();
    assert!(detail.contains("write budget"), "{detail}");
    assert!(detail.contains("3 requests per minute"), "{detail}");
    // Reads have their own budget: the dashboard keeps working while writes wait.
    let r = app.get("/api/v2/jobs", Some(&app.write_key)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["ratelimit-limit"], "600");
    assert_eq!(r.headers["ratelimit-policy"], "600;w=2");
    // Another key has its own allowance; public routes are not limited.
    assert_eq!(
        app.delete(cancel, Some(ADMIN_KEY)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get_as_reader("/health").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_burst_over_a_small_read_budget_gets_429_with_its_headers() {
    let mut c = config();
    c.read_rate_per_second = 1;
    c.read_burst = 5;
    c.rate_limit_per_minute = 1;
    let app = spawn_app_with(Backend::Sqlite, c).await.unwrap();
    // The one write of the minute is spent first; reads do not care.
    let cancel = "/api/v2/content/sync/no-such-job";
    assert_eq!(
        app.delete(cancel, Some(&app.write_key)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(cancel, Some(&app.write_key)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    for _ in 0..5 {
        let a = app.get("/api/v2/jobs", Some(&app.write_key)).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    }
    let a = app.get("/api/v2/jobs", Some(&app.write_key)).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(a.headers["retry-after"], "1");
    assert_eq!(a.headers["ratelimit-limit"], "5");
    assert_eq!(a.headers["ratelimit-remaining"], "0");
    assert!(a.headers.contains_key("ratelimit-reset"));
    assert_eq!(a.body["error"]["code"], "rate_limited");
    assert!(a.body["detail"].as_str().unwrap().contains("read budget"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_preflight_for_the_dashboard() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    for m in ["GET", "POST", "DELETE"] {
        let r = app
            .http
            .request(
                Method::OPTIONS,
                format!("{}/api/v2/content/sync/x", app.base),
            )
            .header("Origin", "http://localhost:3000")
            .header("Access-Control-Request-Method", m)
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type",
            )
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{m}: {}", r.status());
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "http://localhost:3000"
        );
        let allowed = r.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(allowed.contains("authorization") && allowed.contains("content-type"));
    }
    let r = app
        .http
        .get(format!("{}/health", app.base))
        .header("Origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_json_errors_with_string_detail_and_correlation_id() {
    let mut c = config();
    c.max_document_bytes = 4096;
    let app = spawn_app_with(Backend::Sqlite, c).await.unwrap();
    let a = app.sync("{not json").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.body["error"]["code"], "malformed_json");
    let a = app.sync(r#"{"document_id":"d","channels":"email"}"#).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(a.body["error"]["field"], "channels");
    assert!(a.body["detail"].is_string());
    let big = format!(
        r#"{{"document_id":"{}","channels":["email"]}}"#,
        "x".repeat(10_000)
    );
    let a = app.sync(&big).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    let detail = a.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("4096") && detail.contains("MAX_DOCUMENT_BYTES"),
        "{detail}"
    );
    let a = app.get("/api/v2/nothing-here", None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.body["detail"].is_string());
    let a = app.delete("/health", None).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(a.body["detail"].is_string());
    let r = app
        .http
        .get(format!("{}/api/v2/jobs/nope", app.base))
        .header("Authorization", format!("Bearer {}", app.read_key))
        .header("X-Correlation-ID", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["x-correlation-id"], "trace-me-42");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["correlation_id"], "trace-me-42");
    assert_eq!(v["detail"], "job nope not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_is_shed_and_slow_requests_time_out() {
    let mut c = config();
    c.max_concurrent_requests = 1;
    c.request_timeout = std::time::Duration::from_millis(400);
    let app = spawn_app_with(Backend::Sqlite, c).await.unwrap();
    // The mock CRM's /health now takes a second, so /health/detailed outlives the timeout.
    let fault =
        serde_json::json!({ "route": "GET /health", "probability": 0.0, "latency_ms": 1000 });
    app.set_fault(&app.crm, fault).await;
    let slow = {
        let http = app.http.clone();
        let url = format!("{}/health/detailed", app.base);
        tokio::spawn(async move { http.get(url).send().await.unwrap() })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let busy = app.get("/health", None).await;
    assert_eq!(
        busy.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        busy.text
    );
    assert_eq!(busy.headers["retry-after"], "1");
    assert_eq!(busy.body["error"]["code"], "busy");
    let slow = slow.await.unwrap();
    assert_eq!(slow.status(), StatusCode::GATEWAY_TIMEOUT);
    let v: serde_json::Value = slow.json().await.unwrap();
    assert!(v["detail"].as_str().unwrap().contains("longer than"));
    // Once the slot is free again, requests are served.
    assert_eq!(app.get("/health", None).await.status, StatusCode::OK);
}
