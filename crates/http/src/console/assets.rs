//! The console's one stylesheet, embedded at build time (no script: every page works without).

use axum::http::header;
use axum::response::IntoResponse;

const STYLE: &str = include_str!("../../templates/ui/style.css");

/// `GET /ui/style.css`.
pub async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLE)
}
