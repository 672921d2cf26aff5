//! The console's one stylesheet, embedded at build time (no script: every page works without):
//! the shared look of `halcytone_webpage`, then the rules of this console alone.

use axum::http::header;
use axum::response::IntoResponse;
use std::sync::LazyLock;

static STYLE: LazyLock<String> =
    LazyLock::new(|| halcytone_webpage::stylesheet(include_str!("../../templates/ui/style.css")));

/// `GET /ui/style.css`.
pub async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLE.as_str(),
    )
}
