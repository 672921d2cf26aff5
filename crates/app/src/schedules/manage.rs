//! Schedules as callers manage them: create (a cron rule in a zone, or one time), list,
//! show with runs, pause, resume and delete. The runner (`runner`) takes the due runs.

use super::runner::timing_of;
use super::timing::Timing;
use crate::caller::Caller;
use crate::core::Core;
use crate::error::{AppError, AppResult, Found};
use crate::queue::{self, iso, now_ms};
use crate::review::default_targets;
use chrono::Utc;
use halcytone_store::{Schedule, ScheduleRun};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
/// A schedule as a caller defines it: a cron rule in a zone, or one time.
pub struct ScheduleRequest {
    #[schema(required = true, schema_with = crate::schema::line_200)]
    pub name: Option<String>,
    pub cron: Option<String>,
    pub timezone: Option<String>,
    #[schema(schema_with = crate::schema::instant)]
    pub scheduled_for: Option<String>,
    pub document_id: Option<String>,
    #[schema(schema_with = crate::schema::optional_targets)]
    pub channels: Option<Vec<String>>,
    #[schema(schema_with = crate::schema::tone)]
    pub tone: Option<String>,
    #[schema(schema_with = crate::schema::template)]
    pub template_style: Option<String>,
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

/// A schedule with its last `runs` runs.
pub async fn schedule_json(state: &Core, s: &Schedule, runs: i64) -> AppResult<Value> {
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

/// Checks and stores a schedule with its first run time.
pub async fn create(state: &Core, caller: &Caller, body: ScheduleRequest) -> AppResult<Value> {
    let name = body.name.as_deref().map(str::trim).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid("name", "name: 1 to 200 characters"));
    }
    let timezone = body.timezone.as_deref().unwrap_or("UTC").trim().to_string();
    let once = queue::schedule_time("scheduled_for", body.scheduled_for.as_deref())?;
    let now = Utc::now();
    if let Some(t) = once
        && t <= now
    {
        return Err(AppError::invalid(
            "scheduled_for",
            format!("scheduled_for: {} is in the past", t.to_rfc3339()),
        ));
    }
    let timing = Timing::new(body.cron.as_deref(), &timezone, once)
        .map_err(|e| AppError::invalid(e.field, e.message))?;
    let channels =
        queue::check_targets("channels", &body.channels.unwrap_or_else(default_targets))?;
    let tone = crate::generation::parse_tone(body.tone.as_deref())?;
    let template = crate::generation::parse_template(body.template_style.as_deref())?;
    let document_id = body.document_id.filter(|d| !d.trim().is_empty());
    if let Some(d) = &document_id {
        halcytone_sources::SourceRef::parse(d)
            .map_err(|e| crate::documents::source_error("document_id", &e))?;
    } else if matches!(state.config.document, crate::settings::DocumentSource::None) {
        return Err(AppError::invalid(
            "document_id",
            "document_id: no living document is configured; name one (gdocs:, notion:, url:, file:)",
        ));
    }
    let Some(next) = timing.next_after(now) else {
        return Err(AppError::invalid(
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
    schedule_json(state, &s, 0).await
}

/// Every schedule with its last run.
pub async fn list(state: &Core) -> AppResult<Value> {
    let all = state.store.schedules().await?;
    let mut out = Vec::with_capacity(all.len());
    for s in &all {
        out.push(schedule_json(state, s, 1).await?);
    }
    Ok(json!({ "schedules": out, "total": all.len() }))
}

/// One schedule; an unknown id is not found.
pub async fn find(state: &Core, id: &str) -> AppResult<Schedule> {
    state.store.schedule(id).await?.found("schedule", id)
}

/// One schedule with its last twenty runs.
pub async fn show(state: &Core, id: &str) -> AppResult<Value> {
    let s = find(state, id).await?;
    schedule_json(state, &s, 20).await
}

/// Pauses a schedule that has not completed.
pub async fn pause(state: &Core, id: &str) -> AppResult<Value> {
    let s = find(state, id).await?;
    if s.status == "completed" {
        return Err(AppError::Conflict(format!("schedule {id} has completed")));
    }
    state
        .store
        .set_schedule_status(id, "paused", None, now_ms())
        .await?;
    schedule_json(state, &find(state, id).await?, 5).await
}

/// Resumes a paused schedule from its next run after now.
pub async fn resume(state: &Core, id: &str) -> AppResult<Value> {
    let s = find(state, id).await?;
    if s.status != "paused" {
        return Err(AppError::Conflict(format!(
            "schedule {id} is {}; only a paused schedule can be resumed",
            s.status
        )));
    }
    let Some(next) = timing_of(&s)?.next_after(Utc::now()) else {
        return Err(AppError::Conflict(format!(
            "schedule {id} has no run left after now (a one-off time that has passed)"
        )));
    };
    state
        .store
        .set_schedule_status(id, "active", Some(next.timestamp_millis()), now_ms())
        .await?;
    schedule_json(state, &find(state, id).await?, 5).await
}

/// Deletes a schedule.
pub async fn remove(state: &Core, id: &str) -> AppResult<()> {
    if !state.store.delete_schedule(id).await? {
        return Err(AppError::not_found("schedule", id));
    }
    Ok(())
}
