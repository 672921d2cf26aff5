//! Batches: a period's worth of content items across channels, generated from one parse of
//! the document and stored; scheduled as one publish job per item at its time; and their
//! progress counted from those jobs.

use crate::caller::Caller;
use crate::core::Core;
use crate::error::{AppError, AppResult, Found};
use crate::generation::{self, DocumentText, Request};
use crate::queue::{self, Submission, iso, now_ms};
use chrono::{Duration as ChronoDuration, Timelike, Utc};
use halcytone_content::{Channel, EmailTemplate, Platform};
use halcytone_store::{Batch, JobFilter, JobStatus};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Most items one batch may hold (`BATCH_MAX_ITEMS` of the earlier service).
pub const MAX_ITEMS: usize = 50;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
/// What a batch is generated from: a period, channels, how many items, and the document.
pub struct BatchRequest {
    pub period: Option<String>,
    pub channels: Option<Vec<String>>,
    pub count: Option<usize>,
    pub dry_run: Option<bool>,
    pub template_variety: Option<bool>,
    pub include_scheduling: Option<bool>,
    /// Accepted from the earlier API; unused.
    #[serde(rename = "content_themes")]
    #[schema(value_type = Option<Value>)]
    _content_themes: Option<serde::de::IgnoredAny>,
    pub document: Option<Value>,
    #[schema(schema_with = crate::schema::document_format)]
    pub document_format: Option<String>,
}

/// Generates a period's items across channels from one parse of the document, stores the
/// batch, and answers with its items and scheduling plan.
pub async fn generate(state: &Core, body: BatchRequest) -> AppResult<Value> {
    let period = body
        .period
        .clone()
        .ok_or_else(|| AppError::invalid("period", "period: required; day, week or month"))?;
    let (per_channel, window) = match period.as_str() {
        "day" => (3usize, ChronoDuration::days(1)),
        "week" => (7, ChronoDuration::weeks(1)),
        "month" => (15, ChronoDuration::days(30)),
        other => {
            return Err(AppError::invalid(
                "period",
                format!("period: '{other}' is not day, week or month"),
            ));
        }
    };
    let channels = body.channels.clone().ok_or_else(|| {
        AppError::invalid("channels", "channels: required; any of email, web, social")
    })?;
    let mut parsed: Vec<Channel> = Vec::new();
    for (i, c) in channels.iter().enumerate() {
        let ch = c.parse::<Channel>().map_err(|e| {
            AppError::invalid(format!("channels[{i}]"), format!("channels[{i}]: {e}"))
        })?;
        if !parsed.contains(&ch) {
            parsed.push(ch);
        }
    }
    if parsed.is_empty() {
        return Err(AppError::invalid(
            "channels",
            "channels: name at least one of email, web, social",
        ));
    }
    if let Some(c) = body.count
        && !(1..=MAX_ITEMS).contains(&c)
    {
        return Err(AppError::invalid(
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
    // The inline document, or the configured one (a batch names no source).
    let doc: DocumentText = crate::documents::requested(
        body.document.as_ref(),
        body.document_format.as_deref(),
        None,
        state,
    )
    .await?;
    let as_of = generation::today();
    let living = std::sync::Arc::new(generation::read_document(state, &doc, as_of).await?);
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
        let (bundle, _) = generation::compose_parsed(state, living.clone(), &req, as_of).await?;
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
    Ok(json!({
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
    }))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
/// How a batch's items are scheduled.
#[schema(as = BatchSchedule)]
pub struct ScheduleRequest {
    pub batch_id: Option<String>,
    pub schedule_all: Option<bool>,
    pub custom_schedule: Option<Map<String, Value>>,
    pub dry_run: bool,
    /// Schedule unapproved content (admin keys only; audited) when APPROVAL_REQUIRED is on.
    pub force_publish: bool,
}

async fn find(state: &Core, id: &str) -> AppResult<Batch> {
    state.store.batch(id).await?.found("batch", id)
}

/// Creates one publish job per item at its time (once per batch), after the review gate.
pub async fn schedule(
    state: &Core,
    caller: &Caller,
    id: String,
    body: ScheduleRequest,
) -> AppResult<Value> {
    if body.batch_id.as_deref().is_some_and(|b| b != id) {
        return Err(AppError::invalid(
            "batch_id",
            "batch_id: differs from the batch in the path",
        ));
    }
    let batch = find(state, &id).await?;
    let items = batch.items["items"].as_array().cloned().unwrap_or_default();
    let custom = body.custom_schedule.clone().unwrap_or_default();
    for key in custom.keys() {
        if !items.iter().any(|i| i["item_id"] == key.as_str()) {
            return Err(AppError::invalid(
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
                return Err(AppError::invalid(
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
        return Ok(json!({
            "batch_id": id,
            "dry_run": true,
            "scheduled_items": plan.iter().map(|(i, _, at)| json!({ "item_id": i, "scheduled_for": at.to_rfc3339() })).collect::<Vec<_>>(),
            "schedule_summary": { "dry_run": true, "total_scheduled": 0, "message": "schedule preview only: no job was created" },
        }));
    }
    if batch.dry_run {
        return Err(AppError::Conflict(format!(
            "batch {id} was generated as a dry run; generate it again without dry_run to schedule it"
        )));
    }
    let snapshot_id = batch.items["snapshot_id"].as_str().unwrap_or_default();
    let snapshot = state.store.document(snapshot_id).await?.ok_or_else(|| {
        AppError::Internal(format!(
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
        state,
        Some(caller),
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
        return Err(AppError::Conflict(format!(
            "batch {id} is already scheduled; see /api/v1/batch/status/{id}"
        )));
    }
    let mut scheduled = Vec::new();
    for (item_id, it, at) in plan {
        let job = queue::submit(
            state,
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
                correlation_id: halcytone_telemetry::correlation::current(),
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
    Ok(json!({
        "batch_id": id,
        "dry_run": false,
        "scheduled_items": scheduled,
        "schedule_summary": { "total_scheduled": scheduled.len(), "next_execution": next },
        "next_publish_time": next,
    }))
}

/// A batch's progress, counted from its jobs.
pub async fn status(state: &Core, id: String) -> AppResult<Value> {
    let batch = find(state, &id).await?;
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
    Ok(json!({
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
    }))
}
