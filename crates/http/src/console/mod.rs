//! The API's web console at `/ui`: server-rendered pages (minijinja templates, autoescaped)
//! that work without JavaScript — an overview, a preview of the living document in every
//! channel, publish jobs with retry and cancel, the review queue with approve and reject, and
//! a calendar of scheduled sends with pause and resume.
//!
//! It is not part of the API's route table (which drives `/openapi.json` and the key guard):
//! a browser signs in once with an API key and holds a server-side session (see
//! [`session`]); every form carries the session's CSRF token, and forms posted from another
//! site are refused. Generated HTML is never put in a console page: it is served on its own
//! route under a `sandbox` CSP and shown in a `sandbox=""` iframe.

mod assets;
mod guard;
mod jobs;
mod login;
mod overview;
mod page;
mod params;
mod preview;
mod reviews;
mod schedules;
pub mod session;

use crate::state::AppState;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::{MethodRouter, any, get, post};
pub use page::UiError;

/// The page and sandbox policies and the sandboxed answer, shared with the mocks' console.
pub use halcytone_webpage::{PAGE_CSP, SANDBOX_CSP, sandboxed};

/// An HTML 405 for a console path asked with another method.
async fn method_not_allowed() -> UiError {
    UiError::Status(
        StatusCode::METHOD_NOT_ALLOWED,
        "This page does not take that method.".into(),
    )
}

async fn not_found() -> UiError {
    UiError::not_found("There is no console page at this address.")
}

fn html405(r: MethodRouter<AppState>) -> MethodRouter<AppState> {
    r.fallback(method_not_allowed)
}

/// The console's routes, with their security headers. Merged into the API router before its
/// edge middleware, so correlation ids, admission, timeouts and metrics apply here too.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/ui", html405(get(overview::page)))
        .route("/ui/", get(|| async { Redirect::to("/ui") }))
        .route("/ui/style.css", html405(get(assets::style)))
        .route("/ui/login", html405(get(login::form).post(login::submit)))
        .route("/ui/logout", html405(post(login::logout)))
        .route("/ui/preview", html405(get(preview::page)))
        .route(
            "/ui/preview/newsletter.html",
            html405(get(preview::newsletter_html)),
        )
        .route("/ui/preview/web.html", html405(get(preview::web_html)))
        .route("/ui/jobs", html405(get(jobs::list)))
        .route("/ui/jobs/{id}", html405(get(jobs::detail)))
        .route("/ui/jobs/{id}/retry", html405(post(jobs::retry)))
        .route("/ui/jobs/{id}/cancel", html405(post(jobs::cancel)))
        .route("/ui/reviews", html405(get(reviews::list)))
        .route("/ui/reviews/{id}", html405(get(reviews::version)))
        .route(
            "/ui/reviews/{id}/newsletter.html",
            html405(get(reviews::newsletter_html)),
        )
        .route("/ui/reviews/{id}/web.html", html405(get(reviews::web_html)))
        .route("/ui/reviews/{id}/approve", html405(post(reviews::approve)))
        .route("/ui/reviews/{id}/reject", html405(post(reviews::reject)))
        .route("/ui/schedules", html405(get(schedules::list)))
        .route("/ui/schedules/{id}", html405(get(schedules::detail)))
        .route("/ui/schedules/{id}/pause", html405(post(schedules::pause)))
        .route(
            "/ui/schedules/{id}/resume",
            html405(post(schedules::resume)),
        )
        .route("/ui/{*rest}", any(not_found))
        .layer(axum::middleware::map_response(
            halcytone_webpage::security_headers,
        ))
}
