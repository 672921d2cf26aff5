//! Personalization previews: the newsletter as one subscriber would get it, merge tags
//! filled and the segment's words in place.

use crate::core::Core;
use crate::error::{AppError, AppResult};
use crate::generation::{self, Request};
use chrono::Utc;
use halcytone_audience::merge::{Escape, apply, tags_in};
use halcytone_content::{Channel, Personalization};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
/// Whose newsletter to preview: a subscriber (or the first one in a segment), and how.
pub struct PreviewRequest {
    pub subscriber_id: Option<String>,
    pub segment_id: Option<String>,
    pub first_name_fallback: Option<String>,
    pub tone: Option<String>,
    pub template_style: Option<String>,
}

/// Today's newsletter as one subscriber of the CRM would get it: merge tags filled, the
/// segment's words in place, and the tags left unfilled named.
pub async fn preview(state: &Core, q: PreviewRequest) -> AppResult<Value> {
    let tone = crate::generation::parse_tone(q.tone.as_deref())?;
    let template = crate::generation::parse_template(q.template_style.as_deref())?;
    let fallback = q.first_name_fallback.unwrap_or_default();
    if fallback.chars().count() > 50 || fallback.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "first_name_fallback",
            "first_name_fallback: at most 50 characters on one line",
        ));
    }
    let segment = match generation::given_id(q.segment_id.as_deref()) {
        None => None,
        Some(id) => Some(crate::segments::load(state, id).await?),
    };
    let rule = segment
        .as_ref()
        .map(|s| crate::segments::parse_rule(&s.rule))
        .transpose()?;
    let everyone = crate::segments::crm_subscribers(state).await?;
    let today = Utc::now().date_naive();
    let in_segment = |v: &Value| {
        rule.as_ref().is_none_or(|r| {
            halcytone_audience::Subscriber::from_json(v).is_some_and(|s| r.matches(&s, today))
        })
    };
    let subscriber = match generation::given_id(q.subscriber_id.as_deref()) {
        Some(id) => everyone
            .iter()
            .find(|v| v.get("id").and_then(Value::as_str) == Some(id))
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "subscriber {id} is not among the CRM's active, opted-in subscribers"
                ))
            })?,
        None => everyone.iter().find(|v| in_segment(v)).ok_or_else(|| {
            AppError::NotFound("no active, opted-in subscriber is in this segment".into())
        })?,
    };
    let document = crate::documents::configured(state).await?;
    let now = generation::today();
    let req = Request {
        channels: vec![Channel::Email],
        tone,
        template,
        validate: false,
        personalization: Some(Personalization {
            first_name: true,
            intro: segment.as_ref().and_then(|s| s.intro.clone()),
            cta_text: segment.as_ref().and_then(|s| s.cta_text.clone()),
            cta_url: segment.as_ref().and_then(|s| s.cta_url.clone()),
        }),
        ..Request::default()
    };
    let bundle = generation::produce(state, &document, &req, now)
        .await?
        .bundle;
    let n = bundle.newsletter.ok_or_else(|| {
        AppError::invalid("document", "document: nothing in it is meant for email")
    })?;
    let vars = halcytone_publish::merge_vars(subscriber, &fallback);
    let html = apply(&n.html, &vars, Escape::Html);
    let text = apply(&n.text, &vars, Escape::Text);
    Ok(json!({
        "subscriber": {
            "id": subscriber.get("id"),
            "first_name": subscriber.get("first_name"),
            "in_segment": in_segment(subscriber),
        },
        "segment_id": segment.as_ref().map(|s| s.id.clone()),
        "merge_vars": { "FIRST_NAME": vars.get("FIRST_NAME") },
        "merge_tags_used": tags_in(&format!("{} {}", n.html, n.text)),
        "unfilled_tags": tags_in(&format!("{html} {text}")),
        "subject": apply(&n.subject, &vars, Escape::Text),
        "preview_text": apply(&n.preview_text, &vars, Escape::Text),
        "html_content": html,
        "text_content": text,
        "template": n.template,
        "tone": n.tone,
    }))
}
