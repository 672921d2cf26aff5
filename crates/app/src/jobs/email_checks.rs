//! The checks of the newsletter a job sends (HTML support across clients, images and alt
//! text, links, size, spam score: [`halcytone_mailcheck`]), for the job's page. The
//! newsletter is composed exactly as the worker composes it — the job's stored document, its
//! fixed reference time and options — so what is checked is what was (or will be) sent, up to
//! each reader's merge fields. Links are classified, not asked: no host is contacted here
//! (the mock CRM's checks of the captured mail resolve them in a dry run).

use crate::core::Core;
use crate::error::AppResult;
use crate::generation::{self, DocumentText};
use crate::jobs::spec::JobSpec;
use crate::targets::{self, Target};
use chrono::{TimeZone, Utc};
use halcytone_mailcheck::{Message, Report};
use halcytone_publish::DirectNewsletter;
use halcytone_store::Job;

/// The checks of the newsletter `job` sends, or `None` when it sends none (no email target,
/// a document no longer stored, a spec this version cannot read).
pub async fn email_checks(core: &Core, job: &Job) -> AppResult<Option<Report>> {
    let Ok(spec) = JobSpec::from_payload(&job.payload) else {
        return Ok(None);
    };
    if !spec
        .targets()
        .iter()
        .any(|t| targets::parse(t) == Ok(Target::Email))
    {
        return Ok(None);
    }
    let Some(doc) = core.store.document(&job.document_id).await? else {
        return Ok(None);
    };
    let (subject, html, text) = match spec {
        JobSpec::Newsletter(_) => match serde_json::from_str::<DirectNewsletter>(&doc.body) {
            Ok(n) => (n.subject, n.html, n.text),
            Err(_) => return Ok(None),
        },
        JobSpec::Publish(p) => {
            let as_of = Utc
                .timestamp_millis_opt(p.as_of_ms)
                .single()
                .unwrap_or_else(Utc::now);
            let text = DocumentText {
                label: doc.source.clone(),
                text: doc.body,
                format: p.format,
            };
            let request =
                crate::worker::compose_request(&p, vec![halcytone_content::Channel::Email], vec![]);
            let made = generation::produce(core, &text, &request, as_of).await?;
            match made.bundle.newsletter {
                Some(n) => (n.subject, n.html, n.text),
                None => return Ok(None),
            }
        }
    };
    let report = tokio::task::spawn_blocking(move || {
        halcytone_mailcheck::check(&Message {
            subject: Some(&subject),
            html: Some(&html),
            text: Some(&text),
            message_bytes: None,
            list_unsubscribe: None,
        })
    })
    .await
    .map_err(|e| crate::error::AppError::Internal(format!("checking the newsletter: {e}")))?;
    Ok(Some(report))
}
