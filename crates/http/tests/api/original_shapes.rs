//! The earlier API's request bodies on the v2 content routes: `{"content": {...}}` with an
//! update, a blog post, an announcement or a session (the four `*ContentStrict` schemas of
//! the reference OpenAPI document), on generate-content and validate-content.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// One body per content schema of the reference document, each with its own fields.
fn reference_contents() -> Vec<(&'static str, Value)> {
    let today = chrono::Utc::now().to_rfc3339();
    vec![
        (
            "update",
            json!({
                "type": "update",
                "title": "Breathscape 2.4 adds evening reminders",
                "content": "Reminders now follow your routine. Read the [release notes](https://example.com/notes) for details.",
                "author": "Product team",
                "tags": ["App", "Reminders"],
                "excerpt": "Reminders that follow your routine.",
                "priority": 3,
                "channels": ["email", "web", "social"],
                "metadata": {"source": "reference"},
            }),
        ),
        (
            "blog",
            json!({
                "type": "blog",
                "title": "A guide to coherent breathing",
                "content": "Coherent breathing means about five breaths a minute. Sit upright, breathe in for six counts and out for six.",
                "category": "Breathing Techniques",
                "reading_time": 4,
                "seo_description": "How coherent breathing works, how to practise it, and what the research says about it.",
                "target_keywords": ["coherent breathing"],
            }),
        ),
        (
            "announcement",
            json!({
                "type": "announcement",
                "title": "Announcing the Breathscape band",
                "content": "Our first wearable measures heart rate variability through the day.",
                "urgency": "high",
                "call_to_action": "Join the waiting list.",
                "press_release": true,
                "published": true,
            }),
        ),
        (
            "session",
            json!({
                "type": "session",
                "title": "Evening wind-down",
                "content": "A calm guided session to close the day.",
                "author": "Live team",
                "session_id": "sess-ref-1",
                "session_duration": 1800,
                "participant_count": 12,
                "breathing_techniques": ["Box Breathing"],
                "session_date": today,
            }),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reference_shape_previews_without_a_key() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    for (kind, content) in reference_contents() {
        let mut content = content;
        content["dry_run"] = json!(true);
        let a = app
            .post_json(
                "/api/v2/generate-content",
                None,
                &json!({ "content": content }),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{kind}: {}", a.text);
        assert_eq!(a.body["status"], "preview", "{kind}");
        assert_eq!(a.body["validation_result"]["is_valid"], true, "{kind}");
        assert_eq!(a.body["validation_result"]["content_type"], kind);
        let title = content["title"].as_str().unwrap();
        let html = a.body["newsletter"]["html"].as_str().unwrap_or_default();
        assert!(
            html.contains(title),
            "{kind}: the newsletter lacks its title:\n{html}"
        );
        assert!(
            a.body["validation_result"]["enhanced_metadata"]["word_count"].as_u64() > Some(3),
            "{kind}: {}",
            a.body["validation_result"]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reference_shape_validates() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let key = Some(app.read_key.as_str());
    for (kind, content) in reference_contents() {
        let a = app
            .post_json(
                "/api/v2/validate-content",
                key,
                &json!({ "content": content, "validate_before_publish": true }),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{kind}: {}", a.text);
        assert_eq!(a.body["is_valid"], true, "{kind}: {}", a.text);
        assert_eq!(a.body["content_type"], kind);
        assert!(a.body["enhanced_metadata"].is_object(), "{kind}");
    }
    // A blog post under 300 words is valid, with the earlier validator's advice.
    let blog = &reference_contents()[1].1;
    let a = app
        .post_json("/api/v2/validate-content", key, &json!({ "content": blog }))
        .await;
    let warnings = a.body["warnings"].to_string();
    assert!(warnings.contains("under 300 words"), "{warnings}");
    // A broken rule is refused, naming the field as the earlier shape does.
    let a = app
        .post_json(
            "/api/v2/validate-content",
            key,
            &json!({ "content": {"type": "blog", "title": "Tips", "content": "Breathe in, breathe out slowly."} }),
        )
        .await;
    a.assert_invalid_field("content.category", "a blog without a category");
    assert_eq!(
        a.body["detail"],
        "content.category: a blog post needs a category"
    );
    // What validating the composed document finds is in the answer: an item dated long
    // before the issue is a warning.
    let mut old = reference_contents()[0].1.clone();
    old["date"] = json!("2020-01-01T00:00:00Z");
    let a = app
        .post_json("/api/v2/validate-content", key, &json!({ "content": old }))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(
        a.body["warnings"].to_string().contains("days old"),
        "{}",
        a.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_types_and_broken_rules_name_the_field_in_the_earlier_shape() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let update = reference_contents()[0].1.clone();
    let with = |field: &str, value: Value| {
        let mut c = update.clone();
        c[field] = value;
        json!({ "content": c, "preview_only": true })
    };
    let cases = [
        (with("priority", json!("high")), "content.priority"),
        (with("tags", json!("app")), "content.tags"),
        (with("title", json!(7)), "content.title"),
        (with("colour", json!("blue")), "content.colour"),
        (with("priority", json!(9)), "content.priority"),
        (with("category", json!("Tips")), "content.category"),
        (
            with("scheduled_for", json!("2001-01-01T00:00:00")),
            "content.scheduled_for",
        ),
        (
            json!({ "content": update, "send_emails": true }),
            "send_emails",
        ),
        (json!({ "content": [1, 2] }), "content"),
    ];
    for (body, field) in cases {
        for route in ["/api/v2/generate-content", "/api/v2/validate-content"] {
            let mut body = body.clone();
            if route.ends_with("validate-content")
                && let Some(b) = body.as_object_mut()
            {
                b.remove("preview_only");
            }
            let a = app.post_json(route, Some(&app.read_key), &body).await;
            a.assert_invalid_field(field, format!("{route} {body}"));
            assert!(
                a.body["detail"]
                    .as_str()
                    .is_some_and(|m| m.starts_with(field)),
                "{route}: {}",
                a.text
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_shape_publish_needs_a_key_and_sends_its_channels_only() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut content = reference_contents()[0].1.clone();
    content["channels"] = json!(["email"]);
    let body = json!({ "content": content });
    let a = app.post_json("/api/v2/generate-content", None, &body).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.text);
    let a = app
        .post_json("/api/v2/generate-content", Some(&app.write_key), &body)
        .await;
    assert!(a.status.is_success(), "{}", a.text);
    let job = app.wait_job(a.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["channels"], json!(["email"]), "{job}");
    let sent = app.emailed_recipients().await;
    assert!(!sent.is_empty());
    let subjects = app.captures(&app.crm, "email").await;
    let html = subjects.last().unwrap().to_string();
    assert!(
        html.contains("Breathscape 2.4 adds evening reminders"),
        "the captured newsletter lacks the content's title"
    );
}
