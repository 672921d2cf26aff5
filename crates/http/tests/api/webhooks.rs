//! Outbound webhooks end to end: a local listener registered as an endpoint receives the
//! signed messages of a dry-run publish; a failing endpoint is retried with backoff, each
//! attempt in its delivery log; addresses and events are checked when registering.

use crate::helpers::*;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the listener received: headers and body of each request.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver on a free port that answers `fail_first` requests with 500, then 204.
async fn listener(fail_first: usize) -> (String, Received) {
    let got: Received = Arc::default();
    let seen = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let mut all = seen.lock().unwrap();
                all.push((headers, body));
                if all.len() <= fail_first {
                    AxumStatus::INTERNAL_SERVER_ERROR
                } else {
                    AxumStatus::NO_CONTENT
                }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, got)
}

/// The app with the listener's host allowed and quick retries.
async fn app_with_webhooks(retries_ms: &[u64]) -> TestApp {
    let mut c = config();
    c.webhooks.allow_hosts = vec!["127.0.0.1".into()];
    c.webhooks.retry_after = retries_ms
        .iter()
        .map(|ms| Duration::from_millis(*ms))
        .collect();
    spawn_app_with(Backend::Sqlite, c).await.unwrap()
}

async fn register(app: &TestApp, url: &str, events: &[&str]) -> Value {
    let a = app
        .post_json(
            "/api/v2/webhook-endpoints",
            Some(ADMIN_KEY),
            &json!({ "url": url, "events": events }),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    a.body
}

/// Checks a message as a receiver following the specification would: the signature is
/// HMAC-SHA256 under the secret's base64-decoded bytes over `id.timestamp.body`.
fn verify(secret: &str, headers: &HeaderMap, body: &str) -> bool {
    let h = |n: &str| headers[n].to_str().unwrap().to_string();
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{body}", h("webhook-id"), h("webhook-timestamp")).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    h("webhook-signature").split(' ').any(|s| s == expected)
}

/// Waits until the listener has received `n` requests (or 15 s pass).
async fn received(got: &Received, n: usize) -> Vec<(HeaderMap, String)> {
    for _ in 0..300 {
        if got.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    got.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_publish_sends_a_signed_job_completed() {
    let app = app_with_webhooks(&[200]).await;
    let (url, got) = listener(0).await;
    let endpoint = register(&app, &url, &["job.completed", "send.finished"]).await;
    let secret = endpoint["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{endpoint}");
    let job = app.publish(r#"{"channels":["email","website"]}"#).await;
    let all = received(&got, 2).await;
    let kinds: Vec<String> = all
        .iter()
        .map(|(_, b)| {
            serde_json::from_str::<Value>(b).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(kinds.contains(&"job.completed".into()), "{kinds:?}");
    assert!(kinds.contains(&"send.finished".into()), "{kinds:?}");
    for (headers, body) in &all {
        assert!(
            verify(secret, headers, body),
            "the signature verifies: {headers:?}"
        );
        assert_eq!(headers["content-type"], "application/json");
        let ts: i64 = headers["webhook-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
        let v: Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["data"]["job_id"], job["job_id"], "{v}");
    }
    // The log shows each message delivered on its first attempt.
    let id = endpoint["id"].as_str().unwrap();
    let log = app
        .get(
            &format!("/api/v2/webhook-endpoints/{id}/deliveries"),
            Some(ADMIN_KEY),
        )
        .await;
    assert_eq!(log.body["total"], 2, "{}", log.text);
    for d in log.body["deliveries"].as_array().unwrap() {
        assert_eq!(d["state"], "delivered", "{d}");
        assert_eq!(d["attempt_log"][0]["status"], 204, "{d}");
    }
    // A message tampered with does not verify.
    let (headers, body) = &all[0];
    assert!(!verify(
        secret,
        headers,
        &body.replace("completed", "failed")
    ));
    // Rotation: both secrets sign for a while, so the old and the new one verify.
    let rotated = app
        .post(
            &format!("/api/v2/webhook-endpoints/{id}/rotate-secret"),
            Some(ADMIN_KEY),
            "",
        )
        .await;
    let new_secret = rotated.body["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    let message = log.body["deliveries"][0]["message_id"].as_str().unwrap();
    let again = app
        .post(
            &format!("/api/v2/webhook-endpoints/{id}/deliveries/{message}/redeliver"),
            Some(ADMIN_KEY),
            "",
        )
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.text);
    let all = received(&got, 3).await;
    let (headers, body) = &all[2];
    assert_eq!(
        headers["webhook-id"].to_str().unwrap(),
        message,
        "the same message id"
    );
    assert!(verify(&new_secret, headers, body) && verify(secret, headers, body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_endpoint_is_retried_then_marked_failing() {
    let app = app_with_webhooks(&[300, 600]).await;
    // Two failures, then success: three attempts, spaced by the retry schedule.
    let (flaky_url, flaky) = listener(2).await;
    let flaky_ep = register(&app, &flaky_url, &["job.completed"]).await;
    // Never succeeds: given up after the schedule, the endpoint marked failing.
    let (down_url, down) = listener(usize::MAX).await;
    let down_ep = register(&app, &down_url, &["job.completed"]).await;
    let job = app.publish(r#"{"channels":["website"]}"#).await;
    assert_eq!(
        job["status"], "completed",
        "a failing endpoint never holds the job"
    );
    let tries = received(&flaky, 3).await;
    assert_eq!(tries.len(), 3);
    let ids: Vec<&str> = tries
        .iter()
        .map(|(h, _)| h["webhook-id"].to_str().unwrap())
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "each retry is the same message: {ids:?}"
    );
    assert_eq!(received(&down, 3).await.len(), 3);
    let read = |ep: &Value| {
        let id = ep["id"].as_str().unwrap().to_string();
        let app = &app;
        async move {
            for _ in 0..100 {
                let log = app
                    .get(
                        &format!("/api/v2/webhook-endpoints/{id}/deliveries"),
                        Some(ADMIN_KEY),
                    )
                    .await;
                let d = log.body["deliveries"][0].clone();
                if d["state"] != "pending" {
                    let ep = app
                        .get(&format!("/api/v2/webhook-endpoints/{id}"), Some(ADMIN_KEY))
                        .await;
                    return (d, ep.body);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("the delivery to {id} never settled");
        }
    };
    let (d, ep) = read(&flaky_ep).await;
    assert_eq!(d["state"], "delivered", "{d}");
    let statuses: Vec<&Value> = d["attempt_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status"])
        .collect();
    assert_eq!(statuses, [&json!(500), &json!(500), &json!(204)], "{d}");
    assert_eq!(ep["failing"], false);
    let (d, ep) = read(&down_ep).await;
    assert_eq!(d["state"], "failed", "{d}");
    assert_eq!(d["attempts"], 3, "the first attempt and two retries: {d}");
    assert_eq!(d["last_error"], "answered 500 Internal Server Error", "{d}");
    assert_eq!(ep["failing"], true, "{ep}");
    assert_eq!(ep["last_error"], "answered 500 Internal Server Error");
    // Backoff: the attempts are at least the scheduled waits apart.
    let at = |i: usize| {
        chrono::DateTime::parse_from_rfc3339(d["attempt_log"][i]["at"].as_str().unwrap()).unwrap()
    };
    assert!((at(1) - at(0)).num_milliseconds() >= 300, "{d}");
    assert!((at(2) - at(1)).num_milliseconds() >= 600, "{d}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_are_checked_when_registered() {
    let app = app_with_webhooks(&[200]).await;
    let refused = [
        (
            json!({"url": "http://10.0.0.7/hook", "events": ["job.completed"]}),
            "url",
        ),
        (
            json!({"url": "http://localhost:9/hook", "events": ["job.completed"]}),
            "url",
        ),
        (
            json!({"url": "ftp://127.0.0.1/hook", "events": ["job.completed"]}),
            "url",
        ),
        // Dry run: a public host not listed is refused too.
        (
            json!({"url": "https://93.184.215.14/hook", "events": ["job.completed"]}),
            "url",
        ),
        (
            json!({"url": "http://127.0.0.1:9/hook", "events": ["job.done"]}),
            "events[0]",
        ),
        (
            json!({"url": "http://127.0.0.1:9/hook", "events": []}),
            "events",
        ),
        (json!({"url": "http://127.0.0.1:9/hook"}), "body"),
    ];
    for (body, field) in refused {
        let a = app
            .post_json("/api/v2/webhook-endpoints", Some(ADMIN_KEY), &body)
            .await;
        a.assert_invalid_field(field, &body);
    }
    let a = app
        .get("/api/v2/webhook-endpoints", Some(&app.write_key))
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "admin only: {}", a.text);
    let ep = register(&app, "http://127.0.0.1:9/hook", &["job.failed"]).await;
    let listed = app.get("/api/v2/webhook-endpoints", Some(ADMIN_KEY)).await;
    assert_eq!(listed.body["total"], 1);
    assert!(
        !listed.text.contains("whsec_"),
        "a secret is shown once only"
    );
    let id = ep["id"].as_str().unwrap();
    let gone = app
        .delete(&format!("/api/v2/webhook-endpoints/{id}"), Some(ADMIN_KEY))
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let again = app
        .get(&format!("/api/v2/webhook-endpoints/{id}"), Some(ADMIN_KEY))
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}
