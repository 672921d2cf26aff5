//! `Idempotency-Key`: the first response for a key is stored with the capture it made, in one
//! transaction; a repeat gets that response back and captures nothing.

use crate::error::{MockError, MockResult};
use crate::state::MockState;
use crate::store::NewRecord;
use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// What a handler decided: its answer and the record to capture with it.
#[derive(Debug)]
pub struct Outcome {
    pub status: StatusCode,
    pub body: Value,
    pub record: Option<NewRecord>,
}

impl Outcome {
    /// `status` with `body`, capturing `record` with it.
    pub fn new(status: StatusCode, body: Value, record: NewRecord) -> Outcome {
        Outcome {
            status,
            body,
            record: Some(record),
        }
    }
}

/// A capture of `kind` (something that would have been sent or published), made now, with
/// the request's correlation id; the caller fills in subject, campaign, channel and status.
pub fn capture(
    kind: &'static str,
    id: String,
    headers: &HeaderMap,
    request: Value,
    response: Value,
) -> NewRecord {
    NewRecord {
        id,
        kind,
        captured: true,
        correlation_id: correlation(headers),
        created_at: crate::now(),
        request,
        response,
        ..NewRecord::default()
    }
}

pub fn key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
}

pub fn correlation(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Runs `handler` once per idempotency key. Without a key it simply runs.
pub async fn once<F, Fut>(
    state: &MockState,
    headers: &HeaderMap,
    route: &str,
    handler: F,
) -> MockResult<Response>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = MockResult<Outcome>>,
{
    let Some(key) = key(headers) else {
        let outcome = handler().await?;
        state
            .store
            .commit(outcome.record.as_ref(), None, state.config.retention)
            .await?;
        count_capture(state, outcome.record.as_ref());
        return Ok((outcome.status, Json(outcome.body)).into_response());
    };
    if key.len() > 255 {
        return Err(MockError::new(
            StatusCode::BAD_REQUEST,
            "Idempotency-Key: at most 255 characters",
        ));
    }
    if let Some(stored) = state.store.idempotent(&key).await? {
        return replay(stored, route);
    }
    if !state.claim(&key) {
        return Err(MockError::new(
            StatusCode::CONFLICT,
            "a request with this Idempotency-Key is still in progress",
        ));
    }
    let result = async {
        // Checked again now that this request owns the key.
        if let Some(stored) = state.store.idempotent(&key).await? {
            return replay(stored, route);
        }
        let mut outcome = handler().await?;
        if let Some(r) = outcome.record.as_mut() {
            r.idempotency_key = Some(key.clone());
        }
        let remember = outcome.status.is_success().then_some((
            key.as_str(),
            route,
            outcome.status.as_u16(),
            &outcome.body,
        ));
        state
            .store
            .commit(outcome.record.as_ref(), remember, state.config.retention)
            .await?;
        count_capture(state, outcome.record.as_ref());
        Ok((outcome.status, Json(outcome.body)).into_response())
    }
    .await;
    state.release(&key);
    result
}

fn count_capture(state: &MockState, record: Option<&NewRecord>) {
    if let Some(r) = record.filter(|r| r.captured) {
        state.metrics.captured(r.kind);
    }
}

fn replay(stored: crate::store::StoredResponse, route: &str) -> MockResult<Response> {
    if stored.route != route {
        return Err(MockError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Idempotency-Key was already used on {}", stored.route),
        ));
    }
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut resp = (status, Json(stored.body)).into_response();
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(resp)
}
