//! The capture API: list, search and fetch what a mock accepted.

use crate::body::Params;
use crate::error::{MockError, MockResult};
use crate::state::MockState;
use crate::store::Filter;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureQuery {
    /// email, content or social (comma-separated for several).
    kind: Option<String>,
    /// Text in the subject or title.
    q: Option<String>,
    campaign: Option<String>,
    /// email, web, or social:<platform>.
    channel: Option<String>,
    /// sent, duplicate, … (as the capture records it).
    status: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// An RFC 3339 bound in the stored form (UTC, milliseconds, `Z`), so bounds with an offset or
/// whole seconds compare correctly with the stored text.
fn bound(field: &str, v: Option<String>) -> MockResult<Option<String>> {
    v.map(|t| {
        chrono::DateTime::parse_from_rfc3339(&t)
            .map(|d| {
                d.with_timezone(&chrono::Utc)
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            })
            .map_err(|_| {
                MockError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("{field}: '{t}' is not an RFC 3339 time"),
                )
            })
    })
    .transpose()
}

pub async fn list(
    State(state): State<MockState>,
    Params(q): Params<CaptureQuery>,
) -> MockResult<Json<Value>> {
    let since = bound("since", q.since)?;
    let until = bound("until", q.until)?;
    let filter = Filter {
        kinds: q
            .kind
            .map(|k| {
                k.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        captured_only: true,
        q: q.q,
        campaign: q.campaign,
        channel: q.channel,
        status: q.status,
        since,
        until,
        limit: q.limit.unwrap_or(50),
        offset: q.offset.unwrap_or(0),
    };
    let (records, total) = state.store.list(&filter).await?;
    Ok(Json(
        json!({ "total": total, "count": records.len(), "captures": records }),
    ))
}

pub async fn get(
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> MockResult<Json<Value>> {
    match state.store.get(None, &id).await? {
        Some(r) if r.captured => Ok(Json(json!(r))),
        _ => Err(MockError::not_found("Capture")),
    }
}
