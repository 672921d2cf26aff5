//! Batches: generate a period's worth of content items across channels (stored), schedule
//! them (one publish job per item, at its time), and report their real progress.

use super::{Entry, READ, WRITE, route};
use crate::body::JsonBody;
use crate::correlation;
use crate::error::{ApiError, ApiResult};
use crate::generation::{self, DocumentText, Request};
use crate::http::query::QueryArgs;
use crate::queue::{self, Submission, iso, now_ms};
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json};
use chrono::{Duration as ChronoDuration, Timelike, Utc};
use halcytone_content::{Channel, EmailTemplate, Platform};
use halcytone_store::{Batch, JobFilter, JobStatus};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Most items one batch may hold (`BATCH_MAX_ITEMS` of the earlier service).
pub const MAX_ITEMS: usize = 50;

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "post",
            "/api/v1/batch/generateBatch",
            WRITE,
            "batch",
            "Generate and store a batch of content items for a day, week or month across channels",
            post(generate),
        )
        .carries_document()
        .ok(201)
        .query(&[
            ("period", "day, week or month (required)"),
            ("channels", "repeatable: email, web, social (required)"),
            ("count", "items, at most 50"),
            (
                "dry_run",
                "true: the batch can only be previewed, never scheduled",
            ),
            (
                "template_variety",
                "rotate newsletter templates (default true)",
            ),
            (
                "include_scheduling",
                "spread items two hours apart (default true)",
            ),
        ])
        .body("optional: the same fields as JSON, plus document and document_format"),
        route(
            "post",
            "/api/v1/batch/schedule/{batch_id}",
            WRITE,
            "batch",
            "Create a publish job for each item of a batch, at its scheduled time (once per batch)",
            post(schedule),
        )
        .body("{schedule_all?, custom_schedule?: {item_id: time}, dry_run?}")
        .errors(&[
            (404, "Unknown batch"),
            (409, "Already scheduled, or generated as a dry run"),
        ]),
        route(
            "get",
            "/api/v1/batch/status/{batch_id}",
            READ,
            "batch",
            "Progress of a batch, counted from its jobs",
            get(status),
        )
        .errors(&[(404, "Unknown batch")]),
    ]
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct GenerateBody {
    period: Option<String>,
    channels: Option<Vec<String>>,
    count: Option<usize>,
    dry_run: Option<bool>,
    template_variety: Option<bool>,
    include_scheduling: Option<bool>,
    /// Accepted from the earlier API; unused.
    #[serde(rename = "content_themes")]
    _content_themes: Option<serde::de::IgnoredAny>,
    document: Option<Value>,
    document_format: Option<String>,
}

fn merge_query(mut body: GenerateBody, raw: Option<&str>) -> ApiResult<GenerateBody> {
    let q = QueryArgs::parse(raw);
    let last = |k: &str| q.last(k).map(str::to_string);
    body.period = body.period.or(last("period"));
    if body.channels.is_none() {
        let list: Vec<String> = q
            .all("channels")
            .flat_map(|v| {
                v.split(',')
                    .map(|c| c.trim().to_string())
                    .collect::<Vec<_>>()
            })
            .filter(|c| !c.is_empty())
            .collect();
        body.channels = (!list.is_empty()).then_some(list);
    }
    if body.count.is_none()
        && let Some(c) = last("count")
    {
        body.count = Some(c.parse().map_err(|_| {
            ApiError::invalid("count", format!("count: '{c}' is not a whole number"))
        })?);
    }
    body.dry_run = body.dry_run.or(q.boolean("dry_run")?);
    body.template_variety = body.template_variety.or(q.boolean("template_variety")?);
    body.include_scheduling = body.include_scheduling.or(q.boolean("include_scheduling")?);
    Ok(body)
}

async fn generate(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    JsonBody(body): JsonBody<GenerateBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let body = merge_query(body, q.as_deref())?;
    let period = body
        .period
        .clone()
        .ok_or_else(|| ApiError::invalid("period", "period: required; day, week or month"))?;
    let (per_channel, window) = match period.as_str() {
        "day" => (3usize, ChronoDuration::days(1)),
        "week" => (7, ChronoDuration::weeks(1)),
        "month" => (15, ChronoDuration::days(30)),
        other => {
            return Err(ApiError::invalid(
                "period",
                format!("period: '{other}' is not day, week or month"),
            ));
        }
    };
    let channels = body.channels.clone().ok_or_else(|| {
        ApiError::invalid("channels", "channels: required; any of email, web, social")
    })?;
    let mut parsed: Vec<Channel> = Vec::new();
    for (i, c) in channels.iter().enumerate() {
        let ch = c.parse::<Channel>().map_err(|e| {
            ApiError::invalid(format!("channels[{i}]"), format!("channels[{i}]: {e}"))
        })?;
        if !parsed.contains(&ch) {
            parsed.push(ch);
        }
    }
    if parsed.is_empty() {
        return Err(ApiError::invalid(
            "channels",
            "channels: name at least one of email, web, social",
        ));
    }
    if let Some(c) = body.count
        && !(1..=MAX_ITEMS).contains(&c)
    {
        return Err(ApiError::invalid(
            "count",
            format!("count: must be from 1 to {MAX_ITEMS}"),
        ));
    }
    let item_count = body
        .count
        .unwrap_or(MAX_ITEMS)
        .min(parsed.len() * per_channel);
    let variety = body.template_variety.unwrap_or(true);
    let spread = body.include_scheduling.unwrap_or(true);
    let dry_run = body.dry_run.unwrap_or(false);
    let doc: DocumentText = match &body.document {
        Some(v) if !v.is_null() => generation::inline(v, body.document_format.as_deref())?,
        _ => crate::documents::configured(&state).await?,
    };
    let as_of = generation::today();
    let living = std::sync::Arc::new(generation::read_document(&state, &doc, as_of).await?);
    let now = Utc::now();
    let (snapshot, _) = state
        .store
        .put_document(
            &doc.label,
            doc.format.map_or("auto", |f| f.as_str()),
            &doc.text,
            now.timestamp_millis(),
        )
        .await?;
    let batch_id = format!(
        "batch-{}-{}",
        now.format("%Y%m%d-%H%M%S"),
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    );
    let templates = [
        EmailTemplate::Modern,
        EmailTemplate::Minimal,
        EmailTemplate::Plain,
    ];
    let networks = [Platform::Twitter, Platform::Linkedin];
    let mut items = Vec::new();
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for i in 0..item_count {
        let channel = parsed[i % parsed.len()];
        let n = per.entry(channel.as_str()).or_default();
        *n += 1;
        // Rotate templates and networks within each channel.
        let k = *n - 1;
        let mut req = Request {
            channels: vec![channel],
            validate: false,
            ..Request::default()
        };
        let (target, template, platform) = match channel {
            Channel::Email => {
                let t = if variety {
                    templates[k % templates.len()]
                } else {
                    EmailTemplate::Modern
                };
                req.template = Some(t);
                ("email".to_string(), Some(t), None)
            }
            Channel::Web => ("website".to_string(), None, None),
            Channel::Social => {
                let p = networks[k % networks.len()];
                req.platforms = vec![p];
                (format!("social_{}", p.as_str()), None, Some(p))
            }
        };
        let (bundle, _) = generation::compose_parsed(&state, living.clone(), &req, as_of).await?;
        let content = match channel {
            Channel::Email => bundle.newsletter.as_ref().map(|n| json!({ "subject": n.subject, "preview_text": n.preview_text, "template": n.template })),
            Channel::Web => bundle.web.as_ref().map(|w| json!({ "title": w.title, "slug": w.slug, "excerpt": w.excerpt, "seo_score": w.seo.score })),
            Channel::Social => bundle.social.first().map(|s| json!({ "platform": s.platform, "content": s.posts.first(), "hashtags": s.hashtags, "fits_limit": s.lengths.iter().all(|l| *l <= s.limit) })),
        };
        let Some(content) = content else {
            continue;
        };
        let at = if spread {
            now + ChronoDuration::hours(2 * i as i64)
        } else {
            now
        };
        items.push(json!({
            "item_id": format!("{batch_id}-{}-{:03}", channel.as_str(), n),
            "channel": channel.as_str(),
            "content_type": channel.as_str(),
            "target": target,
            "template": template.map(EmailTemplate::as_str),
            "platform": platform.map(Platform::as_str),
            "content": content,
            "scheduled_for": at.to_rfc3339(),
            "priority": if channel == Channel::Email { 1 } else { 2 },
            "dependencies": [],
        }));
    }
    let mut hourly: BTreeMap<String, usize> = BTreeMap::new();
    for it in &items {
        if let Some(t) = it["scheduled_for"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        {
            *hourly.entry(format!("{:02}", t.hour())).or_default() += 1;
        }
    }
    let peak = hourly
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(h, _)| h.clone());
    let batch = Batch {
        id: batch_id.clone(),
        created_ms: now.timestamp_millis(),
        period: period.clone(),
        channels: parsed.iter().map(|c| c.as_str().to_string()).collect(),
        dry_run,
        items: json!({ "snapshot_id": snapshot.id, "as_of": as_of.to_rfc3339(), "items": items }),
        scheduled_ms: None,
    };
    state.store.put_batch(&batch).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "batch_id": batch_id,
            "status": "generated",
            "items": items,
            "total_items": items.len(),
            "summary": {
                "channels_generated": per,
                "total_items": items.len(),
                "time_period": period,
                "generation_success_rate": if item_count == 0 { 0.0 } else { items.len() as f64 / item_count as f64 },
                "dry_run_mode": dry_run,
                "window_end": (now + window).to_rfc3339(),
            },
            "scheduling_plan": {
                "total_items": items.len(),
                "time_span": format!("{} to {}", items.first().and_then(|i| i["scheduled_for"].as_str()).unwrap_or_default(), items.last().and_then(|i| i["scheduled_for"].as_str()).unwrap_or_default()),
                "distribution": { "hourly_distribution": hourly, "peak_hour": peak, "total_scheduled": items.len() },
                "next_publish": items.first().map(|i| i["scheduled_for"].clone()),
            },
            "dry_run": dry_run,
            "document_id": doc.label,
            "generated_at": now.to_rfc3339(),
        })),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ScheduleBody {
    batch_id: Option<String>,
    schedule_all: Option<bool>,
    custom_schedule: Option<Map<String, Value>>,
    dry_run: bool,
    /// Schedule unapproved content (admin keys only; audited) when APPROVAL_REQUIRED is on.
    force_publish: bool,
}

async fn find(state: &AppState, id: &str) -> ApiResult<Batch> {
    state
        .store
        .batch(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("batch {id} not found")))
}

async fn schedule(
    State(state): State<AppState>,
    Extension(caller): Extension<crate::auth::Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ScheduleBody>,
) -> ApiResult<Json<Value>> {
    if body.batch_id.as_deref().is_some_and(|b| b != id) {
        return Err(ApiError::invalid(
            "batch_id",
            "batch_id: differs from the batch in the path",
        ));
    }
    let batch = find(&state, &id).await?;
    let items = batch.items["items"].as_array().cloned().unwrap_or_default();
    let custom = body.custom_schedule.clone().unwrap_or_default();
    for key in custom.keys() {
        if !items.iter().any(|i| i["item_id"] == key.as_str()) {
            return Err(ApiError::invalid(
                format!("custom_schedule.{key}"),
                format!("custom_schedule: {key} is not an item of {id}"),
            ));
        }
    }
    let mut plan = Vec::new();
    for it in &items {
        let item_id = it["item_id"].as_str().unwrap_or_default().to_string();
        let at = match custom.get(&item_id) {
            Some(Value::String(t)) => queue::parse_time(&format!("custom_schedule.{item_id}"), t)?,
            Some(_) => {
                return Err(ApiError::invalid(
                    format!("custom_schedule.{item_id}"),
                    "custom_schedule: values are date-times",
                ));
            }
            None if body.schedule_all.unwrap_or(true) => queue::parse_time(
                "scheduled_for",
                it["scheduled_for"].as_str().unwrap_or_default(),
            )?,
            None => continue,
        };
        plan.push((item_id, it.clone(), at));
    }
    if body.dry_run {
        return Ok(Json(json!({
            "batch_id": id,
            "dry_run": true,
            "scheduled_items": plan.iter().map(|(i, _, at)| json!({ "item_id": i, "scheduled_for": at.to_rfc3339() })).collect::<Vec<_>>(),
            "schedule_summary": { "dry_run": true, "total_scheduled": 0, "message": "schedule preview only: no job was created" },
        })));
    }
    if batch.dry_run {
        return Err(ApiError::Conflict(format!(
            "batch {id} was generated as a dry run; generate it again without dry_run to schedule it"
        )));
    }
    let snapshot_id = batch.items["snapshot_id"].as_str().unwrap_or_default();
    let snapshot = state.store.document(snapshot_id).await?.ok_or_else(|| {
        ApiError::Internal(format!(
            "batch {id} refers to missing document {snapshot_id}"
        ))
    })?;
    let as_of = batch.items["as_of"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(generation::today, |t| t.with_timezone(&Utc));
    let targets: Vec<String> = plan
        .iter()
        .map(|(_, it, _)| it["target"].as_str().unwrap_or("email").to_string())
        .collect();
    let cleared = crate::review::gate_direct(
        &state,
        Some(&caller),
        &DocumentText {
            label: snapshot.source.clone(),
            text: snapshot.body.clone(),
            format: None,
        },
        &targets,
        None,
        None,
        as_of,
        body.force_publish,
    )
    .await?;
    if !state.store.mark_batch_scheduled(&id, now_ms()).await? {
        return Err(ApiError::Conflict(format!(
            "batch {id} is already scheduled; see /api/v1/batch/status/{id}"
        )));
    }
    let mut scheduled = Vec::new();
    for (item_id, it, at) in plan {
        let job = queue::submit(
            &state,
            Submission {
                label: item_id.clone(),
                document: DocumentText {
                    label: snapshot.source.clone(),
                    text: snapshot.body.clone(),
                    format: None,
                },
                targets: vec![it["target"].as_str().unwrap_or("email").to_string()],
                tone: None,
                template: it["template"].as_str().map(str::to_string),
                run_at: Some(at),
                correlation_id: correlation::current(),
                retry_of: None,
                as_of,
                batch_id: Some(id.clone()),
                kind: None,
                version: None,
                review: Some(cleared.clone()),
                email: Default::default(),
            },
        )
        .await?;
        scheduled.push(
            json!({ "item_id": item_id, "job_id": job.id, "scheduled_for": at.to_rfc3339() }),
        );
    }
    let next = scheduled
        .iter()
        .filter_map(|s| s["scheduled_for"].as_str())
        .min()
        .map(str::to_string);
    Ok(Json(json!({
        "batch_id": id,
        "dry_run": false,
        "scheduled_items": scheduled,
        "schedule_summary": { "total_scheduled": scheduled.len(), "next_execution": next },
        "next_publish_time": next,
    })))
}

async fn status(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let batch = find(&state, &id).await?;
    let total_items = batch.items["items"].as_array().map_or(0, Vec::len);
    let (jobs, _) = state
        .store
        .jobs(&JobFilter {
            batch_id: Some(id.clone()),
            limit: 1000,
            ..JobFilter::default()
        })
        .await?;
    let count = |f: &dyn Fn(JobStatus) -> bool| jobs.iter().filter(|j| f(j.status)).count();
    let published = count(&|s| s == JobStatus::Completed);
    let pending = count(&|s| matches!(s, JobStatus::Pending | JobStatus::InProgress));
    let failed = count(&|s| matches!(s, JobStatus::Failed | JobStatus::Partial));
    let cancelled = count(&|s| s == JobStatus::Cancelled);
    let status = if batch.scheduled_ms.is_none() {
        "generated"
    } else if pending > 0 {
        if published + failed > 0 {
            "publishing"
        } else {
            "scheduled"
        }
    } else if failed == 0 {
        "completed"
    } else if published > 0 {
        "partial"
    } else {
        "failed"
    };
    let last = jobs
        .iter()
        .filter_map(|j| j.completed_ms.or(j.started_ms))
        .max()
        .or(batch.scheduled_ms)
        .unwrap_or(batch.created_ms);
    Ok(Json(json!({
        "batch_id": id,
        "status": status,
        "items_total": total_items,
        "items_scheduled": jobs.len(),
        "items_published": published,
        "items_pending": pending,
        "items_failed": failed,
        "items_cancelled": cancelled,
        "last_updated": iso(last),
        "errors": jobs.iter().flat_map(|j| j.errors.clone()).collect::<Vec<_>>(),
        "jobs": jobs.iter().map(|j| json!({ "item_id": queue::spec_label(j), "job_id": j.id, "status": j.status, "scheduled_for": j.scheduled_ms.and_then(iso) })).collect::<Vec<_>>(),
    })))
}
