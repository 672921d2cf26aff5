//! Load shedding: at most `MAX_CONCURRENT_REQUESTS` requests in flight (others get 503 with
//! `Retry-After` rather than queueing without bound), `REQUEST_TIMEOUT` per request, and each
//! route's body limit (`MAX_BODY_BYTES`, `MAX_DOCUMENT_BYTES`, `MAX_WEBHOOK_BYTES`), checked
//! against `Content-Length` before anything is read and enforced again while reading.

use crate::body::BodyLimit;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::OwnedSemaphorePermit;

/// Lets a request in, or answers it (503) at once.
pub fn admit(state: &AppState, req: &mut Request) -> Result<OwnedSemaphorePermit, ApiError> {
    // Routes outside the table (the console's forms) read bodies under the standard limit.
    req.extensions_mut().insert(BodyLimit {
        limit: state.config.max_body_bytes,
        setting: "MAX_BODY_BYTES",
    });
    state
        .in_flight
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::Busy)
}

/// One route's body limit and the variable that sets it.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimitSetting {
    pub limit: usize,
    pub setting: &'static str,
}

/// Per-route layer: a body announced larger than the route's limit is refused (413) before
/// a byte of it is read; the limit is left for the body reader, which stops at it.
pub async fn body_limit(
    State(s): State<BodyLimitSetting>,
    mut req: Request,
    next: Next,
) -> Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > s.limit as u64) {
        return ApiError::TooLarge {
            limit: s.limit,
            setting: s.setting,
        }
        .into_response();
    }
    req.extensions_mut().insert(BodyLimit {
        limit: s.limit,
        setting: s.setting,
    });
    next.run(req).await
}

/// Runs `work`, answering 504 when it outlives `REQUEST_TIMEOUT`.
pub async fn within_timeout(
    state: &AppState,
    work: impl std::future::Future<Output = Response>,
) -> Response {
    let timeout = state.config.request_timeout;
    match tokio::time::timeout(timeout, work).await {
        Ok(resp) => resp,
        Err(_) => ApiError::Timeout(timeout.as_secs()).into_response(),
    }
}
