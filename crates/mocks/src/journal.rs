//! The request journal: the latest requests a mock answered, with correlation ids, and the
//! middleware that assigns the correlation id and records each request.

use crate::body::Params;
use crate::state::MockState;
use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// How many requests the journal keeps.
pub const CAPACITY: usize = 1000;

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub at: String,
    pub method: String,
    pub path: String,
    pub route: Option<String>,
    pub status: u16,
    pub latency_ms: f64,
    pub correlation_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// The `X-API-Key` sent, as its last four characters only (`****cdef`), so a rehearsal
    /// shows which key was used without the journal holding it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
}

#[derive(Debug, Default)]
pub struct Journal {
    entries: Mutex<VecDeque<Entry>>,
}

impl Journal {
    fn push(&self, e: Entry) {
        let mut q = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if q.len() >= CAPACITY {
            q.pop_front();
        }
        q.push_back(e);
    }

    pub fn latest(&self, limit: usize) -> Vec<Entry> {
        let q = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        q.iter().rev().take(limit).cloned().collect()
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `****` and the last four characters; keys shorter than 12 show only the stars.
fn masked(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 12 {
        return "****".into();
    }
    format!(
        "****{}",
        chars[chars.len() - 4..].iter().collect::<String>()
    )
}

/// Middleware: correlation id in and out, one journal entry per request.
pub async fn record(State(state): State<MockState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let correlation_id = header(&req, "x-correlation-id")
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if let Ok(v) = HeaderValue::from_str(&correlation_id) {
        req.headers_mut().insert("x-correlation-id", v);
    }
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let idempotency_key = header(&req, "idempotency-key");
    let traceparent = header(&req, "traceparent");
    let api_key = header(&req, "x-api-key").map(|k| masked(&k));
    let mut resp = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&correlation_id) {
        resp.headers_mut().insert("x-correlation-id", v);
    }
    state.counters.requests.fetch_add(1, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    let route_label = route.clone().unwrap_or_else(|| "unmatched".to_string());
    state
        .metrics
        .observe(&method, &route_label, resp.status().as_u16(), seconds);
    state.journal.push(Entry {
        at: crate::now(),
        method,
        path,
        route,
        status: resp.status().as_u16(),
        latency_ms: seconds * 1000.0,
        correlation_id,
        idempotency_key,
        traceparent,
        api_key,
    });
    resp
}

#[derive(Debug, Deserialize)]
pub struct JournalQuery {
    limit: Option<usize>,
}

pub async fn list(State(state): State<MockState>, Params(q): Params<JournalQuery>) -> Json<Value> {
    let entries = state.journal.latest(q.limit.unwrap_or(100).min(CAPACITY));
    Json(json!({ "count": entries.len(), "entries": entries }))
}
