//! The application's one error type. Each variant says what went wrong in the caller's terms
//! (a field, a missing thing, a conflict) or in the service's (unavailable, a source failed,
//! an internal fault); the HTTP edge maps each to a status in one place.

use halcytone_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A value the caller gave is wrong; `field` names it the way the caller wrote it.
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
    /// The request is sound but clashes with the stored state (a decided review, a used name).
    #[error("{0}")]
    Conflict(String),
    /// The caller is known but this action is not theirs to take (a policy, not a scope).
    #[error("{0}")]
    NotAllowed(String),
    /// The action needs an identity and none was given.
    #[error("an API key is required: send it as 'Authorization: Bearer <key>' or 'X-API-Key'")]
    Unauthenticated,
    /// The caller's key lacks the named scope.
    #[error("this key lacks the '{0}' scope")]
    MissingScope(&'static str),
    #[error(
        "content generation took longer than its time budget of {budget_ms} ms (GENERATION_TIMEOUT_SECONDS) and was stopped; retry later or send a smaller document"
    )]
    GenerationTimeout { budget_ms: u128, retry_after: u64 },
    /// Something the service needs is not there now (a file, shutting down).
    #[error("{0}")]
    Unavailable(String),
    /// A service we read from (a living-document source) failed.
    #[error("{0}")]
    Upstream(String),
    /// A fault of ours; the cause is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl AppError {
    /// "`what` `id` not found".
    pub fn not_found(what: &str, id: &str) -> AppError {
        AppError::NotFound(format!("{what} {id} not found"))
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// A row looked up by its id, which the caller expects to be there.
pub trait Found<T> {
    /// The row, or [`AppError::not_found`] naming `what` and `id`.
    fn found(self, what: &str, id: &str) -> AppResult<T>;
}

impl<T> Found<T> for Option<T> {
    fn found(self, what: &str, id: &str) -> AppResult<T> {
        self.ok_or_else(|| AppError::not_found(what, id))
    }
}
