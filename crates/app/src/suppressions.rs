//! The suppression list (addresses no send reaches again) and the intake of provider events
//! that fill it: a hard bounce or a complaint suppresses the address and marks the message in
//! the delivery ledger; a soft bounce is kept as an event only. Events come in two shapes —
//! a generic JSON one and Amazon SES notifications delivered by SNS — and each is taken in
//! once, by its id.

use crate::audiences::parse_email;
use crate::error::{AppError, AppResult};
use halcytone_store::Store;
use halcytone_store::ledger::DeliveryState;
use halcytone_store::suppressions::{EmailEvent, NewSuppression, Suppression, SuppressionReason};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::io::AsyncRead;

/// Addresses written to the store at a time by an import.
const CHUNK_ROWS: usize = 1_000;
/// Events one request may carry.
pub const MAX_EVENTS: usize = 1_000;

/// One page of the list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SuppressionPage {
    #[schema(value_type = Vec<Object>)]
    pub suppressions: Vec<Suppression>,
    /// Every suppressed address (of the reason asked for, if any).
    pub total: i64,
    /// Pass as `after` for the next page; absent on the last one.
    pub next_after: Option<String>,
}

/// `POST /api/v2/suppressions`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressRequest {
    #[schema(schema_with = crate::schema::email)]
    pub email: String,
    /// bounce, complaint, unsubscribe or manual (the default).
    #[schema(schema_with = crate::schema::suppression_reason)]
    pub reason: Option<String>,
    /// A note kept with the address (at most 500 characters).
    #[schema(schema_with = crate::schema::optional_text_500)]
    pub detail: Option<String>,
}

/// A reason written exactly as one of its names; none means `manual`.
fn exact_reason(raw: Option<&str>, field: &str) -> AppResult<SuppressionReason> {
    match raw {
        None => Ok(SuppressionReason::Manual),
        Some(r) => SuppressionReason::parse(r).ok_or_else(|| {
            AppError::invalid(
                field,
                format!("{field}: '{r}' is not one of bounce, complaint, unsubscribe, manual"),
            )
        }),
    }
}

/// A reason as people write it in a file or a query: any case, spaces around, empty for none.
fn reason(raw: Option<&str>, field: &str) -> AppResult<SuppressionReason> {
    let written = raw
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_ascii_lowercase);
    exact_reason(written.as_deref(), field)
}

/// The `reason` filter of a listing, written exactly as one of the names.
pub fn parse_reason(raw: Option<&str>) -> AppResult<Option<SuppressionReason>> {
    raw.map(|r| exact_reason(Some(r), "reason")).transpose()
}

pub async fn list(
    store: &dyn Store,
    reason: Option<SuppressionReason>,
    after: Option<&str>,
    limit: i64,
) -> AppResult<SuppressionPage> {
    let limit = limit.clamp(1, 1_000);
    let suppressions = store.suppressions(reason, after, limit).await?;
    let next_after = (suppressions.len() as i64 == limit)
        .then(|| suppressions.last().map(|s| s.email.clone()))
        .flatten();
    Ok(SuppressionPage {
        total: store.suppression_count(reason).await?,
        suppressions,
        next_after,
    })
}

/// Adds one address; answers it as stored and whether it was new.
pub async fn add(
    store: &dyn Store,
    body: &SuppressRequest,
    now_ms: i64,
) -> AppResult<(Suppression, bool)> {
    let email = parse_email(&body.email)
        .map_err(|why| AppError::invalid("email", format!("email: {why}")))?;
    let reason = exact_reason(body.reason.as_deref(), "reason")?;
    if body
        .detail
        .as_ref()
        .is_some_and(|d| d.chars().count() > 500)
    {
        return Err(AppError::invalid(
            "detail",
            "detail: at most 500 characters",
        ));
    }
    let added = store
        .suppress(
            &[NewSuppression {
                email: &email,
                reason,
                source: Some("api"),
                detail: body.detail.as_deref(),
            }],
            now_ms,
        )
        .await?;
    let stored = store
        .suppression(&email)
        .await?
        .ok_or_else(|| AppError::Internal("a suppression just written is not there".into()))?;
    Ok((stored, added > 0))
}

pub async fn get(store: &dyn Store, email: &str) -> AppResult<Suppression> {
    store
        .suppression(email)
        .await?
        .ok_or_else(|| AppError::not_found("suppressed address", email))
}

pub async fn remove(store: &dyn Store, email: &str) -> AppResult<()> {
    if store.unsuppress(email).await? {
        Ok(())
    } else {
        Err(AppError::not_found("suppressed address", email))
    }
}

/// What an import did.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct SuppressionImport {
    pub rows: u64,
    /// Addresses newly suppressed.
    pub added: u64,
    /// Addresses that were suppressed already.
    pub already: u64,
    pub refused: u64,
    /// The first 20 refused rows: `line: reason`.
    pub refusals: Vec<String>,
}

/// Imports a CSV (`email` column, optional `reason` and `detail`) or a plain list of
/// addresses (one a line, no header), a chunk of rows at a time.
pub async fn import<R>(store: &dyn Store, reader: R, now_ms: i64) -> AppResult<SuppressionImport>
where
    R: AsyncRead + Unpin + Send,
{
    let mut csv = csv_async::AsyncReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .create_reader(reader);
    let mut record = csv_async::StringRecord::new();
    let mut report = SuppressionImport::default();
    let mut columns: Option<(usize, Option<usize>, Option<usize>)> = None;
    let mut chunk: Vec<(String, SuppressionReason, Option<String>)> = Vec::new();
    let mut first = true;
    let mut saw_at = false;
    loop {
        let more = csv
            .read_record(&mut record)
            .await
            .map_err(|e| AppError::invalid("body", format!("body: reading stopped: {e}")))?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, csv_async::Position::line);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        saw_at |= record.iter().any(|f| f.contains('@'));
        if first {
            first = false;
            let names: Vec<String> = record.iter().map(|f| f.trim().to_lowercase()).collect();
            if let Some(email) = names.iter().position(|n| n == "email") {
                let at = |name: &str| names.iter().position(|n| n == name);
                columns = Some((email, at("reason"), at("detail")));
                continue;
            }
        }
        report.rows += 1;
        let (email_at, reason_at, detail_at) = columns.unwrap_or((0, None, None));
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).map(str::trim);
        let parsed = parse_email(cell(Some(email_at)).unwrap_or_default())
            .map_err(|why| why.to_string())
            .and_then(|email| {
                reason(cell(reason_at), "reason")
                    .map(|r| (email, r))
                    .map_err(|e| e.to_string())
            });
        match parsed {
            Ok((email, r)) => {
                let detail = cell(detail_at)
                    .filter(|d| !d.is_empty())
                    .map(|d| d.chars().take(500).collect::<String>());
                chunk.push((email, r, detail));
            }
            Err(why) => {
                report.refused += 1;
                if report.refusals.len() < 20 {
                    report.refusals.push(format!("line {line}: {why}"));
                }
            }
        }
        if chunk.len() >= CHUNK_ROWS {
            write_chunk(store, &mut chunk, &mut report, now_ms).await?;
        }
    }
    write_chunk(store, &mut chunk, &mut report, now_ms).await?;
    if !saw_at {
        // Not one @ in it: the wrong file (or none), not a list with typos.
        return Err(AppError::invalid(
            "body",
            "body: the file holds no address (no @ anywhere in it)",
        ));
    }
    if report.rows > 0 && report.refused == report.rows {
        // Every line refused: the wrong file, not a list with a few typos. Nothing was written.
        return Err(AppError::invalid(
            "body",
            format!(
                "body: no line holds an address ({} refused; {})",
                report.refused,
                report.refusals.first().map_or("", String::as_str)
            ),
        ));
    }
    Ok(report)
}

async fn write_chunk(
    store: &dyn Store,
    chunk: &mut Vec<(String, SuppressionReason, Option<String>)>,
    report: &mut SuppressionImport,
    now_ms: i64,
) -> AppResult<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    let list: Vec<NewSuppression<'_>> = chunk
        .iter()
        .map(|(email, reason, detail)| NewSuppression {
            email,
            reason: *reason,
            source: Some("import"),
            detail: detail.as_deref(),
        })
        .collect();
    let added = store.suppress(&list, now_ms).await?;
    report.added += added;
    report.already += chunk.len() as u64 - added;
    chunk.clear();
    Ok(())
}

/// One provider event, whichever shape it came in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    pub id: String,
    pub kind: EventKind,
    pub email: String,
    /// The Message-ID of the message it is about, with its angle brackets.
    pub message_id: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A permanent bounce: suppress, mark the message `bounced`.
    Bounce,
    /// A temporary one: kept as an event only.
    SoftBounce,
    /// Marked as spam: suppress, mark the message `complained`.
    Complaint,
    /// Unsubscribed at the provider: suppress.
    Unsubscribe,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Bounce => "bounce",
            EventKind::SoftBounce => "soft_bounce",
            EventKind::Complaint => "complaint",
            EventKind::Unsubscribe => "unsubscribe",
        }
    }
}

/// What an intake did.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct EventsReport {
    pub received: usize,
    /// Events taken in for the first time.
    pub accepted: usize,
    /// Events whose id was taken in before (a provider's redelivery): nothing changed.
    pub duplicates: usize,
    /// Addresses newly put on the suppression list.
    pub suppressed: usize,
    /// Ledger rows marked bounced or complained.
    pub marked: u64,
    /// Events that could not be read, `index: reason`.
    pub refused: Vec<String>,
    /// A note for the operator (an SNS subscription to confirm).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `<id@host>` whether or not the provider kept the brackets.
fn bracketed(id: &str) -> String {
    let bare = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{bare}>")
}

/// A stable id for an event that brings none.
fn derived_id(parts: &[&str]) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    format!(
        "evt_{}",
        d.iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

/// One event of the generic shape, as the API documents it (the reader is lenient: see
/// [`generic_events`]).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GenericEvent {
    /// bounce, soft_bounce, complaint or unsubscribe.
    #[serde(rename = "type")]
    pub kind: String,
    pub email: String,
    /// The Message-ID of the message it is about (with or without angle brackets).
    pub message_id: Option<String>,
    /// hard (the default) or soft.
    pub bounce_type: Option<String>,
    pub reason: Option<String>,
    /// The provider's event id: an event is taken in once by it.
    pub id: Option<String>,
}

/// `POST /api/v2/email-events`: `{events: [...]}` (one event, or an array, is also read).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EventsBody {
    pub events: Vec<GenericEvent>,
}

/// An SNS message as SNS posts it (the fields read).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[allow(non_snake_case)]
pub struct SnsMessage {
    /// Notification or SubscriptionConfirmation.
    pub Type: String,
    pub MessageId: Option<String>,
    /// The SES notification, as a JSON string.
    pub Message: Option<String>,
    pub SubscribeURL: Option<String>,
}

/// Reads the generic shape: one event object, an array, or `{"events": [...]}`; each
/// `{type: bounce|soft_bounce|complaint|unsubscribe, email, message_id?, bounce_type?:
/// hard|soft, reason?, id?}`.
pub fn generic_events(body: &Value) -> AppResult<Vec<Result<ProviderEvent, String>>> {
    let list: Vec<&Value> = match body {
        Value::Array(items) => items.iter().collect(),
        Value::Object(o) => match o.get("events") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(_) => return Err(AppError::invalid("events", "events: must be an array")),
            None => vec![body],
        },
        _ => {
            return Err(AppError::invalid(
                "body",
                "body: an event object, an array of them, or {\"events\": [...]}",
            ));
        }
    };
    if list.len() > MAX_EVENTS {
        return Err(AppError::invalid(
            "events",
            format!("events: at most {MAX_EVENTS} in one request"),
        ));
    }
    Ok(list.into_iter().map(generic_event).collect())
}

fn generic_event(v: &Value) -> Result<ProviderEvent, String> {
    let kind_text = text(v, "type")
        .or_else(|| text(v, "event"))
        .ok_or("type: required (bounce, soft_bounce, complaint, unsubscribe)")?
        .to_ascii_lowercase();
    let hard = !matches!(
        text(v, "bounce_type")
            .map(|t| t.to_ascii_lowercase())
            .as_deref(),
        Some("soft" | "transient" | "temporary")
    );
    let kind = match kind_text.as_str() {
        "bounce" | "bounced" | "hard_bounce" if hard => EventKind::Bounce,
        "bounce" | "bounced" | "soft_bounce" | "deferred" => EventKind::SoftBounce,
        "complaint" | "spam" | "spamreport" => EventKind::Complaint,
        "unsubscribe" | "unsubscribed" => EventKind::Unsubscribe,
        other => {
            return Err(format!(
                "type: '{other}' is not bounce, soft_bounce, complaint or unsubscribe"
            ));
        }
    };
    let email = parse_email(&text(v, "email").ok_or("email: required")?)
        .map_err(|why| format!("email: {why}"))?;
    let message_id = text(v, "message_id").map(|m| bracketed(&m));
    let detail = text(v, "reason").map(|r| r.chars().take(500).collect());
    let id = text(v, "id").unwrap_or_else(|| {
        derived_id(&[
            kind.as_str(),
            &email,
            message_id.as_deref().unwrap_or(""),
            &v.get("timestamp").map(Value::to_string).unwrap_or_default(),
        ])
    });
    Ok(ProviderEvent {
        id: id.chars().take(200).collect(),
        kind,
        email,
        message_id,
        detail,
    })
}

/// What an SNS delivery holds.
#[derive(Debug)]
pub enum Sns {
    /// A subscription to confirm (its SubscribeURL, for the operator to open).
    Confirm(String),
    Events(Vec<Result<ProviderEvent, String>>),
}

/// Reads an SNS message carrying an SES notification (Bounce or Complaint; the
/// `notificationType` or `eventType` form). Each recipient is one event.
pub fn sns_events(body: &Value) -> AppResult<Sns> {
    let kind = text(body, "Type").unwrap_or_default();
    if kind == "SubscriptionConfirmation" {
        return Ok(Sns::Confirm(text(body, "SubscribeURL").unwrap_or_default()));
    }
    if kind != "Notification" {
        return Err(AppError::invalid(
            "Type",
            "Type: an SNS Notification or SubscriptionConfirmation",
        ));
    }
    let sns_id = text(body, "MessageId").unwrap_or_default();
    let raw =
        text(body, "Message").ok_or_else(|| AppError::invalid("Message", "Message: required"))?;
    let msg: Value = serde_json::from_str(&raw)
        .map_err(|e| AppError::invalid("Message", format!("Message: not JSON: {e}")))?;
    let ses_kind = text(&msg, "notificationType")
        .or_else(|| text(&msg, "eventType"))
        .unwrap_or_default();
    let mail = msg.get("mail").cloned().unwrap_or(Value::Null);
    let message_id = mail
        .get("headers")
        .and_then(Value::as_array)
        .and_then(|h| {
            h.iter()
                .find(|x| text(x, "name").is_some_and(|n| n.eq_ignore_ascii_case("message-id")))
        })
        .and_then(|x| text(x, "value"))
        .map(|m| bracketed(&m));
    let (kind, list_key, section) = match ses_kind.as_str() {
        "Bounce" => {
            let b = msg.get("bounce").cloned().unwrap_or(Value::Null);
            let kind = if text(&b, "bounceType").as_deref() == Some("Permanent") {
                EventKind::Bounce
            } else {
                EventKind::SoftBounce
            };
            (kind, "bouncedRecipients", b)
        }
        "Complaint" => (
            EventKind::Complaint,
            "complainedRecipients",
            msg.get("complaint").cloned().unwrap_or(Value::Null),
        ),
        other => {
            return Err(AppError::invalid(
                "Message",
                format!("Message: notificationType '{other}' is not Bounce or Complaint"),
            ));
        }
    };
    let recipients = section
        .get(list_key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if recipients.len() > MAX_EVENTS {
        return Err(AppError::invalid(
            "Message",
            format!("Message: at most {MAX_EVENTS} recipients"),
        ));
    }
    Ok(Sns::Events(
        recipients
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let email = parse_email(&text(r, "emailAddress").ok_or("emailAddress: required")?)
                    .map_err(|why| format!("emailAddress: {why}"))?;
                Ok(ProviderEvent {
                    id: format!("sns:{sns_id}:{i}").chars().take(200).collect(),
                    kind,
                    email,
                    message_id: message_id.clone(),
                    detail: text(r, "diagnosticCode")
                        .or_else(|| text(&section, "complaintFeedbackType"))
                        .map(|d| d.chars().take(500).collect()),
                })
            })
            .collect(),
    ))
}

/// Takes events in: each new one is kept, and a bounce, complaint or unsubscribe suppresses
/// its address and marks its message in the ledger.
pub async fn take_in(
    store: &dyn Store,
    metrics: &crate::metrics::AppMetrics,
    events: Vec<Result<ProviderEvent, String>>,
    now_ms: i64,
) -> AppResult<EventsReport> {
    let mut report = EventsReport {
        received: events.len(),
        ..EventsReport::default()
    };
    for (i, e) in events.into_iter().enumerate() {
        let e = match e {
            Ok(e) => e,
            Err(why) => {
                report.refused.push(format!("{i}: {why}"));
                continue;
            }
        };
        let new = store
            .record_email_event(
                &EmailEvent {
                    id: &e.id,
                    kind: e.kind.as_str(),
                    email: &e.email,
                    message_id: e.message_id.as_deref(),
                    detail: e.detail.as_deref(),
                },
                now_ms,
            )
            .await?;
        if !new {
            report.duplicates += 1;
            continue;
        }
        report.accepted += 1;
        let (reason, state) = match e.kind {
            EventKind::SoftBounce => continue,
            EventKind::Bounce => (SuppressionReason::Bounce, Some(DeliveryState::Bounced)),
            EventKind::Complaint => (
                SuppressionReason::Complaint,
                Some(DeliveryState::Complained),
            ),
            EventKind::Unsubscribe => (SuppressionReason::Unsubscribe, None),
        };
        let source = format!("event:{}", e.id);
        report.suppressed += store
            .suppress(
                &[NewSuppression {
                    email: &e.email,
                    reason,
                    source: Some(&source),
                    detail: e.detail.as_deref(),
                }],
                now_ms,
            )
            .await? as usize;
        if let (Some(state), Some(mid)) = (state, &e.message_id) {
            let why = e.detail.as_deref().unwrap_or(e.kind.as_str());
            let marked = store
                .mark_delivery(mid, &e.email, state, why, now_ms)
                .await?;
            // A sent message that came back: counted by how it ended, like a send counts it.
            for _ in 0..marked {
                metrics.recipient(state.as_str());
            }
            report.marked += marked;
        }
        tracing::info!(event = "email_event", kind = e.kind.as_str(), id = %e.id, "provider event taken in");
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn the_generic_shape_reads_hard_and_soft_bounces_and_complaints() {
        let body = json!({"events": [
            {"type": "bounce", "email": "Ana@Example.com", "message_id": "abc@x", "id": "e1"},
            {"type": "bounce", "bounce_type": "soft", "email": "bob@example.com"},
            {"type": "complaint", "email": "cy@example.com"},
            {"type": "opened", "email": "dee@example.com"},
            {"type": "bounce", "email": "not an address"},
        ]});
        let got = generic_events(&body).unwrap();
        let e0 = got[0].as_ref().unwrap();
        assert_eq!(
            (e0.kind, e0.email.as_str()),
            (EventKind::Bounce, "ana@example.com")
        );
        assert_eq!(e0.message_id.as_deref(), Some("<abc@x>"));
        assert_eq!(e0.id, "e1");
        assert_eq!(got[1].as_ref().unwrap().kind, EventKind::SoftBounce);
        assert!(got[1].as_ref().unwrap().id.starts_with("evt_"));
        assert_eq!(got[2].as_ref().unwrap().kind, EventKind::Complaint);
        assert!(got[3].as_ref().unwrap_err().contains("opened"));
        assert!(got[4].as_ref().unwrap_err().starts_with("email:"));
        assert!(generic_events(&json!("x")).is_err());
    }

    #[test]
    fn an_ses_bounce_through_sns_is_one_event_per_recipient() {
        let ses = json!({
            "notificationType": "Bounce",
            "bounce": {"bounceType": "Permanent", "bouncedRecipients": [
                {"emailAddress": "a@example.com", "diagnosticCode": "550 5.1.1 no such user"},
                {"emailAddress": "b@example.com"}
            ]},
            "mail": {"messageId": "ses-1", "headers": [{"name": "Message-ID", "value": "<m1@x>"}]}
        });
        let body =
            json!({"Type": "Notification", "MessageId": "sns-9", "Message": ses.to_string()});
        let Sns::Events(list) = sns_events(&body).unwrap() else {
            panic!("events expected")
        };
        let a = list[0].as_ref().unwrap();
        assert_eq!(a.kind, EventKind::Bounce);
        assert_eq!(a.id, "sns:sns-9:0");
        assert_eq!(a.message_id.as_deref(), Some("<m1@x>"));
        assert_eq!(a.detail.as_deref(), Some("550 5.1.1 no such user"));
        assert_eq!(list.len(), 2);
        let confirm =
            json!({"Type": "SubscriptionConfirmation", "SubscribeURL": "https://sns.example/c"});
        assert!(
            matches!(sns_events(&confirm).unwrap(), Sns::Confirm(u) if u == "https://sns.example/c")
        );
    }
}
