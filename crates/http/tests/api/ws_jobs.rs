//! `/ws/jobs`: the dashboard's job stream reports every transition of a publish job.

use crate::helpers::{Backend, config, next_json, spawn_app, spawn_app_with};
use futures_util::StreamExt;
use halcytone_testkit::http::queue_job;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_transition_reaches_the_stream() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut anon = app.ws("/ws/jobs").await;
    let mut keyed = app.ws(&format!("/ws/jobs?api_key={}", app.read_key)).await;
    assert_eq!(next_json(&mut anon).await["type"], "connected");
    assert_eq!(next_json(&mut keyed).await["type"], "connected");
    app.assert_metric("halcytone_websocket_connections{endpoint=\"/ws/jobs\"} 2")
        .await;
    let job = app.sync(r#"{"channels": ["email"]}"#).await;
    let id = job.body["job_id"].as_str().unwrap().to_string();
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some("completed") {
        let e = next_json(&mut anon).await;
        let expected = if seen.is_empty() {
            "job_update"
        } else {
            "job_status_change"
        };
        assert_eq!(e["type"], expected, "{e}");
        assert_eq!(e["job"]["job_id"], id.as_str());
        assert!(e["timestamp"].is_string());
        assert!(e["job"].get("results").is_none(), "anonymous: no results");
        seen.push(e["job"]["status"].as_str().unwrap().to_string());
    }
    assert_eq!(seen, ["pending", "in_progress", "completed"]);
    // The keyed listener got the same transitions with whole jobs.
    let mut full = Vec::new();
    for _ in 0..3 {
        full.push(next_json(&mut keyed).await);
    }
    assert_eq!(full[2]["job"]["status"], "completed");
    assert!(full[2]["job"]["results"].is_object(), "{}", full[2]);
    drop(anon);
    drop(keyed);
    // Closed connections leave the gauge.
    let mut zero = false;
    for _ in 0..100 {
        let m = app.get("/metrics", None).await;
        if m.text
            .contains("halcytone_websocket_connections{endpoint=\"/ws/jobs\"} 0")
        {
            zero = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(zero);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_pinged_then_closed_with_the_reason() {
    let mut c = crate::helpers::config();
    c.ws_ping = Duration::from_secs(1);
    c.ws_idle = Duration::from_secs(2);
    let app = crate::helpers::spawn_app_with(Backend::Sqlite, c)
        .await
        .unwrap();
    let mut ws = app.ws("/ws/jobs").await;
    // Not reading means not answering pings: the server hears nothing.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let mut pings = 0;
    let mut closed = None;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
        match m {
            Message::Ping(_) => pings += 1,
            Message::Close(f) => {
                closed = f.map(|f| (u16::from(f.code), f.reason.to_string()));
                break;
            }
            _ => {}
        }
    }
    assert!(pings >= 1, "pinged before being dropped");
    let (code, reason) = closed.expect("a close frame");
    assert_eq!(code, 1001);
    assert!(reason.contains("idle"), "{reason}");
}

/// Two replicas on one PostgreSQL database: a dashboard connected to the one without a
/// worker sees the job the other runs, through to its end (LISTEN/NOTIFY between them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_on_one_replica_sees_the_jobs_another_runs() {
    let mut quiet = config();
    quiet.run_worker = false;
    let Some(mut a) = spawn_app_with(Backend::Postgres, quiet).await else {
        return;
    };
    let b = a.replica(config()).await;
    let mut ws = a.ws(&format!("/ws/jobs?api_key={}", a.read_key)).await;
    assert_eq!(next_json(&mut ws).await["type"], "connected");
    let doc =
        "# Weekly\n\n## Breathscape Updates\n\n### Calmer pacing\nThe new pacing is calmer.\n";
    let id = queue_job(
        a.http
            .post(format!("{b}/api/v2/content/sync"))
            .header("X-API-Key", &a.write_key)
            .json(&serde_json::json!({ "channels": ["website"], "document": doc })),
    )
    .await;
    let mut seen = Vec::new();
    loop {
        let m = next_json(&mut ws).await;
        if m["job"]["job_id"] != id.as_str() {
            continue;
        }
        let status = m["job"]["status"].as_str().unwrap().to_string();
        seen.push(status.clone());
        if status == "completed" {
            break;
        }
    }
    // Each relayed event carries the status the job moved to on B, in the order B's
    // transitions happened (one task sends them): A sees the job start, then finish.
    let order = ["pending", "in_progress", "completed"];
    let ranks: Vec<usize> = seen
        .iter()
        .map(|s| order.iter().position(|o| o == s).unwrap_or(usize::MAX))
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert!(seen.contains(&"in_progress".to_string()), "{seen:?}");
    assert_eq!(
        seen.last().map(String::as_str),
        Some("completed"),
        "{seen:?}"
    );
}
