//! Publish jobs as the dashboard uses them: create (`content/sync`), cancel, list, show,
//! retry, and the job metrics and analytics computed from the stored jobs.

use super::{Entry, READ, WRITE, route};
use crate::body::JsonBody;
use crate::calendar::{self, Granularity};
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryArgs;
use crate::queue::{self, iso, job_json};
use crate::sends::{self, SendRequest, cancel_job, retry_job};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Extension, Json};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use halcytone_store::{Job, JobFilter, JobStatus};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub fn routes() -> Vec<Entry> {
    vec![
        route("post", "/api/v2/content/sync", WRITE, "jobs", "Queue a publish job for the living document (now, or at schedule_time)", post(sync))
            .carries_document()
            .ok(202)
            .body("{document_id, channels: [email, website, social_twitter, social_linkedin, social_facebook, twitter, linkedin, facebook, web, …], schedule_time?, template_style?, tone?, content_type?, dry_run?, document?, document_format?, correlation_id?, force_publish?, segment_id?, personalize?, first_name_fallback?, ab_test?: {subjects: [2–5 subject lines], test_fraction? (0–1], default 0.2), decide_after_minutes? (default 240)}}"),
        route("get", "/api/v2/content/sync/{job_id}", READ, "jobs", "One job (same as /api/v2/jobs/{job_id})", get(show))
            .errors(&[(404, "Unknown job")]),
        route("delete", "/api/v2/content/sync/{job_id}", WRITE, "jobs", "Cancel a job that has not started", delete(cancel))
            .errors(&[(404, "Unknown job"), (409, "The job has already started or finished")]),
        route("get", "/api/v2/jobs", READ, "jobs", "Jobs, newest first", get(list))
            .query(&[("limit", "1–1000, default 20"), ("offset", "default 0"), ("status", "pending, in_progress, completed, partial, failed, cancelled"), ("channel", "a channel name as jobs were created with")]),
        route("get", "/api/v2/jobs/{job_id}", READ, "jobs", "One job with its per-channel results", get(show))
            .errors(&[(404, "Unknown job")]),
        route("post", "/api/v2/jobs/{job_id}/retry", WRITE, "jobs", "Queue a new job that repeats a failed or partial one", post(retry))
            .ok(201)
            .errors(&[(404, "Unknown job"), (409, "Only failed, partial or cancelled jobs can be retried")]),
        route("get", "/api/v2/metrics", READ, "jobs", "Job totals, status and channel breakdowns, success rate, last sync per document", get(job_metrics)),
        route("get", "/api/v2/analytics", READ, "jobs", "Job analytics over a period, for the dashboard's analytics page", get(analytics))
            .query(&[("start_date", "RFC 3339; default 7 days ago"), ("end_date", "RFC 3339; default now"), ("granularity", "hour or day (default)")]),
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

async fn find(state: &AppState, id: &str) -> ApiResult<Job> {
    state
        .store
        .job(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("job {id} not found")))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(job_json(&find(&state, &id).await?)))
}

async fn cancel(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let job = cancel_job(&state, &id).await?;
    let mut v = job_json(&job);
    v["cancelled"] = json!(true);
    Ok(Json(v))
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

/// Jobs created in a window (at most 10,000, newest first).
async fn window(
    state: &AppState,
    since: Option<i64>,
    until: Option<i64>,
) -> ApiResult<(Vec<Job>, i64)> {
    Ok(state
        .store
        .jobs(&JobFilter {
            created_since_ms: since,
            created_until_ms: until,
            limit: 10_000,
            ..JobFilter::default()
        })
        .await?)
}

fn success_rate(by_status: &BTreeMap<String, i64>) -> f64 {
    let n = |s: &str| by_status.get(s).copied().unwrap_or(0) as f64;
    let finished = n("completed") + n("partial") + n("failed");
    if finished == 0.0 {
        0.0
    } else {
        (n("completed") / finished * 10_000.0).round() / 100.0
    }
}

async fn job_metrics(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let counts = state.store.job_counts().await?;
    let (recent, _) = window(&state, None, None).await?;
    let mut channels: BTreeMap<String, i64> = BTreeMap::new();
    let mut last_sync: BTreeMap<String, String> = BTreeMap::new();
    for j in &recent {
        for c in &j.channels {
            *channels.entry(c.clone()).or_default() += 1;
        }
        let label = job_json(j)["document_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let Some(t) = iso(j.created_ms) {
            last_sync.entry(label).or_insert(t);
        }
    }
    Ok(Json(json!({
        "total_jobs": counts.values().sum::<i64>(),
        "active_jobs": counts.get("in_progress").copied().unwrap_or(0) + counts.get("pending").copied().unwrap_or(0),
        "status_breakdown": counts,
        "channel_breakdown": channels,
        "success_rate": success_rate(&counts),
        "last_sync_times": last_sync,
        "sampled_jobs": recent.len(),
    })))
}

fn parse_date(p: &QueryArgs, name: &str) -> ApiResult<Option<DateTime<Utc>>> {
    Ok(queue::schedule_time(name, p.last(name))?)
}

async fn analytics(State(state): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    let p = QueryArgs::parse(q.as_deref());
    let now = Utc::now();
    let end = parse_date(&p, "end_date")?.unwrap_or(now);
    let tz = state.config.analytics_time_zone;
    let granularity = p.last("granularity").unwrap_or("day");
    // By default: the last seven calendar days, today included (by the hour: 7 × 24 hours).
    let start = match parse_date(&p, "start_date")? {
        Some(s) => s,
        None if granularity == "day" => calendar::days_before(end, tz, 6),
        None => end - ChronoDuration::days(7),
    };
    if start >= end {
        return Err(ApiError::invalid(
            "start_date",
            "start_date must be before end_date",
        ));
    }
    let (step, calendar_step) = match granularity {
        "hour" => (ChronoDuration::hours(1), Granularity::Hour),
        "day" => (ChronoDuration::days(1), Granularity::Day),
        other => {
            return Err(ApiError::invalid(
                "granularity",
                format!("granularity: '{other}' is not hour or day"),
            ));
        }
    };
    if (end - start).num_milliseconds() / step.num_milliseconds() > 5000 {
        return Err(ApiError::invalid(
            "start_date",
            "the period has more than 5000 buckets; use a coarser granularity or a shorter period",
        ));
    }
    let (jobs, total) = window(
        &state,
        Some(start.timestamp_millis()),
        Some(end.timestamp_millis()),
    )
    .await?;
    let mut by_status: BTreeMap<String, i64> = JobStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect();
    let mut by_channel: BTreeMap<String, i64> = BTreeMap::new();
    let mut channel_perf: BTreeMap<String, (i64, i64, i64)> = BTreeMap::new();
    let (mut processing_sum, mut processing_n) = (0.0, 0u32);
    for j in &jobs {
        *by_status.entry(j.status.as_str().to_string()).or_default() += 1;
        for c in &j.channels {
            *by_channel.entry(c.clone()).or_default() += 1;
            let e = channel_perf.entry(c.clone()).or_default();
            e.0 += 1;
            match j
                .results
                .get(c)
                .and_then(|r| r.get("status"))
                .and_then(Value::as_str)
            {
                Some("success") => e.1 += 1,
                Some("failed") => e.2 += 1,
                _ => {}
            }
        }
        if let (Some(s), Some(c)) = (j.started_ms, j.completed_ms) {
            processing_sum += (c - s) as f64 / 1000.0;
            processing_n += 1;
        }
    }
    // Calendar days (or hours) in the configured zone, the first holding `start`.
    let starts = calendar::bucket_starts(start, end, tz, calendar_step, 5001);
    let mut counts = vec![0_i64; starts.len()];
    for j in &jobs {
        let Some(at) = DateTime::from_timestamp_millis(j.created_ms) else {
            continue;
        };
        if let Some(n) = calendar::bucket_of(&starts, at).and_then(|i| counts.get_mut(i)) {
            *n += 1;
        }
    }
    let over_time: Vec<Value> = starts
        .iter()
        .zip(&counts)
        .map(|(t, c)| {
            let local = t.with_timezone(&tz);
            json!({
                "timestamp": local.to_rfc3339(),
                "date": local.date_naive().to_string(),
                "count": c,
            })
        })
        .collect();
    let count_since = |days: i64| {
        let since = (now - ChronoDuration::days(days)).timestamp_millis();
        let store = state.store.clone();
        async move {
            store
                .jobs(&JobFilter {
                    created_since_ms: Some(since),
                    limit: 1,
                    ..JobFilter::default()
                })
                .await
                .map(|(_, n)| n)
        }
    };
    let n = |s: &str| by_status.get(s).copied().unwrap_or(0);
    let channel_performance: Map<String, Value> = channel_perf
        .into_iter()
        .map(|(c, (total, ok, failed))| {
            let rate = if ok + failed == 0 {
                0.0
            } else {
                (ok as f64 / (ok + failed) as f64 * 10_000.0).round() / 100.0
            };
            (
                c,
                json!({ "total": total, "success": ok, "failed": failed, "success_rate": rate }),
            )
        })
        .collect();
    Ok(Json(json!({
        "period": { "start_date": start.to_rfc3339(), "end_date": end.to_rfc3339(), "granularity": granularity, "time_zone": tz.name() },
        "job_analytics": {
            "total_jobs": total,
            "completed_jobs": n("completed"),
            "failed_jobs": n("failed"),
            "partial_jobs": n("partial"),
            "pending_jobs": n("pending"),
            "in_progress_jobs": n("in_progress"),
            "cancelled_jobs": n("cancelled"),
            "success_rate": success_rate(&by_status),
            "avg_processing_time_seconds": if processing_n == 0 { 0.0 } else { (processing_sum / f64::from(processing_n) * 1000.0).round() / 1000.0 },
            "jobs_by_status": by_status,
            "jobs_by_channel": by_channel,
            "jobs_over_time": over_time,
        },
        "recent_activity": {
            "last_24h": count_since(1).await?,
            "last_7d": count_since(7).await?,
            "last_30d": count_since(30).await?,
        },
        "channel_performance": channel_performance,
        "performance_metrics": {
            "jobs_sampled": jobs.len(),
        },
    })))
}
