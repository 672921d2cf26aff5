//! The checks of every captured email (issue: sign-off in the inbox): HTML support across
//! clients, links, images and alt text, size against Gmail's clipping and a spam score, run
//! by [`halcytone_mailcheck`] with links resolved against the allowed hosts
//! ([`resolve::LinkResolver`]), kept with the capture ([`stored`]) and served at
//! `GET /api/v1/messages/{id}/checks`.
//!
//! Checks are never run on a capture's write path: a background task checks new captures
//! once sends have paused, newest first, and a page or request that needs a capture's checks
//! before then runs them at once.

pub mod resolve;
pub mod stored;

use crate::error::MockResult;
use crate::state::MockState;
use crate::store::{Record, StoreError};
use axum::Json;
use axum::extract::{Path, State};
use halcytone_mailcheck::{Message, Report};
pub use resolve::LinkResolver;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
pub use stored::Worst;

/// How often the background checker looks for new captures.
const TICK: Duration = Duration::from_secs(1);
/// Captures checked per round of the background checker.
const ROUND: i64 = 25;
/// Captures a list checks at once, at most, before answering.
pub const CHECKED_PER_LIST: usize = 50;

/// Runs the checks of the captured email `r`, its links resolved as the mock may.
pub async fn run(state: &MockState, r: &Record) -> Report {
    let req = &r.request;
    let smtp = req["transport"] == "smtp";
    let subject = r
        .subject
        .clone()
        .or_else(|| req["subject"].as_str().map(str::to_string));
    let html = req["html_content"].as_str().map(str::to_string);
    let text = req["text_content"].as_str().map(str::to_string);
    let message_bytes = req["size"].as_u64().and_then(|n| usize::try_from(n).ok());
    let list_unsubscribe = smtp.then(|| req["list_unsubscribe"].is_string());
    // The scan is CPU work over up to a few megabytes: off the async threads.
    let report = tokio::task::spawn_blocking(move || {
        halcytone_mailcheck::check(&Message {
            subject: subject.as_deref(),
            html: html.as_deref(),
            text: text.as_deref(),
            message_bytes,
            list_unsubscribe,
        })
    })
    .await;
    let mut report = match report {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, id = %r.id, "checking a captured email failed");
            halcytone_mailcheck::check(&Message::default())
        }
    };
    state.links.resolve(&mut report.links).await;
    report.settle();
    report
}

/// The checks of `r` as served: stored, or run and stored now.
pub async fn of(state: &MockState, r: &Record) -> Result<(Value, String), StoreError> {
    if let Some(s) = state.store.checks(r.seq).await? {
        return Ok((s.report, s.checked_at));
    }
    let (report, at) = check_and_keep(state, r).await?;
    Ok((serde_json::to_value(&report)?, at))
}

/// Runs the checks of `r` and keeps them; the report and when it was kept.
async fn check_and_keep(state: &MockState, r: &Record) -> Result<(Report, String), StoreError> {
    let report = run(state, r).await;
    let at = state.store.save_checks(r.seq, &report).await?;
    Ok((report, at))
}

/// The worst findings of the captures `seqs`, checking (at most [`CHECKED_PER_LIST`] of) those
/// not checked yet first.
pub async fn worst_of(state: &MockState, seqs: &[i64]) -> Result<HashMap<i64, Worst>, StoreError> {
    let missing = state.store.unchecked_among(seqs).await?;
    for r in missing.iter().take(CHECKED_PER_LIST) {
        check_and_keep(state, r).await?;
    }
    state.store.worst_findings(seqs).await
}

/// `GET /api/v1/messages/{id}/checks`.
pub async fn serve(
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> MockResult<Json<Value>> {
    let r = crate::messages::captured(&state, &id).await?;
    let (mut report, checked_at) = of(&state, &r).await?;
    if let Some(body) = report.as_object_mut() {
        body.insert("id".into(), json!(r.id));
        body.insert("checked_at".into(), json!(checked_at));
        body.insert("links_allowed".into(), json!(state.links.hosts()));
    }
    Ok(Json(report))
}

/// Checks new captures in the background once sends pause (no capture for a tick), newest
/// first, until the mock stops.
pub fn spawn_checker(state: &MockState) {
    let state = state.clone();
    tokio::spawn(async move {
        let mut seen = -1;
        let mut done_upto = -1;
        loop {
            tokio::time::sleep(TICK).await;
            if std::sync::Arc::strong_count(&state.counters) <= 1 {
                // Only this task still holds the state: the mock has stopped.
                return;
            }
            let latest = match state.store.latest_capture_seq(Some("email")).await {
                Ok(l) => l,
                Err(StoreError::Closed) => return,
                Err(_) => continue,
            };
            // Still sending: wait for a quiet tick.
            if latest != seen {
                seen = latest;
                continue;
            }
            if latest == done_upto {
                continue;
            }
            match state.store.unchecked_emails(ROUND).await {
                Ok(batch) if batch.is_empty() => done_upto = latest,
                Ok(batch) => {
                    for r in &batch {
                        if let Err(e) = check_and_keep(&state, r).await {
                            tracing::warn!(error = %e, "keeping the checks of a capture failed");
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "looking for captures to check failed"),
            }
        }
    });
}
