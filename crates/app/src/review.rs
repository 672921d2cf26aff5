//! The editorial review of content versions: a draft is made from a document snapshot with
//! its options, submitted, approved (by as many distinct people as its level needs) or
//! rejected with a reason, then scheduled — which hands it to the publisher as a job, once.
//! Only an admin may publish an unapproved version, by saying `force_publish`, and that is
//! written to the audit log. Every move is a compare-and-set on the stored state, so two
//! reviewers acting at once cannot both move it.

use crate::caller::Caller;
use crate::core::Core;
use crate::error::{AppError, AppResult, Found};
use crate::generation::{self, DocumentText, Request};
use crate::queue::{self, Submission, iso, now_ms};
use crate::targets;
use chrono::{DateTime, Utc};
use halcytone_content::approval::{self, Action, Approval, Level, ReviewState};
use halcytone_content::{Severity, SourceFormat};
use halcytone_store::{ContentVersion, Job, Scope};
use serde_json::{Value, json};

/// Who acts: an API key, or the scheduler on a schedule's behalf.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub admin: bool,
}

impl Actor {
    pub fn of(caller: &Caller) -> Actor {
        Actor {
            id: caller.key_id.clone(),
            admin: caller.allows(Scope::Admin),
        }
    }

    pub fn schedule(id: &str) -> Actor {
        Actor {
            id: format!("schedule:{id}"),
            admin: false,
        }
    }
}

/// What a draft is made of.
#[derive(Debug, Clone)]
pub struct Draft {
    pub label: String,
    pub document: DocumentText,
    pub targets: Vec<String>,
    pub tone: Option<String>,
    pub template: Option<String>,
    pub as_of: DateTime<Utc>,
    pub schedule_id: Option<String>,
}

/// What validation and the approval rules say about a document.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub level: Level,
    pub level_reason: Option<String>,
    pub errors: Vec<String>,
    pub warnings: usize,
    /// The error-level findings of the newsletter's email checks (HTML support, links,
    /// images and alt text, size, spam score): what `APPROVAL_EMAIL_CHECKS_LEVELS` gates on.
    pub email_errors: Vec<String>,
}

/// Validates the document as it would be published and works out its review level.
pub async fn assess(
    state: &Core,
    doc: &DocumentText,
    targets_: &[String],
    tone: Option<&str>,
    template: Option<&str>,
    as_of: DateTime<Utc>,
) -> AppResult<Assessment> {
    let parsed = generation::read_document(state, doc, as_of).await?;
    let (level, level_reason) = approval::required_level(&parsed);
    let wanted: Vec<targets::Target> = targets_
        .iter()
        .filter_map(|c| targets::parse(c).ok())
        .collect();
    let (channels, platforms) = targets::plan(&wanted);
    let mut req = Request {
        channels,
        ..Request::default()
    };
    if !platforms.is_empty() {
        req.platforms = platforms;
    }
    req.tone = crate::generation::parse_tone(tone)?;
    req.template = crate::generation::parse_template(template)?;
    let (bundle, report) = generation::compose_parsed(state, parsed.into(), &req, as_of).await?;
    let issues = report.map(|r| r.issues).unwrap_or_default();
    let email_errors = match bundle.newsletter {
        Some(n) => email_errors(n).await?,
        None => Vec::new(),
    };
    Ok(Assessment {
        email_errors,
        level,
        level_reason,
        errors: issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .map(|i| i.message.clone())
            .collect(),
        warnings: issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
            .count(),
    })
}

/// The error-level findings of the newsletter's checks, each in a line.
async fn email_errors(n: halcytone_content::compose::Newsletter) -> AppResult<Vec<String>> {
    tokio::task::spawn_blocking(move || {
        halcytone_mailcheck::check(&halcytone_mailcheck::Message {
            subject: Some(&n.subject),
            html: Some(&n.html),
            text: Some(&n.text),
            ..halcytone_mailcheck::Message::default()
        })
        .worst_findings(halcytone_mailcheck::Level::Error, 20)
        .into_iter()
        .map(|f| format!("{}: {}", f.check, f.message))
        .collect()
    })
    .await
    .map_err(|e| AppError::Internal(format!("checking the newsletter: {e}")))
}

/// [`assess`] of a stored version: its snapshot, channels, options and reference time.
async fn assess_version(state: &Core, v: &ContentVersion) -> AppResult<Assessment> {
    let doc = document_of(state, v).await?;
    assess(
        state,
        &doc,
        &v.channels,
        v.options["tone"].as_str(),
        v.options["template"].as_str(),
        as_of(v),
    )
    .await
}

/// Whether approval at `level` needs a newsletter without error-level check findings.
fn gated(state: &Core, level: Level) -> bool {
    state.config.email_checks_gate.contains(&level)
}

/// Stores the snapshot and a draft version of it.
pub async fn create_draft(state: &Core, d: Draft, by: &Actor) -> AppResult<ContentVersion> {
    let targets_ = queue::check_targets("channels", &d.targets)?;
    let a = assess(
        state,
        &d.document,
        &targets_,
        d.tone.as_deref(),
        d.template.as_deref(),
        d.as_of,
    )
    .await?;
    let now = now_ms();
    let format = d.document.format.map(SourceFormat::as_str);
    let (snapshot, _) = state
        .store
        .put_document(&d.label, format.unwrap_or("auto"), &d.document.text, now)
        .await?;
    let v = ContentVersion {
        id: format!("cv_{}", uuid::Uuid::new_v4().simple()),
        document_id: snapshot.id,
        label: d.label,
        content_hash: snapshot.hash,
        channels: targets_,
        options: json!({ "tone": d.tone, "template": d.template, "as_of": iso(d.as_of.timestamp_millis()) }),
        job_id: None,
        created_ms: now,
        review_state: ReviewState::Draft.as_str().into(),
        review_level: Some(a.level.as_str().into()),
        review: json!({
            "created_by": by.id,
            "level_reason": a.level_reason,
            "validation": { "errors": a.errors, "warnings": a.warnings, "email_check_errors": a.email_errors },
            "approvals": [],
        }),
        updated_ms: now,
        schedule_id: d.schedule_id,
    };
    state.store.put_content_version(&v).await?;
    state.content_changes.changed(&["content"]);
    Ok(v)
}

/// The living document a version was made from, as its stored snapshot holds it.
async fn document_of(state: &Core, v: &ContentVersion) -> AppResult<DocumentText> {
    let snapshot = state
        .store
        .document(&v.document_id)
        .await?
        .ok_or_else(|| AppError::Internal(format!("snapshot {} is missing", v.document_id)))?;
    Ok(DocumentText {
        label: v.label.clone(),
        text: snapshot.body,
        format: snapshot.format.parse().ok(),
    })
}

async fn load(state: &Core, id: &str) -> AppResult<ContentVersion> {
    state
        .store
        .content_version(id)
        .await?
        .found("content version", id)
}

fn review_state(v: &ContentVersion) -> AppResult<ReviewState> {
    ReviewState::parse(&v.review_state).ok_or_else(|| {
        AppError::Internal(format!(
            "content version {} has an unknown review state {}",
            v.id, v.review_state
        ))
    })
}

fn check(v: &ContentVersion, action: Action) -> AppResult<ReviewState> {
    let s = review_state(v)?;
    approval::allowed(s, action)
        .map_err(|why| AppError::Conflict(format!("content version {}: {why}", v.id)))?;
    Ok(s)
}

fn level(v: &ContentVersion) -> Level {
    v.review_level
        .as_deref()
        .and_then(Level::parse)
        .unwrap_or(Level::L1)
}

/// Applies a move; a lost race is a 409 and nothing changes.
async fn commit(
    state: &Core,
    v: &ContentVersion,
    to: ReviewState,
    review: &Value,
    job_id: Option<&str>,
) -> AppResult<ContentVersion> {
    commit_at(state, v, to, None, review, job_id).await
}

/// [`commit`], also setting the review level.
async fn commit_at(
    state: &Core,
    v: &ContentVersion,
    to: ReviewState,
    level: Option<Level>,
    review: &Value,
    job_id: Option<&str>,
) -> AppResult<ContentVersion> {
    let moved = state
        .store
        .update_review(
            &v.id,
            &v.review_state,
            to.as_str(),
            level.map(Level::as_str),
            review,
            job_id,
            now_ms(),
        )
        .await?;
    if !moved {
        return Err(AppError::Conflict(format!(
            "content version {} changed while this request was handled; reload it and try again",
            v.id
        )));
    }
    state.content_changes.changed(&["content"]);
    load(state, &v.id).await
}

fn approvals(review: &Value) -> Vec<Value> {
    review["approvals"].as_array().cloned().unwrap_or_default()
}

fn met(level: Level, list: &[Value]) -> bool {
    let given: Vec<Approval<'_>> = list
        .iter()
        .filter_map(|a| {
            Some(Approval {
                by: a["by"].as_str()?,
                admin: a["admin"].as_bool().unwrap_or(false),
            })
        })
        .collect();
    level.requirement().met_by(&given)
}

/// Submits a draft (or a rejected version) for review. Validation runs again; an L1 version
/// that passes it is approved at once.
pub async fn submit(state: &Core, id: &str, by: &Actor) -> AppResult<ContentVersion> {
    let v = load(state, id).await?;
    check(&v, Action::Submit)?;
    let a = assess_version(state, &v).await?;
    let now = iso(now_ms());
    let mut review = v.review.clone();
    review["submitted_by"] = json!(by.id);
    review["submitted_at"] = json!(now);
    review["validation"] =
        json!({ "errors": a.errors, "warnings": a.warnings, "email_check_errors": a.email_errors });
    review["level_reason"] = json!(a.level_reason);
    review["approvals"] = json!([]);
    review["rejection"] = Value::Null;
    let mut to = ReviewState::InReview;
    if a.level == Level::L1
        && a.errors.is_empty()
        && (a.email_errors.is_empty() || !gated(state, Level::L1))
    {
        review["approvals"] =
            json!([{ "by": "auto", "admin": false, "at": now, "note": "L1: validation passed" }]);
        review["auto_approved"] = json!(true);
        to = ReviewState::Approved;
    }
    let v = commit_at(state, &v, to, Some(a.level), &review, None).await?;
    tracing::info!(content_version = %v.id, level = a.level.as_str(), state = to.as_str(), by = %by.id, "content submitted for review");
    if to == ReviewState::InReview {
        let data = json!({
            "content_version_id": v.id,
            "document_id": v.label,
            "level": a.level.as_str(),
            "level_reason": a.level_reason,
            "submitted_by": by.id,
            "submitted_at": now,
            "validation": { "errors": a.errors, "warnings": a.warnings, "email_check_errors": a.email_errors },
        });
        let subject = format!("{}@{}", v.id, now.as_deref().unwrap_or_default());
        crate::webhooks::emit(state, "review.requested", &subject, data).await;
    }
    publish_if_ready(state, v).await
}

/// Records one approval; with enough of them the version is approved (and, when a schedule
/// made it, handed to the publisher).
pub async fn approve(
    state: &Core,
    id: &str,
    by: &Actor,
    note: Option<&str>,
) -> AppResult<ContentVersion> {
    let v = load(state, id).await?;
    check(&v, Action::Approve)?;
    let lvl = level(&v);
    let mut list = approvals(&v.review);
    if list.iter().any(|a| a["by"] == by.id.as_str()) {
        return Err(AppError::Conflict(format!(
            "content version {}: already approved by this key; {} needs {} distinct approver(s)",
            v.id,
            lvl.as_str(),
            lvl.requirement().approvers
        )));
    }
    if lvl > Level::L1 && v.review["submitted_by"] == by.id.as_str() {
        return Err(AppError::NotAllowed(format!(
            "content version {}: you submitted it; {} needs approval from other reviewers",
            v.id,
            lvl.as_str()
        )));
    }
    if gated(state, lvl) {
        let a = assess_version(state, &v).await?;
        if !a.email_errors.is_empty() {
            return Err(AppError::Conflict(format!(
                "content version {}: {} needs a newsletter with no error-level check finding (APPROVAL_EMAIL_CHECKS_LEVELS); fix these first: {}",
                v.id,
                lvl.as_str(),
                a.email_errors.join("; ")
            )));
        }
    }
    list.push(json!({ "by": by.id, "admin": by.admin, "at": iso(now_ms()), "note": note }));
    let mut review = v.review.clone();
    review["approvals"] = json!(list);
    let to = if met(lvl, &list) {
        ReviewState::Approved
    } else {
        ReviewState::InReview
    };
    let v = commit(state, &v, to, &review, None).await?;
    tracing::info!(content_version = %v.id, by = %by.id, state = to.as_str(), "content approved");
    publish_if_ready(state, v).await
}

/// Rejects a version in review (or approved and not yet scheduled), with the reason.
pub async fn reject(state: &Core, id: &str, by: &Actor, reason: &str) -> AppResult<ContentVersion> {
    let v = load(state, id).await?;
    check(&v, Action::Reject)?;
    let mut review = v.review.clone();
    review["rejection"] = json!({ "by": by.id, "at": iso(now_ms()), "reason": reason });
    let v = commit(state, &v, ReviewState::Rejected, &review, None).await?;
    tracing::info!(content_version = %v.id, by = %by.id, "content rejected");
    Ok(v)
}

fn as_of(v: &ContentVersion) -> DateTime<Utc> {
    v.options["as_of"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map_or_else(generation::today, |t| t.with_timezone(&Utc))
}

/// A version a schedule made is published as soon as it is approved.
async fn publish_if_ready(state: &Core, v: ContentVersion) -> AppResult<ContentVersion> {
    if v.review_state == ReviewState::Approved.as_str()
        && let Some(schedule) = v.schedule_id.clone()
        && state.store.schedule(&schedule).await?.is_some()
    {
        let (v, _) =
            schedule_version(state, &v.id, &Actor::schedule(&schedule), None, false).await?;
        return Ok(v);
    }
    Ok(v)
}

/// Hands an approved version to the publisher (now, or at `when`). `force` lets an admin
/// publish an unapproved version; that is audited.
pub async fn schedule_version(
    state: &Core,
    id: &str,
    by: &Actor,
    when: Option<DateTime<Utc>>,
    force: bool,
) -> AppResult<(ContentVersion, Job)> {
    let v = load(state, id).await?;
    let current = review_state(&v)?;
    let mut review = v.review.clone();
    if force && current != ReviewState::Approved {
        if !by.admin {
            return Err(AppError::MissingScope("admin (force_publish)"));
        }
        if current == ReviewState::Scheduled {
            check(&v, Action::Schedule)?;
        }
        review["forced"] =
            json!({ "by": by.id, "at": iso(now_ms()), "from_state": current.as_str() });
    } else {
        check(&v, Action::Schedule)?;
    }
    if let Some(t) = when {
        review["scheduled_for"] = json!(iso(t.timestamp_millis()));
    }
    review["scheduled_by"] = json!(by.id);
    // Take the version first: a second scheduler loses here and no second job is made.
    let before = v.review.clone();
    let v = commit(state, &v, ReviewState::Scheduled, &review, None).await?;
    let submission = Submission {
        label: v.label.clone(),
        document: document_of(state, &v).await?,
        targets: v.channels.clone(),
        tone: v.options["tone"].as_str().map(String::from),
        template: v.options["template"].as_str().map(String::from),
        run_at: when,
        correlation_id: halcytone_telemetry::correlation::current(),
        retry_of: None,
        as_of: as_of(&v),
        batch_id: None,
        kind: None,
        version: Some(v.id.clone()),
        review: None,
        email: Default::default(),
    };
    let job = match queue::submit(state, submission).await {
        Ok(job) => job,
        Err(e) => {
            // Give the version back so it can be scheduled again.
            let _ = state
                .store
                .update_review(
                    &v.id,
                    "scheduled",
                    current.as_str(),
                    None,
                    &before,
                    None,
                    now_ms(),
                )
                .await;
            return Err(e);
        }
    };
    state
        .store
        .update_review(
            &v.id,
            "scheduled",
            "scheduled",
            None,
            &v.review,
            Some(&job.id),
            now_ms(),
        )
        .await?;
    if force && current != ReviewState::Approved {
        state
            .store
            .audit(
                &by.id,
                "content.force_publish",
                &v.id,
                &format!(
                    "published from state {} without approval (job {})",
                    current.as_str(),
                    job.id
                ),
                now_ms(),
            )
            .await?;
    }
    state.content_changes.changed(&["content"]);
    tracing::info!(content_version = %v.id, job_id = %job.id, by = %by.id, forced = force, "content scheduled");
    Ok((load(state, id).await?, job))
}

/// The review part of a version as the API shows it.
/// Every channel a version can go to.
pub fn default_targets() -> Vec<String> {
    [
        "email",
        "website",
        "social_twitter",
        "social_linkedin",
        "social_facebook",
    ]
    .map(String::from)
    .to_vec()
}

pub fn review_json(v: &ContentVersion) -> Value {
    let lvl = level(v);
    let req = lvl.requirement();
    let list = approvals(&v.review);
    json!({
        "state": v.review_state,
        "level": v.review_level,
        "level_reason": v.review["level_reason"],
        "reviewers": lvl.reviewers(),
        "required_approvals": req.approvers,
        "required_admin_approvals": req.admins,
        "approvals": list,
        "submitted_by": v.review["submitted_by"],
        "submitted_at": v.review["submitted_at"],
        "rejection": v.review["rejection"],
        "forced": v.review["forced"],
        "validation": v.review["validation"],
        "direct_publish": v.review["direct"].as_bool().unwrap_or(false),
        "direct_approval": v.review["approval"],
        "schedule_id": v.schedule_id,
        "updated_at": iso(v.updated_ms),
    })
}

/// Clears a direct publish (sync, generate-content, a batch) when `APPROVAL_REQUIRED` is on:
/// L1 content that validates goes out (auto-approved); anything else needs the review routes,
/// or `force_publish` from an admin, which is audited. Returns the record kept on the
/// version. With approval not required, direct publishing is the operator's own approval.
#[allow(clippy::too_many_arguments)]
pub async fn gate_direct(
    state: &Core,
    caller: Option<&Caller>,
    doc: &DocumentText,
    targets_: &[String],
    tone: Option<&str>,
    template: Option<&str>,
    as_of: DateTime<Utc>,
    force: bool,
) -> AppResult<Value> {
    let by = caller.map_or("unknown", |c| c.key_id.as_str());
    if !state.config.approval_required {
        return Ok(json!({ "direct": true, "approval": "not_required", "by": by }));
    }
    let a = assess(state, doc, targets_, tone, template, as_of).await?;
    if a.level == Level::L1 && a.errors.is_empty() {
        return Ok(json!({
            "direct": true, "approval": "auto", "level": "L1",
            "approvals": [{ "by": "auto", "admin": false, "at": iso(now_ms()), "note": "L1: validation passed" }],
        }));
    }
    let why = match (&a.level_reason, a.errors.first()) {
        (Some(r), _) if a.level > Level::L1 => format!("{} review ({r})", a.level.as_str()),
        (_, Some(e)) => format!("review because validation failed: {e}"),
        _ => format!("{} review", a.level.as_str()),
    };
    if !force {
        return Err(AppError::Conflict(format!(
            "this content needs {why}; make a version with POST /api/v2/content and have it approved, or send force_publish with an admin key"
        )));
    }
    let caller = caller.ok_or(AppError::Unauthenticated)?;
    if !caller.allows(Scope::Admin) {
        return Err(AppError::MissingScope("admin (force_publish)"));
    }
    state
        .store
        .audit(
            &caller.key_id,
            "content.force_publish",
            &doc.label,
            &format!("direct publish without approval; it needed {why}"),
            now_ms(),
        )
        .await?;
    Ok(json!({
        "direct": true, "approval": "forced", "level": a.level.as_str(),
        "forced": { "by": caller.key_id, "at": iso(now_ms()), "from_state": "draft" },
    }))
}

/// A draft as the API takes it: the document (inline, a snapshot, a source, or the
/// configured one), its targets and options, and whether to submit it at once.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DraftRequest {
    pub document_id: Option<String>,
    pub document: Option<Value>,
    #[schema(schema_with = crate::schema::document_format)]
    pub document_format: Option<String>,
    #[schema(schema_with = crate::schema::optional_targets)]
    pub channels: Option<Vec<String>>,
    #[schema(schema_with = crate::schema::tone)]
    pub tone: Option<String>,
    #[schema(schema_with = crate::schema::template)]
    pub template_style: Option<String>,
    pub submit: bool,
}

/// Makes a draft version from a request, as `caller`, and submits it when asked.
pub async fn draft_from_request(
    state: &Core,
    caller: &Caller,
    body: DraftRequest,
) -> AppResult<ContentVersion> {
    let tone = crate::generation::parse_tone(body.tone.as_deref())?;
    let template = crate::generation::parse_template(body.template_style.as_deref())?;
    let document = crate::documents::requested(
        body.document.as_ref(),
        body.document_format.as_deref(),
        body.document_id.as_deref(),
        state,
    )
    .await?;
    let by = Actor::of(caller);
    let v = create_draft(
        state,
        Draft {
            label: document.label.clone(),
            document,
            targets: body.channels.unwrap_or_else(default_targets),
            tone: tone.map(|t| t.as_str().to_string()),
            template: template.map(|t| t.as_str().to_string()),
            as_of: crate::generation::today(),
            schedule_id: None,
        },
        &by,
    )
    .await?;
    if body.submit {
        submit(state, &v.id, &by).await
    } else {
        Ok(v)
    }
}
