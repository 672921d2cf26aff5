//! The checks of captured emails over real HTTP: a message with an image without alt text, a
//! link that answers 404 on an allowed host and a 120 KB body shows those findings at
//! `GET /api/v1/messages/{id}/checks`, in the inbox JSON and on the inbox page; a host that
//! is not allowed is never asked; the background checker checks captures nobody looked at.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode as AxumStatus;
use axum::routing::get;
use halcytone_mocks::state::{MockConfig, MockKind};
use halcytone_mocks::store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;

use halcytone_testkit::http::{get_json, get_text};

/// A site on a random port: `/ok` answers 200, anything else 404; it counts requests.
async fn site() -> (String, Arc<AtomicUsize>, tokio::sync::oneshot::Sender<()>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = axum::Router::new()
        .route("/ok", get(|| async { "fine" }))
        .fallback(|| async { (AxumStatus::NOT_FOUND, "no such page") })
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    next.run(req).await
                }
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    (addr, hits, tx)
}

fn flawed(site: &str) -> Value {
    let filler =
        "<p>Calm breathing, steady pacing, a quiet week of small releases.</p>\n".repeat(1_800);
    json!({
        "subject": "Weekly notes",
        "html_content": format!(
            "<html><body><h1>Weekly notes</h1>\
             <img src=\"https://images.example/hero.png\" width=\"600\">\
             <a href=\"http://{site}/missing\">The release notes</a> \
             <a href=\"http://{site}/ok\">Our guide</a> \
             <a href=\"https://elsewhere.example/never-asked\">Elsewhere</a>{filler}</body></html>"
        ),
        "text_content": "Weekly notes in plain text.",
        "campaign_id": "camp-checks",
        "recipients": ["reader@example.com"],
        "sender_email": "noreply@halcytone.com",
    })
}

#[tokio::test]
async fn a_flawed_message_shows_its_findings_in_checks_and_in_the_inbox() {
    let (site, hits, _stop_site) = site().await;
    let mut config = MockConfig::new(MockKind::Crm);
    config.link_hosts = vec![site.clone()];
    let state = halcytone_mocks::state(MockKind::Crm, config, Store::in_memory().await.unwrap())
        .await
        .unwrap();
    let served = common::serve_app(state).await;
    let http = reqwest::Client::new();
    let body = flawed(&site);
    let html_len = body["html_content"].as_str().unwrap().len();
    assert!(html_len > 120 * 1024, "{html_len}");
    let id = common::send_email(&http, &served.base, &body).await;

    let resp = halcytone_testkit::http::get(
        &http,
        format!("{}/api/v1/messages/{id}/checks", served.base),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let checks: Value = resp.json().await.unwrap();
    assert_eq!(checks["id"], json!(id));

    // The image without alt text.
    let images = checks["images"].as_array().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["alt_present"], json!(false));
    assert_eq!(images[0]["level"], json!("error"));
    assert_eq!(images[0]["width"], json!("600"));

    // The links: 404 on the allowed host, 200 there, and a host never asked.
    let links = checks["links"].as_array().unwrap();
    let by_url = |needle: &str| {
        links
            .iter()
            .find(|l| l["url"].as_str().unwrap().contains(needle))
            .unwrap()
            .clone()
    };
    let missing = by_url("/missing");
    assert_eq!(missing["status"], json!("broken"));
    assert_eq!(missing["http_status"], json!(404));
    assert_eq!(missing["level"], json!("error"));
    assert_eq!(by_url("/ok")["status"], json!("ok"));
    let elsewhere = by_url("elsewhere.example");
    assert_eq!(elsewhere["status"], json!("unchecked"));
    assert!(
        elsewhere["detail"]
            .as_str()
            .unwrap()
            .contains("LINK_CHECK_ALLOW_HOSTS")
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "only the allowed host was asked"
    );

    // The size, against Gmail's clipping.
    assert_eq!(checks["size_bytes"]["html_bytes"], json!(html_len));
    assert_eq!(checks["size_bytes"]["gmail_clips"], json!(true));
    assert_eq!(checks["size_bytes"]["level"], json!("warning"));

    // The spam score and the compatibility data it was checked against.
    assert!(checks["spam"]["score"].is_number());
    assert_eq!(checks["spam"]["threshold"], json!(5.0));
    assert_eq!(
        checks["html_compatibility"]["data"]["licence"],
        json!("MIT")
    );
    assert!(checks["html_compatibility"]["findings"].is_array());
    assert_eq!(checks["worst"]["level"], json!("error"));
    assert!(checks["counts"]["error"].as_u64().unwrap() >= 2);

    // Stored: asking again asks no host again and answers the same report.
    let again = get_json(
        &http,
        format!("{}/api/v1/messages/{id}/checks", served.base),
    )
    .await;
    assert_eq!(again["checked_at"], checks["checked_at"]);
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // The inbox JSON and page show the worst finding.
    let list = get_json(&http, format!("{}/api/v1/messages", served.base)).await;
    let worst = &list["messages"][0]["worst_finding"];
    assert_eq!(worst["level"], json!("error"));
    assert_eq!(worst["errors"], checks["counts"]["error"]);
    assert_eq!(worst["warnings"], checks["counts"]["warning"]);
    let page = get_text(&http, format!("{}/", served.base)).await;
    assert!(page.contains("badge badge-error"), "{page}");
    assert!(
        page.contains("error(s),"),
        "the counts beside the worst finding: {page}"
    );
    let tab = get_text(&http, format!("{}/messages/{id}?tab=checks", served.base)).await;
    for shown in ["missing", "answered 404", "Gmail clips", "Spam score"] {
        assert!(tab.contains(shown), "{shown}");
    }
}

#[tokio::test]
async fn checks_of_an_unknown_message_are_a_404() {
    let state = halcytone_mocks::state(
        MockKind::Crm,
        MockConfig::new(MockKind::Crm),
        Store::in_memory().await.unwrap(),
    )
    .await
    .unwrap();
    let served = common::serve_app(state).await;
    let resp = reqwest::get(format!("{}/api/v1/messages/nope/checks", served.base))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let body: Value = resp.json().await.unwrap();
    assert!(body.to_string().contains("Message not found"), "{body}");
}

#[tokio::test]
async fn the_background_checker_checks_captures_nobody_asked_about() {
    let store = Store::in_memory().await.unwrap();
    let state = halcytone_mocks::state(MockKind::Crm, MockConfig::new(MockKind::Crm), store)
        .await
        .unwrap();
    let served = common::serve_app(state.clone()).await;
    let http = reqwest::Client::new();
    let mut body = flawed("127.0.0.1:9");
    body["html_content"] = json!("<p>Short and sweet</p><img src=\"x.png\">");
    let id = common::send_email(&http, &served.base, &body).await;
    let seq = state
        .store
        .get(Some("email"), &id)
        .await
        .unwrap()
        .unwrap()
        .seq;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(stored) = state.store.checks(seq).await.unwrap() {
            assert_eq!(stored.report["worst"]["level"], json!("error"));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never checked");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
