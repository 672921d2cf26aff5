//! A hand-written newsletter (`POST /api/v1/newsletter/send`): checked, cleared by the
//! approval rule, and sent as is through a newsletter job.

use crate::caller::Caller;
use crate::core::Core;
use crate::error::{AppError, AppResult};
use crate::generation::{self, DocumentText};
use crate::queue::{self, Submission};
use halcytone_publish::DirectNewsletter;
use halcytone_store::Job;
use serde::Deserialize;
use serde_json::{Map, Value, json};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
/// A hand-written newsletter to send (to subscribers, or once to a test address).
pub struct NewsletterRequest {
    #[schema(schema_with = crate::schema::line_200)]
    pub subject: String,
    #[schema(schema_with = crate::schema::some_text)]
    pub html_content: String,
    #[serde(default)]
    pub text_content: Option<String>,
    #[serde(default)]
    pub preview_text: Option<String>,
    #[serde(default)]
    pub test_mode: bool,
    /// Overrides the configured test address (test mode only).
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_email)]
    pub test_email: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::instant)]
    pub schedule_time: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::empty_object)]
    pub recipient_filter: Option<Map<String, Value>>,
    /// Send to subscribers while APPROVAL_REQUIRED is on (admin keys only; audited).
    #[serde(default)]
    pub force_publish: bool,
}

fn check(body: &NewsletterRequest) -> AppResult<()> {
    let subject = body.subject.trim();
    if subject.is_empty() || subject.chars().count() > 200 {
        return Err(AppError::invalid(
            "subject",
            "subject: must be 1 to 200 characters",
        ));
    }
    if body.html_content.trim().is_empty() {
        return Err(AppError::invalid(
            "html_content",
            "html_content: must not be empty",
        ));
    }
    if body
        .recipient_filter
        .as_ref()
        .is_some_and(|f| !f.is_empty())
    {
        return Err(AppError::invalid(
            "recipient_filter",
            "recipient_filter: segments are not available yet; send to every subscriber (no filter) or use test_mode",
        ));
    }
    if body.test_email.is_some() && !body.test_mode {
        return Err(AppError::invalid(
            "test_email",
            "test_email: only used with test_mode: true",
        ));
    }
    if let Some(e) = &body.test_email {
        let (local, domain) = e.split_once('@').unwrap_or(("", ""));
        if local.is_empty() || !domain.contains('.') || e.contains(char::is_whitespace) {
            return Err(AppError::invalid(
                "test_email",
                format!("test_email: '{e}' is not an email address"),
            ));
        }
    }
    Ok(())
}

/// Checks a hand-written newsletter, passes the approval rule (test sends, or an admin's
/// audited force), queues it as a newsletter job and waits for it within the request's time
/// budget unless it is scheduled. Answers with the job and the body the API shows.
pub async fn send_newsletter(
    state: &Core,
    caller: &Caller,
    body: NewsletterRequest,
) -> AppResult<(Job, Value)> {
    check(&body)?;
    // A hand-written newsletter has no living document to review: with approval required,
    // only a test send, or an admin's audited force_publish, goes out.
    if state.config.approval_required && !body.test_mode {
        if !body.force_publish {
            return Err(AppError::Conflict(
                "approval is required (APPROVAL_REQUIRED) and a hand-written newsletter is not reviewed here; send it in test_mode, publish reviewed content through /api/v2/content, or send force_publish with an admin key".into(),
            ));
        }
        if !caller.allows(halcytone_store::Scope::Admin) {
            return Err(AppError::MissingScope("admin (force_publish)"));
        }
        state
            .store
            .audit(
                &caller.key_id,
                "newsletter.force_publish",
                body.subject.trim(),
                "hand-written newsletter sent to subscribers without review",
                queue::now_ms(),
            )
            .await?;
    }
    let run_at = queue::schedule_time("schedule_time", body.schedule_time.as_deref())?;
    let to = body.test_mode.then(|| {
        vec![
            body.test_email
                .clone()
                .unwrap_or_else(|| state.config.test_email.clone()),
        ]
    });
    let text = body.text_content.clone().unwrap_or_default();
    let digest = halcytone_store::sha256_hex(&format!(
        "{}\u{0}{}\u{0}{}\u{0}{:?}",
        body.subject, body.html_content, text, to
    ));
    let newsletter = DirectNewsletter {
        subject: body.subject.trim().to_string(),
        html: body.html_content.clone(),
        text,
        preview_text: body.preview_text.clone(),
        to: to.clone(),
        version: digest,
    };
    let json_text =
        serde_json::to_string(&newsletter).map_err(|e| AppError::Internal(e.to_string()))?;
    let label = if body.test_mode {
        "newsletter:test"
    } else {
        "newsletter"
    };
    let job = queue::submit(
        state,
        Submission {
            label: label.into(),
            document: DocumentText {
                label: label.into(),
                text: json_text,
                format: None,
            },
            targets: vec!["email".into()],
            tone: None,
            template: None,
            run_at,
            correlation_id: halcytone_telemetry::correlation::current(),
            retry_of: None,
            as_of: generation::today(),
            batch_id: None,
            kind: Some("newsletter".into()),
            version: None,
            review: None,
            email: Default::default(),
        },
    )
    .await?;
    let scheduled = job.run_at_ms > queue::now_ms();
    let job = if scheduled {
        job
    } else {
        queue::wait_in_request(state, &job.id).await?
    };
    let status = queue::outcome_word(&job);
    let answer = json!({
        "status": status,
        "job_id": job.id,
        "test_mode": body.test_mode,
        "recipients": to.as_ref().map(|t| t.len()),
        "scheduled": scheduled,
        "scheduled_time": job.scheduled_ms.and_then(queue::iso),
        "errors": job.errors,
        "job": queue::job_json(&job),
    });
    Ok((job, answer))
}
