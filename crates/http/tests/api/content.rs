//! Generation, previews, validation, catalogues and social previews.

use crate::both_backends;
use crate::helpers::*;
use halcytone_testkit::json::strings_at;
use reqwest::StatusCode;

both_backends!(
    preview_needs_no_key_returns_every_channel_and_is_cached,
    |app: TestApp| async move {
        // As `curl -d` sends it: a form content type, JSON body.
        let r = app
            .http
            .post(format!("{}/api/v2/generate-content", app.base))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(r#"{"preview_only":true}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let first = r.text().await.unwrap();
        let v: serde_json::Value = serde_json::from_str(&first).unwrap();
        assert_eq!(v["status"], "preview");
        assert!(v["newsletter"]["subject"].as_str().unwrap().len() > 5);
        assert!(v["newsletter"]["html"].as_str().unwrap().contains("<html"));
        assert!(v["web_update"]["content"].as_str().unwrap().len() > 100);
        assert!(v["web_update"]["seo"].is_object());
        assert_eq!(
            strings_at(&v["social_posts"], "platform"),
            ["twitter", "linkedin", "facebook", "instagram"]
        );
        assert!(
            v["social_posts"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["fits_limit"] == true)
        );
        assert_eq!(v["published_to"], serde_json::json!([]));
        // No job was created.
        assert_eq!(app.get_as_reader("/api/v2/jobs").await.body["total"], 0);
        // The same request again is served from the cache, byte for byte.
        let again = app
            .post("/api/v2/generate-content", None, r#"{"preview_only":true}"#)
            .await;
        assert_eq!(again.text, first);
        let m = app
            .call(reqwest::Method::GET, "/metrics", None, Some(""))
            .await;
        assert!(
            m.body["cache_hit_rate"].as_f64().unwrap() > 0.0,
            "{}",
            m.text
        );
    }
);

both_backends!(
    generation_options_and_their_errors,
    |app: TestApp| async move {
        let a = app.post("/api/v2/generate-content?social_platforms=linkedin", None,
        r#"{"preview_only":true,"send_email":false,"tone":"medical_scientific","seo_optimize":false}"#).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert!(a.body["newsletter"].is_null());
        assert!(a.body["web_update"]["seo"].is_null());
        assert_eq!(a.body["social_posts"].as_array().unwrap().len(), 1);
        assert_eq!(
            a.body["results"]["tone_system"]["selected_tone"],
            "medical_scientific"
        );
        // Each bad option is refused, naming its field.
        for (body, field) in [
            (r#"{"preview_only":true,"tone":"sarcastic"}"#, "tone"),
            (
                r#"{"preview_only":true,"template_style":"announcement"}"#,
                "template_style",
            ),
            (
                r#"{"preview_only":true,"social_platforms":["myspace"]}"#,
                "social_platforms[0]",
            ),
        ] {
            let a = app.post("/api/v2/generate-content", None, body).await;
            a.assert_invalid_field(field, body);
        }
        let a = app
            .post(
                "/api/v2/generate-content",
                None,
                r#"{"preview_only":true,"colour":"blue"}"#,
            )
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(a.body["detail"].as_str().unwrap().contains("colour"));
        // An inline document replaces the configured one; HTML in it is escaped.
        let doc = "# Weekly\n\n## Breathscape Updates\n\n### <script>alert(1)</script> Calm mode\nA quieter way to breathe, with guided pacing for every session.\n";
        let body = serde_json::json!({ "preview_only": true, "document": doc }).to_string();
        let a = app.post("/api/v2/generate-content", None, &body).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let html = a.body["newsletter"]["html"].as_str().unwrap();
        assert!(html.contains("Calm mode") && !html.contains("<script>alert"));
        let a = app
            .post(
                "/api/v2/generate-content",
                None,
                r#"{"preview_only":true,"document":"   "}"#,
            )
            .await;
        assert_eq!(a.body["error"]["field"], "document");
    }
);

both_backends!(
    publishing_generation_runs_a_job_and_reaches_the_mocks,
    |app: TestApp| async move {
        let a = app
            .post(
                "/api/v2/generate-content",
                Some(&app.write_key),
                r#"{"social_platforms":["twitter"]}"#,
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["status"], "success", "{}", a.text);
        assert_eq!(
            a.body["published_to"],
            serde_json::json!(["email", "website", "social_twitter"])
        );
        assert!(!app.captures(&app.crm, "email").await.is_empty());
        assert_eq!(app.captures(&app.platform, "content").await.len(), 1);
        assert!(!app.captures(&app.platform, "social").await.is_empty());
        let v1 = app
            .post(
                "/api/v1/generate-content",
                None,
                r#"{"preview_only":true,"generate_social":false}"#,
            )
            .await;
        assert_eq!(v1.status, StatusCode::OK);
        assert_eq!(v1.body["social_posts"], serde_json::json!([]));
    }
);

both_backends!(
    preview_status_validation_and_catalogues,
    |app: TestApp| async move {
        let a = app.get_as_reader("/api/v1/preview?tone=encouraging").await;
        assert_eq!(a.status, StatusCode::OK);
        assert!(a.body["preview_generated_at"].is_string());
        let a = app.get_as_reader("/api/v1/status").await;
        assert_eq!(a.body["dry_run"], true);
        let a = app
            .post("/api/v2/validate-content", Some(&app.read_key), "")
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["is_valid"], true, "{}", a.text);
        let bad = serde_json::json!({ "document": "# Doc\n\n## Tips\n\n### A tip\nDate: 2026-13-45\nBreathe slowly and evenly for five minutes.\n" }).to_string();
        let a = app
            .post("/api/v2/validate-content", Some(&app.read_key), &bad)
            .await;
        assert_eq!(a.body["is_valid"], false, "{}", a.text);
        assert!(a.body["issues"][0].as_str().unwrap().contains("2026-13-45"));
        // The dashboard client's shape: {content, content_type, strict}.
        let client = serde_json::json!({
            "content": "# Doc\n\n## Tips\n\n### A tip\nDate: 2026-13-45\nBreathe slowly and evenly for five minutes.\n",
            "content_type": "blog",
            "strict": true,
        })
        .to_string();
        let a = app
            .post("/api/v2/content/validate", Some(&app.read_key), &client)
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["is_valid"], false, "{}", a.text);
        assert_eq!(a.body["content_type"], "blog");
        assert!(a.body["issues"][0].as_str().unwrap().contains("2026-13-45"));
        app.refuses_bodies(
            "/api/v2/content/validate",
            &[
                (r#"{"content_type":"blog"}"#, Some("content")),
                (
                    r##"{"content":"# Doc","content_type":"poem"}"##,
                    Some("content_type"),
                ),
                (r##"{"content":"# Doc","strict":"yes"}"##, Some("strict")),
            ],
        )
        .await;
        for path in [
            "/api/v2/templates",
            "/api/v2/content-types",
            "/api/v2/validation-rules",
        ] {
            let a = app.get(path, None).await;
            assert_eq!(a.status, StatusCode::OK, "{path}");
        }
        let t = app.get("/api/v2/templates", None).await;
        assert_eq!(t.body["email_templates"].as_array().unwrap().len(), 4);
        assert_eq!(
            t.body["social_platforms"]["twitter"]["character_limit"],
            280
        );
        let a = app.get_as_reader("/api/v2/social-preview/twitter").await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        assert_eq!(a.body["preview"]["platform_limit"], 280);
        assert_eq!(a.body["preview"]["fits_limit"], true);
        assert!(a.body["preview"]["longest_post"].as_u64().unwrap() <= 280);
        let a = app.get_as_reader("/api/v2/social-preview/myspace").await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
);
