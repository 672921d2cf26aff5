//! Load shedding: at most `MAX_CONCURRENT_REQUESTS` requests in flight (others get 503 with
//! `Retry-After` rather than queueing without bound), and `REQUEST_TIMEOUT` per request.

use crate::body::BodyLimit;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn middleware(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let limit = state.config.max_body_bytes;
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return ApiError::TooLarge(limit).into_response();
    }
    req.extensions_mut().insert(BodyLimit(limit));
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        return ApiError::Busy.into_response();
    };
    let timeout = state.config.request_timeout;
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::Timeout(timeout.as_secs()).into_response(),
    }
}
