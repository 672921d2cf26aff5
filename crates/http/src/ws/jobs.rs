//! `/ws/jobs`: every job transition as `{type: "job_update" | "job_status_change", job,
//! timestamp}`. The dashboard connects without credentials and only uses the message as a
//! signal to refetch, so an anonymous connection gets the job's id, status, channels and
//! times; a connection that presents an API key (header, or `?api_key=` for browsers) with
//! the read scope gets the whole job as `/api/v2/jobs/{id}` shows it.

use super::{Gauge, KeepAlive};
use crate::auth;
use crate::events::JobEvent;
use crate::http::query::QueryArgs;
use crate::routes::{Entry, route};
use crate::state::AppState;
use axum::extract::ws::{Message, WebSocket};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use halcytone_store::Scope;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

pub fn routes() -> Vec<Entry> {
    vec![route(
        "get",
        "/ws/jobs",
        crate::auth::Access::Public,
        "websocket",
        "WebSocket: job transitions as {type: job_update|job_status_change, job, timestamp}; the whole job with an API key (header or ?api_key=), its id, status, channels and times without",
        get(upgrade),
    )
    .ok(101)]
}

/// The fields an anonymous listener sees.
fn public_view(job: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for k in [
        "job_id",
        "status",
        "channels",
        "created_at",
        "started_at",
        "completed_at",
        "scheduled_for",
        "attempts",
    ] {
        if let Some(v) = job.get(k) {
            out.insert(k.to_string(), v.clone());
        }
    }
    Value::Object(out)
}

async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    super::Upgrade(ws): super::Upgrade,
) -> Response {
    let query = QueryArgs::parse(q.as_deref());
    let key = auth::presented_key(&headers).or_else(|| query.last("api_key").map(String::from));
    let full = match key {
        Some(k) => auth::authenticate(&state, &k)
            .await
            .is_ok_and(|c| c.allows(Scope::Read)),
        None => false,
    };
    ws.max_message_size(super::MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| stream(state, socket, full))
}

fn message(event: &JobEvent, full: bool) -> String {
    let job = if full {
        event.job.clone()
    } else {
        public_view(&event.job)
    };
    json!({ "type": event.kind, "job": job, "timestamp": event.timestamp }).to_string()
}

async fn stream(state: AppState, mut socket: WebSocket, full: bool) {
    let _gauge = Gauge::open(&state, "/ws/jobs");
    let mut events = state.job_events.subscribe();
    let hello = json!({
        "type": "connected",
        "stream": "jobs",
        "detail": if full { "full job records" } else { "job ids and statuses; send an API key for whole jobs" },
        "timestamp": chrono::Utc::now().to_rfc3339(),
    });
    if socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    let mut keep = KeepAlive::new(&state);
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(e) => {
                    if socket.send(Message::Text(message(&e, full).into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    let note = json!({ "type": "events_skipped", "count": n, "detail": "this connection fell behind; refetch the job list" });
                    if socket.send(Message::Text(note.to_string().into())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_listeners_see_ids_and_statuses_only() {
        let job = json!({"job_id": "j1", "status": "completed", "channels": ["email"], "errors": ["secret detail"], "results": {}});
        let v = public_view(&job);
        assert_eq!(v["job_id"], "j1");
        assert_eq!(v["status"], "completed");
        assert!(v.get("errors").is_none() && v.get("results").is_none());
    }
}
