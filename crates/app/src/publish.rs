//! Publishing a document now, without a review step of its own: the generate route's
//! publish (`preview_only: false`) and a Halcytone Live session summary published at once.
//! Both pass the same gate (`review::gate_direct`: approval required, admin force, audit)
//! and queue one job the same way.

use crate::caller::Caller;
use crate::core::Core;
use crate::error::{AppError, AppResult};
use crate::generation::{self, DocumentText, Produced, Request};
use crate::queue::{self, Submission};
use chrono::{DateTime, Utc};
use halcytone_content::{Channel, EmailTemplate, Platform, Severity, Tone};
use halcytone_store::Job;

/// A document to publish now.
#[derive(Debug, Clone)]
pub struct DirectPublish {
    pub document: DocumentText,
    /// Target names as the job records them (`email`, `website`, `social_twitter`, …).
    pub targets: Vec<String>,
    pub tone: Option<Tone>,
    pub template: Option<EmailTemplate>,
    pub as_of: DateTime<Utc>,
    /// An admin's publish without approval when `APPROVAL_REQUIRED` is on (audited).
    pub force_publish: bool,
}

/// Passes the review gate and queues the job.
pub async fn direct(core: &Core, caller: Option<&Caller>, p: DirectPublish) -> AppResult<Job> {
    let cleared = crate::review::gate_direct(
        core,
        caller,
        &p.document,
        &p.targets,
        p.tone.map(Tone::as_str),
        p.template.map(EmailTemplate::as_str),
        p.as_of,
        p.force_publish,
    )
    .await?;
    queue::submit(
        core,
        Submission {
            label: p.document.label.clone(),
            document: p.document,
            targets: p.targets,
            tone: p.tone.map(|t| t.as_str().to_string()),
            template: p.template.map(|t| t.as_str().to_string()),
            run_at: None,
            correlation_id: halcytone_telemetry::correlation::current(),
            retry_of: None,
            as_of: p.as_of,
            batch_id: None,
            kind: None,
            version: None,
            review: Some(cleared),
            email: Default::default(),
        },
    )
    .await
}

/// What [`compose_and_publish`] made and queued.
#[derive(Debug)]
pub struct Published {
    pub made: Produced,
    /// The job as last seen within the request's time budget.
    pub job: Job,
}

/// The generate route's publish: composes and validates today's content, refuses content
/// with errors unless `force`, publishes it to the channels asked for, and waits for the job
/// within the request's time budget.
pub async fn compose_and_publish(
    core: &Core,
    caller: Option<&Caller>,
    document: DocumentText,
    req: &Request,
    force: bool,
    force_publish: bool,
) -> AppResult<Published> {
    let as_of = generation::today();
    let made = generation::produce(core, &document, req, as_of).await?;
    if let Some(r) = &made.report
        && r.has_errors()
        && !force
    {
        let first = r
            .issues
            .iter()
            .find(|i| i.severity == Severity::Error)
            .map(|i| i.message.clone())
            .unwrap_or_default();
        return Err(AppError::invalid(
            "document",
            format!(
                "validation found {} error(s), first: {first}; fix them or send \"force\": true",
                r.errors
            ),
        ));
    }
    let job = direct(
        core,
        caller,
        DirectPublish {
            document,
            targets: targets_of(req),
            tone: req.tone,
            template: req.template,
            as_of,
            force_publish,
        },
    )
    .await?;
    let job = queue::wait_in_request(core, &job.id).await?;
    Ok(Published { made, job })
}

/// The targets a generate request publishes to: every network as `social` when all are
/// asked for, else each by name.
pub fn targets_of(req: &Request) -> Vec<String> {
    let mut t = Vec::new();
    if req.channels.contains(&Channel::Email) {
        t.push("email".to_string());
    }
    if req.channels.contains(&Channel::Web) {
        t.push("website".to_string());
    }
    if req.channels.contains(&Channel::Social) {
        if req.platforms.len() == Platform::ALL.len() {
            t.push("social".to_string());
        } else {
            t.extend(
                req.platforms
                    .iter()
                    .map(|p| format!("social_{}", p.as_str())),
            );
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_follow_the_channels_and_networks_asked_for() {
        assert_eq!(
            targets_of(&Request::default()),
            ["email", "website", "social"]
        );
        let req = Request {
            channels: vec![Channel::Social],
            platforms: vec![Platform::Twitter, Platform::Linkedin],
            ..Request::default()
        };
        assert_eq!(targets_of(&req), ["social_twitter", "social_linkedin"]);
    }
}
