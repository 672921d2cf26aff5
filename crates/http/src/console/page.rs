//! Rendering: the template environment (every template autoescaped as HTML, a misspelt
//! variable an error), the layout every page shares, and the console's error type, answered
//! as an HTML page (or, when a sign-in is needed, a redirect to the sign-in form).

use super::params::{Flash, encode};
use super::session::Session;
use crate::error::ApiError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::value::Serde;
use minijinja::{Environment, Value, context};
use serde::Serialize;
use std::sync::LazyLock;

/// The console's templates, embedded at build time.
const TEMPLATES: &[(&str, &str)] = halcytone_webpage::embed_templates!(
    "templates/ui":
    "base.html",
    "pager.html",
    "fields.html",
    "issues.html",
    "channels.html",
    "social_cards.html",
    "overview.html",
    "login.html",
    "preview.html",
    "jobs.html",
    "job.html",
    "review_facts.html",
    "review_forms.html",
    "reviews.html",
    "version.html",
    "schedule_forms.html",
    "schedules.html",
    "schedule.html",
    "error.html"
);

static ENV: LazyLock<Environment<'static>> =
    LazyLock::new(|| halcytone_webpage::templates(TEMPLATES));

/// Why a console request could not be answered with its page.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// An HTML page with this status and message.
    #[error("{1}")]
    Status(StatusCode, String),
    /// Not signed in: off to the sign-in form, which comes back to this console path.
    #[error("sign in first")]
    SignIn(String),
    #[error("template error: {0}")]
    Template(#[from] minijinja::Error),
    /// A failure whose cause is logged, not shown.
    #[error("internal error")]
    Internal(String),
}

impl UiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        UiError::Status(StatusCode::BAD_REQUEST, message.into())
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        UiError::Status(StatusCode::NOT_FOUND, message.into())
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        UiError::Status(StatusCode::FORBIDDEN, message.into())
    }
}

impl From<ApiError> for UiError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Internal(cause) => UiError::Internal(cause),
            other => UiError::Status(other.status(), other.to_string()),
        }
    }
}

impl From<halcytone_app::AppError> for UiError {
    fn from(e: halcytone_app::AppError) -> Self {
        ApiError::from(e).into()
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            UiError::SignIn(next) => {
                return Redirect::to(&format!("/ui/login?next={}", encode(&next))).into_response();
            }
            UiError::Status(status, message) => (status, message),
            UiError::Template(e) => {
                halcytone_webpage::unrendered(&e, "the server log has the cause")
            }
            UiError::Internal(cause) => {
                tracing::error!(cause = %cause, "console: request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something failed on the server; its log has the cause.".to_string(),
                )
            }
        };
        let layout = context! { viewer => Serde(None::<Viewer>), flash => Serde(Flash::default()) };
        let ctx = context! { message, correlation_id => crate::correlation::current() };
        halcytone_webpage::error_page(&ENV, status, layout, ctx)
    }
}

/// Who is signed in, as the layout shows it (and the CSRF token of its forms).
#[derive(Debug, Serialize)]
struct Viewer<'a> {
    key_id: &'a str,
    scopes: String,
    csrf: &'a str,
}

/// Renders `template` inside the layout: `section` marks the current navigation entry.
pub fn render(
    template: &str,
    section: &str,
    title: &str,
    viewer: Option<&Session>,
    flash: &Flash,
    ctx: Value,
) -> Result<String, UiError> {
    let viewer = viewer.map(|s| Viewer {
        key_id: &s.key_id,
        scopes: s.scope_names(),
        csrf: &s.csrf,
    });
    let layout = context! { viewer => Serde(&viewer), flash => Serde(flash) };
    Ok(halcytone_webpage::render(
        &ENV, template, section, title, layout, ctx,
    )?)
}

/// A stored time (Unix ms) as people read it: `2026-01-05 10:00:55 UTC`.
pub fn display_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "—".into())
}

/// An RFC 3339 time as people read it; other text as it is.
pub use halcytone_webpage::display_time as display_rfc3339;

impl From<halcytone_webpage::query::BadValue> for UiError {
    fn from(e: halcytone_webpage::query::BadValue) -> Self {
        UiError::bad_request(e.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES {
            assert!(ENV.get_template(name).is_ok(), "{name} compiles");
        }
    }

    #[test]
    fn times_are_shown_in_utc() {
        assert_eq!(display_ms(1_767_607_255_000), "2026-01-05 10:00:55 UTC");
    }

    /// The sign-in page with fixed data, as a browser receives it.
    #[test]
    fn the_sign_in_page_is_stable() {
        let flash = Flash {
            ok: None,
            error: Some("The API key is not valid or has been revoked.".into()),
        };
        let page = render(
            "login.html",
            "login",
            "Sign in",
            None,
            &flash,
            context! { next => "/ui/jobs?status=failed" },
        )
        .unwrap();
        insta::assert_snapshot!(page);
    }
}
