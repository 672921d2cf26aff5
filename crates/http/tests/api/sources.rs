//! Living-document sources through the API: a per-request `document_id` with a source prefix
//! really selects the document; the URL source's address guard; failures are errors with
//! the reason, never sample text.

use crate::helpers::{
    Answer, Backend, TestApp, config, notion_app_page, notion_config, notion_query, notion_results,
    spawn_app_with,
};
use reqwest::StatusCode;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DOC: &str = "# From the URL\n\n## [Breathscape] Recent Updates\n\n### Fetched over HTTP\n- **Date:** 2026-11-20\n- **Content:** This item only exists on the wiremock server, so seeing it proves the URL source was read.\n";

/// A preview (nothing published) of the document `document_id`, with the read key.
async fn preview_of(app: &TestApp, document_id: &str) -> Answer {
    let body = format!(r#"{{"preview_only": true, "document_id": "{document_id}"}}"#);
    app.post("/api/v2/generate-content", Some(&app.read_key), &body)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_documents_are_refused_on_private_addresses_by_default() {
    let app = spawn_app_with(Backend::Sqlite, config()).await.unwrap();
    for target in [
        "http://127.0.0.1:9/doc.md",
        "http://10.1.2.3/doc.md",
        "http://169.254.169.254/latest",
    ] {
        let a = preview_of(&app, &format!("url:{target}")).await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{target}: {}",
            a.text
        );
        assert_eq!(a.body["error"]["field"], "document_id");
        assert!(
            a.text.contains("127.0.0.1")
                || a.text.contains("10.1.2.3")
                || a.text.contains("169.254"),
            "{}",
            a.text
        );
    }
    // An id without a source prefix is a clear 422 too.
    let a = preview_of(&app, "weekly").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_document_is_fetched_when_private_addresses_are_allowed() {
    let server = MockServer::start().await;
    // A plain web server serving the Markdown file as text/markdown.
    Mock::given(method("GET"))
        .and(path("/living.md"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/markdown")
                .set_body_string(DOC),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/gone.md"))
        .respond_with(ResponseTemplate::new(404).set_body_string("not here"))
        .mount(&server)
        .await;
    let mut c = config();
    c.sources.url_allow_private = true;
    let app = spawn_app_with(Backend::Sqlite, c).await.unwrap();
    let a = preview_of(&app, &format!("url:{}/living.md", server.uri())).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(a.text.contains("Fetched over HTTP"), "{}", a.text);
    assert!(
        !a.text.contains("Sleep Sessions"),
        "not the configured sample"
    );
    // A sync job with the same id stores the fetched snapshot and publishes it.
    let job = app
        .sync(&format!(
            r#"{{"document_id": "url:{}/living.md", "channels": ["website"]}}"#,
            server.uri()
        ))
        .await;
    assert_eq!(job.status, StatusCode::ACCEPTED, "{}", job.text);
    let done = app.wait_job(job.body["job_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    let posts = app.captures(&app.platform, "content").await;
    assert!(
        posts
            .iter()
            .any(|p| p.to_string().contains("Fetched over HTTP")),
        "{posts:?}"
    );
    // A source that fails is a 502 with the reason, not sample content.
    let a = preview_of(&app, &format!("url:{}/gone.md", server.uri())).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{}", a.text);
    assert!(a.text.contains("404"), "{}", a.text);
    assert_eq!(a.body["error"]["code"], "source_failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_notion_database_is_the_living_document() {
    let server = MockServer::start().await;
    // Notion's POST /v1/databases/{id}/query answers {object: "list", results: [page…],
    // has_more, next_cursor}; each page carries typed properties.
    let page = notion_app_page(
        "2026-11-18T09:00:00.000Z",
        "Notion says hello",
        "This update was written in a Notion database and fetched through the API.",
        "2026-11-18",
    );
    notion_query("db123")
        .and(header("authorization", "Bearer secret_notion_test"))
        .respond_with(notion_results(&[page]))
        .mount(&server)
        .await;
    let mut c = notion_config(&server, "secret_notion_test");
    c.document = halcytone_http::DocumentSource::Remote(
        halcytone_sources::SourceRef::configured("notion", "db123").unwrap(),
    );
    let app = spawn_app_with(Backend::Sqlite, c).await.unwrap();
    let a = app.get_as_reader("/api/v1/preview").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(a.text.contains("Notion says hello"), "{}", a.text);
    let s = app.get_as_reader("/api/v1/status").await;
    assert!(s.text.contains("notion:db123"), "{}", s.text);
}
