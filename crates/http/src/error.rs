//! The API's one error type. Every error answers with
//! `{"detail": "<sentence>", "error": {"code", "field"}, "correlation_id"}` — `detail` is
//! always a string, because the dashboard renders it as text. Internal causes are logged,
//! never sent.

use crate::correlation;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use halcytone_app::AppError;
use halcytone_store::StoreError;

/// The JSON every error answers with; its schema is the OpenAPI document's `Error`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// A sentence for people.
    pub detail: String,
    pub error: ErrorCode,
    /// The request's correlation id (also in the `X-Correlation-ID` header).
    pub correlation_id: String,
}

/// What went wrong, for programs.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorCode {
    /// A stable code: `invalid_field`, `not_found`, `rate_limited`…
    pub code: &'static str,
    /// The request field at fault, when one is.
    pub field: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("an API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key'")]
    MissingKey,
    #[error("the API key is not valid or has been revoked")]
    BadKey,
    #[error("webhook signature refused: {0}")]
    BadSignature(String),
    #[error("{0}")]
    NotAllowed(String),
    #[error("this key lacks the '{0}' scope")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("request body is larger than this route's limit of {limit} bytes (set by {setting})")]
    TooLarge { limit: usize, setting: &'static str },
    #[error("{budget} budget of this key exceeded ({limit}); retry in {retry_after} s")]
    RateLimited {
        /// `read` or `write`.
        budget: &'static str,
        /// The budget in words, e.g. `300 requests per second, bursts of 600`.
        limit: String,
        retry_after: u64,
        /// The bucket's size and the seconds it takes to fill, for the `RateLimit-*` headers.
        capacity: u32,
        window_secs: u64,
    },
    #[error(
        "content generation took longer than its time budget of {budget_ms} ms (GENERATION_TIMEOUT_SECONDS) and was stopped; retry later or send a smaller document"
    )]
    GenerationTimeout { budget_ms: u128, retry_after: u64 },
    #[error("the server is busy; retry shortly")]
    Busy,
    #[error("the request took longer than {0} s")]
    Timeout(u64),
    #[error("{0}")]
    Unavailable(String),
    /// A service we read from (a living-document source) failed.
    #[error("{0}")]
    Upstream(String),
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::MissingKey | ApiError::BadKey | ApiError::BadSignature(_) => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::Forbidden(_) | ApiError::NotAllowed(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Busy | ApiError::Unavailable(_) | ApiError::GenerationTimeout { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::Invalid { .. } => "invalid_field",
            ApiError::MissingKey => "missing_api_key",
            ApiError::BadKey => "invalid_api_key",
            ApiError::BadSignature(_) => "bad_signature",
            ApiError::Forbidden(_) => "insufficient_scope",
            ApiError::NotAllowed(_) => "not_allowed",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::TooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::GenerationTimeout { .. } => "generation_timeout",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Busy => "busy",
            ApiError::Timeout(_) => "timeout",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Upstream(_) => "source_failed",
            ApiError::Internal(_) => "internal_error",
        }
    }
}

/// Where each application error meets HTTP: the one mapping of the use cases' errors.
impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Invalid { field, message } => ApiError::Invalid { field, message },
            AppError::NotFound(m) => ApiError::NotFound(m),
            AppError::Conflict(m) => ApiError::Conflict(m),
            AppError::NotAllowed(m) => ApiError::NotAllowed(m),
            AppError::Unauthenticated => ApiError::MissingKey,
            AppError::MissingScope(s) => ApiError::Forbidden(s),
            AppError::GenerationTimeout {
                budget_ms,
                retry_after,
            } => ApiError::GenerationTimeout {
                budget_ms,
                retry_after,
            },
            AppError::Unavailable(m) => ApiError::Unavailable(m),
            AppError::Upstream(m) => ApiError::Upstream(m),
            AppError::Internal(m) => ApiError::Internal(m),
            AppError::Store(e) => ApiError::Internal(format!("store: {e}")),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(format!("store: {e}"))
    }
}

impl ApiError {
    /// The body this error is answered with (an internal cause is logged, never sent).
    pub fn body(&self) -> ErrorBody {
        let correlation_id = correlation::current();
        if let ApiError::Internal(cause) = self {
            tracing::error!(%correlation_id, cause = %cause, "request failed");
        }
        if matches!(
            self,
            ApiError::MissingKey | ApiError::BadKey | ApiError::Forbidden(_)
        ) {
            // The troubleshooting guide greps the log for auth, token and key problems.
            tracing::info!(event = "auth_refused", %correlation_id, reason = %self, "auth refused: {self}");
        }
        let field = match self {
            ApiError::Invalid { field, .. } => Some(field.clone()),
            _ => None,
        };
        ErrorBody {
            detail: self.to_string(),
            error: ErrorCode {
                code: self.code(),
                field,
            },
            correlation_id,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = self.body();
        let mut resp = (status, axum::Json(body)).into_response();
        let headers = resp.headers_mut();
        match &self {
            ApiError::RateLimited {
                retry_after,
                capacity,
                window_secs,
                ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
                crate::http::rate_limit::Allowance {
                    limit: *capacity,
                    remaining: 0,
                    reset_secs: *retry_after,
                    window_secs: *window_secs,
                }
                .write(headers);
            }
            ApiError::GenerationTimeout { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            ApiError::Busy => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::MissingKey | ApiError::BadKey => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
