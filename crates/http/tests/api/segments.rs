//! Segments: rules checked with the column of a mistake, previews against the mock CRM's
//! 1,000 virtual subscribers, and a newsletter sent only to the segment.

use crate::both_backends;
use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The mock CRM's list, as documented in docs/api-mocks.md: subscriber i is active unless
/// i % 10 == 9, opted in unless i % 7 == 6, and tagged beta when i % 3 == 0.
fn expected_beta() -> usize {
    (0..1000u64)
        .filter(|i| i % 10 != 9 && i % 7 != 6 && i % 3 == 0)
        .count()
}

both_backends!(
    a_newsletter_goes_only_to_its_segment,
    |app: TestApp| async move {
        let w = app.write_key.clone();
        // Bad input: the rule's column, the name, a taken name.
        let create =
            async |segment: Value| app.post_json("/api/v2/segments", Some(&w), &segment).await;
        let a = create(json!({"name": "Beta", "rule": "tags = \"beta\""})).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
        assert_eq!(a.body["error"]["field"], "rule");
        assert!(a.text.contains("column 6: tags is a list"), "{}", a.text);
        let a = create(json!({"name": "", "rule": "status = \"active\""})).await;
        assert_eq!(a.body["error"]["field"], "name", "{}", a.text);
        let a = create(json!({"name": "Beta testers", "rule": "tags contains \"beta\"", "description": "the beta programme"})).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        let id = a.body["segment_id"].as_str().unwrap().to_string();
        let again = create(json!({"name": "Beta testers", "rule": "status = \"active\""})).await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
        let list = app.get_as_reader("/api/v2/segments").await;
        assert_eq!(list.body["total"], 1);

        // Preview: the count and a sample with masked emails.
        let p = app
            .get_as_reader(&format!("/api/v2/segments/{id}/preview?sample=3"))
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.text);
        assert_eq!(p.body["count"], expected_beta(), "{}", p.text);
        let sample = p.body["sample"].as_array().unwrap();
        assert_eq!(sample.len(), 3);
        assert_eq!(sample[0]["email"], "s***@example.com");
        assert!(
            sample
                .iter()
                .all(|s| s["tags"].as_array().unwrap().contains(&json!("beta")))
        );

        // A send limited to the segment.
        let bad = app
            .sync(&json!({"channels": ["website"], "segment_id": id}).to_string())
            .await;
        assert_eq!(bad.body["error"]["field"], "segment_id", "{}", bad.text);
        let bad = app
            .sync(&json!({"channels": ["email"], "segment_id": "seg_nope"}).to_string())
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
        app.publish(&json!({"channels": ["email"], "segment_id": id}).to_string())
            .await;
        let captured = app.captures(&app.crm, "email").await;
        let recipients = app.emailed_recipients().await;
        assert_eq!(recipients.len(), expected_beta());
        // sub_0003 is beta, active and opted in; sub_0001 is not beta.
        let emails: Vec<&str> = recipients
            .iter()
            .filter_map(|r| r["email"].as_str())
            .collect();
        assert!(emails.contains(&"subscriber3@example.com"));
        assert!(!emails.contains(&"subscriber1@example.com"));

        // A segment nobody is in: nothing is sent, and the job says why.
        let none = create(json!({"name": "Nobody", "rule": "tags contains \"nobody\""})).await;
        let s = app
            .sync(
                &json!({"channels": ["email"], "segment_id": none.body["segment_id"]}).to_string(),
            )
            .await;
        let job = app.wait_job(s.body["job_id"].as_str().unwrap()).await;
        assert!(job.to_string().contains("matches none of the"), "{job}");
        assert_eq!(
            app.captures(&app.crm, "email").await.len(),
            captured.len(),
            "nothing more was sent"
        );
        let d = app
            .delete(&format!("/api/v2/segments/{id}"), Some(&w))
            .await;
        assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    }
);
