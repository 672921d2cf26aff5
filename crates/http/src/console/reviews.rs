//! `/ui/reviews`: content versions waiting for review and those decided lately, with Approve
//! and Reject buttons that call the API's own approve and reject
//! ([`crate::routes::review`]), so the same rules hold (the submitter cannot approve their
//! own L2+ version, one approval per key, admins where the level needs them). One version's
//! page shows its review and its content, recomposed from the stored snapshot.

use super::guard::{Form, Visit};
use super::page::{UiError, display_rfc3339};
use super::params::{Id, Params, answer, encode};
use super::preview::{self, Frames};
use crate::error::ApiError;
use crate::generation::DocumentText;
use crate::routes::review::{approve_as, reject_as};
use crate::state::AppState;
use crate::versions::request_for;
use axum::extract::State;
use axum::response::Response;
use halcytone_content::Channel;
use halcytone_store::{ContentVersion, Scope};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;
use serde_json::Value as Json;

/// Versions in review listed at most.
const PENDING_SHOWN: i64 = 100;
/// Recent versions looked through for decided ones, and decided ones shown.
const RECENT_SCANNED: i64 = 100;
const DECIDED_SHOWN: usize = 20;

#[derive(Debug, Serialize)]
struct ApprovalView {
    by: String,
    admin: bool,
    at: String,
    note: Option<String>,
}

#[derive(Debug, Serialize)]
struct VersionRow {
    id: String,
    href: String,
    label: String,
    state: String,
    level: String,
    level_reason: Option<String>,
    channels: String,
    created_by: Option<String>,
    submitted_by: Option<String>,
    submitted_at: Option<String>,
    approvals: Vec<ApprovalView>,
    required: u64,
    required_admins: u64,
    rejection: Option<String>,
    errors: usize,
    warnings: u64,
    /// Error-level findings of the newsletter's email checks, each in a line.
    email_errors: Vec<String>,
    updated: String,
    can_approve: bool,
    can_reject: bool,
}

fn text_of(v: &Json) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// The console page of the content version `id`.
fn version_path(id: &str) -> String {
    format!("/ui/reviews/{}", encode(id))
}

fn row(v: &ContentVersion) -> VersionRow {
    let r = crate::review::review_json(v);
    let approvals = r["approvals"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|a| ApprovalView {
                    by: text_of(&a["by"]).unwrap_or_default(),
                    admin: a["admin"].as_bool().unwrap_or(false),
                    at: text_of(&a["at"])
                        .map(|t| display_rfc3339(&t))
                        .unwrap_or_default(),
                    note: text_of(&a["note"]),
                })
                .collect()
        })
        .unwrap_or_default();
    let rejection = r["rejection"].is_object().then(|| {
        format!(
            "{} rejected it: {}",
            text_of(&r["rejection"]["by"]).unwrap_or_default(),
            text_of(&r["rejection"]["reason"]).unwrap_or_default()
        )
    });
    VersionRow {
        id: v.id.clone(),
        href: version_path(&v.id),
        label: v.label.clone(),
        state: v.review_state.clone(),
        level: v.review_level.clone().unwrap_or_else(|| "—".into()),
        level_reason: text_of(&r["level_reason"]),
        channels: v.channels.join(", "),
        created_by: text_of(&v.review["created_by"]),
        submitted_by: text_of(&r["submitted_by"]),
        submitted_at: text_of(&r["submitted_at"]).map(|t| display_rfc3339(&t)),
        approvals,
        required: r["required_approvals"].as_u64().unwrap_or(0),
        required_admins: r["required_admin_approvals"].as_u64().unwrap_or(0),
        rejection,
        errors: r["validation"]["errors"].as_array().map_or(0, Vec::len),
        warnings: r["validation"]["warnings"].as_u64().unwrap_or(0),
        email_errors: r["validation"]["email_check_errors"]
            .as_array()
            .map(|list| list.iter().filter_map(text_of).collect())
            .unwrap_or_default(),
        updated: text_of(&r["updated_at"])
            .map(|t| display_rfc3339(&t))
            .unwrap_or_default(),
        can_approve: v.review_state == "in_review",
        can_reject: matches!(v.review_state.as_str(), "in_review" | "approved"),
    }
}

/// Whether a version went through review and was decided (approved, rejected, or approved
/// and then scheduled).
fn decided(v: &ContentVersion) -> bool {
    match v.review_state.as_str() {
        "approved" | "rejected" => true,
        "scheduled" => v.review["submitted_by"].is_string(),
        _ => false,
    }
}

/// `GET /ui/reviews`.
pub async fn list(State(state): State<AppState>, visit: Visit) -> Result<Response, UiError> {
    let me = visit.needs(Scope::Read)?;
    let pending = state
        .store
        .versions_in_review_state("in_review", PENDING_SHOWN)
        .await
        .map_err(ApiError::from)?;
    let (recent, _) = state
        .store
        .content_versions(RECENT_SCANNED, 0)
        .await
        .map_err(ApiError::from)?;
    let pending: Vec<VersionRow> = pending.iter().map(row).collect();
    let decided: Vec<VersionRow> = recent
        .iter()
        .filter(|v| decided(v))
        .take(DECIDED_SHOWN)
        .map(row)
        .collect();
    let ctx = context! {
        pending => Serde(&pending),
        decided => Serde(&decided),
        can_write => me.allows(Scope::Write),
        approval_required => state.config.approval_required,
    };
    visit.html("reviews.html", "reviews", "Reviews", ctx)
}

async fn load(state: &AppState, id: &str) -> Result<ContentVersion, UiError> {
    state
        .store
        .content_version(id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| {
            UiError::not_found(format!("There is no content version with the id '{id}'."))
        })
}

/// The version's stored document.
async fn snapshot(state: &AppState, v: &ContentVersion) -> Result<DocumentText, UiError> {
    let d = state
        .store
        .document(&v.document_id)
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| {
            UiError::not_found(format!(
                "The document snapshot {} of this version is missing.",
                v.document_id
            ))
        })?;
    Ok(DocumentText {
        label: v.label.clone(),
        text: d.body,
        format: d.format.parse().ok(),
    })
}

/// `GET /ui/reviews/{id}`: the version's review and its content.
pub async fn version(
    State(state): State<AppState>,
    visit: Visit,
    Id(id): Id,
) -> Result<Response, UiError> {
    let me = visit.needs(Scope::Read)?;
    let v = load(&state, &id).await?;
    let base = version_path(&v.id);
    let frames = Frames {
        newsletter: format!("{base}/newsletter.html"),
        web: format!("{base}/web.html"),
    };
    let (req, as_of) = request_for(&v);
    let composed = match snapshot(&state, &v).await {
        Ok(doc) => preview::compose_view(&state, &doc, &req, as_of, &frames).await,
        Err(e) => Err(e),
    };
    let (content, content_error) = match composed {
        Ok(p) => (Some(p), None),
        Err(UiError::Status(_, message)) => (None, Some(message)),
        Err(e) => return Err(e),
    };
    let ctx = context! {
        version => Serde(row(&v)),
        path => base,
        json_href => format!("/api/v2/content/{}", encode(&v.id)),
        preview => Serde(&content),
        content_error,
        can_write => me.allows(Scope::Write),
    };
    visit.html("version.html", "reviews", &format!("Version {}", v.id), ctx)
}

async fn version_html(
    state: &AppState,
    visit: &Visit,
    id: &str,
    channel: Channel,
) -> Result<Response, UiError> {
    visit.needs(Scope::Read)?;
    let v = load(state, id).await?;
    let doc = snapshot(state, &v).await?;
    let (req, as_of) = request_for(&v);
    preview::channel_html(state, &doc, &req, as_of, channel).await
}

/// `GET /ui/reviews/{id}/newsletter.html`: the version's newsletter alone, sandboxed.
pub async fn newsletter_html(
    State(state): State<AppState>,
    visit: Visit,
    Id(id): Id,
) -> Result<Response, UiError> {
    version_html(&state, &visit, &id, Channel::Email).await
}

/// `GET /ui/reviews/{id}/web.html`: the version's web post alone, sandboxed.
pub async fn web_html(
    State(state): State<AppState>,
    visit: Visit,
    Id(id): Id,
) -> Result<Response, UiError> {
    version_html(&state, &visit, &id, Channel::Web).await
}

/// Where a review form returns: the version's page when it came from there, else the list.
fn back(fields: &Params, id: &str) -> String {
    let page = version_path(id);
    if fields.get("back") == Some(page.as_str()) {
        page
    } else {
        "/ui/reviews".into()
    }
}

/// `POST /ui/reviews/{id}/approve` (`csrf`, `note`?, `back`?).
pub async fn approve(
    State(state): State<AppState>,
    Id(id): Id,
    form: Form,
) -> Result<Response, UiError> {
    let back = back(&form.fields, &id);
    let me = form.signed(&state, Scope::Write, &back).await?;
    let r = approve_as(&state, &me.caller(), &id, form.fields.get("note"))
        .await
        .map(|v| {
            let shown = row(&v);
            tracing::info!(content_version = %v.id, key_id = %me.key_id, "console: version approved");
            format!(
                "You approved version {}: it is now {} ({} of {} approvals).",
                v.id,
                v.review_state,
                shown.approvals.len(),
                shown.required
            )
        });
    answer(&back, r)
}

/// `POST /ui/reviews/{id}/reject` (`csrf`, `reason`, `back`?).
pub async fn reject(
    State(state): State<AppState>,
    Id(id): Id,
    form: Form,
) -> Result<Response, UiError> {
    let back = back(&form.fields, &id);
    let me = form.signed(&state, Scope::Write, &back).await?;
    let r = reject_as(&state, &me.caller(), &id, form.fields.get("reason"))
        .await
        .map(|v| {
            tracing::info!(content_version = %v.id, key_id = %me.key_id, "console: version rejected");
            format!("You rejected version {}.", v.id)
        });
    answer(&back, r)
}
