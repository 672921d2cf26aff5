//! Load shedding: at most `MAX_CONCURRENT_REQUESTS` requests in flight (others get 503 with
//! `Retry-After` rather than queueing without bound), `REQUEST_TIMEOUT` per request, and the
//! body limit announced by `Content-Length` checked before anything is read.

use crate::body::BodyLimit;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use tokio::sync::OwnedSemaphorePermit;

/// Lets a request in, or answers it (413, 503) at once.
pub fn admit(state: &AppState, req: &mut Request) -> Result<OwnedSemaphorePermit, ApiError> {
    let limit = state.config.max_body_bytes;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge(limit));
    }
    req.extensions_mut().insert(BodyLimit(limit));
    state
        .in_flight
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::Busy)
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
