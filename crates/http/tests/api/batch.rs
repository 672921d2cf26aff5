//! Batches, hand-written newsletters and content versions.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

both_backends!(
    a_batch_is_stored_scheduled_once_and_counted_from_its_jobs,
    |app: TestApp| async move {
        let a = app.post("/api/v1/batch/generateBatch?period=week&channels=email&channels=social&count=4&include_scheduling=false", Some(&app.write_key), "").await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        let id = a.body["batch_id"].as_str().unwrap().to_string();
        let items = a.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0]["channel"], "email");
        assert_eq!(items[1]["target"], "social_twitter");
        assert_eq!(items[3]["target"], "social_linkedin", "networks rotate");
        assert_eq!(items[2]["template"], "minimal", "templates rotate");
        assert_eq!(a.body["summary"]["channels_generated"]["email"], 2);
        let s = app
            .get_as_reader(&format!("/api/v1/batch/status/{id}"))
            .await;
        assert_eq!(s.body["status"], "generated");
        assert_eq!(s.body["items_total"], 4);
        assert_eq!(s.body["items_scheduled"], 0);
        let preview = app
            .post(
                &format!("/api/v1/batch/schedule/{id}"),
                Some(&app.write_key),
                r#"{"dry_run":true}"#,
            )
            .await;
        assert_eq!(preview.body["scheduled_items"].as_array().unwrap().len(), 4);
        assert_eq!(
            app.get_as_reader("/api/v2/jobs").await.body["total"],
            0,
            "a preview creates no job"
        );
        let sched = app
            .post_as_writer(&format!("/api/v1/batch/schedule/{id}"))
            .await;
        assert_eq!(sched.status, StatusCode::OK, "{}", sched.text);
        let jobs: Vec<String> = sched.body["scheduled_items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["job_id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(jobs.len(), 4);
        let again = app
            .post_as_writer(&format!("/api/v1/batch/schedule/{id}"))
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "scheduled once");
        for j in &jobs {
            assert_eq!(app.wait_job(j).await["status"], "completed");
        }
        let s = app
            .get_as_reader(&format!("/api/v1/batch/status/{id}"))
            .await;
        assert_eq!(s.body["status"], "completed", "{}", s.text);
        assert_eq!(s.body["items_published"], 4);
        assert_eq!(s.body["items_pending"], 0);
        assert!(app.captures(&app.platform, "social").await.len() >= 2);
    }
);

both_backends!(batch_input_is_checked, |app: TestApp| async move {
    let k = Some(app.write_key.as_str());
    // Each bad query names its field.
    for (query, field) in [
        ("period=year&channels=email", "period"),
        ("period=day", "channels"),
        ("period=day&channels=fax", "channels[0]"),
        ("period=day&channels=web&count=51", "count"),
    ] {
        let path = format!("/api/v1/batch/generateBatch?{query}");
        let a = app.post(&path, k, "").await;
        assert_eq!(a.body["error"]["field"], field, "{query}: {}", a.text);
    }
    let a = app
        .post(
            "/api/v1/batch/generateBatch",
            k,
            r#"{"period":"day","channels":["web"],"dry_run":true}"#,
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.body["total_items"], 3);
    let id = a.body["batch_id"].as_str().unwrap();
    let s = app
        .post(&format!("/api/v1/batch/schedule/{id}"), k, "")
        .await;
    assert_eq!(
        s.status,
        StatusCode::CONFLICT,
        "a dry-run batch is never scheduled"
    );
    let s = app
        .post(
            &format!("/api/v1/batch/schedule/{id}"),
            k,
            r#"{"batch_id":"other"}"#,
        )
        .await;
    assert_eq!(s.body["error"]["field"], "batch_id");
    assert_eq!(
        app.post("/api/v1/batch/schedule/batch-nope", k, "")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/batch/status/batch-nope", k).await.status,
        StatusCode::NOT_FOUND
    );
});

both_backends!(
    newsletter_send_test_mode_reaches_one_address,
    |app: TestApp| async move {
        let k = Some(app.write_key.as_str());
        let a = app.post("/api/v1/newsletter/send", k, r#"{"subject":"Hello from a test","html_content":"<p>Hi</p>","text_content":"Hi","test_mode":true}"#).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["status"], "success", "{}", a.text);
        assert_eq!(a.body["recipients"], 1);
        let emails = app.captures(&app.crm, "email").await;
        assert_eq!(emails.len(), 1);
        assert!(
            emails[0]
                .to_string()
                .contains("dry-run-test@halcytone.example"),
            "{}",
            emails[0]
        );
        // Bulk: every subscriber, in batches.
        let a = app
            .post(
                "/api/v1/newsletter/send",
                k,
                r#"{"subject":"Everyone gets this","html_content":"<p>All</p>"}"#,
            )
            .await;
        assert_eq!(a.body["status"], "success", "{}", a.text);
        assert!(app.captures(&app.crm, "email").await.len() >= 2);
        // Scheduled for later: queued, not sent.
        let a = app.post("/api/v1/newsletter/send", k, r#"{"subject":"Later on","html_content":"<p>x</p>","schedule_time":"2099-01-01T09:00:00Z"}"#).await;
        assert_eq!(a.status, StatusCode::ACCEPTED);
        assert_eq!(a.body["status"], "scheduled");
        assert_eq!(a.body["scheduled_time"], "2099-01-01T09:00:00.000Z");
        for (body, field) in [
            (json!({ "subject": "", "html_content": "x" }), "subject"),
            (
                json!({ "subject": "Hi there", "html_content": " " }),
                "html_content",
            ),
            (
                json!({ "subject": "Hi there", "html_content": "x", "recipient_filter": { "tag": "vip" } }),
                "recipient_filter",
            ),
            (
                json!({ "subject": "Hi there", "html_content": "x", "test_mode": true, "test_email": "nobody" }),
                "test_email",
            ),
        ] {
            let a = app
                .post("/api/v1/newsletter/send", k, &body.to_string())
                .await;
            a.assert_invalid_field(field, &body);
        }
        let a = app
            .post("/api/v1/newsletter/send", k, r#"{"html_content":"x"}"#)
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.body["detail"].as_str().unwrap().contains("subject"));
    }
);

both_backends!(
    content_versions_follow_their_jobs,
    |app: TestApp| async move {
        let a = app
            .sync(r#"{"channels":["email","social_twitter"],"tone":"encouraging"}"#)
            .await;
        let job = app.wait_job(a.body["job_id"].as_str().unwrap()).await;
        assert_eq!(job["status"], "completed");
        app.sync(r#"{"channels":["website"],"schedule_time":"2099-01-01T00:00:00Z"}"#)
            .await;
        let list = app.get_as_reader("/api/v2/content").await;
        assert_eq!(list.body["total"], 2, "{}", list.text);
        let versions = list.body["versions"].as_array().unwrap();
        assert_eq!(versions[0]["status"], "scheduled");
        assert_eq!(versions[1]["status"], "published");
        assert_eq!(versions[1]["document_id"], "sample");
        let id = versions[1]["content_id"].as_str().unwrap();
        let one = app.get_as_reader(&format!("/api/v2/content/{id}")).await;
        assert_eq!(one.status, StatusCode::OK);
        assert_eq!(one.body["options"]["tone"], "encouraging");
        assert!(
            one.body["content"]["newsletter"]["subject"].is_string(),
            "{}",
            one.text
        );
        assert_eq!(
            one.body["content"]["social_posts"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert!(one.body["content"]["web_update"].is_null());
        assert_eq!(one.body["job"]["status"], "completed");
        assert_eq!(
            app.get_as_reader("/api/v2/content/cv_nope").await.status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get_as_reader("/api/v2/content?limit=0").await.status,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
);

#[tokio::test]
async fn batch_generate_answers_each_request_in_order_or_in_parallel() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    // Well formed, but nothing in it to compose: that request fails, the others do not.
    let bad = json!({ "document": "# Only a title\n" });
    let good = json!({ "tone": "encouraging" });
    for parallel in [false, true] {
        let body = json!({ "requests": [good, bad, {}], "parallel": parallel }).to_string();
        let a = app
            .post("/api/v2/batch/generate", Some(&app.read_key), &body)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["total"], 3);
        assert_eq!(a.body["succeeded"], 2, "parallel={parallel}: {}", a.text);
        assert_eq!(a.body["failed"], 1);
        let r = a.body["results"].as_array().unwrap();
        assert_eq!(r[0]["status"], "success");
        assert_eq!(r[0]["result"]["status"], "preview");
        assert!(r[0]["result"]["newsletter"]["html"].is_string());
        assert_eq!(r[1]["status"], "failed");
        assert_eq!(r[1]["error"]["status_code"], 422, "{}", a.text);
        assert_eq!(r[1]["error"]["error"]["field"], "document");
        assert_eq!(r[2]["status"], "success");
    }
    // In order with fail_fast: what follows the failure is not run.
    let body = json!({ "requests": [bad, good], "fail_fast": true }).to_string();
    let a = app
        .post("/api/v2/batch/generate", Some(&app.read_key), &body)
        .await;
    assert_eq!(a.body["failed"], 1, "{}", a.text);
    assert_eq!(a.body["skipped"], 1);
    assert_eq!(a.body["results"][1]["status"], "skipped");
    // Bounds and key.
    let eleven = json!({ "requests": vec![json!({}); 11] }).to_string();
    let a = app
        .post("/api/v2/batch/generate", Some(&app.read_key), &eleven)
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(a.body["error"]["field"], "requests");
    app.refuses_bodies(
        "/api/v2/batch/generate",
        &[
            (r#"{"requests":[]}"#, Some("requests")),
            (r#"{"requests":[[null, null]]}"#, None),
            (
                r#"{"requests":[{}, {"tone": 3}]}"#,
                Some("requests[1].tone"),
            ),
        ],
    )
    .await;
    let a = app
        .post("/api/v2/batch/generate", None, r#"{"requests":[{}]}"#)
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}
