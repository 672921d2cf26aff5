//! Reports over the stored jobs: the dashboard's job metrics and the analytics over a
//! period in calendar buckets.

use crate::calendar::{self, Granularity};
use crate::core::Core;
use crate::error::{AppError, AppResult};
use crate::queue::{iso, job_json};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use halcytone_store::{Job, JobFilter, JobStatus};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Jobs created in a window (at most 10,000, newest first).
async fn window(
    state: &Core,
    since: Option<i64>,
    until: Option<i64>,
) -> AppResult<(Vec<Job>, i64)> {
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

/// The job counts the dashboard's metrics card reads: totals, by status and channel, the
/// success rate and each document's last sync.
pub async fn metrics(state: &Core) -> AppResult<Value> {
    let counts = state.store.job_counts().await?;
    let (recent, _) = window(state, None, None).await?;
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
    Ok(json!({
        "total_jobs": counts.values().sum::<i64>(),
        "active_jobs": counts.get("in_progress").copied().unwrap_or(0) + counts.get("pending").copied().unwrap_or(0),
        "status_breakdown": counts,
        "channel_breakdown": channels,
        "success_rate": success_rate(&counts),
        "last_sync_times": last_sync,
        "sampled_jobs": recent.len(),
    }))
}

/// Job analytics over a period in calendar buckets of the configured zone (by default the
/// last seven days, today included).
pub async fn analytics(
    state: &Core,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    granularity: &str,
) -> AppResult<Value> {
    let now = Utc::now();
    let end = end.unwrap_or(now);
    let tz = state.config.analytics_time_zone;
    // By default: the last seven calendar days, today included (by the hour: 7 × 24 hours).
    let start = match start {
        Some(s) => s,
        None if granularity == "day" => calendar::days_before(end, tz, 6),
        None => end - ChronoDuration::days(7),
    };
    if start >= end {
        return Err(AppError::invalid(
            "start_date",
            "start_date must be before end_date",
        ));
    }
    let (step, calendar_step) = match granularity {
        "hour" => (ChronoDuration::hours(1), Granularity::Hour),
        "day" => (ChronoDuration::days(1), Granularity::Day),
        other => {
            return Err(AppError::invalid(
                "granularity",
                format!("granularity: '{other}' is not hour or day"),
            ));
        }
    };
    if (end - start).num_milliseconds() / step.num_milliseconds() > 5000 {
        return Err(AppError::invalid(
            "start_date",
            "the period has more than 5000 buckets; use a coarser granularity or a shorter period",
        ));
    }
    let (jobs, total) = window(
        state,
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
    Ok(json!({
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
    }))
}
