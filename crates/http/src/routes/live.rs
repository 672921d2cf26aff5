//! Halcytone Live over HTTP: session summaries from a session record, live announcements,
//! a session's content and state, the active sessions, and the room operations under
//! `/ws/sessions/*` and `/ws/events/*` (info, broadcast, close, replay, listener).

use super::{ADMIN, Entry, Param, READ, WRITE, params, route};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryArgs;
use crate::live;
use crate::live::hub::now_iso;
use crate::queue;
use crate::state::AppState;
use crate::ws::live::check_id;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json};
use bytes::Bytes;
use halcytone_content::{Channel, session};
use serde_json::{Value, json};

pub fn routes() -> Vec<Entry> {
    vec![
        route("post", "/api/v2/session-summary", READ, "live", "Email, web and social content summarizing a Live session record; publish_immediately=true (write key) also queues it", post(session_summary))
            .query([Param::many("channels", params::channel_groups, "default all"), Param::flag("publish_immediately", "default false")])
            .body::<halcytone_content::session::SessionInput>("{title, content, session_id, session_duration (s, 1–7200), participant_count (1–1000), breathing_techniques [1–10], session_date (within 30 days), average_hrv_improvement?, key_achievements?, session_type? live|guided|practice|workshop, instructor_name?, metrics_summary?, participant_feedback?}")
            .errors(&[(422, "A field breaks the session rules; error.field names it")]),
        route("post", "/api/v2/live-announce", WRITE, "live", "Send {type: live_announcement, content, timestamp} to one active session or all", post(live_announce))
            .query([Param::token("session_id", 100, "an active session"), Param::flag("broadcast_all", "true: every active session")])
            .body_with("any JSON object: the announcement", super::any_object)
            .errors(&[(400, "Neither session_id nor broadcast_all"), (404, "Session not active")]),
        route("get", "/api/v2/session/{id}/content", READ, "live", "A session's state, tracked data, metrics, replay and summary", get(session_content))
            .path_param(SESSION_ID)
            .query([Param::flag("include_metrics", "default true"), Param::flag("include_replay", "default false")]),
        route("get", "/api/v2/sessions/live", READ, "live", "Active live sessions", get(sessions_live))
            .query([Param::flag("include_metrics", "default false")]),
        route("get", "/ws/sessions/active", READ, "live", "Sessions with connected clients", get(active)),
        route("get", "/ws/sessions/{id}/info", READ, "live", "One session's connections", get(info))
            .path_param(SESSION_ID)
            .errors(&[(404, "Session not active")]),
        route("post", "/ws/sessions/{id}/broadcast", WRITE, "live", "Broadcast a JSON object to a session (a timestamp is added if missing)", post(broadcast))
            .path_param(SESSION_ID)
            .body_with("any JSON object", super::any_object)
            .errors(&[(404, "Session not active")]),
        route("post", "/ws/sessions/{id}/close", WRITE, "live", "End a session: everyone gets session_ending and is disconnected", post(close))
            .path_param(SESSION_ID)
            .errors(&[(404, "Session not active")]),
        route("get", "/ws/sessions/{id}/replay", READ, "live", "The session's last 100 broadcasts, after since when given", get(replay))
            .path_param(SESSION_ID)
            .query([Param::timestamp("since", "only events after this instant")])
            .errors(&[(404, "Session not active")]),
        route("post", "/ws/events/start-listener", ADMIN, "live", "Accept platform events on /ws/session/{id}/events (the default)", post(start_listener)),
        route("post", "/ws/events/stop-listener", ADMIN, "live", "Refuse platform events until started again", post(stop_listener)),
        route("get", "/ws/events/active-sessions", READ, "live", "Sessions known from platform events that have not ended", get(event_sessions)),
    ]
}

/// A session id in a path: what `live::hub` accepts.
const SESSION_ID: Param = Param::token("id", 100, "the session id");

fn not_active(id: &str) -> ApiError {
    ApiError::NotFound(format!("Session {id} not found or not active"))
}

async fn session_summary(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let q = QueryArgs::parse(q.as_deref());
    let publish = q.boolean("publish_immediately")?.unwrap_or(false);
    let mut channels = Vec::new();
    for (i, c) in q.all("channels").enumerate() {
        let ch = match c.trim().to_ascii_lowercase().as_str() {
            "email" => Channel::Email,
            "web" | "website" => Channel::Web,
            "social" => Channel::Social,
            other => {
                return Err(ApiError::invalid(
                    format!("channels[{i}]"),
                    format!("channels[{i}]: '{other}' is not a channel; use email, web or social"),
                ));
            }
        };
        if !channels.contains(&ch) {
            channels.push(ch);
        }
    }
    if channels.is_empty() {
        channels = Channel::ALL.to_vec();
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8 JSON".into()))?;
    let now = chrono::Utc::now();
    let record = session::parse(text, now).map_err(|e| match &e {
        session::SessionError::Invalid(list) => ApiError::invalid(
            list.first().map_or("body", |f| f.field.as_str()),
            e.to_string(),
        ),
        session::SessionError::Json { .. } => ApiError::MalformedJson(e.to_string()),
    })?;
    let publish = publish.then_some(live::summary::Publish {
        caller: caller.map(|c| c.0),
        force: q.boolean("force_publish")?.unwrap_or(false),
    });
    Ok(Json(
        live::summary::summarize(&state, &record, text, channels, publish).await?,
    ))
}

async fn live_announce(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    JsonBody(body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let q = QueryArgs::parse(q.as_deref());
    if !body.is_object() {
        return Err(ApiError::invalid(
            "body",
            "the announcement must be a JSON object",
        ));
    }
    let all = q.boolean("broadcast_all")?.unwrap_or(false);
    // A session id is checked whenever it is given, even beside broadcast_all.
    let named = q
        .last("session_id")
        .map(|id| check_id("session_id", id))
        .transpose()?;
    let targets: Vec<String> = match (named, all) {
        (_, true) => state.live.sessions().into_iter().map(|s| s.0).collect(),
        (Some(id), false) => {
            if !state.live.is_active(&id) {
                return Err(not_active(&id));
            }
            vec![id]
        }
        (None, false) => {
            return Err(ApiError::BadRequest(
                "Either session_id or broadcast_all must be specified".into(),
            ));
        }
    };
    let message = json!({ "type": "live_announcement", "content": body, "timestamp": now_iso() });
    let mut participants = 0;
    for id in &targets {
        state.live.broadcast(id, &message, None);
        participants += state.live.participants(id);
    }
    Ok(Json(json!({
        "status": "announced",
        "sessions_notified": targets,
        "participant_count": participants,
        "timestamp": now_iso(),
    })))
}

async fn session_content(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let id = check_id("id", &id)?;
    let q = QueryArgs::parse(q.as_deref());
    let tracked = state.live_sessions.get(&id);
    let active = state.live.is_active(&id);
    if !active && tracked.is_none() {
        return Err(ApiError::NotFound(format!("session {id} is not known")));
    }
    let mut out = json!({ "session_id": id, "active": active, "timestamp": now_iso() });
    if let Some(info) = state.live.info(&id) {
        out["session_info"] = info;
    }
    if let Some(t) = &tracked {
        out["session_data"] = t.json(&id);
        if q.boolean("include_metrics")?.unwrap_or(true) {
            out["metrics"] = json!(t.metrics);
        }
        out["summary"] = match &t.summary {
            Some(Ok(cv)) => {
                let status = state
                    .store
                    .content_version(cv)
                    .await?
                    .map(|v| v.review_state);
                json!({ "available": true, "content_id": cv, "status": status, "url": format!("/api/v2/content/{cv}") })
            }
            Some(Err(why)) => json!({ "available": false, "reason": why }),
            None => json!({ "available": false, "reason": "the session has not ended" }),
        };
    }
    if q.boolean("include_replay")?.unwrap_or(false) {
        let messages = state.live.replay(&id, None).unwrap_or_default();
        out["replay"] = json!({ "message_count": messages.len(), "messages": messages });
    }
    Ok(Json(out))
}

async fn sessions_live(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let q = QueryArgs::parse(q.as_deref());
    let metrics = q.boolean("include_metrics")?.unwrap_or(false);
    let sessions: Vec<Value> = state
        .live
        .sessions()
        .into_iter()
        .map(|(id, n, created)| {
            let tracked = state.live_sessions.get(&id);
            let mut s = json!({
                "session_id": id,
                "participant_count": n,
                "active": true,
                "started_at": tracked.as_ref().and_then(|t| t.started_at).unwrap_or(created).to_rfc3339(),
            });
            if metrics {
                s["metrics"] = json!(tracked.map(|t| t.metrics).unwrap_or_default());
            }
            s
        })
        .collect();
    Ok(Json(
        json!({ "count": sessions.len(), "sessions": sessions, "timestamp": now_iso() }),
    ))
}

async fn active(State(state): State<AppState>) -> Json<Value> {
    let sessions: Vec<Value> = state
        .live
        .sessions()
        .into_iter()
        .map(|(id, n, _)| json!({ "session_id": id, "participant_count": n, "active": true }))
        .collect();
    Json(json!({ "count": sessions.len(), "sessions": sessions }))
}

async fn info(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = check_id("id", &id)?;
    state
        .live
        .info(&id)
        .map(Json)
        .ok_or_else(|| not_active(&id))
}

async fn broadcast(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(mut body): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let id = check_id("id", &id)?;
    let Some(obj) = body.as_object_mut() else {
        return Err(ApiError::invalid(
            "body",
            "the message must be a JSON object",
        ));
    };
    obj.entry("timestamp").or_insert_with(|| json!(now_iso()));
    let delivered = state
        .live
        .broadcast(&id, &body, None)
        .ok_or_else(|| not_active(&id))?;
    Ok(Json(
        json!({ "status": "broadcasted", "session_id": id, "delivered": delivered, "timestamp": now_iso() }),
    ))
}

async fn close(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = check_id("id", &id)?;
    let n = state.live.close(&id).ok_or_else(|| not_active(&id))?;
    Ok(Json(
        json!({ "status": "closed", "session_id": id, "disconnected": n, "timestamp": now_iso() }),
    ))
}

async fn replay(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let id = check_id("id", &id)?;
    let q = QueryArgs::parse(q.as_deref());
    let since = queue::schedule_time("since", q.last("since"))?;
    let messages = state
        .live
        .replay(&id, since)
        .ok_or_else(|| not_active(&id))?;
    Ok(Json(
        json!({ "session_id": id, "message_count": messages.len(), "messages": messages }),
    ))
}

async fn start_listener(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    state.live_sessions.set_listening(true);
    (
        StatusCode::OK,
        Json(
            json!({ "status": "started", "timestamp": now_iso(), "active_sessions": state.live_sessions.active().len() }),
        ),
    )
}

async fn stop_listener(State(state): State<AppState>) -> Json<Value> {
    state.live_sessions.set_listening(false);
    Json(json!({ "status": "stopped", "timestamp": now_iso() }))
}

async fn event_sessions(State(state): State<AppState>) -> Json<Value> {
    let sessions: Vec<Value> = state
        .live_sessions
        .active()
        .iter()
        .map(|(id, t)| {
            json!({
                "session_id": id,
                "started_at": t.started_at.map(|s| s.to_rfc3339()),
                "participant_count": t.participants.len(),
                "current_metrics": t.metrics,
            })
        })
        .collect();
    Json(json!({ "count": sessions.len(), "sessions": sessions }))
}
