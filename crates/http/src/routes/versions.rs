//! Content versions: every document snapshot queued for publishing with its options, with a
//! status that follows its publish job. One version can be opened to see exactly what was
//! (or will be) sent — recomposed from the stored snapshot at its reference time, which
//! gives byte-identical content.

use super::{Entry, Param, READ, route};
use crate::cache;
use crate::error::ApiResult;
use crate::http::query::QueryArgs;
use crate::state::AppState;
use crate::versions;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use std::time::Duration;

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "get",
            "/api/v2/content",
            READ,
            "content",
            "Content versions, newest first, with their publishing status",
            get(list),
        )
        .query([
            Param::whole("limit", 1, 200, "default 20"),
            Param::whole("offset", 0, i64::MAX / 2, "default 0"),
        ]),
        route(
            "get",
            "/api/v2/content/{id}",
            READ,
            "content",
            "One content version: its status, its job and the content itself",
            get(show),
        )
        .errors(&[(404, "Unknown version")]),
    ]
}

/// Cached version answers live briefly: a worker in another process changes their status
/// without telling this one (in-process transitions drop them at once).
const VERSION_TTL: Duration = Duration::from_secs(10);

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = QueryArgs::parse(q.as_deref());
    let limit = q.int("limit", 20, 1, 200)?;
    let offset = q.int("offset", 0, 0, i64::MAX / 2)?;
    cache::serve::json(
        &state.cache,
        format!("content:list:{limit}:{offset}"),
        || vec!["content".into()],
        Some(VERSION_TTL),
        cache::serve::bypass(&headers),
        &headers,
        || async { cache::serve::to_bytes(&versions::list(&state, limit, offset).await?) },
    )
    .await
}

async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    cache::serve::json(
        &state.cache,
        format!("content:{id}"),
        || vec!["content".into(), format!("content:{id}")],
        Some(VERSION_TTL),
        cache::serve::bypass(&headers),
        &headers,
        || async { cache::serve::to_bytes(&versions::version_json(&state, &id).await?) },
    )
    .await
}
