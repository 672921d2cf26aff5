//! The dispatcher: claims the messages that are due, sends each, and records the attempt —
//! delivered; due again after the next wait of `WEBHOOK_RETRY_SECONDS`; or, when the schedule
//! is used up, given up, with the endpoint marked failing. Every replica may run one; the
//! store's leases keep a message with one of them at a time.

use super::send::Sender;
use super::{open_secret, reach, sign};
use crate::core::Core;
use halcytone_store::webhooks::{Attempt, WebhookDelivery};
use serde_json::json;
use std::time::Duration;
use tokio::sync::watch;

/// Messages one round sends at most (at once).
const ROUND: i64 = 16;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Runs until `stop` turns true: sends what is due, then waits to be woken (a message owed,
/// a redelivery) or for a second to pass.
pub fn spawn(core: Core, mut stop: watch::Receiver<bool>) -> Option<tokio::task::JoinHandle<()>> {
    let sender = match Sender::new(reach(&core), core.config.webhooks.timeout) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "webhooks will not be sent");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        // A claimed message stays with this dispatcher for longer than one attempt can take.
        let lease = (core.config.webhooks.timeout * 2 + Duration::from_secs(5)).as_millis() as i64;
        loop {
            if *stop.borrow() {
                return;
            }
            let due = match core
                .store
                .claim_webhook_deliveries(now_ms(), lease, ROUND)
                .await
            {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook dispatcher cannot read the store");
                    Vec::new()
                }
            };
            let full = due.len() as i64 == ROUND;
            futures_util::future::join_all(due.iter().map(|d| deliver(&core, &sender, d))).await;
            if full {
                continue;
            }
            tokio::select! {
                _ = core.webhooks_due.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => {}
            }
        }
    }))
}

/// One attempt at one message.
async fn deliver(core: &Core, sender: &Sender, d: &WebhookDelivery) {
    let store = core.store.as_ref();
    let endpoint = match store.webhook_endpoint(&d.endpoint_id).await {
        Ok(Some(e)) => e,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "webhook dispatcher cannot read an endpoint");
            return;
        }
    };
    let now = now_ms();
    let mut secrets = Vec::new();
    let mut problem = None;
    match open_secret(core, &endpoint.id, &endpoint.secret) {
        Ok(s) => secrets.push(s),
        Err(e) => problem = Some(e.to_string()),
    }
    if let (Some(old), Some(until)) = (&endpoint.previous_secret, endpoint.previous_until_ms)
        && until > now
        && let Ok(s) = open_secret(core, &endpoint.id, old)
    {
        secrets.push(s);
    }
    let timestamp = now / 1000;
    let refs: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let sent = match (
        problem,
        sign::header(&refs, &d.message_id, timestamp, &d.payload),
    ) {
        (None, Ok(signature)) => {
            sender
                .send(
                    &endpoint.url,
                    &d.message_id,
                    timestamp,
                    &signature,
                    &d.payload,
                )
                .await
        }
        (Some(p), _) => super::send::Sent {
            status: None,
            error: Some(p),
            ms: 0.0,
        },
        (None, Err(e)) => super::send::Sent {
            status: None,
            error: Some(e.to_string()),
            ms: 0.0,
        },
    };
    let attempt_no = d.attempts + 1;
    let waits = &core.config.webhooks.retry_after;
    let retry = usize::try_from(d.attempts)
        .ok()
        .and_then(|i| waits.get(i))
        .copied();
    let state = match (&sent.error, retry) {
        (None, _) => "delivered",
        (Some(_), Some(_)) => "pending",
        (Some(_), None) => "failed",
    };
    let next = now + retry.map_or(0, |w| w.as_millis() as i64);
    let entry = json!({
        "attempt": attempt_no,
        "at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "status": sent.status,
        "error": sent.error,
        "ms": sent.ms,
    });
    let attempt = Attempt {
        state,
        next_attempt_ms: next,
        status: sent.status.map(i64::from),
        error: sent.error.as_deref(),
        entry,
    };
    if let Err(e) = store
        .record_webhook_attempt(&d.endpoint_id, &d.message_id, &attempt, now_ms())
        .await
    {
        tracing::warn!(error = %e, "webhook attempt not recorded");
    }
    metrics::counter!("halcytone_webhook_attempts_total", "event" => d.event.clone(), "outcome" => state).increment(1);
    tracing::info!(
        event = "webhook_delivery",
        webhook_event = %d.event,
        endpoint = %d.endpoint_id,
        message_id = %d.message_id,
        attempt = attempt_no,
        status = sent.status,
        outcome = state,
        error = sent.error.as_deref().unwrap_or(""),
        "webhook attempt"
    );
    let health = match state {
        "delivered" if endpoint.failing => Some((false, None)),
        "failed" => Some((true, sent.error.as_deref())),
        _ => None,
    };
    if let Some((failing, error)) = health
        && let Err(e) = store
            .set_webhook_failing(&endpoint.id, failing, error, now_ms())
            .await
    {
        tracing::warn!(error = %e, "webhook endpoint health not recorded");
    }
}
