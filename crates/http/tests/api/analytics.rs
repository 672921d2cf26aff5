//! Email analytics on a timer: the refresher beside the embedded worker pulls the figures of
//! recent campaigns from the CRM by itself, skips figures that are still fresh, and stops a
//! pass at a CRM that cannot answer without touching what is stored.

use crate::helpers::*;
use halcytone_http::campaigns::{RefreshPass, refresh_stale};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

/// The one campaign the app has recorded.
async fn only_campaign(app: &TestApp) -> Value {
    let e = app.get_as_reader("/api/v2/analytics/email").await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.text);
    let all = e.body["campaigns"].as_array().unwrap().clone();
    assert_eq!(all.len(), 1, "{}", e.text);
    all[0].clone()
}

async fn show(app: &TestApp, id: &str) -> Value {
    app.get_as_reader(&format!("/api/v2/analytics/campaigns/{id}"))
        .await
        .body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresher_pulls_new_campaigns_figures_by_itself() {
    let mut c = config();
    c.analytics_refresh = Some(Duration::from_millis(200));
    let app = spawn_app_with(Backend::Sqlite, c).await.unwrap();
    let s = app.sync(r#"{"channels":["email"]}"#).await;
    let job = app.wait_job(s.body["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    let id = only_campaign(&app).await["campaign_id"]
        .as_str()
        .unwrap()
        .to_string();
    // Nobody asks for a refresh: the timer does it.
    let mut shown = show(&app, &id).await;
    for _ in 0..100 {
        if !shown["fetched_at"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        shown = show(&app, &id).await;
    }
    assert!(!shown["fetched_at"].is_null(), "never refreshed: {shown}");
    assert_eq!(
        shown["figures"]["sent"], shown["recipients"],
        "the mock CRM counted what it captured: {shown}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_refreshes_only_stale_figures_and_stops_at_a_failing_crm() {
    let mut c = config();
    c.analytics_refresh = None;
    let app = spawn_app_with(Backend::Sqlite, c).await.unwrap();
    let s = app.sync(r#"{"channels":["email"]}"#).await;
    app.wait_job(s.body["job_id"].as_str().unwrap()).await;
    let id = only_campaign(&app).await["campaign_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        show(&app, &id).await["fetched_at"].is_null(),
        "off: nothing pulled"
    );
    // One refresh pass at `at` (hourly, over the last 14 days).
    let pass_at = async |at: i64| {
        refresh_stale(app.store.as_ref(), &app.state.publishing, at, HOUR, 14)
            .await
            .unwrap()
    };
    let refreshed_one = RefreshPass {
        refreshed: 1,
        stopped: false,
    };
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(pass_at(now).await, refreshed_one);
    let first = show(&app, &id).await;
    assert!(!first["fetched_at"].is_null());
    // Pulled a minute ago: still fresh.
    assert_eq!(pass_at(now + 60_000).await, RefreshPass::default());
    // Outside the window of recent days: not asked about.
    assert_eq!(pass_at(now + 15 * 86_400_000).await, RefreshPass::default());
    // An hour later the CRM's analytics fail: the pass stops, the stored figures stay.
    let fault = json!({ "route": "GET /api/v1/campaigns/{id}/analytics", "status": 503 });
    app.set_fault(&app.crm, fault).await;
    let later = now + HOUR.as_millis() as i64;
    assert_eq!(
        pass_at(later).await,
        RefreshPass {
            refreshed: 0,
            stopped: true
        }
    );
    assert_eq!(show(&app, &id).await, first, "nothing stored was touched");
    app.clear_faults(&app.crm).await;
    assert_eq!(pass_at(later).await, refreshed_one);
    let again = show(&app, &id).await;
    assert_ne!(again["fetched_at"], first["fetched_at"], "{again}");
}
