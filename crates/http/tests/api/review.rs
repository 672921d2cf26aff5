//! The review pipeline over HTTP: draft → in_review → approved → scheduled → published, or
//! rejected with a reason; levels decide how many approvals; only an admin may force.

use crate::both_backends;
use crate::helpers::{ADMIN_KEY, TestApp};
use reqwest::StatusCode;
use serde_json::json;

const ITEM: &str = "- **Date:** 2026-11-20\n- **Content:** A plain update with enough words in it to be a real item of news for the week.\n";

fn doc(flags: &str) -> String {
    format!("# Weekly\n\n## [Breathscape] Updates\n\n### Something new\n{flags}{ITEM}")
}

async fn writer(app: &TestApp, name: &str) -> String {
    app.new_writer_key(name).await
}

fn body(document: &str, submit: bool) -> String {
    json!({ "document": document, "channels": ["email", "website"], "submit": submit }).to_string()
}

both_backends!(
    an_l1_version_is_approved_automatically_and_published_once,
    |app: TestApp| async move {
        let key = Some(app.write_key.as_str());
        let v = app
            .post("/api/v2/content", key, &body(&doc(""), true))
            .await;
        assert_eq!(v.status, StatusCode::CREATED, "{}", v.text);
        assert_eq!(v.body["status"], "approved");
        assert_eq!(v.body["review"]["level"], "L1");
        assert_eq!(v.body["review"]["approvals"][0]["by"], "auto");
        let id = v.body["content_id"].as_str().unwrap().to_string();
        let s = app
            .post(&format!("/api/v2/content/{id}/schedule"), key, "{}")
            .await;
        assert_eq!(s.status, StatusCode::ACCEPTED, "{}", s.text);
        let job = s.body["job"]["job_id"].as_str().unwrap().to_string();
        assert_eq!(app.wait_job(&job).await["status"], "completed");
        let sent = app.captures(&app.crm, "email").await.len();
        assert!(sent > 0);
        let shown = app.get(&format!("/api/v2/content/{id}"), key).await;
        assert_eq!(shown.body["status"], "published", "{}", shown.text);
        // Scheduling again is refused: one version, one publish.
        let again = app
            .post(&format!("/api/v2/content/{id}/schedule"), key, "{}")
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
        let approve = app
            .post(&format!("/api/v2/content/{id}/approve"), key, "{}")
            .await;
        assert_eq!(
            approve.status,
            StatusCode::CONFLICT,
            "approving a published version: {}",
            approve.text
        );
        assert_eq!(app.captures(&app.crm, "email").await.len(), sent);
    }
);

both_backends!(
    an_l2_version_waits_for_two_other_reviewers,
    |app: TestApp| async move {
        let submitter = app.write_key.clone();
        let v = app
            .post(
                "/api/v2/content",
                Some(&submitter),
                &body(&doc("<!-- featured: true -->\n"), true),
            )
            .await;
        assert_eq!(v.status, StatusCode::CREATED, "{}", v.text);
        assert_eq!(v.body["status"], "in_review");
        assert_eq!(v.body["review"]["level"], "L2");
        assert_eq!(v.body["review"]["required_approvals"], 2);
        assert!(
            v.body["review"]["level_reason"]
                .as_str()
                .unwrap()
                .contains("featured")
        );
        let id = v.body["content_id"].as_str().unwrap().to_string();
        let path = |a: &str| format!("/api/v2/content/{id}/{a}");
        // Not yet approved: no schedule, and a write key cannot force.
        let s = app.post(&path("schedule"), Some(&submitter), "{}").await;
        assert_eq!(s.status, StatusCode::CONFLICT, "{}", s.text);
        let f = app
            .post(
                &path("schedule"),
                Some(&submitter),
                r#"{"force_publish": true}"#,
            )
            .await;
        assert_eq!(f.status, StatusCode::FORBIDDEN, "{}", f.text);
        // The submitter's own approval does not count.
        let own = app.post(&path("approve"), Some(&submitter), "{}").await;
        assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.text);
        assert_eq!(own.body["error"]["code"], "not_allowed");
        let second = writer(&app, "senior editor").await;
        let a = app
            .post(&path("approve"), Some(&second), r#"{"note": "reads well"}"#)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["status"], "in_review");
        let twice = app.post(&path("approve"), Some(&second), "{}").await;
        assert_eq!(twice.status, StatusCode::CONFLICT);
        let third = writer(&app, "marketing").await;
        let a = app.post(&path("approve"), Some(&third), "{}").await;
        assert_eq!(a.body["status"], "approved", "{}", a.text);
        let approvals = a.body["review"]["approvals"].as_array().unwrap();
        assert_eq!(approvals.len(), 2);
        assert_eq!(approvals[0]["note"], "reads well");
        assert!(approvals[0]["at"].is_string());
        // Nothing went out before the schedule.
        assert!(app.captures(&app.crm, "email").await.is_empty());
        let s = app.post(&path("schedule"), Some(&submitter), "{}").await;
        assert_eq!(s.status, StatusCode::ACCEPTED, "{}", s.text);
        app.wait_job(s.body["job"]["job_id"].as_str().unwrap())
            .await;
        assert!(!app.captures(&app.crm, "email").await.is_empty());
    }
);

both_backends!(
    rejection_needs_a_reason_and_force_is_audited,
    |app: TestApp| async move {
        let key = Some(app.write_key.as_str());
        let v = app
            .post(
                "/api/v2/content",
                key,
                &body(&doc("<!-- type: announcement; priority: 2 -->\n"), false),
            )
            .await;
        assert_eq!(v.body["status"], "draft", "{}", v.text);
        assert_eq!(v.body["review"]["level"], "L3");
        let id = v.body["content_id"].as_str().unwrap().to_string();
        let path = |a: &str| format!("/api/v2/content/{id}/{a}");
        let early = app.post(&path("approve"), Some(ADMIN_KEY), "{}").await;
        assert_eq!(
            early.status,
            StatusCode::CONFLICT,
            "a draft cannot be approved"
        );
        assert!(
            early.text.contains("submit it for review first"),
            "{}",
            early.text
        );
        assert_eq!(
            app.post(&path("submit"), key, "").await.body["status"],
            "in_review"
        );
        let r = app.post(&path("reject"), Some(ADMIN_KEY), "{}").await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(r.body["error"]["field"], "reason");
        assert_eq!(
            app.get(&format!("/api/v2/content/{id}"), key).await.body["status"],
            "in_review"
        );
        let r = app
            .post(
                &path("reject"),
                Some(ADMIN_KEY),
                r#"{"reason": "legal has not seen it"}"#,
            )
            .await;
        assert_eq!(r.body["status"], "rejected", "{}", r.text);
        assert_eq!(
            r.body["review"]["rejection"]["reason"],
            "legal has not seen it"
        );
        assert_eq!(
            app.post(&path("submit"), key, "").await.body["status"],
            "in_review"
        );
        let f = app
            .post(
                &path("schedule"),
                Some(ADMIN_KEY),
                r#"{"force_publish": true, "scheduled_for": "2000-01-01T00:00:00Z"}"#,
            )
            .await;
        assert_eq!(
            f.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a time in the past: {}",
            f.text
        );
        let f = app
            .post(
                &path("schedule"),
                Some(ADMIN_KEY),
                r#"{"force_publish": true}"#,
            )
            .await;
        assert_eq!(f.status, StatusCode::ACCEPTED, "{}", f.text);
        assert_eq!(f.body["review"]["forced"]["from_state"], "in_review");
        let audit = app.store.audit_log(10).await.unwrap();
        assert!(
            audit
                .iter()
                .any(|e| e.action == "content.force_publish" && e.target == id),
            "{audit:?}"
        );
        let missing = app.post("/api/v2/content/cv_nope/approve", key, "{}").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_approval_required_direct_publishing_needs_approved_content() {
    let mut c = crate::helpers::config();
    c.approval_required = true;
    let app = crate::helpers::spawn_app_with(crate::helpers::Backend::Sqlite, c)
        .await
        .unwrap();
    // The sample opens with a featured announcement: L3.
    let refused = app.sync(r#"{"channels": ["email"]}"#).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert!(refused.text.contains("L3"), "{}", refused.text);
    assert!(
        app.store
            .jobs(&Default::default())
            .await
            .unwrap()
            .0
            .is_empty(),
        "no job made"
    );
    let g = app
        .post(
            "/api/v2/generate-content",
            Some(&app.write_key),
            r#"{"send_email": true, "publish_web": false, "generate_social": false}"#,
        )
        .await;
    assert_eq!(g.status, StatusCode::CONFLICT, "{}", g.text);
    let weak = app
        .sync(r#"{"channels": ["email"], "force_publish": true}"#)
        .await;
    assert_eq!(weak.status, StatusCode::FORBIDDEN, "{}", weak.text);
    let forced = app
        .post(
            "/api/v2/content/sync",
            Some(ADMIN_KEY),
            r#"{"channels": ["email"], "force_publish": true}"#,
        )
        .await;
    assert_eq!(forced.status, StatusCode::ACCEPTED, "{}", forced.text);
    let audit = app.store.audit_log(10).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "content.force_publish"),
        "{audit:?}"
    );
    // Plain L1 content goes straight out, approved automatically.
    let body = json!({ "document": doc(""), "channels": ["email"] }).to_string();
    let ok = app.sync(&body).await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.text);
    let list = app.get_as_reader("/api/v2/content").await;
    let reviews: Vec<&str> = list.body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["review"]["direct_approval"].as_str())
        .collect();
    assert_eq!(reviews, ["auto", "forced"], "{}", list.text);
    // A hand-written newsletter: a test send goes out, a real one needs an admin's force.
    let n = r#"{"subject": "A hand-written note", "html_content": "<p>Hello</p>"}"#;
    let held = app
        .post("/api/v1/newsletter/send", Some(&app.write_key), n)
        .await;
    assert_eq!(held.status, StatusCode::CONFLICT, "{}", held.text);
    let t =
        r#"{"subject": "A hand-written note", "html_content": "<p>Hello</p>", "test_mode": true}"#;
    let test = app
        .post("/api/v1/newsletter/send", Some(&app.write_key), t)
        .await;
    assert!(test.status.is_success(), "{}", test.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gated_level_is_approved_only_with_a_newsletter_free_of_check_errors() {
    let mut c = crate::helpers::config();
    c.email_checks_gate = vec![halcytone_content::approval::Level::L1];
    let app = crate::helpers::spawn_app_with(crate::helpers::Backend::Sqlite, c)
        .await
        .unwrap();
    let key = Some(app.write_key.as_str());
    // An in-page link to nothing is a broken link: an error-level finding.
    let flawed = "# Weekly\n\n## [Breathscape] Updates\n\n### Something new\n- **Date:** 2026-11-20\n- **Content:** A plain update with [a link to nowhere](#nowhere) and enough words in it to be a real item of news.\n";
    let v = app.post("/api/v2/content", key, &body(flawed, true)).await;
    assert_eq!(v.status, StatusCode::CREATED, "{}", v.text);
    assert_eq!(v.body["review"]["level"], "L1");
    assert_eq!(
        v.body["status"], "in_review",
        "not approved automatically: {}",
        v.text
    );
    let id = v.body["content_id"].as_str().unwrap().to_string();
    let reviewer = writer(&app, "gate-reviewer").await;
    let refused = app
        .post(
            &format!("/api/v2/content/{id}/approve"),
            Some(&reviewer),
            "{}",
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    for said in ["APPROVAL_EMAIL_CHECKS_LEVELS", "#nowhere", "links"] {
        assert!(refused.text.contains(said), "{said}: {}", refused.text);
    }
    // The same level without the flaw is approved as before.
    let clean = app
        .post("/api/v2/content", key, &body(&doc(""), true))
        .await;
    assert_eq!(clean.status, StatusCode::CREATED, "{}", clean.text);
    assert_eq!(clean.body["status"], "approved", "{}", clean.text);
}
