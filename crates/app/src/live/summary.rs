//! A Halcytone Live session's summary: the session record composed into the channels asked
//! for, validated, and — when asked, with a key that may write — published at once.

use crate::caller::Caller;
use crate::core::Core;
use crate::error::{AppError, AppResult};
use crate::generation::{self, Request};
use crate::live::hub::now_iso;
use crate::queue::job_json;
use halcytone_content::{Channel, session};
use halcytone_store::Scope;
use serde_json::{Value, json};

/// Publish the summary now, as this caller.
#[derive(Debug, Clone)]
pub struct Publish {
    pub caller: Option<Caller>,
    /// An admin's publish without approval when `APPROVAL_REQUIRED` is on (audited).
    pub force: bool,
}

/// Composes and validates the summary of `record` (whose JSON is `text`) for `channels`,
/// and publishes it when `publish` says so and validation found no error.
pub async fn summarize(
    state: &Core,
    record: &session::SessionInput,
    text: &str,
    channels: Vec<Channel>,
    publish: Option<Publish>,
) -> AppResult<Value> {
    let doc = session::to_document(record);
    let as_of = generation::today();
    let req = Request {
        channels: channels.clone(),
        ..Request::default()
    };
    let (bundle, report) = generation::compose_parsed(state, doc.into(), &req, as_of).await?;
    let content = generation::content_json(&bundle, true);
    let content_id = format!(
        "session_{}",
        &halcytone_store::sha256_hex(&format!("{text}{channels:?}"))[..16]
    );
    let (errors, warnings): (Vec<_>, Vec<_>) = report
        .map(|r| r.issues)
        .unwrap_or_default()
        .into_iter()
        .partition(|i| i.severity == halcytone_content::Severity::Error);
    let mut published_to = Vec::new();
    let mut job = Value::Null;
    if let Some(Publish { caller, force }) = publish {
        crate::caller::require(caller.as_ref(), Scope::Write)?;
        if !errors.is_empty() {
            return Err(AppError::invalid(
                "body",
                format!(
                    "the summary fails validation ({}); it is not published",
                    errors[0].message
                ),
            ));
        }
        let targets: Vec<String> = channels
            .iter()
            .flat_map(|c| match c {
                Channel::Email => vec!["email"],
                Channel::Web => vec!["website"],
                Channel::Social => vec!["social_twitter", "social_linkedin", "social_facebook"],
            })
            .map(String::from)
            .collect();
        let j = crate::publish::direct(
            state,
            caller.as_ref(),
            crate::publish::DirectPublish {
                document: generation::DocumentText {
                    label: format!("live:{}", record.session_id),
                    text: text.to_string(),
                    format: Some(halcytone_content::SourceFormat::Json),
                },
                targets: targets.clone(),
                tone: None,
                template: Some(halcytone_content::EmailTemplate::Breathscape),
                as_of,
                force_publish: force,
            },
        )
        .await?;
        published_to = targets;
        job = job_json(&j);
    }
    Ok(json!({
        "status": if errors.is_empty() { "success" } else { "validation_failed" },
        "content_id": content_id,
        "validation_result": {
            "is_valid": errors.is_empty(),
            "content_type": "session",
            "enhanced_metadata": {
                "session_id": record.session_id,
                "session_type": record.session_type,
                "quality_score": session::quality_score(record.average_hrv_improvement),
                "featured": record.average_hrv_improvement.is_some_and(|h| h > 15.0),
                "priority": if matches!(record.session_type, session::SessionType::Live | session::SessionType::Workshop) { "high" } else { "normal" },
                "generated_at": now_iso(),
            },
        },
        "published_to": published_to,
        "failed_channels": [],
        "newsletter": content["newsletter"],
        "web_update": content["web_update"],
        "social_posts": content["social_posts"],
        "errors": errors.iter().map(|i| &i.message).collect::<Vec<_>>(),
        "warnings": warnings.iter().map(|i| &i.message).collect::<Vec<_>>(),
        "job": job,
        "generated_at": now_iso(),
    }))
}
