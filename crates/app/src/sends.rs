//! Sends: a publish request checked field by field and queued as a job, and the moves a
//! queued job can make at a caller's request (cancel, retry).

use crate::caller::Caller;
use crate::core::Core;
use crate::error::{AppError, AppResult, Found};
use crate::generation;
use crate::queue::{self, Submission, job_json, now_ms};
use halcytone_content::ContentType;
use halcytone_store::{Job, JobStatus, NewJob};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
/// A send as the content-sync route takes it: the document, targets, when, and how the
/// newsletter speaks to whom.
pub struct SendRequest {
    pub document_id: Option<String>,
    #[schema(schema_with = crate::schema::targets)]
    pub channels: Vec<String>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::instant)]
    pub schedule_time: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::template)]
    pub template_style: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::tone)]
    pub tone: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::content_type)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub dry_run: Option<bool>,
    #[serde(default)]
    pub document: Option<Value>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::document_format)]
    pub document_format: Option<String>,
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// Publish without approval (admin keys only; audited) when APPROVAL_REQUIRED is on.
    #[serde(default)]
    pub force_publish: bool,
    /// Send the newsletter only to this segment (`POST /api/v2/segments`).
    #[serde(default)]
    pub segment_id: Option<String>,
    /// Send the newsletter to this audience's active members (`POST /api/v2/audiences`)
    /// instead of the CRM's subscriber list.
    #[serde(default)]
    pub audience_id: Option<String>,
    /// Greet each reader by first name (merge tag `*|FIRST_NAME|*`).
    #[serde(default)]
    pub personalize: bool,
    /// Written where a reader has no first name (default "there").
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_line_50)]
    pub first_name_fallback: Option<String>,
    /// An A/B subject test: `{subjects: [..], test_fraction?, decide_after_minutes?}`.
    #[serde(default)]
    pub ab_test: Option<crate::abtest::AbTestBody>,
    /// Accepted from the earlier API; unused.
    #[serde(default, rename = "options")]
    #[schema(value_type = Option<Value>)]
    pub _options: Option<serde::de::IgnoredAny>,
}

/// Queues a send: checks every field, resolves the document, refuses what the worker could
/// never compose, passes the review gate, stores an A/B test before its job, and queues the
/// job. Answers with the job as the dashboard reads it.
pub async fn queue_send(state: &Core, caller: &Caller, body: SendRequest) -> AppResult<Value> {
    let targets = queue::check_targets("channels", &body.channels)?;
    let tone = crate::generation::parse_tone(body.tone.as_deref())?;
    let template = crate::generation::parse_template(body.template_style.as_deref())?;
    if let Some(ct) = &body.content_type {
        ct.parse::<ContentType>()
            .map_err(|e| AppError::invalid("content_type", format!("content_type: {e}")))?;
    }
    if body.dry_run == Some(true) && !state.publishing.settings.dry_run {
        return Err(AppError::invalid(
            "dry_run",
            "dry_run: this server publishes to the real services; rehearse on a server started with DRY_RUN_MODE=true (or `halcytone up`)",
        ));
    }
    let run_at = queue::schedule_time("schedule_time", body.schedule_time.as_deref())?;
    let segment = match crate::generation::given_id(body.segment_id.as_deref()) {
        None => None,
        Some(id) => Some(crate::segments::for_send(state, id, &targets).await?),
    };
    let email_wanted = targets
        .iter()
        .any(|t| matches!(crate::targets::parse(t), Ok(crate::targets::Target::Email)));
    let fallback = body
        .first_name_fallback
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty());
    if let Some(f) = fallback
        && (f.chars().count() > 50 || f.chars().any(char::is_control))
    {
        return Err(AppError::invalid(
            "first_name_fallback",
            "first_name_fallback: at most 50 characters on one line",
        ));
    }
    let audience_id = match crate::generation::given_id(body.audience_id.as_deref()) {
        None => None,
        Some(_) if !email_wanted => {
            return Err(AppError::invalid(
                "audience_id",
                "audience_id: an audience is who gets the newsletter; add \"email\" to channels",
            ));
        }
        Some(_) if body.ab_test.is_some() => {
            return Err(AppError::invalid(
                "audience_id",
                "audience_id: A/B subject tests are sent to the CRM's list; an audience cannot be split yet",
            ));
        }
        Some(id) => Some(crate::audiences::for_send(state, id).await?),
    };
    let ab_plan = match body.ab_test {
        None => None,
        Some(_) if !email_wanted => {
            return Err(AppError::invalid(
                "ab_test",
                "ab_test: an A/B subject test is a newsletter send; add \"email\" to channels",
            ));
        }
        Some(ab) => Some(crate::abtest::check(ab)?),
    };
    let label = body.document_id.clone().filter(|d| !d.trim().is_empty());
    let document = crate::documents::requested(
        body.document.as_ref(),
        body.document_format.as_deref(),
        label.as_deref(),
        state,
    )
    .await?;
    // Refuse now what the worker could never compose.
    let as_of = generation::today();
    generation::read_document(state, &document, as_of).await?;
    let cleared = crate::review::gate_direct(
        state,
        Some(caller),
        &document,
        &targets,
        tone.map(|t| t.as_str()),
        template.map(|t| t.as_str()),
        as_of,
        body.force_publish,
    )
    .await?;
    let label = label.unwrap_or_else(|| document.label.clone());
    let correlation_id = body
        .correlation_id
        .as_deref()
        .map(|c| halcytone_telemetry::correlation::sanitize(Some(c)))
        .unwrap_or_else(halcytone_telemetry::correlation::current);
    // The test is stored before its job is queued, so the worker always finds it.
    let ab_test = match &ab_plan {
        None => None,
        Some(plan) => {
            let t = crate::abtest::new_test(plan, segment.as_ref().map(|s| s.id.clone()), now_ms());
            state.store.put_ab_test(&t).await?;
            Some(t)
        }
    };
    let job = queue::submit(
        state,
        Submission {
            label,
            document,
            targets,
            tone: tone.map(|t| t.as_str().to_string()),
            template: template.map(|t| t.as_str().to_string()),
            run_at,
            correlation_id,
            retry_of: None,
            as_of,
            batch_id: None,
            kind: None,
            version: None,
            review: Some(cleared),
            email: queue::EmailOptions {
                segment,
                audience_id,
                personalize: body.personalize,
                first_name_fallback: fallback.map(str::to_string),
                ab_test: ab_test.as_ref().map(|t| crate::worker::AbRef {
                    id: t.id.clone(),
                    phase: crate::worker::AbPhase::Test,
                }),
            },
        },
    )
    .await?;
    let mut v = job_json(&job);
    if let Some(mut t) = ab_test {
        t.job_id = job.id.clone();
        state.store.update_ab_test(&t).await?;
        v["ab_test"] = crate::abtest::test_json(&t);
    }
    v["message"] = json!(match run_at {
        Some(t) if t.timestamp_millis() > now_ms() => format!("scheduled for {}", t.to_rfc3339()),
        _ => "queued".to_string(),
    });
    Ok(v)
}

async fn find(state: &Core, id: &str) -> AppResult<Job> {
    state.store.job(id).await?.found("job", id)
}

/// One job as the API shows it, with its recipients as the delivery ledger counts them.
pub async fn job_detail(state: &Core, id: &str) -> AppResult<Value> {
    detail_of(state, &find(state, id).await?).await
}

/// [`job_detail`] of a job already read.
pub async fn detail_of(state: &Core, job: &Job) -> AppResult<Value> {
    let mut v = job_json(job);
    if let Some(r) = crate::deliveries::recipients(state.store.as_ref(), job).await? {
        v["recipients"] = r;
    }
    if let Some(b) = batches(state.store.as_ref(), &job.id).await? {
        v["batches"] = b;
    }
    Ok(v)
}

/// A send's batch jobs: counted by status, and by the worker (replica) that ran them. `None`
/// for a job that was not split into batches.
async fn batches(
    store: &dyn halcytone_store::Store,
    id: &str,
) -> Result<Option<Value>, halcytone_store::StoreError> {
    let counts = store.batch_counts(id).await?;
    if counts.is_empty() {
        return Ok(None);
    }
    let n = |s: JobStatus| counts.get(&s).copied().unwrap_or(0);
    let by_worker: serde_json::Map<String, Value> = store
        .batch_workers(id)
        .await?
        .into_iter()
        .map(|(w, count)| (w, json!(count)))
        .collect();
    Ok(Some(json!({
        "total": counts.values().sum::<i64>(),
        "pending": n(JobStatus::Pending),
        "in_progress": n(JobStatus::InProgress),
        "completed": n(JobStatus::Completed),
        "failed": n(JobStatus::Failed) + n(JobStatus::Partial),
        "cancelled": n(JobStatus::Cancelled),
        "by_worker": by_worker,
    })))
}

/// What a cancel did.
#[derive(Debug, Clone)]
pub enum Cancelled {
    /// The job had not started, and now never will.
    Job(Job),
    /// The job is a send in batches that was running: its batches that had not started never
    /// will; the ones running end as they would (at most one per worker), and the send then
    /// ends `cancelled`, its recipients not reached left `pending` in its ledger.
    Send {
        job: Job,
        batches_cancelled: u64,
        batches_running: i64,
    },
}

/// Cancels a pending job, or stops a running send (the API's cancel and the console's Cancel
/// button).
pub async fn cancel_job(state: &Core, id: &str) -> AppResult<Cancelled> {
    let Some(job) = state.store.cancel(id, now_ms()).await? else {
        return Err(AppError::not_found("job", id));
    };
    if job.status == JobStatus::Cancelled {
        state.job_events.announce(&job, true);
        return Ok(Cancelled::Job(job));
    }
    if job.status == JobStatus::InProgress {
        let root = crate::deliveries::send_root(state.store.as_ref(), &job).await?;
        // A job that is not a send in batches has none to cancel (and none counted after).
        let batches_cancelled = state.store.cancel_batches(&root, now_ms()).await?;
        let counts = state.store.batch_counts(&root).await?;
        if !counts.is_empty() {
            let batches_running = counts.get(&JobStatus::InProgress).copied().unwrap_or(0);
            tracing::info!(job_id = %job.id, send = %root, batches_cancelled, batches_running, "send cancelled while running");
            return Ok(Cancelled::Send {
                job,
                batches_cancelled,
                batches_running,
            });
        }
    }
    Err(AppError::Conflict(format!(
        "job {id} is {}; only pending jobs and running sends can be cancelled",
        job.status
    )))
}

/// Queues a new job repeating a failed, partial or cancelled one; returns (old, new) (the
/// API's retry and the console's Retry button).
pub async fn retry_job(state: &Core, id: &str) -> AppResult<(Job, Job)> {
    let old = find(state, id).await?;
    if !matches!(
        old.status,
        JobStatus::Failed | JobStatus::Partial | JobStatus::Cancelled
    ) {
        return Err(AppError::Conflict(format!(
            "job {id} cannot be retried (status: {}); only failed, partial or cancelled jobs can",
            old.status
        )));
    }
    let now = now_ms();
    let job = state
        .store
        .enqueue(
            NewJob {
                document_id: old.document_id.clone(),
                channels: old.channels.clone(),
                payload: old.payload.clone(),
                run_at_ms: now,
                scheduled_ms: None,
                max_attempts: state.config.job_max_attempts,
                correlation_id: halcytone_telemetry::correlation::current(),
                retry_of: Some(old.id.clone()),
                batch_id: old.batch_id.clone(),
            },
            now,
        )
        .await?;
    state.job_queued.notify_one();
    Ok((old, job))
}
