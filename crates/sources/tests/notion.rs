#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Notion against a wiremock imitation of the Notion API (version 2022-06-28).

use std::time::Duration;

use halcytone_content::Category;

mod common;

use common::{assert_not_configured, fetch_error, section_titles};
use halcytone_sources::{
    FetchedFormat, SourceError, SourceKind, SourceRef, SourceSettings, Sources,
};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Match, Mock, MockBuilder, MockServer, Request, ResponseTemplate};

const DB: &str = "0123456789abcdef0123456789abcdef";
const KEY: &str = "ntn_test_integration_token";

/// The first query carries no `start_cursor`.
struct NoStartCursor;

impl Match for NoStartCursor {
    fn matches(&self, request: &Request) -> bool {
        serde_json::from_slice::<Value>(&request.body)
            .map(|b| b.get("start_cursor").is_none())
            .unwrap_or(false)
    }
}

fn rich(kind: &str, text: &str) -> Value {
    json!({"id": "p", "type": kind, kind: [{
        "type": "text",
        "text": {"content": text, "link": null},
        "annotations": {"bold": false, "italic": false, "strikethrough": false, "underline": false, "code": false, "color": "default"},
        "plain_text": text,
        "href": null
    }]})
}

fn select(name: &str) -> Value {
    json!({"id": "s", "type": "select", "select": {"id": "o", "name": name, "color": "blue"}})
}

/// A database page as the query returns it: `{"object":"page","id","created_time",
/// "archived","properties":{Name: {type:"title",title:[{plain_text…}]}, Content:
/// {type:"rich_text",…}, Category: {type:"select",select:{name}}, Date: {type:"date",
/// date:{start,end,time_zone}}, Featured: {type:"checkbox",…}, Priority: {type:"number",…}}}`.
fn page(created: &str, props: Value) -> Value {
    json!({
        "object": "page",
        "id": "2f0a7c3e-0000-4000-8000-000000000001",
        "created_time": created,
        "last_edited_time": created,
        "archived": false,
        "in_trash": false,
        "parent": {"type": "database_id", "database_id": DB},
        "url": "https://www.notion.so/x",
        "properties": props
    })
}

fn date(start: &str) -> Value {
    json!({"id": "d", "type": "date", "date": {"start": start, "end": null, "time_zone": null}})
}

/// A query answer: `{"object":"list","results":[page…],"next_cursor":…,"has_more":…,
/// "type":"page_or_database","page_or_database":{}}`.
fn list(results: Vec<Value>, next: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "object": "list",
        "results": results,
        "next_cursor": next,
        "has_more": next.is_some(),
        "type": "page_or_database",
        "page_or_database": {}
    }))
}

/// A "retrieve a database" request for database `id`.
fn database_read(id: &str) -> MockBuilder {
    Mock::given(method("GET")).and(path(format!("/v1/databases/{id}").as_str()))
}

fn settings(server: &MockServer) -> SourceSettings {
    SourceSettings {
        notion_api_key: Some(KEY.into()),
        notion_base_url: server.uri(),
        timeout: Duration::from_secs(5),
        ..SourceSettings::default()
    }
}

#[tokio::test]
async fn two_result_pages_become_the_authoring_format() {
    let server = MockServer::start().await;
    let query = format!("/v1/databases/{DB}/query");
    Mock::given(method("POST"))
        .and(path(query.as_str()))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("notion-version", "2022-06-28"))
        .and(body_partial_json(json!({
            "sorts": [{"timestamp": "created_time", "direction": "descending"}],
            "page_size": 100
        })))
        .and(NoStartCursor)
        .respond_with(list(
            vec![
                page(
                    "2026-11-18T09:00:00.000Z",
                    json!({
                        "Name": rich("title", "Sleep Sessions arrive"),
                        "Content": rich("rich_text", "Sleep Sessions are here.\n\nFind them under Evening."),
                        "Category": select("Breathscape"),
                        "Date": date("2026-11-18"),
                        "Featured": {"id": "f", "type": "checkbox", "checkbox": true},
                        "Priority": {"id": "n", "type": "number", "number": 1},
                        "Content Type": select("Announcement")
                    }),
                ),
                page(
                    "2026-11-16T09:00:00.000Z",
                    json!({
                        "Name": rich("title", "The physiological sigh"),
                        "Content": rich("rich_text", "Two breaths in, one long breath out."),
                        "Category": select("Wellness tips"),
                        "Featured": {"id": "f", "type": "checkbox", "checkbox": false}
                    }),
                ),
                // Neither title nor content: skipped.
                page("2026-11-15T09:00:00.000Z", json!({"Category": select("Hardware")})),
            ],
            Some("cursor-2"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(query.as_str()))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("notion-version", "2022-06-28"))
        .and(body_partial_json(
            json!({"start_cursor": "cursor-2", "page_size": 100}),
        ))
        .respond_with(list(
            vec![
                page(
                    "2026-11-11T09:00:00.000Z",
                    json!({
                        "Title": rich("title", "Sensor v3 reaches nine days"),
                        "Description": rich("rich_text", "Firmware samples less while you sleep."),
                        "Type": select("Device"),
                        "Date": date("2026-11-11T08:30:00.000+00:00")
                    }),
                ),
                page(
                    "2026-11-03T09:00:00.000Z",
                    json!({
                        "Name": rich("title", ""),
                        "Content": rich("rich_text", "Calm is a skill anyone can practise."),
                        "Category": select("Mission")
                    }),
                ),
            ],
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    // Retrieve a database: {"object":"database","id",…,"title":[rich text…],"properties":{…}}.
    database_read(DB)
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .and(header("notion-version", "2022-06-28"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "database",
            "id": DB,
            "title": [{"type": "text", "text": {"content": "Team notes", "link": null}, "plain_text": "Team notes", "href": null}],
            "properties": {}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let sources = Sources::new(settings(&server)).unwrap();
    let fetched = sources
        .fetch(&SourceRef::parse(&format!("notion:{DB}")).unwrap(), false)
        .await
        .unwrap();
    assert_eq!(fetched.format, FetchedFormat::Markdown);
    assert_eq!(fetched.label, format!("notion:{DB}"));
    let md = fetched.text;
    assert!(md.starts_with("# Team notes\n"), "{md}");
    assert!(
        md.contains(
            "### Sleep Sessions arrive\n<!-- featured: true; priority: 1; type: announcement -->\n- **Date:** 2026-11-18\n- **Content:** Sleep Sessions are here.\n\nFind them under Evening.\n"
        ),
        "{md}"
    );

    // The real parser sees the right categories, items, dates and flags.
    let doc = halcytone_content::parse(&md, None).unwrap();
    assert_eq!(doc.title.as_deref(), Some("Team notes"));
    assert_eq!(
        section_titles(&doc),
        [
            (Category::Breathscape, vec!["Sleep Sessions arrive"]),
            (Category::Hardware, vec!["Sensor v3 reaches nine days"]),
            (Category::Tips, vec!["The physiological sigh"]),
            (Category::Vision, vec!["Untitled"]),
        ]
    );
    let sleep = &doc.sections[0].items[0];
    assert_eq!(sleep.flags.featured, Some(true));
    assert_eq!(sleep.flags.priority, Some(1));
    assert_eq!(
        sleep.flags.content_type,
        Some(halcytone_content::ContentType::Announcement)
    );
    assert_eq!(sleep.paragraphs().count(), 2);
    let sensor = &doc.sections[1].items[0];
    assert_eq!(sensor.date.as_ref().unwrap().raw, "2026-11-11");
    assert_eq!(sensor.content, "Firmware samples less while you sleep.");
    // No Date property: the page's creation day.
    let vision = &doc.sections[3].items[0];
    assert_eq!(vision.date.as_ref().unwrap().raw, "2026-11-03");
    assert!(doc.notes.is_empty(), "{:?}", doc.notes);
}

#[tokio::test]
async fn unauthorized_is_upstream_with_notions_message() {
    let server = MockServer::start().await;
    // Notion's error object: {"object":"error","status":401,"code":"unauthorized","message":"…"}.
    Mock::given(method("POST"))
        .and(path(format!("/v1/databases/{DB}/query").as_str()))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "object": "error",
            "status": 401,
            "code": "unauthorized",
            "message": "API token is invalid.",
            "request_id": "e3b5a8c1-0000-4000-8000-000000000000"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let sources = Sources::new(settings(&server)).unwrap();
    let err = fetch_error(&sources, &format!("notion:{DB}")).await;
    assert!(
        matches!(
            err,
            SourceError::Upstream {
                kind: SourceKind::Notion,
                status: 401,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_caller_error());
    assert_eq!(
        err.to_string(),
        format!("Notion answered 401 for database {DB}: API token is invalid.")
    );
}

#[tokio::test]
async fn database_not_shared_is_upstream_404() {
    let server = MockServer::start().await;
    // {"object":"error","status":404,"code":"object_not_found","message":"Could not find database with ID: …"}
    let message = format!(
        "Could not find database with ID: {DB}. Make sure the relevant pages and databases are shared with your integration."
    );
    Mock::given(method("POST"))
        .and(path(format!("/v1/databases/{DB}/query").as_str()))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "object": "error", "status": 404, "code": "object_not_found", "message": message
        })))
        .mount(&server)
        .await;
    let err = fetch_error(
        &Sources::new(settings(&server)).unwrap(),
        &format!("notion:{DB}"),
    )
    .await;
    match err {
        SourceError::Upstream { status, detail, .. } => {
            assert_eq!(status, 404);
            assert_eq!(detail, message);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn missing_key_is_not_configured_and_sends_nothing() {
    let server = MockServer::start().await;
    let mut s = settings(&server);
    s.notion_api_key = None;
    let err = fetch_error(&Sources::new(s).unwrap(), &format!("notion:{DB}")).await;
    assert_not_configured(&err, SourceKind::Notion, "NOTION_API_KEY");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn default_reference_uses_notion_database_id_and_falls_back_on_the_title() {
    let server = MockServer::start().await;
    let other = "fedcba9876543210fedcba9876543210";
    Mock::given(method("POST"))
        .and(path(format!("/v1/databases/{other}/query").as_str()))
        .respond_with(list(
            vec![page(
                "2026-11-06T09:00:00.000Z",
                json!({"Name": rich("title", "Box breathing"), "Category": select("Tips")}),
            )],
            None,
        ))
        .expect(1)
        .mount(&server)
        .await;
    // The database title cannot be read (integration lacks access): the default title.
    database_read(other)
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({
            "object": "error", "status": 403, "code": "restricted_resource", "message": "Insufficient permissions."
        })))
        .mount(&server)
        .await;

    let mut s = settings(&server);
    s.notion_database_id = Some(other.into());
    let sources = Sources::new(s.clone()).unwrap();
    let r = SourceRef::configured("notion", "").unwrap();
    let fetched = sources.fetch(&r, true).await.unwrap();
    assert_eq!(
        fetched.text,
        "# Notion living document\n\n## [Tips] Breathing Techniques\n\n### Box breathing\n- **Date:** 2026-11-06\n"
    );

    s.notion_database_id = None;
    let err = Sources::new(s).unwrap().fetch(&r, true).await.unwrap_err();
    match err {
        SourceError::NotConfigured { reason, .. } => {
            assert!(reason.contains("NOTION_DATABASE_ID"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}
