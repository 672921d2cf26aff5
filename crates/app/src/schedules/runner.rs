//! Running due schedules. [`tick`] takes every due run at a given "now" (tests pass a fake
//! one); [`spawn`] calls it periodically. A replica takes a run by moving the schedule on to
//! its next occurrence after now — a compare-and-set, so a run is taken once across
//! replicas and missed occurrences collapse into the one run.

use super::timing::Timing;
use crate::core::Core;
use crate::error::AppError;
use crate::generation;
use crate::queue::iso;
use crate::review::{self, Actor, Draft};
use chrono::{DateTime, TimeZone, Utc};
use halcytone_store::{Schedule, ScheduleRun};
use std::time::Duration;

/// The timing a stored schedule runs on.
pub fn timing_of(s: &Schedule) -> Result<Timing, AppError> {
    let once = s
        .scheduled_for_ms
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single());
    Timing::new(s.cron.as_deref(), &s.timezone, once)
        .map_err(|e| AppError::Internal(format!("schedule {}: {}", s.id, e.message)))
}

/// Runs every schedule due at `now`; returns the runs this call made.
pub async fn tick(state: &Core, now: DateTime<Utc>) -> Result<Vec<ScheduleRun>, AppError> {
    let now_ms = now.timestamp_millis();
    let mut runs = Vec::new();
    for s in state.store.due_schedules(now_ms).await? {
        let Some(due) = s.next_run_ms else { continue };
        let next = match timing_of(&s) {
            Ok(t) => t.next_after(now).map(|t| t.timestamp_millis()),
            Err(e) => {
                tracing::error!(schedule = %s.id, error = %e, "schedule has a bad timing; pausing it");
                state
                    .store
                    .set_schedule_status(&s.id, "paused", None, now_ms)
                    .await?;
                continue;
            }
        };
        if !state
            .store
            .advance_schedule(&s.id, due, next, now_ms)
            .await?
        {
            continue; // another replica took this run
        }
        runs.push(run(state, &s, due, now).await?);
    }
    Ok(runs)
}

/// One run: fetch, draft, submit; publish when approved, else wait for reviewers.
async fn run(
    state: &Core,
    s: &Schedule,
    due_ms: i64,
    now: DateTime<Utc>,
) -> Result<ScheduleRun, AppError> {
    let mut r = ScheduleRun {
        id: format!("run_{}", uuid::Uuid::new_v4().simple()),
        schedule_id: s.id.clone(),
        due_ms,
        started_ms: now.timestamp_millis(),
        finished_ms: None,
        status: "running".into(),
        version_id: None,
        job_id: None,
        detail: String::new(),
    };
    state.store.put_schedule_run(&r).await?;
    let outcome = attempt(state, s, &mut r).await;
    if let Err(e) = outcome {
        r.status = "failed".into();
        r.detail = e.to_string();
        tracing::warn!(schedule = %s.id, run = %r.id, reason = %r.detail, "scheduled run failed");
    }
    r.finished_ms = Some(Utc::now().timestamp_millis());
    state.store.put_schedule_run(&r).await?;
    tracing::info!(schedule = %s.id, run = %r.id, status = %r.status, due = ?iso(due_ms), "scheduled run");
    Ok(r)
}

async fn attempt(state: &Core, s: &Schedule, r: &mut ScheduleRun) -> Result<(), AppError> {
    let document = match &s.document_id {
        Some(id) => crate::documents::by_reference_fresh(state, id, true).await?,
        None => crate::documents::configured_fresh(state, true).await?,
    };
    let hash = halcytone_store::sha256_hex(&document.text);
    if let Some(v) = state.store.schedule_version_for_hash(&s.id, &hash).await? {
        r.status = "unchanged".into();
        r.version_id = Some(v.id.clone());
        r.detail = format!(
            "the document has not changed since version {} ({}); nothing new to publish",
            v.id, v.review_state
        );
        return Ok(());
    }
    let actor = Actor::schedule(&s.id);
    let v = review::create_draft(
        state,
        Draft {
            label: document.label.clone(),
            document,
            targets: s.channels.clone(),
            tone: s.options["tone"].as_str().map(String::from),
            template: s.options["template"].as_str().map(String::from),
            as_of: generation::today(),
            schedule_id: Some(s.id.clone()),
        },
        &actor,
    )
    .await?;
    r.version_id = Some(v.id.clone());
    let v = review::submit(state, &v.id, &actor).await?;
    r.job_id = v.job_id.clone();
    match v.review_state.as_str() {
        "scheduled" => {
            r.status = "queued".into();
            r.detail = format!(
                "approved ({}) and handed to the publisher",
                v.review_level.as_deref().unwrap_or("L1")
            );
        }
        _ => {
            r.status = "awaiting_approval".into();
            r.detail = format!(
                "{} review needed: {}",
                v.review_level.as_deref().unwrap_or("L1"),
                v.review["level_reason"]
                    .as_str()
                    .unwrap_or("validation found errors")
            );
        }
    }
    Ok(())
}

/// Runs due schedules every `every` until the process ends.
pub fn spawn(state: Core, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(e) = tick(&state, Utc::now()).await {
                tracing::error!(error = %e, "the scheduler could not run due schedules");
            }
        }
    })
}
