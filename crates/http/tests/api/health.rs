//! Health family, metrics, root, OpenAPI and docs.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::Value;

both_backends!(
    health_reports_every_check_and_accepts_any_bearer,
    |app: TestApp| async move {
        // The dashboard validates a key by GET /health: any key, even a wrong one, gets 2xx.
        let a = app.get("/health", Some("not-a-real-key")).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["status"], "healthy");
        for f in ["timestamp", "service", "version", "environment"] {
            assert!(a.body[f].is_string(), "{f}: {}", a.text);
        }
        assert!(a.body["uptime"].is_number() && a.body["uptime_seconds"].is_number());
        for check in ["database", "migrations", "crm", "platform"] {
            assert_eq!(
                a.body["checks"][check]["status"], "pass",
                "{check}: {}",
                a.text
            );
            assert!(a.body["checks"][check]["latency_ms"].is_number());
            assert!(a.body["checks"][check]["message"].is_string());
        }
    }
);

both_backends!(
    detailed_ready_live_startup_and_component_checks,
    |app: TestApp| async move {
        let a = app.get("/health/detailed", None).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(
            a.body["checks"]["crm"]["status"], "pass",
            "mock CRM answered: {}",
            a.text
        );
        assert_eq!(a.body["checks_failed"], 0);
        let a = app.get("/ready", None).await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body["ready"], true);
        for path in ["/live", "/liveness"] {
            let a = app.get(path, None).await;
            assert_eq!(a.status, StatusCode::OK);
            assert_eq!(a.body["alive"], true);
            assert!(a.body["pid"].is_number());
        }
        let a = app.get("/startup", None).await;
        assert_eq!(a.body["started"], true);
        let a = app.post("/health/check/database", None, "").await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.body["component"], "database");
        assert_eq!(a.body["status"], "pass");
        let a = app.post("/health/check/flux-capacitor", None, "").await;
        assert_eq!(a.status, StatusCode::NOT_FOUND);
        assert!(
            a.body["detail"]
                .as_str()
                .unwrap()
                .contains("database, migrations")
        );
    }
);

both_backends!(
    metrics_speak_prometheus_and_json,
    |app: TestApp| async move {
        app.get("/health", None).await;
        let a = app.get("/metrics", None).await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.header("content-type").starts_with("text/plain"));
        assert!(a.text.contains("http_requests_total{service=\"halcytone\",method=\"GET\",route=\"/health\",status=\"200\"}"), "{}", a.text);
        assert!(a.text.contains("http_request_duration_seconds_bucket{service=\"halcytone\",method=\"GET\",route=\"/health\",le=\"0.005\"}"));
        assert!(a.text.contains("halcytone_dry_run_mode 1"));
        assert!(a.text.contains("halcytone_jobs{status=\"pending\"} 0"));
        // The dashboard sends Content-Type: application/json on a GET and reads JSON.
        let a = app
            .call(reqwest::Method::GET, "/metrics", None, Some(""))
            .await;
        for f in [
            "requests_per_second",
            "avg_response_time_ms",
            "error_rate",
            "requests_total",
            "active_jobs",
            "queue_size",
            "cache_hit_rate",
        ] {
            assert!(a.body[f].is_number(), "{f}: {}", a.text);
        }
        assert!(a.body["requests_total"].as_u64().unwrap() >= 2);
    }
);

both_backends!(root_openapi_and_docs, |app: TestApp| async move {
    let a = app.get("/", None).await;
    assert_eq!(a.body["status"], "operational");
    let a = app.get("/openapi.json", None).await;
    assert_eq!(a.body["openapi"], "3.1.0");
    let paths = a.body["paths"].as_object().unwrap();
    for d in halcytone_http::routes::docs() {
        assert!(
            paths.get(d.path).and_then(|p| p.get(d.method)).is_some(),
            "{} {} missing from OpenAPI",
            d.method,
            d.path
        );
    }
    let docs = app
        .http
        .get(format!("{}/docs/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let v: Value = a.body;
    assert!(v["components"]["securitySchemes"]["bearer"].is_object());
});

both_backends!(
    metrics_count_generation_publishing_and_the_queue,
    |app: TestApp| async move {
        let a = app.sync(r#"{"channels":["email","website"]}"#).await;
        app.wait_job(a.body["job_id"].as_str().unwrap()).await;
        let m = app.get("/metrics", None).await.text;
        let value = |series: &str| -> f64 {
            m.lines()
                .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
                .and_then(|l| l.rsplit(' ').next())
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{series} missing from:\n{m}"))
        };
        assert!(value("halcytone_content_generated_total{channel=\"email\"}") >= 1.0);
        assert!(value("halcytone_content_generation_duration_seconds_count") >= 1.0);
        assert!(value("halcytone_publish_total{channel=\"email\",outcome=\"success\"}") >= 1.0);
        assert!(value("halcytone_publish_total{channel=\"web\",outcome=\"success\"}") >= 1.0);
        assert!(value("halcytone_publish_duration_seconds_count{channel=\"web\"}") >= 1.0);
        assert_eq!(value("halcytone_job_queue_lag_seconds"), 0.0);
        assert_eq!(value("halcytone_jobs{status=\"completed\"}"), 1.0);
        assert!(value("halcytone_build_info{version=\"0.1.0\",service=\"halcytone\"}") == 1.0);
        assert!(value("process_start_time_seconds") > 1.7e9);
        if cfg!(target_os = "linux") {
            assert!(value("process_resident_memory_bytes") > 1e6);
            assert!(value("process_open_fds") > 3.0);
            assert!(value("process_cpu_seconds_total") > 0.0);
        }
    }
);

#[tokio::test]
async fn answers_are_compressed_when_the_client_asks() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    for (accept, expected) in [
        ("gzip", Some("gzip")),
        ("br", Some("br")),
        ("identity", None),
    ] {
        let resp = app
            .http
            .get(format!("{}/openapi.json", app.base))
            .header("accept-encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let got = resp
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(got.as_deref(), expected, "Accept-Encoding: {accept}");
        let body = resp.bytes().await.unwrap();
        if expected.is_some() {
            // The document is large and repetitive: far smaller compressed.
            assert!(body.len() < 40_000, "{accept}: {} bytes", body.len());
        } else {
            assert!(serde_json::from_slice::<Value>(&body).is_ok());
        }
    }
}
