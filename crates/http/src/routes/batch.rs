//! Batches: generate a period's worth of content items across channels (stored), schedule
//! them (one publish job per item, at its time), and report their real progress.

use super::{Entry, Param, READ, WRITE, params, route};
use crate::batch::{self, BatchRequest, ScheduleRequest};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryArgs;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json};
use serde_json::Value;

pub use crate::batch::MAX_ITEMS;

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "post",
            "/api/v1/batch/generateBatch",
            WRITE,
            "batch",
            "Generate and store a batch of content items for a day, week or month across channels",
            post(generate),
        )
        .carries_document()
        .ok(201)
        .query([
            Param::one_of("period", params::periods, "required here or in the body"),
            Param::many(
                "channels",
                params::channel_groups,
                "required here or in the body; also comma-separated",
            ),
            Param::whole("count", 1, 50, "items (default 50)"),
            Param::flag(
                "dry_run",
                "true: the batch can only be previewed, never scheduled",
            ),
            Param::flag(
                "template_variety",
                "rotate newsletter templates (default true)",
            ),
            Param::flag(
                "include_scheduling",
                "spread items two hours apart (default true)",
            ),
        ])
        .body::<halcytone_app::batch::BatchRequest>(
            "optional: the same fields as JSON, plus document and document_format",
        ),
        route(
            "post",
            "/api/v1/batch/schedule/{batch_id}",
            WRITE,
            "batch",
            "Create a publish job for each item of a batch, at its scheduled time (once per batch)",
            post(schedule),
        )
        .body::<halcytone_app::batch::ScheduleRequest>(
            "{schedule_all?, custom_schedule?: {item_id: time}, dry_run?}",
        )
        .errors(&[
            (404, "Unknown batch"),
            (409, "Already scheduled, or generated as a dry run"),
        ]),
        route(
            "get",
            "/api/v1/batch/status/{batch_id}",
            READ,
            "batch",
            "Progress of a batch, counted from its jobs",
            get(status),
        )
        .errors(&[(404, "Unknown batch")]),
    ]
}

fn merge_query(mut body: BatchRequest, raw: Option<&str>) -> ApiResult<BatchRequest> {
    let q = QueryArgs::parse(raw);
    let last = |k: &str| q.last(k).map(str::to_string);
    body.period = body.period.or(last("period"));
    if body.channels.is_none() {
        let list: Vec<String> = q
            .all("channels")
            .flat_map(|v| {
                v.split(',')
                    .map(|c| c.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|c| !c.is_empty())
            .collect();
        body.channels = (!list.is_empty()).then_some(list);
    }
    if body.count.is_none()
        && let Some(c) = last("count")
    {
        body.count = Some(c.parse().map_err(|_| {
            ApiError::invalid("count", format!("count: '{c}' is not a whole number"))
        })?);
    }
    body.dry_run = body.dry_run.or(q.boolean("dry_run")?);
    body.template_variety = body.template_variety.or(q.boolean("template_variety")?);
    body.include_scheduling = body.include_scheduling.or(q.boolean("include_scheduling")?);
    Ok(body)
}

async fn generate(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    JsonBody(body): JsonBody<BatchRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = merge_query(body, q.as_deref())?;
    Ok((
        StatusCode::CREATED,
        Json(batch::generate(&state, body).await?),
    ))
}

async fn schedule(
    State(state): State<AppState>,
    Extension(caller): Extension<crate::auth::Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ScheduleRequest>,
) -> ApiResult<Json<Value>> {
    Ok(Json(batch::schedule(&state, &caller, id, body).await?))
}

async fn status(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(batch::status(&state, id).await?))
}
