//! Schedule routes: create (one-off or cron with a time zone), list, show with runs, pause,
//! resume and delete (`/api/v2/schedules`).

use super::{Entry, READ, WRITE, route};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::queue::{self, iso, now_ms};
use crate::routes::review::default_targets;
use crate::schedules::runner::timing_of;
use crate::schedules::timing::Timing;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json};
use chrono::Utc;
use halcytone_store::{Schedule, ScheduleRun};
use serde::Deserialize;
use serde_json::{Value, json};

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
        .body("{name, cron?: \"0 10 * * TUE\", timezone?: \"America/New_York\" (default UTC), scheduled_for?: RFC 3339, document_id?: gdocs:|notion:|url:|file:…, channels?: [...], tone?, template_style?}")
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

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CreateBody {
    name: Option<String>,
    cron: Option<String>,
    timezone: Option<String>,
    scheduled_for: Option<String>,
    document_id: Option<String>,
    channels: Option<Vec<String>>,
    tone: Option<String>,
    template_style: Option<String>,
}

fn run_json(r: &ScheduleRun) -> Value {
    json!({
        "run_id": r.id,
        "due_at": iso(r.due_ms),
        "started_at": iso(r.started_ms),
        "finished_at": r.finished_ms.and_then(iso),
        "status": r.status,
        "content_id": r.version_id,
        "job_id": r.job_id,
        "detail": r.detail,
    })
}

async fn schedule_json(state: &AppState, s: &Schedule, runs: i64) -> ApiResult<Value> {
    let runs = state.store.schedule_runs(&s.id, runs).await?;
    Ok(json!({
        "schedule_id": s.id,
        "name": s.name,
        "cron": s.cron,
        "timezone": s.timezone,
        "scheduled_for": s.scheduled_for_ms.and_then(iso),
        "document_id": s.document_id,
        "channels": s.channels,
        "options": s.options,
        "status": s.status,
        "next_run_at": s.next_run_ms.and_then(iso),
        "last_run_at": s.last_run_ms.and_then(iso),
        "created_by": s.created_by,
        "created_at": iso(s.created_ms),
        "runs": runs.iter().map(run_json).collect::<Vec<_>>(),
    }))
}

async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<CreateBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = body.name.as_deref().map(str::trim).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid("name", "name: 1 to 200 characters"));
    }
    let timezone = body.timezone.as_deref().unwrap_or("UTC").trim().to_string();
    let once = queue::schedule_time("scheduled_for", body.scheduled_for.as_deref())?;
    let now = Utc::now();
    if let Some(t) = once
        && t <= now
    {
        return Err(ApiError::invalid(
            "scheduled_for",
            format!("scheduled_for: {} is in the past", t.to_rfc3339()),
        ));
    }
    let timing = Timing::new(body.cron.as_deref(), &timezone, once)
        .map_err(|e| ApiError::invalid(e.field, e.message))?;
    let channels =
        queue::check_targets("channels", &body.channels.unwrap_or_else(default_targets))?;
    let tone = crate::routes::content::parse_tone(body.tone.as_deref())?;
    let template = crate::routes::content::parse_template(body.template_style.as_deref())?;
    let document_id = body.document_id.filter(|d| !d.trim().is_empty());
    if let Some(d) = &document_id {
        halcytone_sources::SourceRef::parse(d)
            .map_err(|e| crate::documents::source_error("document_id", &e))?;
    } else if matches!(state.config.document, crate::config::DocumentSource::None) {
        return Err(ApiError::invalid(
            "document_id",
            "document_id: no living document is configured; name one (gdocs:, notion:, url:, file:)",
        ));
    }
    let Some(next) = timing.next_after(now) else {
        return Err(ApiError::invalid(
            "cron",
            "cron: the expression never matches a future time",
        ));
    };
    let ms = now_ms();
    let s = Schedule {
        id: format!("sch_{}", uuid::Uuid::new_v4().simple()),
        name: name.to_string(),
        cron: body
            .cron
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty()),
        timezone,
        scheduled_for_ms: once.map(|t| t.timestamp_millis()),
        document_id,
        channels,
        options: json!({ "tone": tone.map(|t| t.as_str()), "template": template.map(|t| t.as_str()) }),
        status: "active".into(),
        next_run_ms: Some(next.timestamp_millis()),
        last_run_ms: None,
        last_result: None,
        created_by: caller.key_id.clone(),
        created_ms: ms,
        updated_ms: ms,
    };
    state.store.put_schedule(&s).await?;
    tracing::info!(schedule = %s.id, next = %next.to_rfc3339(), "schedule created");
    Ok((
        StatusCode::CREATED,
        Json(schedule_json(&state, &s, 0).await?),
    ))
}

async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let all = state.store.schedules().await?;
    let mut out = Vec::with_capacity(all.len());
    for s in &all {
        out.push(schedule_json(&state, s, 1).await?);
    }
    Ok(Json(json!({ "schedules": out, "total": all.len() })))
}

async fn find(state: &AppState, id: &str) -> ApiResult<Schedule> {
    state
        .store
        .schedule(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("schedule {id} not found")))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let s = find(&state, &id).await?;
    Ok(Json(schedule_json(&state, &s, 20).await?))
}

async fn pause(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let s = find(&state, &id).await?;
    if s.status == "completed" {
        return Err(ApiError::Conflict(format!("schedule {id} has completed")));
    }
    state
        .store
        .set_schedule_status(&id, "paused", None, now_ms())
        .await?;
    Ok(Json(
        schedule_json(&state, &find(&state, &id).await?, 5).await?,
    ))
}

async fn resume(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let s = find(&state, &id).await?;
    if s.status != "paused" {
        return Err(ApiError::Conflict(format!(
            "schedule {id} is {}; only a paused schedule can be resumed",
            s.status
        )));
    }
    let Some(next) = timing_of(&s)?.next_after(Utc::now()) else {
        return Err(ApiError::Conflict(format!(
            "schedule {id} has no run left after now (a one-off time that has passed)"
        )));
    };
    state
        .store
        .set_schedule_status(&id, "active", Some(next.timestamp_millis()), now_ms())
        .await?;
    Ok(Json(
        schedule_json(&state, &find(&state, &id).await?, 5).await?,
    ))
}

async fn remove(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    if !state.store.delete_schedule(&id).await? {
        return Err(ApiError::NotFound(format!("schedule {id} not found")));
    }
    Ok(StatusCode::NO_CONTENT)
}
