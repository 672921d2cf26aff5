//! Errors a mock answers with: a status and `{"detail": "..."}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// A deliberate answer: simulated failures, 404s, validation errors.
    #[error("{detail}")]
    Status { status: StatusCode, detail: String },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl MockError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        MockError::Status {
            status,
            detail: detail.into(),
        }
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }
}

impl IntoResponse for MockError {
    fn into_response(self) -> Response {
        match self {
            MockError::Status { status, detail } => {
                (status, Json(json!({ "detail": detail }))).into_response()
            }
            MockError::Store(e) => {
                tracing::error!(error = %e, "capture store failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({ "detail": "the mock's capture store failed; see its log" })),
                )
                    .into_response()
            }
        }
    }
}

pub type MockResult<T> = Result<T, MockError>;
