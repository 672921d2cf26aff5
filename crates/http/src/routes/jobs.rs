//! Publish jobs as the dashboard uses them: create (`content/sync`), cancel, list, show,
//! retry, and the job metrics and analytics computed from the stored jobs.

use super::{Entry, Param, READ, WRITE, params, route};
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryArgs;
use crate::queue::{self, job_json};
use crate::sends::{self, Cancelled, SendRequest, cancel_job, retry_job};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use halcytone_app::jobs::reports;
use halcytone_store::{JobFilter, JobStatus};
use serde_json::{Value, json};

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "post",
            "/api/v2/content/sync",
            WRITE,
            "jobs",
            "Queue a publish job for the living document (now, or at schedule_time)",
            post(sync),
        )
        .carries_document()
        .ok(202)
        .body::<halcytone_app::sends::SendRequest>(
            "What to publish, where and when: channels are required, the rest optional",
        ),
        route(
            "get",
            "/api/v2/content/sync/{job_id}",
            READ,
            "jobs",
            "One job (same as /api/v2/jobs/{job_id})",
            get(show),
        )
        .errors(&[(404, "Unknown job")]),
        route(
            "delete",
            "/api/v2/content/sync/{job_id}",
            WRITE,
            "jobs",
            "Cancel a job that has not started, or stop a send that is running",
            delete(cancel),
        )
        .also_ok(
            202,
            "A running send is stopping: its batches that had not started are cancelled; the ones running end first",
        )
        .errors(&[
            (404, "Unknown job"),
            (409, "The job is not pending, nor a send in batches that is running"),
        ]),
        route(
            "get",
            "/api/v2/jobs",
            READ,
            "jobs",
            "Jobs, newest first",
            get(list),
        )
        .query([
            Param::whole("limit", 1, 1000, "default 20"),
            Param::whole("offset", 0, i64::MAX / 2, "default 0"),
            Param::one_of("status", params::job_statuses, "only jobs in this state"),
            Param::one_of("channel", params::targets, "only jobs sent to this channel"),
        ]),
        route(
            "get",
            "/api/v2/jobs/{job_id}",
            READ,
            "jobs",
            "One job with its per-channel results",
            get(show),
        )
        .errors(&[(404, "Unknown job")]),
        route(
            "post",
            "/api/v2/jobs/{job_id}/retry",
            WRITE,
            "jobs",
            "Queue a new job that repeats a failed or partial one",
            post(retry),
        )
        .ok(201)
        .errors(&[
            (404, "Unknown job"),
            (409, "Only failed, partial or cancelled jobs can be retried"),
        ]),
        route(
            "get",
            "/api/v2/metrics",
            READ,
            "jobs",
            "Job totals, status and channel breakdowns, success rate, last sync per document",
            get(job_metrics),
        ),
        route(
            "get",
            "/api/v2/analytics",
            READ,
            "jobs",
            "Job analytics over a period, for the dashboard's analytics page",
            get(analytics),
        )
        .query(period()),
        route(
            "get",
            "/api/v2/analytics/jobs",
            READ,
            "jobs",
            "Job figures over a period (the dashboard client's job analytics): totals by status and channel, success rate, jobs over time",
            get(job_analytics),
        )
        .query(period()),
    ]
}

/// The period an analytics answer covers.
fn period() -> [Param; 3] {
    [
        Param::timestamp("start_date", "default 7 days ago"),
        Param::timestamp("end_date", "default now"),
        Param::one_of("granularity", || vec!["hour", "day"], "default day"),
    ]
}

async fn sync(
    State(state): State<AppState>,
    Extension(caller): Extension<crate::auth::Caller>,
    JsonBody(body): JsonBody<SendRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(sends::queue_send(&state, &caller, body).await?),
    ))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(sends::job_detail(&state, &id).await?))
}

async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    Ok(match cancel_job(&state, &id).await? {
        Cancelled::Job(job) => {
            let mut v = job_json(&job);
            v["cancelled"] = json!(true);
            (StatusCode::OK, Json(v))
        }
        Cancelled::Send {
            job,
            batches_cancelled,
            batches_running,
        } => {
            let mut v = job_json(&job);
            v["cancelled"] = json!(true);
            v["cancelling"] = json!({
                "batches_cancelled": batches_cancelled,
                "batches_running": batches_running,
                "message": format!(
                    "{batches_cancelled} batches that had not started will not run; \
                     the send ends cancelled once the {batches_running} running now have ended"
                ),
            });
            (StatusCode::ACCEPTED, Json(v))
        }
    })
}

async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (old, job) = retry_job(&state, &id).await?;
    let mut v = job_json(&job);
    v["new_job_id"] = json!(job.id);
    v["original_job_id"] = json!(old.id);
    Ok((StatusCode::CREATED, Json(v)))
}

async fn list(State(state): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    let p = QueryArgs::parse(q.as_deref());
    let limit = p.int("limit", 20, 1, 1000)?;
    let offset = p.int("offset", 0, 0, i64::MAX / 2)?;
    let get = |k: &str| {
        p.last(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let status = get("status")
        .map(|s| {
            s.parse::<JobStatus>()
                .map_err(|e| ApiError::invalid("status", format!("status: {e}")))
        })
        .transpose()?;
    let channel = get("channel")
        .map(|c| {
            crate::targets::parse(&c)
                .map(|_| c.to_ascii_lowercase())
                .map_err(|e| ApiError::invalid("channel", e))
        })
        .transpose()?;
    let (jobs, total) = state
        .store
        .jobs(&JobFilter {
            status,
            channel,
            limit,
            offset,
            ..JobFilter::default()
        })
        .await?;
    Ok(Json(json!({
        "jobs": jobs.iter().map(job_json).collect::<Vec<_>>(),
        "total": total,
        "page": offset / limit + 1,
        "page_size": limit,
        "limit": limit,
        "offset": offset,
    })))
}

async fn job_metrics(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(reports::metrics(&state).await?))
}

fn parse_date(p: &QueryArgs, name: &str) -> ApiResult<Option<DateTime<Utc>>> {
    Ok(queue::schedule_time(name, p.last(name))?)
}

/// The job part of [`analytics`], with its period.
async fn job_analytics(State(state): State<AppState>, q: RawQuery) -> ApiResult<Json<Value>> {
    let Json(mut all) = analytics(State(state), q).await?;
    let mut jobs = all["job_analytics"].take();
    jobs["period"] = all["period"].take();
    Ok(Json(jobs))
}

async fn analytics(State(state): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    let p = QueryArgs::parse(q.as_deref());
    let start = parse_date(&p, "start_date")?;
    let end = parse_date(&p, "end_date")?;
    let granularity = p.last("granularity").unwrap_or("day");
    Ok(Json(
        reports::analytics(&state, start, end, granularity).await?,
    ))
}
