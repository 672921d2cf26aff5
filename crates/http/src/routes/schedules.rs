//! Schedule routes: create (one-off or cron with a time zone), list, show with runs, pause,
//! resume and delete (`/api/v2/schedules`).

use super::{Entry, READ, WRITE, route};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::schedules::manage::{self, ScheduleRequest};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json};
use serde_json::Value;

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "post",
            "/api/v2/schedules",
            WRITE,
            "schedules",
            "Create a schedule: cron (five fields) with an IANA timezone for recurring runs, or scheduled_for for one run; each run fetches the document, drafts, submits for review, and publishes what the rules approve",
            post(create),
        )
        .body::<halcytone_app::schedules::manage::ScheduleRequest>("{name, cron?: \"0 10 * * TUE\", timezone?: \"America/New_York\" (default UTC), scheduled_for?: RFC 3339, document_id?: gdocs:|notion:|url:|file:…, channels?: [...], tone?, template_style?}")
        .ok(201)
        .errors(&[(422, "Bad cron, time zone, time in the past, channel, tone or template")]),
        route(
            "get",
            "/api/v2/schedules",
            READ,
            "schedules",
            "Schedules with their next run",
            get(list),
        ),
        route(
            "get",
            "/api/v2/schedules/{id}",
            READ,
            "schedules",
            "One schedule with its latest runs",
            get(show),
        )
        .errors(&[(404, "Unknown schedule")]),
        route(
            "post",
            "/api/v2/schedules/{id}/pause",
            WRITE,
            "schedules",
            "Pause a schedule (no runs until resumed)",
            post(pause),
        )
        .errors(&[(404, "Unknown schedule"), (409, "Completed")]),
        route(
            "post",
            "/api/v2/schedules/{id}/resume",
            WRITE,
            "schedules",
            "Resume a paused schedule from its next occurrence after now",
            post(resume),
        )
        .errors(&[(404, "Unknown schedule"), (409, "Not paused, or nothing left to run")]),
        route(
            "delete",
            "/api/v2/schedules/{id}",
            WRITE,
            "schedules",
            "Delete a schedule (its runs and versions stay)",
            axum::routing::delete(remove),
        )
        .errors(&[(404, "Unknown schedule")]),
    ]
}

async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<ScheduleRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::CREATED,
        Json(manage::create(&state, &caller, body).await?),
    ))
}

async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(manage::list(&state).await?))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(manage::show(&state, &id).await?))
}

async fn pause(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(manage::pause(&state, &id).await?))
}

async fn resume(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(manage::resume(&state, &id).await?))
}

async fn remove(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    manage::remove(&state, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
