//! Outbound webhooks, after the Standard Webhooks specification: a team registers endpoints
//! for the events it wants (`job.completed`, `job.failed`, `review.requested`,
//! `send.finished`, `account.reconnect_needed`); each event becomes one message per endpoint
//! in the store, signed (`webhook-id`, `webhook-timestamp`, `webhook-signature`) and sent by
//! the dispatcher of any replica, retried with backoff across restarts, its attempts logged.
//! An endpoint that keeps failing is marked so; it never holds a job up.

pub mod dispatch;
pub mod send;
pub mod sign;

use crate::core::Core;
use crate::error::{AppError, AppResult, Found};
use chrono::{SecondsFormat, TimeZone, Utc};
use halcytone_store::webhooks::{WebhookDelivery, WebhookEndpoint};
use halcytone_vault::Secret;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The events an endpoint may ask for.
pub const EVENTS: [&str; 5] = [
    "job.completed",
    "job.failed",
    "review.requested",
    "send.finished",
    "account.reconnect_needed",
];

/// Endpoints one installation may register.
pub const MAX_ENDPOINTS: usize = 100;

/// How long a rotated-out secret keeps signing, so receivers can switch over.
pub const ROTATION_GRACE_MS: i64 = 24 * 60 * 60 * 1000;

/// What reaches where: the configured hosts, and dry run's narrower rule.
pub fn reach(core: &Core) -> send::Reach {
    send::Reach {
        allow_hosts: core.config.webhooks.allow_hosts.clone(),
        dry_run: core.publishing.settings.dry_run,
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn iso(ms: i64) -> Option<String> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// The name a secret is sealed under (its associated data).
fn sealed_name(id: &str) -> String {
    format!("webhook:{id}")
}

/// A secret as stored: sealed with `API_KEY_ENCRYPTION_KEY` when one is configured.
fn store_secret(core: &Core, id: &str, secret: &str) -> AppResult<String> {
    match core.credentials.keyring() {
        Some(k) => k
            .seal(&sealed_name(id), &Secret::new(secret))
            .map(|s| s.text)
            .map_err(|e| AppError::Internal(format!("sealing the webhook secret: {e}"))),
        None => Ok(secret.to_string()),
    }
}

/// A stored secret opened for signing.
pub(crate) fn open_secret(core: &Core, id: &str, stored: &str) -> AppResult<String> {
    if !stored.starts_with("hv1:") {
        return Ok(stored.to_string());
    }
    let keyring = core.credentials.keyring().ok_or_else(|| {
        AppError::Unavailable(format!(
            "the secret of webhook endpoint {id} is sealed, and API_KEY_ENCRYPTION_KEY is not set"
        ))
    })?;
    keyring
        .open(&sealed_name(id), stored)
        .map(|s| s.expose().to_string())
        .map_err(|e| AppError::Unavailable(format!("webhook endpoint {id}: {e}")))
}

/// An endpoint as the API shows it (never its secret).
pub fn endpoint_json(e: &WebhookEndpoint) -> Value {
    json!({
        "id": e.id,
        "url": e.url,
        "events": e.events,
        "description": e.description,
        "failing": e.failing,
        "last_error": e.last_error,
        "previous_secret_until": e.previous_until_ms.and_then(iso),
        "created_at": iso(e.created_ms),
        "updated_at": iso(e.updated_ms),
    })
}

/// A delivery as its log shows it.
pub fn delivery_json(d: &WebhookDelivery) -> Value {
    json!({
        "message_id": d.message_id,
        "endpoint_id": d.endpoint_id,
        "event": d.event,
        "state": d.state,
        "attempts": d.attempts,
        "next_attempt_at": (d.state == "pending").then(|| iso(d.next_attempt_ms)).flatten(),
        "last_status": d.last_status,
        "last_error": d.last_error,
        "attempt_log": d.attempt_log,
        "payload": serde_json::from_str::<Value>(&d.payload).unwrap_or(Value::Null),
        "created_at": iso(d.created_ms),
        "updated_at": iso(d.updated_ms),
    })
}

/// A new endpoint: where, and which events.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

/// Registers an endpoint; returns it and its secret, which is shown this once.
pub async fn register(core: &Core, new: NewEndpoint) -> AppResult<(WebhookEndpoint, String)> {
    if new.events.is_empty() {
        return Err(AppError::invalid(
            "events",
            format!("events: name at least one of {}", EVENTS.join(", ")),
        ));
    }
    let mut events: Vec<String> = Vec::new();
    for (i, e) in new.events.iter().enumerate() {
        let e = e.trim();
        if !EVENTS.contains(&e) {
            return Err(AppError::invalid(
                format!("events[{i}]"),
                format!("events[{i}]: '{e}' is not one of {}", EVENTS.join(", ")),
            ));
        }
        if !events.iter().any(|x| x == e) {
            events.push(e.to_string());
        }
    }
    if let Some(d) = &new.description
        && d.chars().count() > 200
    {
        return Err(AppError::invalid(
            "description",
            "description: at most 200 characters",
        ));
    }
    if new.url.len() > 2048 {
        return Err(AppError::invalid("url", "url: at most 2048 characters"));
    }
    let url = reach(core)
        .check(&new.url)
        .await
        .map_err(|e| AppError::invalid("url", format!("url: {e}")))?;
    if core.store.webhook_endpoints().await?.len() >= MAX_ENDPOINTS {
        return Err(AppError::Conflict(format!(
            "at most {MAX_ENDPOINTS} webhook endpoints; delete one first"
        )));
    }
    let id = format!("ep_{}", &uuid::Uuid::new_v4().simple().to_string()[..20]);
    let secret = sign::new_secret();
    let now = now_ms();
    let endpoint = WebhookEndpoint {
        secret: store_secret(core, &id, &secret)?,
        id,
        url: url.to_string(),
        events,
        description: new.description.filter(|d| !d.trim().is_empty()),
        previous_secret: None,
        previous_until_ms: None,
        failing: false,
        last_error: None,
        created_ms: now,
        updated_ms: now,
    };
    core.store.create_webhook_endpoint(&endpoint).await?;
    tracing::info!(event = "webhook_endpoint_registered", endpoint = %endpoint.id, url = %endpoint.url, "webhook endpoint registered");
    Ok((endpoint, secret))
}

pub async fn endpoints(core: &Core) -> AppResult<Vec<WebhookEndpoint>> {
    Ok(core.store.webhook_endpoints().await?)
}

pub async fn endpoint(core: &Core, id: &str) -> AppResult<WebhookEndpoint> {
    core.store
        .webhook_endpoint(id)
        .await?
        .found("webhook endpoint", id)
}

pub async fn delete(core: &Core, id: &str) -> AppResult<()> {
    if !core.store.delete_webhook_endpoint(id).await? {
        return Err(AppError::not_found("webhook endpoint", id));
    }
    Ok(())
}

/// Gives an endpoint a new secret; the old one keeps signing for a day (both signatures are
/// sent), so a receiver can switch without missing a message. Returns the new secret.
pub async fn rotate(core: &Core, id: &str) -> AppResult<(WebhookEndpoint, String)> {
    endpoint(core, id).await?;
    let secret = sign::new_secret();
    let now = now_ms();
    core.store
        .rotate_webhook_secret(
            id,
            &store_secret(core, id, &secret)?,
            now + ROTATION_GRACE_MS,
            now,
        )
        .await?;
    Ok((endpoint(core, id).await?, secret))
}

/// An endpoint's deliveries, newest first, with the total.
pub async fn deliveries(
    core: &Core,
    id: &str,
    limit: i64,
    offset: i64,
) -> AppResult<(Vec<WebhookDelivery>, i64)> {
    endpoint(core, id).await?;
    Ok(core.store.webhook_deliveries(id, limit, offset).await?)
}

/// Sends a delivery again (whatever became of it), its log kept.
pub async fn redeliver(core: &Core, id: &str, message_id: &str) -> AppResult<WebhookDelivery> {
    endpoint(core, id).await?;
    if !core
        .store
        .redeliver_webhook(id, message_id, now_ms())
        .await?
    {
        return Err(AppError::not_found("webhook delivery", message_id));
    }
    core.webhooks_due.notify_one();
    core.store
        .webhook_delivery(id, message_id)
        .await?
        .found("webhook delivery", message_id)
}

/// The message id of an event about `subject`: the same event about the same subject always
/// gets the same id, so telling it twice (two replicas, a retried run) owes nothing new.
pub fn message_id(event: &str, subject: &str) -> String {
    let digest = Sha256::digest(format!("{event}\n{subject}").as_bytes());
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("msg_{hex}")
}

/// Owes `event` about `subject` to every endpoint that asked for it. Problems are logged, not
/// returned: a webhook never holds the work it reports on.
pub async fn emit(core: &Core, event: &str, subject: &str, data: Value) {
    if let Err(e) = try_emit(core, event, subject, data).await {
        tracing::warn!(event, subject, error = %e, "webhook event not recorded");
    }
}

async fn try_emit(core: &Core, event: &str, subject: &str, data: Value) -> AppResult<()> {
    if owe(core.store.as_ref(), event, subject, data).await? > 0 {
        core.webhooks_due.notify_one();
    }
    Ok(())
}

/// Owes `event` about `subject` to every endpoint that asked for it, through `store` alone
/// (for parts that hold no [`Core`]); a dispatcher finds it within a second. Returns how many
/// endpoints are owed it now.
pub async fn owe(
    store: &dyn halcytone_store::Store,
    event: &str,
    subject: &str,
    data: Value,
) -> AppResult<u64> {
    let ids: Vec<String> = store
        .webhook_endpoints()
        .await?
        .into_iter()
        .filter(|e| e.events.iter().any(|x| x == event))
        .map(|e| e.id)
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let now = now_ms();
    let payload = json!({
        "type": event,
        "timestamp": iso(now),
        "data": data,
    })
    .to_string();
    let id = message_id(event, subject);
    let owed = store
        .owe_webhook_message(&ids, &id, event, &payload, now)
        .await?;
    if owed > 0 {
        tracing::info!(event = "webhook_owed", webhook_event = event, message_id = %id, endpoints = owed, "webhook message owed");
    }
    Ok(owed)
}

/// The events a finished job makes: `job.completed` or `job.failed`, and `send.finished` for
/// a job that sent email, with its recipients as the ledger counts them.
pub async fn job_finished(core: &Core, job: &halcytone_store::Job) {
    use halcytone_store::JobStatus;
    let event = match job.status {
        JobStatus::Completed | JobStatus::Partial => "job.completed",
        JobStatus::Failed => "job.failed",
        _ => return,
    };
    let detail = match crate::sends::detail_of(core, job).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(job = %job.id, error = %e, "webhook: cannot read the finished job");
            return;
        }
    };
    emit(core, event, &job.id, detail.clone()).await;
    if job.channels.iter().any(|c| c.starts_with("email")) {
        let data = json!({
            "job_id": job.id,
            "status": job.status,
            "recipients": detail.get("recipients"),
            "email": job.results.get("email"),
            "dry_run": core.publishing.settings.dry_run,
        });
        emit(core, "send.finished", &job.id, data).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_about_a_subject_has_one_message_id() {
        let a = message_id("job.completed", "job_1");
        assert_eq!(a, message_id("job.completed", "job_1"));
        assert_ne!(a, message_id("job.failed", "job_1"));
        assert_ne!(a, message_id("job.completed", "job_2"));
        assert!(a.starts_with("msg_") && a.len() == 28, "{a}");
    }
}
