//! Publish jobs through the API: sync, schedule, cancel, retry, list, metrics, analytics.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

both_backends!(
    a_sync_job_completes_and_every_target_is_captured_once,
    |app: TestApp| async move {
        let a = app.sync(r#"{"channels":["email","website","social_twitter","social_linkedin","social_facebook"],"content_type":"update","template_style":"modern","dry_run":false}"#).await;
        assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.text);
        let id = a.body["job_id"].as_str().unwrap().to_string();
        assert_eq!(a.body["status"], "pending");
        let job = app.wait_job(&id).await;
        assert_eq!(job["status"], "completed", "{job}");
        assert_eq!(job["document_id"], "sample");
        for ch in [
            "email",
            "website",
            "social_twitter",
            "social_linkedin",
            "social_facebook",
        ] {
            assert_eq!(job["results"][ch]["status"], "success", "{ch}: {job}");
        }
        for f in ["created_at", "started_at", "completed_at", "correlation_id"] {
            assert!(job[f].is_string(), "{f}: {job}");
        }
        let emails = app.captures(&app.crm, "email").await;
        let keys: std::collections::HashSet<&str> = emails
            .iter()
            .map(|c| c["idempotency_key"].as_str().unwrap())
            .collect();
        assert_eq!(keys.len(), emails.len(), "no email captured twice");
        assert!(!emails.is_empty());
        assert_eq!(app.captures(&app.platform, "content").await.len(), 1);
        let social: Vec<String> = app
            .captures(&app.platform, "social")
            .await
            .iter()
            .map(|c| c["channel"].as_str().unwrap_or_default().to_string())
            .collect();
        for n in ["twitter", "linkedin", "facebook"] {
            assert!(social.iter().any(|c| c.contains(n)), "{n} in {social:?}");
        }
        // Plain network names work too.
        app.publish(r#"{"channels":["twitter","web"]}"#).await;
    }
);

both_backends!(
    a_document_id_that_names_nothing_is_refused_on_every_path,
    |app: TestApp| async move {
        // The dashboard's form sends whatever was typed; a bare word is not a document.
        let a = app
            .sync(r#"{"document_id":"doc-probe-1","channels":["email"]}"#)
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
        assert_eq!(a.body["error"]["field"], "document_id");
        assert!(a.body["detail"].as_str().unwrap().contains("doc-probe-1"));
        let p = app
            .post(
                "/api/v2/generate-content",
                None,
                r#"{"preview_only":true,"document_id":"doc-probe-1"}"#,
            )
            .await;
        assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.text);
        assert_eq!(p.body["error"]["field"], "document_id");
        let v = app
            .post(
                "/api/v2/validate-content",
                Some(&app.read_key),
                r#"{"document_id":"doc-probe-1"}"#,
            )
            .await;
        assert_eq!(v.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", v.text);
        assert_eq!(app.jobs_count().await, 0, "nothing was queued");
        // A stored snapshot id (as jobs list them) names a document on every path.
        let a = app.sync(r#"{"channels":["website"]}"#).await;
        let job = app.wait_job(a.body["job_id"].as_str().unwrap()).await;
        let snapshot = job["snapshot_id"].as_str().unwrap();
        let p = app
            .post(
                "/api/v2/generate-content",
                None,
                &format!(r#"{{"preview_only":true,"document_id":"{snapshot}"}}"#),
            )
            .await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.text);
        let missing = app
            .sync(r#"{"document_id":"doc_0000","channels":["email"]}"#)
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
    }
);

both_backends!(
    unknown_channels_are_refused_with_the_valid_list,
    |app: TestApp| async move {
        let a = app.sync(r#"{"channels":["email","myspace"]}"#).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(a.body["error"]["field"], "channels[1]");
        assert!(
            a.body["detail"]
                .as_str()
                .unwrap()
                .contains("social_twitter")
        );
        let a = app.sync(r#"{"channels":[]}"#).await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
        let a = app
            .sync(r#"{"channels":["email"],"schedule_time":"soon"}"#)
            .await;
        assert_eq!(a.body["error"]["field"], "schedule_time");
        assert_eq!(
            app.get_as_reader("/api/v2/jobs").await.body["total"],
            0,
            "nothing was queued"
        );
    }
);

both_backends!(
    scheduled_jobs_wait_can_be_cancelled_and_run_at_their_time,
    |app: TestApp| async move {
        // A browser's datetime-local value: no seconds, no zone.
        let a = app
            .sync(r#"{"channels":["email"],"schedule_time":"2099-12-01T10:00"}"#)
            .await;
        assert_eq!(a.status, StatusCode::ACCEPTED);
        assert_eq!(a.body["scheduled_for"], "2099-12-01T10:00:00.000Z");
        let id = a.body["job_id"].as_str().unwrap().to_string();
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        assert_eq!(
            app.get_as_reader(&format!("/api/v2/jobs/{id}")).await.body["status"],
            "pending"
        );
        let c = app
            .delete(&format!("/api/v2/content/sync/{id}"), Some(&app.write_key))
            .await;
        assert_eq!(c.status, StatusCode::OK, "{}", c.text);
        assert_eq!(c.body["cancelled"], true);
        assert_eq!(c.body["status"], "cancelled");
        // Cancelling twice is harmless (the dashboard's batch cancel may repeat itself).
        let again = app
            .delete(&format!("/api/v2/content/sync/{id}"), Some(&app.write_key))
            .await;
        assert_eq!(again.status, StatusCode::OK);
        assert_eq!(again.body["cancelled"], true);
        assert_eq!(
            app.delete("/api/v2/content/sync/job_nope", Some(&app.write_key))
                .await
                .status,
            StatusCode::NOT_FOUND
        );
        // Two seconds ahead, with a zone: it waits, then runs.
        let at = (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
        let a = app
            .sync(&json!({ "channels": ["website"], "schedule_time": at }).to_string())
            .await;
        let id = a.body["job_id"].as_str().unwrap().to_string();
        assert_eq!(
            app.get_as_reader(&format!("/api/v2/jobs/{id}")).await.body["status"],
            "pending"
        );
        let job = app.wait_job(&id).await;
        assert_eq!(job["status"], "completed");
        let started =
            chrono::DateTime::parse_from_rfc3339(job["started_at"].as_str().unwrap()).unwrap();
        assert!(started >= chrono::DateTime::parse_from_rfc3339(&at).unwrap());
        let done = app
            .delete(&format!("/api/v2/content/sync/{id}"), Some(&app.write_key))
            .await;
        assert_eq!(
            done.status,
            StatusCode::CONFLICT,
            "a finished job cannot be cancelled"
        );
        assert!(done.body["detail"].as_str().unwrap().contains("completed"));
    }
);

both_backends!(
    failed_jobs_can_be_retried_and_lists_filter,
    |app: TestApp| async move {
        // Web publishing fails for good (a 400 is not retried): the job ends partial.
        let fault = json!({ "route": "POST /api/v1/content/publish", "status": 400 });
        app.set_fault(&app.platform, fault).await;
        let a = app.sync(r#"{"channels":["email","website"]}"#).await;
        let id = a.body["job_id"].as_str().unwrap().to_string();
        let job = app.wait_job(&id).await;
        assert_eq!(job["status"], "partial", "{job}");
        assert_eq!(job["results"]["email"]["status"], "success");
        assert_eq!(job["results"]["website"]["status"], "failed");
        assert!(job["errors"][0].as_str().unwrap().contains("website"));
        let running = app
            .sync(r#"{"channels":["email"],"schedule_time":"2099-01-01T00:00:00Z"}"#)
            .await;
        let r = app
            .post_as_writer(&format!(
                "/api/v2/jobs/{}/retry",
                running.body["job_id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(
            r.status,
            StatusCode::CONFLICT,
            "a pending job is not retried"
        );
        app.clear_faults(&app.platform).await;
        let r = app
            .post_as_writer(&format!("/api/v2/jobs/{id}/retry"))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let new_id = r.body["job_id"].as_str().unwrap().to_string();
        assert_eq!(r.body["new_job_id"], new_id.as_str());
        assert_ne!(new_id, id);
        let retried = app.wait_job(&new_id).await;
        assert_eq!(retried["status"], "completed", "{retried}");
        assert_eq!(retried["metadata"]["retry_of"], id.as_str());
        assert_eq!(
            app.post("/api/v2/jobs/job_nope/retry", Some(&app.write_key), "")
                .await
                .status,
            StatusCode::NOT_FOUND
        );

        let all = app.get_as_reader("/api/v2/jobs?limit=2").await;
        assert_eq!(all.body["total"], 3);
        assert_eq!(all.body["jobs"].as_array().unwrap().len(), 2);
        assert_eq!(all.body["page_size"], 2);
        assert_eq!(all.body["page"], 1);
        let partial = app.get_as_reader("/api/v2/jobs?status=partial").await;
        assert_eq!(partial.body["total"], 1);
        let web = app.get_as_reader("/api/v2/jobs?channel=website").await;
        assert_eq!(web.body["total"], 2);
        for bad in [
            "/api/v2/jobs?status=done",
            "/api/v2/jobs?limit=0",
            "/api/v2/jobs?channel=myspace",
        ] {
            assert_eq!(
                app.get_as_reader(bad).await.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{bad}"
            );
        }
    }
);

both_backends!(
    job_metrics_and_analytics_come_from_stored_jobs,
    |app: TestApp| async move {
        let a = app.sync(r#"{"channels":["email","social_twitter"]}"#).await;
        app.wait_job(a.body["job_id"].as_str().unwrap()).await;
        app.sync(r#"{"channels":["email"],"schedule_time":"2099-01-01T00:00:00Z"}"#)
            .await;
        let m = app.get_as_reader("/api/v2/metrics").await;
        assert_eq!(m.body["total_jobs"], 2);
        assert_eq!(m.body["status_breakdown"]["completed"], 1);
        assert_eq!(m.body["channel_breakdown"]["email"], 2);
        assert_eq!(m.body["success_rate"], 100.0);
        assert!(m.body["last_sync_times"]["sample"].is_string());
        let start = (chrono::Utc::now() - chrono::Duration::hours(24))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let end = (chrono::Utc::now() + chrono::Duration::minutes(1))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let a = app
            .get_as_reader(&format!(
                "/api/v2/analytics?start_date={start}&end_date={end}&granularity=hour"
            ))
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let ja: &Value = &a.body["job_analytics"];
        assert_eq!(ja["total_jobs"], 2);
        assert_eq!(ja["completed_jobs"], 1);
        assert_eq!(ja["pending_jobs"], 1);
        assert_eq!(ja["success_rate"], 100.0);
        assert!(ja["avg_processing_time_seconds"].is_number());
        assert_eq!(ja["jobs_by_channel"]["social_twitter"], 1);
        let series = ja["jobs_over_time"].as_array().unwrap();
        assert_eq!(series.len(), 25);
        assert_eq!(
            series
                .iter()
                .map(|b| b["count"].as_i64().unwrap())
                .sum::<i64>(),
            2
        );
        assert_eq!(a.body["recent_activity"]["last_24h"], 2);
        assert_eq!(a.body["recent_activity"]["last_30d"], 2);
        let d = app.get_as_reader("/api/v2/analytics?granularity=day").await;
        assert_eq!(
            d.body["job_analytics"]["jobs_over_time"]
                .as_array()
                .unwrap()
                .len(),
            7
        );
        let bad = app
            .get_as_reader("/api/v2/analytics?granularity=minute")
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        // The dashboard client's job analytics: the same figures, with their period.
        let j = app
            .get_as_reader(&format!(
                "/api/v2/analytics/jobs?start_date={start}&end_date={end}&granularity=hour"
            ))
            .await;
        assert_eq!(j.status, StatusCode::OK, "{}", j.text);
        assert_eq!(j.body["total_jobs"], 2);
        assert_eq!(j.body["jobs_by_channel"]["social_twitter"], 1);
        assert_eq!(j.body["period"]["granularity"], "hour");
        let bad = app
            .get_as_reader("/api/v2/analytics/jobs?granularity=week")
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.body["error"]["field"], "granularity");
    }
);
