//! `/ws/live-updates` (people in a session: welcome, joins and leaves, heartbeat, technique
//! feedback to instructors, HRV updates, chat) and `/ws/session/{id}/events` (the platform
//! pushing session events, with an API key).

use super::{Gauge, KeepAlive, MAX_MESSAGE_BYTES, close};
use crate::auth;
use crate::error::ApiError;
use crate::http::query::QueryArgs;
use crate::live::events;
use crate::live::hub::{ClientMeta, Outgoing, Role, now_iso};
use crate::routes::{Entry, Param, route};
use crate::state::AppState;
use axum::extract::ws::{Message, WebSocket};
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use halcytone_store::Scope;
use serde_json::{Value, json};
use tokio::sync::mpsc;

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "get",
            "/ws/live-updates",
            auth::Access::Public,
            "live",
            "WebSocket: join a live session (?session_id=, client_id=, role=participant|instructor|observer|admin); send {type: heartbeat|technique_feedback|hrv_update|chat, data}",
            get(live_updates),
        )
        .query([
            Param::token("session_id", 100, "the session to join").required(),
            Param::token("client_id", 100, "default ws-<8 hex>"),
            Param::one_of("role", crate::routes::params::roles, "default participant"),
        ])
        .ok(101)
        .errors(&[(422, "Missing or malformed session_id or client_id")]),
        route(
            "get",
            "/ws/session/{id}/events",
            auth::Access::Key(Scope::Write),
            "live",
            "WebSocket: the platform pushes session events {type, session_id?, timestamp?, data}; each is acknowledged",
            get(session_events),
        )
        .path_param(Param::token("id", 100, "the session id"))
        .ok(101),
    ]
}

/// A session or client id: short, and only characters that are safe in logs and URLs.
pub fn check_id(field: &str, raw: &str) -> Result<String, ApiError> {
    let ok = !raw.is_empty()
        && raw.len() <= 100
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(raw.to_string())
    } else {
        Err(ApiError::invalid(
            field,
            format!("{field}: 1 to 100 characters of A–Z, a–z, 0–9, _, - and ."),
        ))
    }
}

async fn live_updates(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    super::Upgrade(ws): super::Upgrade,
) -> Response {
    let q = QueryArgs::parse(q.as_deref());
    let session = match q.last("session_id").map(|s| check_id("session_id", s)) {
        Some(Ok(s)) => s,
        Some(Err(e)) => return e.into_response(),
        None => {
            return ApiError::invalid("session_id", "session_id: required (?session_id=…)")
                .into_response();
        }
    };
    let client = match q.last("client_id") {
        Some(c) => match check_id("client_id", c) {
            Ok(c) => c,
            Err(e) => return e.into_response(),
        },
        None => format!("ws-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
    };
    let role = Role::parse(q.last("role"));
    // Instructors and admins hear technique feedback: they must show a key.
    if matches!(role, Role::Instructor | Role::Admin) {
        let key = auth::presented_key(&headers).or_else(|| q.last("api_key").map(String::from));
        let ok = match key {
            Some(k) => auth::authenticate(&state, &k)
                .await
                .is_ok_and(|c| c.allows(Scope::Read)),
            None => false,
        };
        if !ok {
            return ApiError::NotAllowed(format!(
                "role {}: needs an API key (Authorization header or ?api_key=)",
                role.as_str()
            ))
            .into_response();
        }
    }
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(200).collect())
    };
    let meta = ClientMeta {
        user_agent: header("user-agent"),
        origin: header("origin"),
    };
    // Messages are checked against MAX_MESSAGE_BYTES here, so the close can say why.
    ws.max_message_size(MAX_MESSAGE_BYTES * 4)
        .on_upgrade(move |socket| participant(state, socket, session, client, role, meta))
}

fn text(v: &Value) -> Message {
    Message::Text(v.to_string().into())
}

async fn participant(
    state: AppState,
    mut socket: WebSocket,
    session: String,
    client: String,
    role: Role,
    meta: ClientMeta,
) {
    let rx = match state.live.join(&session, &client, role, meta) {
        Ok((rx, _)) => rx,
        Err(e) => {
            let _ = socket
                .send(text(&json!({ "type": "error", "message": e.to_string() })))
                .await;
            close(&mut socket, 1008, "client_id already connected").await;
            return;
        }
    };
    let _gauge = Gauge::open(&state, "/ws/live-updates");
    // The hub has queued the welcome and told the others.
    run(&state, &mut socket, &session, &client, role, rx).await;
    // The hub may have dropped a slow connection already; the others hear of it either way.
    let left = state.live.leave(&session, &client).or_else(|| {
        state
            .live
            .is_active(&session)
            .then(|| state.live.participants(&session))
    });
    if let Some(left) = left {
        let msg = json!({
            "type": "participant_left",
            "client_id": client,
            "participant_count": left,
            "timestamp": now_iso(),
        });
        state.live.broadcast(&session, &msg, None);
    }
}

async fn run(
    state: &AppState,
    socket: &mut WebSocket,
    session: &str,
    client: &str,
    role: Role,
    mut rx: mpsc::Receiver<Outgoing>,
) {
    let mut keep = KeepAlive::new(state);
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(Outgoing::Text(t)) => {
                    if socket.send(Message::Text(t.as_ref().into())).await.is_err() {
                        return;
                    }
                }
                Some(Outgoing::Close(code, reason)) => {
                    close(socket, code, reason).await;
                    return;
                }
                None => {
                    // Dropped by the hub: its queue filled up.
                    close(socket, 1013, "too slow: messages were not read in time").await;
                    return;
                }
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(Message::Text(t))) => {
                    keep.heard();
                    if t.len() > MAX_MESSAGE_BYTES {
                        close(socket, 1009, "message too big: the limit is 65536 bytes").await;
                        return;
                    }
                    let reply = handle(state, session, client, role, t.as_str());
                    if socket.send(text(&reply)).await.is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Binary(b))) => {
                    keep.heard();
                    if b.len() > MAX_MESSAGE_BYTES {
                        close(socket, 1009, "message too big: the limit is 65536 bytes").await;
                        return;
                    }
                    let reply = json!({ "type": "error", "message": "send JSON text messages" });
                    if socket.send(text(&reply)).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => keep.heard(),
            },
            idle = keep.due() => {
                if !keep.act(socket, idle).await {
                    return;
                }
            }
        }
    }
}

fn field_f64(data: &Value, key: &str) -> Option<f64> {
    data.get(key).and_then(Value::as_f64)
}

fn field_text(data: &Value, key: &str, max: usize) -> Option<String> {
    data.get(key)
        .and_then(Value::as_str)
        .map(|s| s.chars().take(max).collect())
}

/// One client message; returns the reply to the sender.
fn handle(state: &AppState, session: &str, client: &str, role: Role, raw: &str) -> Value {
    let Ok(msg) = serde_json::from_str::<Value>(raw) else {
        return json!({ "type": "error", "message": "Invalid JSON format" });
    };
    let kind = msg.get("type").and_then(Value::as_str).unwrap_or("");
    let data = msg.get("data").cloned().unwrap_or_else(|| json!({}));
    let hub = &state.live;
    match kind {
        "heartbeat" => {
            hub.heartbeat(session, client);
            json!({ "type": "heartbeat_ack", "timestamp": now_iso() })
        }
        "technique_feedback" => {
            let fb = json!({
                "type": "technique_feedback",
                "client_id": client,
                "role": role,
                "technique": field_text(&data, "technique", 100),
                "difficulty": data.get("difficulty").cloned().unwrap_or(Value::Null),
                "effectiveness": data.get("effectiveness").cloned().unwrap_or(Value::Null),
                "timestamp": now_iso(),
            });
            hub.send(session, &fb, |r| r.hears_feedback(), Some(client), false);
            json!({ "type": "feedback_received", "status": "ok" })
        }
        "hrv_update" => {
            let Some(value) = field_f64(&data, "hrv_value") else {
                return json!({ "type": "error", "message": "hrv_update needs data.hrv_value (a number)" });
            };
            let update = json!({
                "type": "session_update",
                "update_type": "hrv_update",
                "session_id": session,
                "data": { "client_id": client, "hrv_value": value, "improvement": field_f64(&data, "improvement") },
                "timestamp": now_iso(),
            });
            hub.broadcast(session, &update, None);
            json!({ "type": "hrv_received", "status": "ok" })
        }
        "chat" => {
            let Some(text) = field_text(&data, "message", 2000).filter(|m| !m.trim().is_empty())
            else {
                return json!({ "type": "error", "message": "chat needs data.message (text)" });
            };
            let chat = json!({
                "type": "chat_message",
                "client_id": client,
                "role": role,
                "message": text,
                "timestamp": now_iso(),
            });
            hub.broadcast(session, &chat, Some(client));
            json!({ "type": "message_sent", "status": "ok" })
        }
        other => {
            json!({ "type": "error", "message": format!("Unknown message type: {}", other.chars().take(64).collect::<String>()) })
        }
    }
}

async fn session_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    super::Upgrade(ws): super::Upgrade,
) -> Response {
    let session = match check_id("session_id", &id) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    ws.max_message_size(MAX_MESSAGE_BYTES * 4)
        .on_upgrade(move |socket| ingest(state, socket, session))
}

async fn ingest(state: AppState, mut socket: WebSocket, session: String) {
    let _gauge = Gauge::open(&state, "/ws/session/{id}/events");
    let mut keep = KeepAlive::new(&state);
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(Message::Text(t))) => {
                    keep.heard();
                    if t.len() > MAX_MESSAGE_BYTES {
                        close(&mut socket, 1009, "message too big: the limit is 65536 bytes").await;
                        return;
                    }
                    let reply = match events::ingest(&state, &session, t.as_str()).await {
                        Ok(ack) => ack,
                        Err(e) => json!({ "type": "error", "message": e.to_string() }),
                    };
                    if socket.send(text(&reply)).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => keep.heard(),
            },
            idle = keep.due() => {
                if !keep.act(&mut socket, idle).await {
                    return;
                }
            }
        }
    }
}
