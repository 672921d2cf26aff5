//! Segments: defined by a rule over subscribers, previewed against the CRM's list, and named
//! by sends — checked against the store and the send's targets, and carried on the job as
//! they were at that moment.

use crate::caller::Caller;
use crate::core::Core;
use crate::error::{AppError, AppResult, Found};
use crate::jobs::spec::SegmentRef;
use crate::queue::{iso, now_ms};
use crate::targets::{self, Target};
use chrono::Utc;
use halcytone_audience::{Rule, Subscriber};
use halcytone_store::Segment;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn segment_json(s: &Segment) -> Value {
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

/// A segment as a caller defines it.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SegmentRequest {
    #[schema(required = true, schema_with = crate::schema::line_100)]
    pub name: Option<String>,
    pub rule: Option<String>,
    pub description: Option<String>,
    /// The newsletter's introduction for this segment (replaces the tone's own).
    pub intro: Option<String>,
    /// The call to action's text for this segment.
    pub cta_text: Option<String>,
    /// The call to action's link for this segment (http or https).
    pub cta_url: Option<String>,
}

/// An optional text field: trimmed, empty as none, at most `max` characters.
fn optional_text(field: &str, value: Option<String>, max: usize) -> AppResult<Option<String>> {
    let v = value
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    if let Some(v) = &v {
        if v.chars().count() > max {
            return Err(AppError::invalid(
                field,
                format!("{field}: at most {max} characters"),
            ));
        }
        if v.chars().any(|c| c.is_control() && c != '\n') {
            return Err(AppError::invalid(
                field,
                format!("{field}: control characters are not allowed"),
            ));
        }
    }
    Ok(v)
}

/// A call-to-action link: an absolute http(s) URL.
fn cta_url(value: Option<String>) -> AppResult<Option<String>> {
    let Some(v) = optional_text("cta_url", value, 2000)? else {
        return Ok(None);
    };
    match url::Url::parse(&v) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(Some(v)),
        _ => Err(AppError::invalid(
            "cta_url",
            format!("cta_url: {v:?} is not an absolute http(s) address"),
        )),
    }
}

/// Checks a rule; the error names the field `rule` and the column.
pub fn parse_rule(rule: &str) -> AppResult<Rule> {
    Rule::parse(rule).map_err(|e| AppError::invalid("rule", format!("rule: {e}")))
}

/// Checks and stores a new segment; a name in use is a conflict.
pub async fn create(state: &Core, caller: &Caller, body: SegmentRequest) -> AppResult<Value> {
    let name = body.name.as_deref().map(str::trim).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
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
        return Err(AppError::Conflict(format!(
            "a segment named {name:?} already exists"
        )));
    }
    Ok(segment_json(&s))
}

/// Every segment.
pub async fn list(state: &Core) -> AppResult<Value> {
    let all = state.store.segments().await?;
    Ok(json!({
        "segments": all.iter().map(segment_json).collect::<Vec<_>>(),
        "total": all.len(),
    }))
}

/// One segment; an unknown id is not found.
pub async fn load(state: &Core, id: &str) -> AppResult<Segment> {
    state.store.segment(id).await?.found("segment", id)
}

/// The CRM's list of active, opted-in subscribers, as JSON.
pub(crate) async fn crm_subscribers(state: &Core) -> AppResult<Vec<Value>> {
    state
        .publishing
        .subscribers(&halcytone_telemetry::correlation::current())
        .await
        .map_err(|e| AppError::Upstream(format!("the CRM's subscriber list: {e}")))
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

/// Who a segment holds today among the CRM's subscribers: the count and a masked sample.
pub async fn preview(state: &Core, id: &str, sample: Option<usize>) -> AppResult<Value> {
    let seg = load(state, id).await?;
    let sample = sample.unwrap_or(5);
    if sample > 50 {
        return Err(AppError::invalid("sample", "sample: 0 to 50"));
    }
    let rule = parse_rule(&seg.rule)?;
    let all = crm_subscribers(state).await?;
    let today = Utc::now().date_naive();
    let inside: Vec<Subscriber> = all
        .iter()
        .filter_map(Subscriber::from_json)
        .filter(|s| rule.matches(s, today))
        .collect();
    Ok(json!({
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
    }))
}

/// Deletes a segment (jobs already queued keep the rule they were given).
pub async fn remove(state: &Core, id: &str) -> AppResult<Value> {
    if !state.store.delete_segment(id).await? {
        return Err(AppError::not_found("segment", id));
    }
    Ok(json!({ "deleted": id }))
}

/// The segment a send names (`segment_id`), checked: it exists, its rule parses, and the
/// send includes the email channel.
pub async fn for_send(state: &Core, id: &str, target_names: &[String]) -> AppResult<SegmentRef> {
    let email = target_names
        .iter()
        .any(|t| matches!(targets::parse(t), Ok(Target::Email)));
    if !email {
        return Err(AppError::invalid(
            "segment_id",
            "segment_id: a segment selects newsletter recipients; add \"email\" to channels",
        ));
    }
    let seg = state.store.segment(id).await?.ok_or_else(|| {
        AppError::invalid(
            "segment_id",
            format!("segment_id: no segment {id} (GET /api/v2/segments lists them)"),
        )
    })?;
    Rule::parse(&seg.rule).map_err(|e| {
        AppError::invalid(
            "segment_id",
            format!("segment_id: the rule of {id} no longer parses: {e}"),
        )
    })?;
    Ok(SegmentRef {
        id: seg.id,
        name: seg.name,
        rule: seg.rule,
        intro: seg.intro,
        cta_text: seg.cta_text,
        cta_url: seg.cta_url,
    })
}
