//! The console's one stylesheet and one script, embedded at build time; the stylesheet is the
//! shared look of `halcytone_webpage`, then the rules of this console alone.

use axum::http::header;
use axum::response::IntoResponse;
use std::sync::LazyLock;

static STYLE: LazyLock<String> = LazyLock::new(|| {
    halcytone_webpage::stylesheet(include_str!("../../templates/console/assets/style.css"))
});
const SCRIPT: &str = include_str!("../../templates/console/assets/live.js");

/// `GET /console/style.css`.
pub async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        STYLE.as_str(),
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
