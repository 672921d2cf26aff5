//! Halcytone Live over WebSockets and HTTP: roles, chat, HRV, technique feedback, replay,
//! closing a session, platform events through to a stored summary, announcements, session
//! summaries, and one broadcast to 200 clients.

use crate::helpers::{ADMIN_KEY, Backend, TestApp, Ws, next_json, spawn_app};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

async fn join(app: &TestApp, session: &str, client: &str, role: &str) -> Ws {
    let mut path = format!("/ws/live-updates?session_id={session}&client_id={client}&role={role}");
    if matches!(role, "instructor" | "admin") {
        path.push_str(&format!("&api_key={}", app.read_key));
    }
    let mut ws = app.ws(&path).await;
    let welcome = next_json(&mut ws).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(welcome["client_id"], client);
    assert_eq!(welcome["role"], role);
    ws
}

/// Whether nothing arrives within a short wait.
async fn quiet(ws: &mut Ws) -> bool {
    tokio::time::timeout(Duration::from_millis(200), ws.next())
        .await
        .is_err()
}

async fn say(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// Says `v` and reads the `message` of the answer (an error's text; empty when it has none).
async fn answer_message(ws: &mut Ws, v: Value) -> String {
    say(ws, v).await;
    let answer = next_json(ws).await;
    answer["message"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_clients_in_one_session_get_what_their_roles_should() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut teacher = join(&app, "s1", "teacher", "instructor").await;
    let mut ann = join(&app, "s1", "ann", "participant").await;
    assert_eq!(next_json(&mut teacher).await["client_id"], "ann");
    let mut bob = join(&app, "s1", "bob", "participant").await;
    for ws in [&mut teacher, &mut ann] {
        let j = next_json(ws).await;
        assert_eq!(
            (
                j["type"].as_str(),
                j["client_id"].as_str(),
                j["participant_count"].as_u64()
            ),
            (Some("participant_joined"), Some("bob"), Some(3))
        );
    }
    // Chat goes to the others; the sender gets a receipt.
    say(
        &mut ann,
        json!({"type": "chat", "data": {"message": "hello from ann"}}),
    )
    .await;
    assert_eq!(next_json(&mut ann).await["type"], "message_sent");
    for ws in [&mut teacher, &mut bob] {
        let m = next_json(ws).await;
        assert_eq!(
            (m["type"].as_str(), m["message"].as_str()),
            (Some("chat_message"), Some("hello from ann"))
        );
    }
    // HRV goes to everyone as a session update.
    say(
        &mut bob,
        json!({"type": "hrv_update", "data": {"hrv_value": 62.5, "improvement": 8.0}}),
    )
    .await;
    let mut got_receipt = false;
    for _ in 0..2 {
        let m = next_json(&mut bob).await;
        got_receipt |= m["type"] == "hrv_received";
    }
    assert!(got_receipt);
    for ws in [&mut teacher, &mut ann] {
        let m = next_json(ws).await;
        assert_eq!(m["update_type"], "hrv_update", "{m}");
        assert_eq!(m["data"]["hrv_value"], 62.5);
    }
    // Technique feedback reaches the instructor only.
    say(&mut ann, json!({"type": "technique_feedback", "data": {"technique": "Box Breathing", "difficulty": 2, "effectiveness": 5}})).await;
    assert_eq!(next_json(&mut ann).await["type"], "feedback_received");
    let f = next_json(&mut teacher).await;
    assert_eq!(
        (f["type"].as_str(), f["technique"].as_str()),
        (Some("technique_feedback"), Some("Box Breathing"))
    );
    assert!(quiet(&mut bob).await, "a participant does not see feedback");
    // Bad messages get errors, not disconnection.
    ann.send(Message::Text("{not json".into())).await.unwrap();
    assert_eq!(next_json(&mut ann).await["message"], "Invalid JSON format");
    assert_eq!(
        answer_message(&mut ann, json!({"type": "dance"})).await,
        "Unknown message type: dance"
    );
    say(&mut ann, json!({"type": "heartbeat"})).await;
    assert_eq!(next_json(&mut ann).await["type"], "heartbeat_ack");
    // Replay holds the broadcasts in order.
    let r = app.get_as_reader("/ws/sessions/s1/replay").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let types: Vec<&str> = r.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "participant_joined",
            "participant_joined",
            "participant_joined",
            "chat_message",
            "session_update"
        ]
    );
    let info = app.get_as_reader("/ws/sessions/s1/info").await;
    assert_eq!(info.body["participant_count"], 3);
    app.assert_metric("halcytone_websocket_connections{endpoint=\"/ws/live-updates\"} 3")
        .await;
    // Bob leaves; the others are told.
    bob.close(None).await.unwrap();
    for ws in [&mut teacher, &mut ann] {
        let m = next_json(ws).await;
        assert_eq!(
            (m["type"].as_str(), m["participant_count"].as_u64()),
            (Some("participant_left"), Some(2))
        );
    }
    // Closing the session ends every connection, after a goodbye.
    let c = app
        .post("/ws/sessions/s1/close", Some(&app.write_key), "")
        .await;
    assert_eq!(c.status, StatusCode::OK, "{}", c.text);
    for ws in [&mut teacher, &mut ann] {
        assert_eq!(next_json(ws).await["type"], "session_ending");
        let closed = next_json(ws).await;
        assert_eq!(closed["closed"][0], 1000, "{closed}");
    }
    assert!(
        !app.get_as_reader("/ws/sessions/active")
            .await
            .text
            .contains("s1")
    );
    assert_eq!(
        app.post("/ws/sessions/s1/close", Some(&app.write_key), "")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_events_drive_the_room_and_the_end_stores_a_summary() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut person = join(&app, "evt-1", "p1", "participant").await;
    let events = "/ws/session/evt-1/events";
    assert!(
        tokio_tungstenite::connect_async(app.ws_url(events))
            .await
            .is_err(),
        "events need a key"
    );
    let mut platform = app.ws_with_bearer(events, &app.write_key).await;
    say(
        &mut platform,
        json!({"type": "session.started", "data": {"title": "Morning calm", "instructor": "Dana"}}),
    )
    .await;
    assert_eq!(next_json(&mut platform).await["type"], "ack");
    let u = next_json(&mut person).await;
    assert_eq!(u["update_type"], "session_started", "{u}");
    assert!(
        u["data"]["content"]["title"]
            .as_str()
            .unwrap()
            .contains("Morning calm")
    );
    for e in [
        json!({"type": "participant.joined", "data": {"participant_id": "p1"}}),
        json!({"type": "technique.changed", "data": {"technique": "Box Breathing", "duration": 300}}),
        json!({"type": "hrv.milestone", "data": {"improvement": 12.5}}),
        json!({"type": "session.metrics_update", "data": {"metrics": {"avg_hrv": 61}}}),
    ] {
        say(&mut platform, e).await;
        assert_eq!(next_json(&mut platform).await["type"], "ack");
        assert_eq!(next_json(&mut person).await["type"], "session_update");
    }
    let m = answer_message(&mut platform, json!({"type": "session.exploded"})).await;
    assert!(m.contains("Unknown event type"), "{m}");
    let other_session = json!({"type": "hrv.milestone", "session_id": "other"});
    let m = answer_message(&mut platform, other_session).await;
    assert!(m.contains("does not match"), "{m}");
    let live = app
        .get_as_reader("/api/v2/sessions/live?include_metrics=true")
        .await;
    assert_eq!(
        live.body["sessions"][0]["metrics"]["avg_hrv"], 61,
        "{}",
        live.text
    );
    say(
        &mut platform,
        json!({"type": "session.ended", "data": {"duration": 1200, "participant_count": 12}}),
    )
    .await;
    let ack = next_json(&mut platform).await;
    assert_eq!(ack["summary"]["available"], true, "{ack}");
    let cv = ack["summary"]["content_id"].as_str().unwrap().to_string();
    let ended = next_json(&mut person).await;
    assert_eq!(
        (
            ended["update_type"].as_str(),
            ended["data"]["summary_available"].as_bool()
        ),
        (Some("session_ended"), Some(true))
    );
    assert_eq!(next_json(&mut person).await["type"], "session_ending");
    let c = app.get_as_reader("/api/v2/session/evt-1/content").await;
    assert_eq!(c.body["summary"]["content_id"], cv.as_str(), "{}", c.text);
    assert_eq!(c.body["active"], false);
    let v = app.get_as_reader(&format!("/api/v2/content/{cv}")).await;
    assert_eq!(v.body["status"], "draft", "{}", v.text);
    assert!(v.text.contains("Morning calm"), "{}", v.text);
    // A message over 64 KiB closes the connection with the reason.
    say(
        &mut platform,
        json!({"type": "instructor.message", "data": {"message": "x".repeat(70_000)}}),
    )
    .await;
    let closed = next_json(&mut platform).await;
    assert_eq!(closed["closed"][0], 1009, "{closed}");
    // Stopping the listener refuses events.
    assert_eq!(
        app.post("/ws/events/stop-listener", Some(ADMIN_KEY), "")
            .await
            .status,
        StatusCode::OK
    );
    let mut again = app.ws_with_bearer(events, &app.write_key).await;
    let m = answer_message(&mut again, json!({"type": "session.started"})).await;
    assert!(m.contains("stopped"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summaries_and_announcements_validate_their_input() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let key = Some(app.read_key.as_str());
    let today = chrono::Utc::now().to_rfc3339();
    let good = json!({
        "title": "Evening wind-down", "content": "A calm guided session to close the day.",
        "session_id": "sess-42", "session_duration": 1800, "participant_count": 24,
        "breathing_techniques": ["Box Breathing", "Moon Breath"], "average_hrv_improvement": 16.0,
        "session_type": "live", "instructor_name": "Dana", "session_date": today,
    });
    let a = app
        .post("/api/v2/session-summary", key, &good.to_string())
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.body["validation_result"]["content_type"], "session");
    assert_eq!(
        a.body["validation_result"]["enhanced_metadata"]["featured"],
        true
    );
    assert!(a.body["newsletter"]["subject"].is_string(), "{}", a.text);
    assert!(a.body["web_update"].is_object());
    assert!(
        a.body["social_posts"]
            .as_array()
            .is_some_and(|p| !p.is_empty())
    );
    let mut bad = good.clone();
    bad["participant_count"] = json!(0);
    let e = app
        .post("/api/v2/session-summary", key, &bad.to_string())
        .await;
    assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", e.text);
    assert_eq!(e.body["error"]["field"], "participant_count");
    let e = app
        .post("/api/v2/session-summary", key, "{\"title\": ")
        .await;
    assert_eq!(e.status, StatusCode::BAD_REQUEST, "{}", e.text);
    let e = app
        .post(
            "/api/v2/session-summary?publish_immediately=true",
            key,
            &good.to_string(),
        )
        .await;
    assert_eq!(
        e.status,
        StatusCode::FORBIDDEN,
        "publishing needs write: {}",
        e.text
    );
    // Announcements.
    let w = Some(app.write_key.as_str());
    assert_eq!(
        app.post("/api/v2/live-announce", w, "{}").await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.post("/api/v2/live-announce?session_id=nobody", w, "{}")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let mut ws = join(&app, "ann-1", "c1", "observer").await;
    let a = app
        .post(
            "/api/v2/live-announce?session_id=ann-1",
            w,
            r#"{"title": "Doors open"}"#,
        )
        .await;
    assert_eq!(a.body["participant_count"], 1, "{}", a.text);
    let m = next_json(&mut ws).await;
    assert_eq!(
        (m["type"].as_str(), m["content"]["title"].as_str()),
        (Some("live_announcement"), Some("Doors open"))
    );
    let live_updates = app.ws_url("/ws/live-updates");
    let no_key = format!("{live_updates}?session_id=ok&role=instructor");
    assert_eq!(
        upgrade_refusal(&no_key, "an instructor without a key").await,
        403
    );
    let bad_session = format!("{live_updates}?session_id=../../x");
    assert_eq!(upgrade_refusal(&bad_session, "a bad session id").await, 422);
}

/// The HTTP status a WebSocket upgrade at `url` is refused with; panics, naming `what`, if
/// it is not refused with one.
async fn upgrade_refusal(url: &str, what: &str) -> u16 {
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => r.status().as_u16(),
        other => panic!("{what} must be refused: {other:?}"),
    }
}

/// Correctness of a fan-out to 200 clients; the time it takes is printed, not asserted
/// (scripts/ws-broadcast-bench.sh runs this in release mode with more rounds and reports it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_reaches_200_clients() {
    const CLIENTS: usize = 200;
    let rounds: usize = std::env::var("WS_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        clients.push(
            app.ws(&format!(
                "/ws/live-updates?session_id=big&client_id=c{i}&role=participant"
            ))
            .await,
        );
    }
    let info = app.get_as_reader("/ws/sessions/big/info").await;
    assert_eq!(info.body["participant_count"], CLIENTS);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(usize, u64, Instant)>(CLIENTS * 2);
    for (i, mut ws) in clients.into_iter().enumerate() {
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Text(t) = m
                    && t.contains("\"bench\"")
                {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    let _ = tx
                        .send((i, v["round"].as_u64().unwrap(), Instant::now()))
                        .await;
                }
            }
        });
    }
    // Let the join notices drain.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut worst_per_round = Vec::new();
    for round in 0..rounds as u64 {
        let body = json!({ "type": "bench", "round": round }).to_string();
        let sent = Instant::now();
        let b = app
            .post("/ws/sessions/big/broadcast", Some(&app.write_key), &body)
            .await;
        assert_eq!(b.body["delivered"], CLIENTS, "{}", b.text);
        let mut seen = std::collections::HashSet::new();
        let mut worst = Duration::ZERO;
        while seen.len() < CLIENTS {
            let (i, r, at) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(r, round, "messages arrive in order");
            seen.insert(i);
            worst = worst.max(at - sent);
        }
        worst_per_round.push(worst.as_secs_f64() * 1000.0);
    }
    worst_per_round.sort_by(f64::total_cmp);
    let median = worst_per_round[worst_per_round.len() / 2];
    let max = worst_per_round[worst_per_round.len() - 1];
    println!(
        "broadcast to {CLIENTS} clients, {rounds} rounds: the last client received it after median {median:.2} ms, max {max:.2} ms (from the HTTP call to the last receipt)"
    );
}
