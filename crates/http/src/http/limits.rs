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

/// Bodies announced up to this size are read and dropped before a 413 is sent, so a client
/// still writing one reads the answer instead of a reset connection; larger ones are not read.
const DRAIN_MAX: u64 = 1024 * 1024;

/// How long that draining may take.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// Per-route layer: a body announced larger than the route's limit is refused (413) without
/// being parsed (a small one is read and dropped first, see [`DRAIN_MAX`]); the limit is left
/// for the body reader, which stops at it.
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
    if let Some(n) = declared.filter(|n| *n > s.limit as u64) {
        if n <= DRAIN_MAX {
            let body = req.into_body();
            let _ =
                tokio::time::timeout(DRAIN_TIME, axum::body::to_bytes(body, DRAIN_MAX as usize))
                    .await;
        }
        let mut resp = ApiError::TooLarge {
            limit: s.limit,
            setting: s.setting,
        }
        .into_response();
        resp.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return resp;
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
