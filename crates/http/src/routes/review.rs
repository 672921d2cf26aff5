//! Review routes: make a draft content version, submit it, approve or reject it, and
//! schedule it for publishing (`/api/v2/content` and `/api/v2/content/{id}/…`).

use super::{Entry, WRITE, route};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};

use crate::queue::{self, job_json};
use crate::review::{self, Actor};
use crate::state::AppState;
use crate::versions::summary;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Extension, Json};
use halcytone_store::ContentVersion;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "post",
            "/api/v2/content",
            WRITE,
            "review",
            "Make a draft content version from the configured document, a source (document_id) or an inline document; its review level (L1–L4) is worked out from the items",
            post(create),
        )
        .carries_document()
        .body::<halcytone_app::review::DraftRequest>("{document_id?: gdocs:|notion:|url:|file:…, document?, document_format?, channels?: [email, website, social_twitter, …] (default all), tone?, template_style?, submit?: bool}")
        .ok(201)
        .errors(&[(422, "Bad channel, tone, template or document"), (502, "The document source failed")]),
        route(
            "post",
            "/api/v2/content/{id}/submit",
            WRITE,
            "review",
            "Submit a draft (or rejected) version for review; an L1 version that passes validation is approved at once",
            post(submit),
        )
        .errors(&[(404, "Unknown version"), (409, "Not a draft or rejected version")]),
        route(
            "post",
            "/api/v2/content/{id}/approve",
            WRITE,
            "review",
            "Approve a version in review; it is approved when its level's approvals are in (L2: 2 people, L3: 3 with an admin, L4: 2 admins); a version a schedule made is then published",
            post(approve),
        )
        .body::<ApproveBody>("{note?: string}")
        .errors(&[
            (403, "Approving your own L2+ submission"),
            (404, "Unknown version"),
            (409, "Not in review, or already approved by this key"),
        ]),
        route(
            "post",
            "/api/v2/content/{id}/reject",
            WRITE,
            "review",
            "Reject a version in review (or approved and not yet scheduled) with a reason",
            post(reject),
        )
        .body::<RejectBody>("{reason: string, 1–1000 characters}")
        .errors(&[(404, "Unknown version"), (409, "Not in review or approved"), (422, "No reason")]),
        route(
            "post",
            "/api/v2/content/{id}/schedule",
            WRITE,
            "review",
            "Hand an approved version to the publisher, now or at scheduled_for; force_publish (admin only, audited) publishes an unapproved one",
            post(schedule),
        )
        .body::<ScheduleBody>("{scheduled_for?: RFC 3339, force_publish?: bool}")
        .ok(202)
        .errors(&[
            (403, "force_publish without an admin key"),
            (404, "Unknown version"),
            (409, "Not approved, or already scheduled"),
            (422, "scheduled_for in the past or not a date-time"),
        ]),
    ]
}

pub use crate::review::default_targets;

async fn version_json(state: &AppState, v: &halcytone_store::ContentVersion) -> ApiResult<Value> {
    let (mut body, job) = summary(state, v).await?;
    body["job"] = job.as_ref().map_or(Value::Null, job_json);
    Ok(body)
}

async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<review::DraftRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let v = review::draft_from_request(&state, &caller, body).await?;
    Ok((StatusCode::CREATED, Json(version_json(&state, &v).await?)))
}

async fn submit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let v = review::submit(&state, &id, &Actor::of(&caller)).await?;
    Ok(Json(version_json(&state, &v).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
struct ApproveBody {
    note: Option<String>,
}

async fn approve(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ApproveBody>,
) -> ApiResult<Json<Value>> {
    let v = approve_as(&state, &caller, &id, body.note.as_deref()).await?;
    Ok(Json(version_json(&state, &v).await?))
}

/// One approval by `caller`, with an optional note of at most 1000 characters (the API's
/// approve and the console's Approve button).
pub(crate) async fn approve_as(
    state: &AppState,
    caller: &Caller,
    id: &str,
    note: Option<&str>,
) -> ApiResult<ContentVersion> {
    if note.is_some_and(|n| n.chars().count() > 1000) {
        return Err(ApiError::invalid("note", "note: at most 1000 characters"));
    }
    Ok(review::approve(state, id, &Actor::of(caller), note).await?)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
struct RejectBody {
    #[schema(required = true, schema_with = halcytone_app::schema::text_1000)]
    reason: Option<String>,
}

async fn reject(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RejectBody>,
) -> ApiResult<Json<Value>> {
    let v = reject_as(&state, &caller, &id, body.reason.as_deref()).await?;
    Ok(Json(version_json(&state, &v).await?))
}

/// A rejection by `caller`, with its reason of 1 to 1000 characters (the API's reject and
/// the console's Reject button).
pub(crate) async fn reject_as(
    state: &AppState,
    caller: &Caller,
    id: &str,
    reason: Option<&str>,
) -> ApiResult<ContentVersion> {
    let reason = reason.map(str::trim).unwrap_or_default();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(ApiError::invalid(
            "reason",
            "reason: say why the version is rejected (1 to 1000 characters)",
        ));
    }
    Ok(review::reject(state, id, &Actor::of(caller), reason).await?)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
struct ScheduleBody {
    #[schema(schema_with = halcytone_app::schema::instant)]
    scheduled_for: Option<String>,
    force_publish: bool,
}

async fn schedule(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ScheduleBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let when = queue::schedule_time("scheduled_for", body.scheduled_for.as_deref())?;
    if let Some(t) = when
        && t.timestamp_millis() < queue::now_ms() - 60_000
    {
        return Err(ApiError::invalid(
            "scheduled_for",
            format!("scheduled_for: {} is in the past", t.to_rfc3339()),
        ));
    }
    let (v, job) =
        review::schedule_version(&state, &id, &Actor::of(&caller), when, body.force_publish)
            .await?;
    let mut out = version_json(&state, &v).await?;
    out["job"] = job_json(&job);
    out["message"] = json!(match when {
        Some(t) => format!("scheduled for {}", t.to_rfc3339()),
        None => "queued for publishing".to_string(),
    });
    Ok((StatusCode::ACCEPTED, Json(out)))
}
