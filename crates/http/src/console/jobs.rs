//! `/ui/jobs`: publish jobs, newest first, filtered by status, 25 a page; one job with its
//! per-target results; and the Retry and Cancel buttons, which call the API's own retry and
//! cancel ([`crate::routes::jobs`]). Looking needs `read`; the buttons need `write`.

use super::guard::{Form, Visit};
use super::page::{UiError, display_ms};
use super::params::{Id, Pager, answer, back_to, encode};
use crate::error::ApiError;
use crate::queue::spec_label;
use crate::sends::{Cancelled, cancel_job, retry_job};
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use halcytone_store::{Job, JobFilter, JobStatus, Scope};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;
use serde_json::Value as Json;

/// Jobs on one page of the list.
const PAGE_SIZE: i64 = 25;

#[derive(Debug, Serialize)]
struct Row {
    id: String,
    href: String,
    document: String,
    channels: String,
    status: &'static str,
    attempts: i64,
    max_attempts: i64,
    created: String,
    finished: Option<String>,
}

/// The console page of the job `id`.
fn job_path(id: &str) -> String {
    format!("/ui/jobs/{}", encode(id))
}

fn row(j: &Job) -> Row {
    Row {
        id: j.id.clone(),
        href: job_path(&j.id),
        document: spec_label(j),
        channels: j.channels.join(", "),
        status: j.status.as_str(),
        attempts: j.attempts,
        max_attempts: j.max_attempts,
        created: display_ms(j.created_ms),
        finished: j.completed_ms.map(display_ms),
    }
}

/// `GET /ui/jobs?status=…&page=…`.
pub async fn list(State(state): State<AppState>, visit: Visit) -> Result<Response, UiError> {
    visit.needs(Scope::Read)?;
    let params = &visit.params;
    let statuses = JobStatus::ALL.map(JobStatus::as_str);
    let status = params.choice("status", &statuses)?;
    let page = params.page()?;
    let filter = JobFilter {
        status: status.as_deref().and_then(|s| s.parse().ok()),
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE,
        ..JobFilter::default()
    };
    let (jobs, total) = state.store.jobs(&filter).await.map_err(ApiError::from)?;
    let rows: Vec<Row> = jobs.iter().map(row).collect();
    let pager = Pager::new(
        "/ui/jobs",
        &[("status", status.as_deref())],
        page,
        PAGE_SIZE,
        total,
    );
    let ctx = context! {
        jobs => Serde(&rows),
        total,
        statuses,
        status,
        pager => Serde(&pager),
    };
    visit.html("jobs.html", "jobs", "Jobs", ctx)
}

/// One target's line of a channel's result.
#[derive(Debug, Serialize)]
struct Publish {
    target: String,
    outcome: String,
    external_id: String,
    upstream_status: String,
    attempts: String,
    reason: String,
    url: String,
}

#[derive(Debug, Serialize)]
struct ChannelResult {
    channel: String,
    status: String,
    error: Option<String>,
    note: Option<String>,
    publishes: Vec<Publish>,
}

/// A JSON value as one line of text ("—" for nothing).
fn text(v: &Json) -> String {
    match v {
        Json::Null => "—".into(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn results(j: &Job) -> Vec<ChannelResult> {
    let Some(map) = j.results.as_object() else {
        return Vec::new();
    };
    map.iter()
        .map(|(channel, r)| ChannelResult {
            channel: channel.clone(),
            status: text(&r["status"]),
            error: r["error"].as_str().map(str::to_string),
            note: r["note"].as_str().map(str::to_string),
            publishes: r["publishes"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|p| Publish {
                            target: text(&p["target"]),
                            outcome: text(&p["outcome"]),
                            external_id: text(&p["external_id"]),
                            upstream_status: text(&p["upstream_status"]),
                            attempts: text(&p["attempts"]),
                            reason: text(&p["reason"]),
                            url: text(&p["url"]),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

async fn load(state: &AppState, id: &str) -> Result<Job, UiError> {
    state
        .store
        .job(id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| UiError::not_found(format!("There is no job with the id '{id}'.")))
}

/// `GET /ui/jobs/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    visit: Visit,
    Id(id): Id,
) -> Result<Response, UiError> {
    let me = visit.needs(Scope::Read)?;
    let j = load(&state, &id).await?;
    let spec = crate::queue::job_json(&j);
    // A newsletter that cannot be composed now is told, not a failed page.
    let email_checks = match halcytone_app::jobs::email_checks::email_checks(&state.core, &j).await
    {
        Ok(report) => report.map(|r| {
            context! {
                worst => Serde(&r.worst),
                counts => Serde(&r.counts),
                findings => Serde(&r.worst_findings(halcytone_mailcheck::Level::Warning, 8)),
            }
        }),
        Err(e) => Some(context! { unavailable => e.to_string() }),
    };
    let ctx = context! {
        job => Serde(row(&j)),
        path => job_path(&j.id),
        snapshot => j.document_id.clone(),
        correlation_id => j.correlation_id.clone(),
        started => j.started_ms.map(display_ms),
        scheduled => j.scheduled_ms.map(display_ms),
        next_attempt => (j.status == JobStatus::Pending && j.attempts > 0).then(|| display_ms(j.run_at_ms)),
        tone => spec["metadata"]["tone"].as_str().map(str::to_string),
        template => spec["metadata"]["template"].as_str().map(str::to_string),
        retry_of => j.retry_of.clone(),
        retry_of_href => j.retry_of.as_deref().map(job_path),
        batch => j.batch_id.clone(),
        last_error => j.last_error.clone(),
        errors => j.errors.clone(),
        results => Serde(results(&j)),
        can_retry => matches!(j.status, JobStatus::Failed | JobStatus::Partial | JobStatus::Cancelled),
        can_cancel => j.status == JobStatus::Pending
            || (j.status == JobStatus::InProgress && j.channels.iter().any(|c| c.starts_with("email"))),
        can_write => me.allows(Scope::Write),
        email_checks,
    };
    visit.html("job.html", "jobs", &format!("Job {}", j.id), ctx)
}

/// `POST /ui/jobs/{id}/retry` (`csrf`): queues a new job repeating this one.
pub async fn retry(
    State(state): State<AppState>,
    Id(id): Id,
    form: Form,
) -> Result<Response, UiError> {
    let back = job_path(&id);
    let me = form.signed(&state, Scope::Write, &back).await?;
    match retry_job(&state, &id).await {
        Ok((old, new)) => {
            tracing::info!(job_id = %old.id, new_job_id = %new.id, key_id = %me.key_id, "console: job retried");
            Ok(back_to(
                &job_path(&new.id),
                Ok(format!("Queued job {} to retry job {}.", new.id, old.id)),
            ))
        }
        Err(e) => answer(&back, Err(e.into())),
    }
}

/// `POST /ui/jobs/{id}/cancel` (`csrf`): cancels a pending job.
pub async fn cancel(
    State(state): State<AppState>,
    Id(id): Id,
    form: Form,
) -> Result<Response, UiError> {
    let back = job_path(&id);
    let me = form.signed(&state, Scope::Write, &back).await?;
    let r = cancel_job(&state, &id).await.map(|c| match c {
        Cancelled::Job(j) => {
            tracing::info!(job_id = %j.id, key_id = %me.key_id, "console: job cancelled");
            format!("Job {} was cancelled.", j.id)
        }
        Cancelled::Send {
            job,
            batches_cancelled,
            batches_running,
        } => {
            tracing::info!(job_id = %job.id, key_id = %me.key_id, batches_cancelled, "console: running send cancelled");
            format!(
                "Send {} is stopping: {batches_cancelled} batches that had not started will not run; \
                 it ends cancelled once the {batches_running} running now have ended.",
                job.id
            )
        }
    });
    answer(&back, r.map_err(Into::into))
}
