//! Audience segments (`/api/v2/segments`): a named rule over the subscriber attributes the
//! CRM returns (status, tags, sign-up date, engagement, any attribute), stored, previewed
//! against the CRM's current list (count and a sample), and selectable per send with
//! `segment_id` on `POST /api/v2/content/sync`.

use super::{Entry, Param, READ, WRITE, route};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::http::query::Query;
use crate::segments::{self, SegmentRequest};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::Value;

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "post",
            "/api/v2/segments",
            WRITE,
            "segments",
            "Create a segment: a name and a rule such as `status = \"active\" and tags contains \"beta\" and engagement.opens_last_30_days >= 3` (fields: status, email, first_name, last_name, tags, signed_up, days_since_signup, engagement.<name>, attr.<name>)",
            axum::routing::post(create),
        )
        .body::<halcytone_app::segments::SegmentRequest>("{name, rule, description?, intro?, cta_text?, cta_url?}")
        .ok(201)
        .errors(&[(409, "The name is taken"), (422, "A rule that does not parse (with the column), or a bad name")]),
        route("get", "/api/v2/segments", READ, "segments", "Every segment", get(list)),
        route(
            "get",
            "/api/v2/segments/{id}",
            READ,
            "segments",
            "One segment",
            get(show),
        )
        .errors(&[(404, "Unknown segment")]),
        route(
            "get",
            "/api/v2/segments/{id}/preview",
            READ,
            "segments",
            "How many of the CRM's active, opted-in subscribers the segment holds now, with a sample (first name and masked email)",
            get(preview),
        )
        .query([Param::whole("sample", 0, 50, "subscribers shown (default 5)")])
        .errors(&[(404, "Unknown segment"), (502, "The CRM could not be asked")]),
        route(
            "delete",
            "/api/v2/segments/{id}",
            WRITE,
            "segments",
            "Delete a segment (jobs already queued keep the rule they were given)",
            axum::routing::delete(remove),
        )
        .errors(&[(404, "Unknown segment")]),
    ]
}

async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<SegmentRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::CREATED,
        Json(segments::create(&state, &caller, body).await?),
    ))
}

async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(segments::list(&state).await?))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(segments::segment_json(
        &segments::load(&state, &id).await?,
    )))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PreviewQuery {
    sample: Option<usize>,
}

async fn preview(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PreviewQuery>,
) -> ApiResult<Json<Value>> {
    Ok(Json(segments::preview(&state, &id, q.sample).await?))
}

async fn remove(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(segments::remove(&state, &id).await?))
}

pub use crate::segments::{for_send, parse_rule};
