//! Content versions: what was composed for a send, its review state, and the job that
//! published it; recomposed on demand exactly as it was published.

use crate::core::Core;
use crate::error::{AppResult, Found};
use crate::generation::{self, DocumentText, Request};
use crate::queue::{iso, job_json};
use crate::targets;
use chrono::Utc;
use halcytone_store::{ContentVersion, Job, JobStatus};
use serde_json::{Value, json};

/// A version's status: its review state until it is handed to the publisher, then its job's.
pub fn status<'a>(v: &'a ContentVersion, job: Option<&Job>) -> &'a str {
    if v.review_state != "scheduled" {
        return &v.review_state;
    }
    match job {
        None => "scheduled",
        Some(j) => match j.status {
            JobStatus::Pending if j.run_at_ms > Utc::now().timestamp_millis() => "scheduled",
            JobStatus::Pending => "queued",
            JobStatus::InProgress => "publishing",
            JobStatus::Completed => "published",
            JobStatus::Partial => "partially_published",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        },
    }
}

/// A version as listings show it, with its job.
pub async fn summary(state: &Core, v: &ContentVersion) -> AppResult<(Value, Option<Job>)> {
    let job = match &v.job_id {
        Some(id) => state.store.job(id).await?,
        None => None,
    };
    Ok((
        json!({
            "content_id": v.id,
            "document_id": v.label,
            "snapshot_id": v.document_id,
            "content_hash": v.content_hash,
            "channels": v.channels,
            "options": v.options,
            "status": status(v, job.as_ref()),
            "review": crate::review::review_json(v),
            "job_id": v.job_id,
            "created_at": iso(v.created_ms),
            "published_at": job.as_ref().filter(|j| j.status == JobStatus::Completed).and_then(|j| j.completed_ms).and_then(iso),
        }),
        job,
    ))
}

/// A version with its status, review, job and content recomposed as it was published.
pub async fn version_json(state: &Core, id: &str) -> AppResult<Value> {
    let v = state
        .store
        .content_version(id)
        .await?
        .found("content version", id)?;
    let (mut body, job) = summary(state, &v).await?;
    let snapshot = state.store.document(&v.document_id).await?;
    let is_newsletter = job.as_ref().is_some_and(|j| {
        matches!(
            crate::jobs::spec::JobSpec::from_payload(&j.payload),
            Ok(crate::jobs::spec::JobSpec::Newsletter(_))
        )
    });
    body["content"] = match snapshot {
        None => Value::Null,
        Some(d) if is_newsletter => serde_json::from_str::<Value>(&d.body).unwrap_or(Value::Null),
        Some(d) => {
            let (req, as_of) = request_for(&v);
            let text = DocumentText {
                label: v.label.clone(),
                text: d.body,
                format: None,
            };
            match generation::produce(state, &text, &req, as_of).await {
                Ok(made) => generation::content_json(&made.bundle, true),
                Err(e) => json!({ "error": e.to_string() }),
            }
        }
    };
    body["job"] = job.as_ref().map_or(Value::Null, job_json);
    Ok(body)
}

/// What a version is recomposed with (its channels, networks, tone and template, without
/// validation) and its reference time (the JSON route and the console's version preview).
pub fn request_for(v: &ContentVersion) -> (Request, chrono::DateTime<Utc>) {
    let mut req = Request {
        validate: false,
        ..Request::default()
    };
    let wanted: Vec<targets::Target> = v
        .channels
        .iter()
        .filter_map(|c| targets::parse(c).ok())
        .collect();
    let (channels, platforms) = targets::plan(&wanted);
    req.channels = channels;
    if !platforms.is_empty() {
        req.platforms = platforms;
    }
    req.tone = crate::generation::parse_tone(v.options["tone"].as_str())
        .ok()
        .flatten();
    req.template = crate::generation::parse_template(v.options["template"].as_str())
        .ok()
        .flatten();
    let as_of = v.options["as_of"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(generation::today, |t| t.with_timezone(&Utc));
    (req, as_of)
}

/// A page of versions, newest first, as listings show them.
pub async fn list(state: &Core, limit: i64, offset: i64) -> AppResult<Value> {
    let (versions, total) = state.store.content_versions(limit, offset).await?;
    let mut out = Vec::with_capacity(versions.len());
    for v in &versions {
        out.push(summary(state, v).await?.0);
    }
    Ok(json!({ "versions": out, "total": total, "limit": limit, "offset": offset }))
}
