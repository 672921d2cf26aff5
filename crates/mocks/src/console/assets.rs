//! The console's one stylesheet and one script, embedded at build time.

use axum::http::header;
use axum::response::IntoResponse;

const STYLE: &str = include_str!("../../templates/console/assets/style.css");
const SCRIPT: &str = include_str!("../../templates/console/assets/live.js");

/// `GET /console/style.css`.
pub async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLE,
    )
}

/// `GET /console/live.js`: the "new captures" banner.
pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
}
