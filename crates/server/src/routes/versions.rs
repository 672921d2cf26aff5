//! Content versions: every document snapshot queued for publishing with its options, with a
//! status that follows its publish job. One version can be opened to see exactly what was
//! (or will be) sent — recomposed from the stored snapshot at its reference time, which
//! gives byte-identical content.

use super::{Entry, READ, route};
use crate::cache;
use crate::error::{ApiError, ApiResult};
use crate::generation::{self, DocumentText, Request};
use crate::http::query::QueryArgs;
use crate::queue::{iso, job_json};
use crate::state::AppState;
use crate::targets;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use chrono::Utc;
use halcytone_store::{ContentVersion, Job, JobStatus};
use serde_json::{Value, json};
use std::time::Duration;

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "get",
            "/api/v2/content",
            READ,
            "content",
            "Content versions, newest first, with their publishing status",
            get(list),
        )
        .query(&[("limit", "1–200, default 20"), ("offset", "default 0")]),
        route(
            "get",
            "/api/v2/content/{id}",
            READ,
            "content",
            "One content version: its status, its job and the content itself",
            get(show),
        )
        .errors(&[(404, "Unknown version")]),
    ]
}

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

pub async fn summary(state: &AppState, v: &ContentVersion) -> ApiResult<(Value, Option<Job>)> {
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

/// Cached version answers live briefly: a worker in another process changes their status
/// without telling this one (in-process transitions drop them at once).
const VERSION_TTL: Duration = Duration::from_secs(10);

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let q = QueryArgs::parse(q.as_deref());
    let limit = q.int("limit", 20, 1, 200)?;
    let offset = q.int("offset", 0, 0, i64::MAX / 2)?;
    cache::serve::json(
        &state.cache,
        format!("content:list:{limit}:{offset}"),
        || vec!["content".into()],
        Some(VERSION_TTL),
        cache::serve::bypass(&headers),
        || async {
            let (versions, total) = state.store.content_versions(limit, offset).await?;
            let mut out = Vec::with_capacity(versions.len());
            for v in &versions {
                out.push(summary(&state, v).await?.0);
            }
            cache::serve::to_bytes(
                &json!({ "versions": out, "total": total, "limit": limit, "offset": offset }),
            )
        },
    )
    .await
}

async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    cache::serve::json(
        &state.cache,
        format!("content:{id}"),
        || vec!["content".into(), format!("content:{id}")],
        Some(VERSION_TTL),
        cache::serve::bypass(&headers),
        || async { cache::serve::to_bytes(&version_json(&state, &id).await?) },
    )
    .await
}

async fn version_json(state: &AppState, id: &str) -> ApiResult<Value> {
    let state = state.clone();
    let v = state
        .store
        .content_version(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("content version {id} not found")))?;
    let (mut body, job) = summary(&state, &v).await?;
    let snapshot = state.store.document(&v.document_id).await?;
    let is_newsletter = job.as_ref().is_some_and(|j| {
        matches!(
            crate::worker::JobSpec::from_payload(&j.payload),
            Ok(crate::worker::JobSpec::Newsletter(_))
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
            match generation::produce(&state, &text, &req, as_of).await {
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
pub(crate) fn request_for(v: &ContentVersion) -> (Request, chrono::DateTime<Utc>) {
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
    req.tone = super::content::parse_tone(v.options["tone"].as_str())
        .ok()
        .flatten();
    req.template = super::content::parse_template(v.options["template"].as_str())
        .ok()
        .flatten();
    let as_of = v.options["as_of"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(generation::today, |t| t.with_timezone(&Utc));
    (req, as_of)
}
