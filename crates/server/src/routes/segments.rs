//! Audience segments (`/api/v2/segments`): a named rule over the subscriber attributes the
//! CRM returns (status, tags, sign-up date, engagement, any attribute), stored, previewed
//! against the CRM's current list (count and a sample), and selectable per send with
//! `segment_id` on `POST /api/v2/content/sync`.

use super::{Entry, READ, WRITE, route};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::queue::{iso, now_ms};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Extension, Json};
use chrono::Utc;
use halcytone_audience::{Rule, Subscriber};
use halcytone_store::Segment;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "post",
            "/api/v2/segments",
            WRITE,
            "segments",
            "Create a segment: a name and a rule such as `status = \"active\" and tags contains \"beta\" and engagement.opens_last_30_days >= 3` (fields: status, email, first_name, last_name, tags, signed_up, days_since_signup, engagement.<name>, attr.<name>)",
            axum::routing::post(create),
        )
        .body("{name, rule, description?, intro?, cta_text?, cta_url?}")
        .ok(201)
        .errors(&[(409, "The name is taken"), (422, "A rule that does not parse (with the column), or a bad name")]),
        route("get", "/api/v2/segments", READ, "segments", "Every segment", get(list)),
        route(
            "get",
            "/api/v2/segments/{id}",
            READ,
            "segments",
            "One segment",
            get(show),
        )
        .errors(&[(404, "Unknown segment")]),
        route(
            "get",
            "/api/v2/segments/{id}/preview",
            READ,
            "segments",
            "How many of the CRM's active, opted-in subscribers the segment holds now, with a sample (first name and masked email)",
            get(preview),
        )
        .query(&[("sample", "subscribers shown, 0–50 (default 5)")])
        .errors(&[(404, "Unknown segment"), (502, "The CRM could not be asked")]),
        route(
            "delete",
            "/api/v2/segments/{id}",
            WRITE,
            "segments",
            "Delete a segment (jobs already queued keep the rule they were given)",
            axum::routing::delete(remove),
        )
        .errors(&[(404, "Unknown segment")]),
    ]
}

fn segment_json(s: &Segment) -> Value {
    json!({
        "segment_id": s.id,
        "name": s.name,
        "rule": s.rule,
        "description": s.description,
        "intro": s.intro,
        "cta_text": s.cta_text,
        "cta_url": s.cta_url,
        "created_by": s.created_by,
        "created_at": iso(s.created_ms),
        "updated_at": iso(s.updated_ms),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CreateBody {
    name: Option<String>,
    rule: Option<String>,
    description: Option<String>,
    /// The newsletter's introduction for this segment (replaces the tone's own).
    intro: Option<String>,
    /// The call to action's text for this segment.
    cta_text: Option<String>,
    /// The call to action's link for this segment (http or https).
    cta_url: Option<String>,
}

/// An optional text field: trimmed, empty as none, at most `max` characters.
fn optional_text(field: &str, value: Option<String>, max: usize) -> ApiResult<Option<String>> {
    let v = value
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    if let Some(v) = &v {
        if v.chars().count() > max {
            return Err(ApiError::invalid(
                field,
                format!("{field}: at most {max} characters"),
            ));
        }
        if v.chars().any(|c| c.is_control() && c != '\n') {
            return Err(ApiError::invalid(
                field,
                format!("{field}: control characters are not allowed"),
            ));
        }
    }
    Ok(v)
}

/// A call-to-action link: an absolute http(s) URL.
fn cta_url(value: Option<String>) -> ApiResult<Option<String>> {
    let Some(v) = optional_text("cta_url", value, 2000)? else {
        return Ok(None);
    };
    match url::Url::parse(&v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(Some(v)),
        _ => Err(ApiError::invalid(
            "cta_url",
            format!("cta_url: {v:?} is not an absolute http(s) address"),
        )),
    }
}

/// Checks a rule; the error names the field `rule` and the column.
pub fn parse_rule(rule: &str) -> ApiResult<Rule> {
    Rule::parse(rule).map_err(|e| ApiError::invalid("rule", format!("rule: {e}")))
}

async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<CreateBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = body.name.as_deref().map(str::trim).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "name",
            "name: 1 to 100 characters, one line",
        ));
    }
    let rule = body.rule.unwrap_or_default();
    parse_rule(&rule)?;
    let description = optional_text("description", body.description, 500)?;
    let intro = optional_text("intro", body.intro, 1000)?;
    let cta_text = optional_text("cta_text", body.cta_text, 300)?;
    let cta_url = cta_url(body.cta_url)?;
    let now = now_ms();
    let s = Segment {
        id: format!("seg_{}", uuid::Uuid::new_v4().simple()),
        name: name.to_string(),
        rule: rule.trim().to_string(),
        description,
        intro,
        cta_text,
        cta_url,
        created_by: caller.key_id.clone(),
        created_ms: now,
        updated_ms: now,
    };
    if !state.store.put_segment(&s).await? {
        return Err(ApiError::Conflict(format!(
            "a segment named {name:?} already exists"
        )));
    }
    Ok((StatusCode::CREATED, Json(segment_json(&s))))
}

async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let all = state.store.segments().await?;
    Ok(Json(json!({
        "segments": all.iter().map(segment_json).collect::<Vec<_>>(),
        "total": all.len(),
    })))
}

async fn load(state: &AppState, id: &str) -> ApiResult<Segment> {
    state
        .store
        .segment(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("segment {id} not found")))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(segment_json(&load(&state, &id).await?)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PreviewQuery {
    sample: Option<usize>,
}

fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((user, domain)) => {
            let first: String = user.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

async fn preview(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PreviewQuery>,
) -> ApiResult<Json<Value>> {
    let seg = load(&state, &id).await?;
    let sample = q.sample.unwrap_or(5);
    if sample > 50 {
        return Err(ApiError::invalid("sample", "sample: 0 to 50"));
    }
    let rule = parse_rule(&seg.rule)?;
    let all = state
        .publishing
        .subscribers(&crate::correlation::current())
        .await
        .map_err(|e| ApiError::Upstream(format!("the CRM's subscriber list: {e}")))?;
    let today = Utc::now().date_naive();
    let inside: Vec<Subscriber> = all
        .iter()
        .filter_map(Subscriber::from_json)
        .filter(|s| rule.matches(s, today))
        .collect();
    Ok(Json(json!({
        "segment_id": seg.id,
        "name": seg.name,
        "rule": seg.rule,
        "count": inside.len(),
        "of": all.len(),
        "sample": inside.iter().take(sample).map(|s| json!({
            "id": s.id,
            "first_name": s.first_name,
            "email": mask(&s.email),
            "tags": s.tags,
        })).collect::<Vec<_>>(),
        "evaluated_on": today.to_string(),
    })))
}

async fn remove(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    if !state.store.delete_segment(&id).await? {
        return Err(ApiError::NotFound(format!("segment {id} not found")));
    }
    Ok(Json(json!({ "deleted": id })))
}

pub use crate::segments::for_send;
