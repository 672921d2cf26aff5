//! Why a living document could not be fetched, and why a setting was refused.

use crate::reference::SourceKind;

/// A fetch failure. [`SourceError::is_caller_error`] separates what the caller can fix
/// (a bad reference, a refused address, a source that is not set up) from upstream trouble.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SourceError {
    /// The reference text could not be understood.
    #[error("bad document reference: {0}")]
    BadReference(String),
    /// The source needs settings that are missing or unusable.
    #[error("the {} source is not configured: {reason}", kind.display_name())]
    NotConfigured { kind: SourceKind, reason: String },
    /// Refused before any request: a private address, or a path outside `LIVING_DOC_DIR`.
    #[error("{0}")]
    Forbidden(String),
    /// The remote service answered with a non-success status.
    #[error("{} answered {status} for {target}: {detail}", kind.display_name())]
    Upstream {
        kind: SourceKind,
        status: u16,
        target: String,
        detail: String,
    },
    /// No complete answer within `SOURCE_TIMEOUT_SECONDS`.
    #[error("{} did not answer within {after_secs} s for {target}", kind.display_name())]
    Timeout {
        kind: SourceKind,
        target: String,
        after_secs: f64,
    },
    /// The document is larger than `URL_SOURCE_MAX_BYTES`.
    #[error(
        "the document at {target} is larger than the {limit}-byte limit (URL_SOURCE_MAX_BYTES)"
    )]
    TooLarge { target: String, limit: usize },
    /// The connection failed (DNS, refused, TLS, reset).
    #[error("could not reach {} for {target}: {detail}", kind.display_name())]
    Transport {
        kind: SourceKind,
        target: String,
        detail: String,
    },
    /// The service refused our credentials (for Google: the OAuth token exchange).
    #[error("{} refused the credentials: {detail}", kind.display_name())]
    Auth { kind: SourceKind, detail: String },
    /// The answer arrived but cannot be used (not JSON, not UTF-8, an HTML page…).
    #[error("{} gave an unusable answer for {target}: {detail}", kind.display_name())]
    Malformed {
        kind: SourceKind,
        target: String,
        detail: String,
    },
    /// A local file could not be read.
    #[error("could not read the living document file {path}: {detail}")]
    Io { path: String, detail: String },
    /// The HTTP client itself could not be built (TLS backend initialisation).
    #[error("could not build the HTTP client: {0}")]
    Client(String),
}

impl SourceError {
    /// True when the request (or configuration) is at fault: the server answers 422.
    /// Everything else is an upstream or local failure: 502.
    pub fn is_caller_error(&self) -> bool {
        matches!(
            self,
            SourceError::BadReference(_)
                | SourceError::Forbidden(_)
                | SourceError::NotConfigured { .. }
        )
    }

    /// The source the error concerns, when it names one.
    pub fn kind(&self) -> Option<SourceKind> {
        match self {
            SourceError::NotConfigured { kind, .. }
            | SourceError::Upstream { kind, .. }
            | SourceError::Timeout { kind, .. }
            | SourceError::Transport { kind, .. }
            | SourceError::Auth { kind, .. }
            | SourceError::Malformed { kind, .. } => Some(*kind),
            SourceError::TooLarge { .. } => Some(SourceKind::Url),
            SourceError::Io { .. } => Some(SourceKind::File),
            SourceError::BadReference(_) | SourceError::Forbidden(_) | SourceError::Client(_) => {
                None
            }
        }
    }
}

/// A setting that could not be used. Displays as `NAME=value: reason`; secret values are
/// replaced by `<redacted>` before they ever reach this type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}={value}: {reason}")]
pub struct SettingError {
    pub name: &'static str,
    pub value: String,
    pub reason: String,
}

/// A request to `kind` that got no answer: `Timeout` after `timeout`, else `Transport`.
pub(crate) fn send_failure(
    kind: SourceKind,
    err: &reqwest::Error,
    target: String,
    timeout: std::time::Duration,
) -> SourceError {
    if err.is_timeout() {
        SourceError::Timeout {
            kind,
            target,
            after_secs: timeout.as_secs_f64(),
        }
    } else {
        SourceError::Transport {
            kind,
            target,
            detail: describe(err),
        }
    }
}

/// Sends `request` and reads the whole answer: its status and body text.
pub(crate) async fn status_and_text(
    request: reqwest::RequestBuilder,
    kind: SourceKind,
    target: &str,
    timeout: std::time::Duration,
) -> Result<(reqwest::StatusCode, String), SourceError> {
    let failure = |e: reqwest::Error| send_failure(kind, &e, target.to_string(), timeout);
    let resp = request.send().await.map_err(failure)?;
    let status = resp.status();
    let text = resp.text().await.map_err(failure)?;
    Ok((status, text))
}

/// Describes a reqwest error with its causes ("error sending request: connection refused").
pub(crate) fn describe(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        let suffix = format!(" for url ({url})");
        if let Some(stripped) = text.strip_suffix(&suffix) {
            text = stripped.to_string();
        }
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

/// Shortens a remote error body to one readable line.
pub(crate) fn snippet(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        return "the answer carried no error message".into();
    }
    let mut out: String = flat.chars().take(200).collect();
    if flat.chars().count() > 200 {
        out.push('…');
    }
    out
}
