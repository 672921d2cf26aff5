//! One publish makes one connected trace: the API's server span, the job run, each channel's
//! publish, and every upstream call, exported as OTLP/HTTP JSON to a stub collector, with the
//! trace context carried to the mock CRM and Platform in `traceparent`.
//! The exporter is the official opentelemetry-otlp one; this checks what reaches a collector.
//! (nextest runs each test in its own process, so the global exporter is this test's alone.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use axum::Json;
use axum::routing::post;
use halcytone_testkit::http::get_json;
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// A stub OTLP/HTTP collector: keeps every span it is sent.
async fn collector() -> (String, Arc<Mutex<Vec<Value>>>) {
    let spans: Arc<Mutex<Vec<Value>>> = Arc::default();
    let keep = spans.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |Json(body): Json<Value>| {
            let keep = keep.clone();
            async move {
                for rs in body["resourceSpans"].as_array().into_iter().flatten() {
                    assert_eq!(
                        attr(&rs["resource"], "service.name").unwrap()["stringValue"],
                        "halcytone-test"
                    );
                    for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                        keep.lock()
                            .unwrap()
                            .extend(ss["spans"].as_array().cloned().unwrap_or_default());
                    }
                }
                Json(serde_json::json!({}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, spans)
}

fn attr<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_publish_is_one_connected_trace_reaching_the_mocks() {
    let (endpoint, spans) = collector().await;
    halcytone_telemetry::init(&endpoint, "halcytone-test").unwrap();
    let app = helpers::spawn_app(helpers::Backend::Sqlite).await.unwrap();
    let mut events = app.state.job_events.subscribe();
    let a = app.sync(r#"{"channels":["email","website"]}"#).await;
    let correlation = a.headers["x-correlation-id"].to_str().unwrap().to_string();
    let id = a.body["job_id"].as_str().unwrap().to_string();
    let job = app.wait_job(&id).await;
    assert_eq!(job["status"], "completed");
    // The worker announces the end of a job once its run (and the run's span) is over.
    loop {
        let e = tokio::time::timeout(std::time::Duration::from_secs(10), events.recv())
            .await
            .expect("the job's end is announced")
            .unwrap();
        if e.job_id == id && e.status.is_terminal() {
            break;
        }
    }
    halcytone_telemetry::shutdown().await;
    let spans = spans.lock().unwrap().clone();
    let named =
        |name: &str| -> Vec<&Value> { spans.iter().filter(|s| s["name"] == name).collect() };

    let server = named("POST /api/v2/content/sync");
    assert_eq!(server.len(), 1, "{spans:#?}");
    let server = server[0];
    assert_eq!(server["kind"], 2);
    assert_eq!(
        attr(server, "correlation_id").unwrap()["stringValue"],
        correlation.as_str()
    );
    let trace = server["traceId"].as_str().unwrap();
    assert_eq!(trace.len(), 32);

    let run = named("job run");
    assert_eq!(run.len(), 1);
    assert_eq!(
        run[0]["traceId"], trace,
        "the job joins the request's trace"
    );
    assert_eq!(run[0]["parentSpanId"], server["spanId"]);

    for channel in ["email", "web"] {
        let publish = named(&format!("publish {channel}"));
        assert_eq!(publish.len(), 1, "publish {channel}");
        assert_eq!(publish[0]["parentSpanId"], run[0]["spanId"]);
        let calls: Vec<&Value> = spans
            .iter()
            .filter(|s| s["parentSpanId"] == publish[0]["spanId"])
            .collect();
        assert!(!calls.is_empty(), "upstream calls under publish {channel}");
        for c in &calls {
            assert_eq!(c["kind"], 3);
            assert_eq!(c["traceId"], trace);
            assert!(attr(c, "http.response.status_code").is_some());
        }
    }
    // The mocks saw the same trace in `traceparent`.
    for mock in [&app.crm, &app.platform] {
        let journal: Value =
            get_json(&app.http, mock.join("api/v1/journal?limit=100").unwrap()).await;
        let seen: Vec<&str> = journal["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["traceparent"].as_str())
            .collect();
        assert!(seen.iter().any(|t| t.contains(trace)), "{mock}: {seen:?}");
    }
}
