//! Feeds of the published web posts: `GET /feed.atom` (Atom 1.0) and `GET /feed.json` (JSON
//! Feed 1.1), public, newest first.

use super::{Entry, route};
use crate::auth::Access;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use halcytone_app::feed;

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "get",
            "/feed.atom",
            Access::Public,
            "feeds",
            "The published web posts as an Atom 1.0 feed, newest first (in dry run, what rehearsals published to the mock Platform)",
            get(atom),
        ),
        route(
            "get",
            "/feed.json",
            Access::Public,
            "feeds",
            "The published web posts as a JSON Feed 1.1, newest first",
            get(json_feed),
        ),
    ]
}

/// The address the request reached this API at, for the feed's own link (PUBLIC_BASE_URL,
/// when set, is used instead).
fn base(headers: &HeaderMap) -> String {
    halcytone_webpage::request_origin(headers)
}

const CACHE: (header::HeaderName, &str) = (header::CACHE_CONTROL, "public, max-age=300");

async fn atom(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let info = feed::info(&state, &base(&headers), "feed.atom");
    let entries = feed::entries(&state).await?;
    let xml = halcytone_content::feed::atom(&info, &entries, chrono::Utc::now());
    Ok((
        [
            (header::CONTENT_TYPE, "application/atom+xml; charset=utf-8"),
            CACHE,
        ],
        xml,
    )
        .into_response())
}

async fn json_feed(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let info = feed::info(&state, &base(&headers), "feed.json");
    let entries = feed::entries(&state).await?;
    let body = halcytone_content::feed::json_feed(&info, &entries).to_string();
    Ok((
        [
            (header::CONTENT_TYPE, "application/feed+json; charset=utf-8"),
            CACHE,
        ],
        body,
    )
        .into_response())
}
