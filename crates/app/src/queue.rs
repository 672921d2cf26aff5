//! Creating publish jobs from API requests, and showing jobs as the dashboard reads them.

use crate::core::Core;
use crate::error::{AppError, Found};
use crate::generation::DocumentText;
use crate::jobs::spec::NewsletterSpec;
use crate::targets;
use crate::worker::{JobSpec, PublishSpec};
use chrono::{DateTime, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use halcytone_store::{ContentVersion, Job, JobStatus, NewJob};
use serde_json::{Value, json};
use std::time::Duration;

/// A publish job to create.
#[derive(Debug, Clone)]
pub struct Submission {
    pub label: String,
    pub document: DocumentText,
    /// Target names as the caller wrote them; checked here.
    pub targets: Vec<String>,
    pub tone: Option<String>,
    pub template: Option<String>,
    pub run_at: Option<DateTime<Utc>>,
    pub correlation_id: String,
    pub retry_of: Option<String>,
    pub as_of: DateTime<Utc>,
    pub batch_id: Option<String>,
    /// `newsletter` for a hand-written newsletter (the document is its JSON).
    pub kind: Option<String>,
    /// The reviewed content version this job publishes; `None` records a new version for a
    /// direct publish.
    pub version: Option<String>,
    /// How a direct publish was cleared (see `review::gate_direct`), kept on its version.
    pub review: Option<Value>,
    /// Who the newsletter goes to and how it speaks to them.
    pub email: EmailOptions,
}

/// The newsletter's audience options of a send.
#[derive(Debug, Clone, Default)]
pub struct EmailOptions {
    /// The segment the newsletter goes to (everyone when `None`).
    pub segment: Option<crate::worker::SegmentRef>,
    /// The audience whose members get the newsletter (the CRM's list when `None`).
    pub audience_id: Option<String>,
    /// Greet each reader by first name.
    pub personalize: bool,
    pub first_name_fallback: Option<String>,
    /// The A/B subject test whose variants this job sends.
    pub ab_test: Option<crate::worker::AbRef>,
}

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

pub fn iso(ms: i64) -> Option<String> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// Reads a schedule time: RFC 3339 with a zone, or a local date-time without one (as a
/// browser's `datetime-local` sends it: `2026-12-01T10:00`), which is taken as UTC.
pub fn parse_time(field: &str, raw: &str) -> Result<DateTime<Utc>, AppError> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, fmt) {
            return Ok(Utc.from_utc_datetime(&t));
        }
    }
    Err(AppError::invalid(
        field,
        format!(
            "{field}: '{raw}' is not a date-time; use RFC 3339 (2026-12-01T10:00:00Z) or 2026-12-01T10:00 (taken as UTC)"
        ),
    ))
}

/// Checks the targets (an unknown one is a 422 listing the valid names) and removes repeats.
pub fn check_targets(field: &str, names: &[String]) -> Result<Vec<String>, AppError> {
    if names.is_empty() {
        return Err(AppError::invalid(
            field,
            format!(
                "{field}: name at least one channel; valid channels: {}",
                targets::VALID
            ),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, n) in names.iter().enumerate() {
        targets::parse(n).map_err(|e| AppError::invalid(format!("{field}[{i}]"), e))?;
        let n = n.trim().to_ascii_lowercase();
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Ok(out)
}

/// Stores the document snapshot and queues the job; wakes this process's worker.
pub async fn submit(state: &Core, s: Submission) -> Result<Job, AppError> {
    let now = now_ms();
    let format = s.document.format;
    let (doc, _) = state
        .store
        .put_document(
            &s.label,
            format.map_or("auto", |f| f.as_str()),
            &s.document.text,
            now,
        )
        .await?;
    let (tone, template) = (s.tone.clone(), s.template.clone());
    let traceparent = halcytone_telemetry::current().map(|c| c.traceparent());
    let spec = if s.kind.as_deref() == Some("newsletter") {
        JobSpec::Newsletter(NewsletterSpec {
            targets: s.targets.clone(),
            as_of_ms: s.as_of.timestamp_millis(),
            document_label: Some(s.label),
            traceparent,
        })
    } else {
        JobSpec::Publish(Box::new(PublishSpec {
            targets: s.targets.clone(),
            tone: s.tone.as_deref().map(str::parse).transpose().map_err(
                |e: halcytone_content::UnknownValue| AppError::invalid("tone", e.to_string()),
            )?,
            template: s.template.as_deref().map(str::parse).transpose().map_err(
                |e: halcytone_content::UnknownValue| AppError::invalid("template", e.to_string()),
            )?,
            format,
            as_of_ms: s.as_of.timestamp_millis(),
            document_label: Some(s.label),
            segment: s.email.segment.clone(),
            audience_id: s.email.audience_id.clone(),
            personalize: s.email.personalize,
            first_name_fallback: s.email.first_name_fallback.clone(),
            ab_test: s.email.ab_test.clone(),
            traceparent,
            batch: None,
        }))
    };
    let payload = spec.to_payload();
    let run_at = s.run_at.map_or(now, |t| t.timestamp_millis());
    let job = state
        .store
        .enqueue(
            NewJob {
                document_id: doc.id,
                channels: s.targets,
                payload,
                run_at_ms: run_at.max(now),
                scheduled_ms: s.run_at.map(|t| t.timestamp_millis()),
                max_attempts: state.config.job_max_attempts,
                correlation_id: s.correlation_id,
                retry_of: s.retry_of,
                batch_id: s.batch_id,
            },
            now,
        )
        .await?;
    if let Some(version) = &s.version {
        tracing::info!(job_id = %job.id, content_version = %version, channels = ?job.channels, run_at = run_at, "job queued for a reviewed version");
        state.job_queued.notify_one();
        state.job_events.announce(&job, false);
        return Ok(job);
    }
    let version = ContentVersion {
        id: format!("cv_{}", uuid::Uuid::new_v4().simple()),
        document_id: job.document_id.clone(),
        label: spec_label(&job),
        content_hash: doc.hash.clone(),
        channels: job.channels.clone(),
        options: json!({ "tone": tone, "template": template, "as_of": iso(s.as_of.timestamp_millis()) }),
        job_id: Some(job.id.clone()),
        created_ms: now,
        review_state: "scheduled".into(),
        review_level: None,
        review: s
            .review
            .clone()
            .unwrap_or_else(|| json!({ "direct": true })),
        updated_ms: now,
        schedule_id: None,
    };
    state.store.put_content_version(&version).await?;
    tracing::info!(job_id = %job.id, content_version = %version.id, channels = ?job.channels, run_at = run_at, "job queued");
    state.job_queued.notify_one();
    // A new job is an update of the list; its later moves are status changes.
    state.job_events.announce(&job, false);
    Ok(job)
}

/// An optional schedule time from a request body (empty means none).
pub fn schedule_time(field: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, AppError> {
    raw.filter(|s| !s.trim().is_empty())
        .map(|s| parse_time(field, s))
        .transpose()
}

/// Waits for a job a request just queued, within the request's time budget (the request
/// timeout less a second, at most 25 s); returns it as last seen.
pub async fn wait_in_request(state: &Core, id: &str) -> Result<Job, AppError> {
    let budget = state
        .config
        .request_timeout
        .saturating_sub(Duration::from_secs(1))
        .min(Duration::from_secs(25));
    wait_for(state, id, budget).await
}

/// The word a synchronous publishing answer uses for a job's state.
pub fn outcome_word(job: &Job) -> &'static str {
    match job.status {
        JobStatus::Completed => "success",
        JobStatus::Partial => "partial",
        JobStatus::Failed | JobStatus::Cancelled => "failed",
        JobStatus::Pending if job.run_at_ms > now_ms() => "scheduled",
        JobStatus::Pending | JobStatus::InProgress => "queued",
    }
}

/// Waits up to `limit` for a job to reach a terminal state; returns it as last seen.
pub async fn wait_for(state: &Core, id: &str, limit: Duration) -> Result<Job, AppError> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let job = state.store.job(id).await?.found("job", id)?;
        if job.status.is_terminal() || tokio::time::Instant::now() >= deadline {
            return Ok(job);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The document label a job was created with (its snapshot id when none).
pub fn spec_label(job: &Job) -> String {
    JobSpec::from_payload(&job.payload)
        .ok()
        .and_then(|s| s.document_label().map(str::to_string))
        .unwrap_or_else(|| job.document_id.clone())
}

/// A job as the dashboard reads it (`job_id`, `document_id`, `channels`, `status`, times,
/// `results` per channel, `errors`, `correlation_id`) plus attempts and the snapshot id.
pub fn job_json(job: &Job) -> Value {
    let spec = JobSpec::from_payload(&job.payload).ok();
    let label = spec
        .as_ref()
        .and_then(|s| s.document_label().map(str::to_string))
        .unwrap_or_else(|| job.document_id.clone());
    let composed = spec.as_ref().and_then(JobSpec::publish);
    let next_attempt = (job.status == JobStatus::Pending && job.attempts > 0)
        .then(|| iso(job.run_at_ms))
        .flatten();
    json!({
        "job_id": job.id,
        "document_id": label,
        "snapshot_id": job.document_id,
        "channels": job.channels,
        "status": job.status,
        "created_at": iso(job.created_ms),
        "started_at": job.started_ms.and_then(iso),
        "completed_at": job.completed_ms.and_then(iso),
        "scheduled_for": job.scheduled_ms.and_then(iso),
        "results": job.results,
        "errors": job.errors,
        "correlation_id": job.correlation_id,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "metadata": {
            "tone": composed.and_then(|s| s.tone),
            "template": composed.and_then(|s| s.template),
            "retry_of": job.retry_of,
            "last_error": job.last_error,
            "next_attempt_at": next_attempt,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_times_with_and_without_zone() {
        let t = parse_time("schedule_time", "2026-12-01T10:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-01T10:00:00+00:00");
        let t = parse_time("schedule_time", "2026-12-01T10:00:00-05:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-01T15:00:00+00:00");
        assert!(parse_time("schedule_time", "2026-12-01T10:00:30.5").is_ok());
        match parse_time("schedule_time", "next tuesday") {
            Err(AppError::Invalid { field, .. }) => assert_eq!(field, "schedule_time"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn targets_are_checked_and_deduplicated() {
        let names = ["email", "social_twitter", "EMAIL"].map(String::from);
        assert_eq!(
            check_targets("channels", &names).unwrap(),
            ["email", "social_twitter"]
        );
        match check_targets("channels", &["email".into(), "myspace".into()]) {
            Err(AppError::Invalid { field, message }) => {
                assert_eq!(field, "channels[1]");
                assert!(message.contains("social_linkedin"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(check_targets("channels", &[]).is_err());
    }
}
