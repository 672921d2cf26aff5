//! The mock CRM (port 8001): email sending (single and batch), subscribers, contacts,
//! campaigns, reports and stats, with the seeds' error triggers on the subject.

use crate::body::Body;
use crate::body::Params;
use crate::error::{MockError, MockResult};
use crate::idempotency::{self, Outcome, correlation};
use crate::now;
use crate::seeded;
use crate::state::MockState;
use crate::store::{Filter, NewRecord};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

/// Virtual subscribers the CRM pretends to have.
pub const SUBSCRIBERS: u64 = 1000;

/// Routes that accept injected faults.
pub const FAULT_ROUTES: &[&str] = &[
    "GET /health",
    "POST /api/v1/email/send",
    "POST /api/v1/email/batch",
    "GET /api/v1/email/{message_id}/status",
    "GET /api/v1/email/{message_id}/render",
    "GET /api/v1/users/subscribers",
    "POST /api/v1/subscribers/import",
    "POST /api/v1/contacts",
    "GET /api/v1/contacts",
    "GET /api/v1/contacts/count",
    "POST /api/v1/campaigns",
    "GET /api/v1/campaigns/{id}/analytics",
    "GET /api/v1/reports/emails",
    "GET /api/v1/stats",
];

pub fn routes() -> Router<MockState> {
    Router::new()
        .route(
            "/api/v1/smtp/chaos",
            get(crate::smtp_chaos::get)
                .put(crate::smtp_chaos::put)
                .delete(crate::smtp_chaos::delete),
        )
        .route("/health", get(health))
        .route("/api/v1/email/send", post(send))
        .route("/api/v1/email/batch", post(batch))
        .route("/api/v1/email/{message_id}/status", get(status))
        .route("/api/v1/email/{message_id}/render", get(render))
        .route("/api/v1/users/subscribers", get(subscribers))
        .route("/api/v1/subscribers/import", post(import_subscribers))
        .route("/api/v1/contacts", post(create_contact).get(list_contacts))
        .route("/api/v1/contacts/count", get(count_contacts))
        .route("/api/v1/campaigns", post(create_campaign))
        .route("/api/v1/campaigns/{id}/analytics", get(campaign_analytics))
        .route("/api/v1/reports/emails", get(email_report))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/messages", get(crate::messages::list))
        .route("/api/v1/messages/{id}", get(crate::messages::get))
        .route("/api/v1/messages/{id}/checks", get(crate::checks::serve))
        .route("/api/v1/test-data", delete(reset))
}

async fn health(State(state): State<MockState>) -> Json<Value> {
    Json(json!({
        "status": if state.store.ping().await { "healthy" } else { "degraded" },
        "service": "mock-crm",
        "version": env!("CARGO_PKG_VERSION"),
        "timestamp": now(),
        "uptime_seconds": state.started.elapsed().as_secs(),
        "smtp_port": state.config.smtp_port,
    }))
}

/// An email to send: to a list of addresses or, without one, to every subscriber
/// (`R` = `Option<Vec<String>>`), or a batch to `BatchRecipient`s.
#[derive(Debug, Deserialize)]
pub struct EmailRequest<R = Option<Vec<String>>> {
    subject: String,
    html_content: String,
    #[serde(default)]
    text_content: Option<String>,
    recipients: R,
    #[serde(default)]
    campaign_id: Option<String>,
    #[serde(default = "default_sender")]
    sender_email: String,
    #[serde(default)]
    metadata: Value,
}

fn default_sender() -> String {
    "noreply@halcytone.com".into()
}

/// The seeds' subject triggers that fail a send, checked in order: error → 500,
/// timeout → 408, invalid → 400.
const FAILING_SUBJECTS: [(&str, StatusCode, &str); 3] = [
    (
        "error",
        StatusCode::INTERNAL_SERVER_ERROR,
        "Simulated CRM error: email sending failed",
    ),
    (
        "timeout",
        StatusCode::REQUEST_TIMEOUT,
        "Simulated timeout: the CRM did not answer in time",
    ),
    ("invalid", StatusCode::BAD_REQUEST, "Invalid email format"),
];

/// The seeds' subject triggers: the failing ones above, then slow → delayed success.
async fn subject_triggers(state: &MockState, subject: &str) -> MockResult<()> {
    let s = subject.to_lowercase();
    if let Some((_, status, detail)) = FAILING_SUBJECTS.iter().find(|(w, ..)| s.contains(w)) {
        state
            .counters
            .simulated_errors
            .fetch_add(1, Ordering::Relaxed);
        return Err(MockError::new(*status, *detail));
    }
    if s.contains("slow") {
        tokio::time::sleep(state.config.slow_delay).await;
    }
    Ok(())
}

fn validate_email(field: &str, value: &str) -> MockResult<()> {
    let ok = value.split_once('@').is_some_and(|(user, host)| {
        !user.is_empty()
            && host.contains('.')
            && !host.starts_with('.')
            && !value.contains(char::is_whitespace)
    });
    if ok {
        Ok(())
    } else {
        Err(MockError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{field}: '{value}' is not an email address"),
        ))
    }
}

/// A 422 unless `value` has some text.
pub(crate) fn require(field: &str, value: &str) -> MockResult<()> {
    if value.trim().is_empty() {
        Err(MockError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{field}: must not be empty"),
        ))
    } else {
        Ok(())
    }
}

async fn send(
    State(state): State<MockState>,
    headers: HeaderMap,
    Body(req): Body<EmailRequest>,
) -> MockResult<Response> {
    require_content(&req)?;
    for (i, r) in req.recipients.iter().flatten().enumerate() {
        validate_email(&format!("recipients[{i}]"), r)?;
    }
    validate_email("sender_email", &req.sender_email)?;
    accept(
        &state,
        &headers,
        "POST /api/v1/email/send",
        &req,
        "email",
        |id| {
            let recipients = req
                .recipients
                .as_ref()
                .map_or(SUBSCRIBERS as usize, Vec::len);
            json!({
                "message_id": id,
                "status": "sent",
                "recipients_count": recipients,
                "timestamp": now(),
                "campaign_id": req.campaign_id,
            })
        },
    )
    .await
}

#[derive(Debug, Deserialize, Serialize)]
pub struct BatchRecipient {
    email: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    merge_vars: Value,
}

pub type BatchRequest = EmailRequest<Vec<BatchRecipient>>;

/// One send to many recipients (the CRM client's bulk path); captured once, as one email.
async fn batch(
    State(state): State<MockState>,
    headers: HeaderMap,
    Body(req): Body<BatchRequest>,
) -> MockResult<Response> {
    require_content(&req)?;
    if req.recipients.is_empty() || req.recipients.len() > 1000 {
        return Err(MockError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "recipients: send 1–1000 recipients per batch",
        ));
    }
    for (i, r) in req.recipients.iter().enumerate() {
        validate_email(&format!("recipients[{i}].email"), &r.email)?;
    }
    accept(
        &state,
        &headers,
        "POST /api/v1/email/batch",
        &req,
        "batch",
        |id| {
            json!({
                "batch_id": id,
                "status": "sent",
                "accepted": req.recipients.len(),
                "rejected": 0,
                "timestamp": now(),
                "campaign_id": req.campaign_id,
            })
        },
    )
    .await
}

fn require_content<R>(req: &EmailRequest<R>) -> MockResult<()> {
    require("subject", &req.subject)?;
    require("html_content", &req.html_content)
}

/// Accepts an email (single or batch) once per idempotency key: the subject triggers, then
/// an id of `id_kind` and the body `answer(id)`; the request is captured as sent.
async fn accept<R: Serialize>(
    state: &MockState,
    headers: &HeaderMap,
    route: &str,
    req: &EmailRequest<R>,
    id_kind: &str,
    answer: impl FnOnce(&str) -> Value,
) -> MockResult<Response> {
    idempotency::once(state, headers, route, || async {
        subject_triggers(state, &req.subject).await?;
        let id = state.next_id(id_kind);
        let body = answer(&id);
        let request = json!({
            "subject": req.subject,
            "html_content": req.html_content,
            "text_content": req.text_content,
            "recipients": req.recipients,
            "campaign_id": req.campaign_id,
            "sender_email": req.sender_email,
            "metadata": req.metadata,
        });
        let record = NewRecord {
            subject: Some(req.subject.clone()),
            campaign: req.campaign_id.clone(),
            channel: Some("email".into()),
            status: Some("sent".into()),
            ..idempotency::capture("email", id, headers, request, body.clone())
        };
        Ok(Outcome::new(StatusCode::OK, body, record))
    })
    .await
}

/// Delivery progress of a sent email, fixed per message id and seed.
async fn status(
    State(state): State<MockState>,
    Path(message_id): Path<String>,
) -> MockResult<Json<Value>> {
    let record = state.record("email", &message_id, "Email").await?;
    let stages = ["sent", "delivered", "opened", "clicked"];
    let reached = seeded::range(state.config.seed, &["status", &message_id], 0, 3) as usize;
    let events: Vec<Value> = stages[..=reached]
        .iter()
        .map(|e| json!({ "event": e, "timestamp": record.created_at }))
        .collect();
    Ok(Json(json!({
        "message_id": message_id,
        "status": stages[reached],
        "timestamp": record.created_at,
        "events": events,
    })))
}

#[derive(Debug, Deserialize)]
pub struct RenderQuery {
    recipient: Option<String>,
}

/// A captured email as one recipient receives it: the merge tags (`*|FIRST_NAME|*`) filled
/// with that recipient's `merge_vars`, as the CRM does when it sends.
async fn render(
    State(state): State<MockState>,
    Path(message_id): Path<String>,
    Params(q): Params<RenderQuery>,
) -> MockResult<Json<Value>> {
    use halcytone_audience::merge::{Escape, MergeVars, apply};
    let record = state.record("email", &message_id, "Email").await?;
    let recipients = record.request["recipients"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let wanted = q.recipient.as_deref().map(str::trim).unwrap_or_default();
    let found = recipients.iter().find(|r| {
        let email = r
            .get("email")
            .and_then(Value::as_str)
            .or_else(|| r.as_str());
        wanted.is_empty() || email.is_some_and(|e| e.eq_ignore_ascii_case(wanted))
    });
    let Some(recipient) = found else {
        return Err(MockError::new(
            StatusCode::NOT_FOUND,
            "recipient: not a recipient of this email",
        ));
    };
    let vars: MergeVars = recipient
        .get("merge_vars")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let field = |k: &str| record.request[k].as_str().unwrap_or_default().to_string();
    Ok(Json(json!({
        "message_id": message_id,
        "recipient": recipient.get("email").or(Some(recipient)),
        "subject": apply(&field("subject"), &vars, Escape::Text),
        "html_content": apply(&field("html_content"), &vars, Escape::Html),
        "text_content": apply(&field("text_content"), &vars, Escape::Text),
        "unfilled_tags": halcytone_audience::merge::tags_in(&apply(
            &format!("{} {}", field("subject"), field("text_content")),
            &vars,
            Escape::Text,
        )),
    })))
}

#[derive(Debug, Deserialize)]
pub struct Page {
    limit: Option<u64>,
    offset: Option<u64>,
    status: Option<String>,
    newsletter_opt_in: Option<bool>,
}

/// Subscriber `i` of the virtual list; every tenth is unsubscribed, every seventh opted out.
fn subscriber(seed: u64, i: u64) -> Value {
    let status = if i % 10 == 9 {
        "unsubscribed"
    } else {
        "active"
    };
    let day = 1 + seeded::range(seed, &["signup", &i.to_string()], 0, 27);
    let month = 1 + i % 12;
    json!({
        "id": format!("sub_{i:04}"),
        "email": format!("subscriber{i}@example.com"),
        "first_name": format!("Subscriber{i}"),
        "last_name": "Example",
        "name": format!("Subscriber{i} Example"),
        "status": status,
        "newsletter_opt_in": i % 7 != 6,
        "subscription_date": format!("2025-{month:02}-{day:02}T00:00:00Z"),
        "tags": tags(i),
        "engagement": {
            "opens_last_30_days": seeded::range(seed, &["opens", &i.to_string()], 0, 12),
            "clicks_last_30_days": seeded::range(seed, &["clicks", &i.to_string()], 0, 4),
        },
        "metadata": {},
    })
}

/// Tags that segment rules can select on: everyone is on the newsletter list; every third
/// subscriber is in the beta programme, every fifth a clinician, every eleventh a VIP.
fn tags(i: u64) -> Vec<&'static str> {
    let mut t = vec!["newsletter", "dry-run"];
    if i.is_multiple_of(3) {
        t.push("beta");
    }
    if i.is_multiple_of(5) {
        t.push("clinician");
    }
    if i.is_multiple_of(11) {
        t.push("vip");
    }
    t
}

async fn subscribers(
    State(state): State<MockState>,
    Params(p): Params<Page>,
) -> MockResult<Json<Value>> {
    let limit = p.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(MockError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "limit: must be 1–1000",
        ));
    }
    let status = p.status.clone().unwrap_or_else(|| "active".into());
    if !["active", "unsubscribed", "all"].contains(&status.as_str()) {
        return Err(MockError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "status: must be active, unsubscribed or all",
        ));
    }
    let imported = state.imported.read().await;
    let all: Vec<Value> = (0..SUBSCRIBERS)
        .map(|i| subscriber(state.config.seed, i))
        .chain(imported.people().iter().cloned())
        .filter(|s| status == "all" || s["status"] == status.as_str())
        .filter(|s| {
            p.newsletter_opt_in
                .is_none_or(|o| s["newsletter_opt_in"] == o)
        })
        .collect();
    let offset = p.offset.unwrap_or(0) as usize;
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit as usize)
        .cloned()
        .collect();
    Ok(Json(json!({
        "subscribers": page,
        "total": all.len(),
        "limit": limit,
        "offset": offset,
        "status_filter": status,
        "newsletter_opt_in_filter": p.newsletter_opt_in,
    })))
}

/// The largest CSV `POST /api/v1/subscribers/import` reads.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

/// Adds the people of a CSV body after the virtual subscribers (see [`crate::imported`]).
async fn import_subscribers(
    State(state): State<MockState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> MockResult<Json<Value>> {
    let csv = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"));
    if !csv {
        return Err(MockError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the file with Content-Type: text/csv",
        ));
    }
    let bytes = axum::body::to_bytes(body, MAX_IMPORT_BYTES)
        .await
        .map_err(|_| {
            MockError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is over {MAX_IMPORT_BYTES} bytes, or was cut off"),
            )
        })?;
    let outcome = state
        .imported
        .write()
        .await
        .import(&bytes[..])
        .await
        .map_err(|e| MockError::new(StatusCode::UNPROCESSABLE_ENTITY, e.0))?;
    Ok(Json(json!(outcome)))
}

#[derive(Debug, Deserialize)]
pub struct ContactRequest {
    email: String,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    metadata: Value,
}

async fn create_contact(
    State(state): State<MockState>,
    headers: HeaderMap,
    Body(req): Body<ContactRequest>,
) -> MockResult<Response> {
    validate_email("email", &req.email)?;
    let request = json!({ "email": req.email, "first_name": req.first_name, "last_name": req.last_name, "tags": req.tags, "metadata": req.metadata });
    let created = Created {
        kind: "contact",
        name: ("email", &req.email),
        status: "active",
    };
    create(&state, &headers, "POST /api/v1/contacts", created, request).await
}

/// A contact or campaign to create: its kind, its name (field and value) and its status.
struct Created<'a> {
    kind: &'static str,
    name: (&'static str, &'a str),
    status: &'a str,
}

/// Creates a record once per idempotency key and answers 201 with
/// `{<kind>_id, <name field>, status, created_at}`. A campaign is filed under itself.
async fn create(
    state: &MockState,
    headers: &HeaderMap,
    route: &str,
    created: Created<'_>,
    request: Value,
) -> MockResult<Response> {
    idempotency::once(state, headers, route, || async {
        let Created { kind, name, status } = created;
        let id = state.next_id(kind);
        let mut body = serde_json::Map::new();
        body.insert(format!("{kind}_id"), json!(id));
        body.insert(name.0.into(), json!(name.1));
        body.insert("status".into(), json!(status));
        body.insert("created_at".into(), json!(now()));
        let body = Value::Object(body);
        let record = NewRecord {
            id: id.clone(),
            kind,
            subject: Some(name.1.to_string()),
            campaign: (kind == "campaign").then_some(id),
            status: Some(status.into()),
            created_at: now(),
            request,
            response: body.clone(),
            correlation_id: correlation(headers),
            ..NewRecord::default()
        };
        Ok(Outcome::new(StatusCode::CREATED, body, record))
    })
    .await
}

async fn list_contacts(
    State(state): State<MockState>,
    Params(p): Params<Page>,
) -> MockResult<Json<Value>> {
    let filter = Filter {
        kinds: vec!["contact".into()],
        limit: p.limit.unwrap_or(100) as i64,
        offset: p.offset.unwrap_or(0) as i64,
        ..Filter::default()
    };
    let (records, total) = state.store.list(&filter).await?;
    let contacts: Vec<Value> = records
        .into_iter()
        .map(|r| {
            let mut c = r.request;
            c["contact_id"] = json!(r.id);
            c["created_at"] = json!(r.created_at);
            c["status"] = json!(r.status);
            c
        })
        .collect();
    Ok(Json(
        json!({ "contacts": contacts, "total": total, "limit": filter.limit, "offset": filter.offset }),
    ))
}

async fn count_contacts(State(state): State<MockState>) -> MockResult<Json<Value>> {
    let created = state.store.counts().await?.of("contact") as u64;
    let unsubscribed = SUBSCRIBERS / 10;
    Ok(Json(json!({
        "total": SUBSCRIBERS + created,
        "active": SUBSCRIBERS - unsubscribed + created,
        "unsubscribed": unsubscribed,
        "bounced": 0,
        "last_updated": now(),
    })))
}

#[derive(Debug, Deserialize)]
pub struct CampaignRequest {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    metadata: Value,
}

async fn create_campaign(
    State(state): State<MockState>,
    headers: HeaderMap,
    Body(req): Body<CampaignRequest>,
) -> MockResult<Response> {
    require("name", &req.name)?;
    let request = json!({ "name": req.name, "description": req.description, "tags": req.tags, "metadata": req.metadata });
    let created = Created {
        kind: "campaign",
        name: ("name", &req.name),
        status: "draft",
    };
    create(&state, &headers, "POST /api/v1/campaigns", created, request).await
}

/// Analytics of a campaign: sends counted from captures, engagement fixed by the seed and the
/// campaign id (so two variants of a test get different, repeatable open rates).
async fn campaign_analytics(
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> MockResult<Json<Value>> {
    let created = state.store.get(Some("campaign"), &id).await?.is_some();
    let (emails, _) = state
        .store
        .list(&Filter {
            kinds: vec!["email".into()],
            campaign: Some(id.clone()),
            limit: 1000,
            ..Filter::default()
        })
        .await?;
    // A campaign exists once it was created, or once an email was sent under its id (as a
    // CRM files a send under the campaign it names).
    if !created && emails.is_empty() {
        return Err(MockError::not_found("Campaign"));
    }
    let sent: u64 = emails
        .iter()
        .map(|e| {
            e.response["recipients_count"]
                .as_u64()
                .or(e.response["accepted"].as_u64())
                .unwrap_or(0)
        })
        .sum();
    let seed = state.config.seed;
    let per_mille = |what: &str, lo, hi| seeded::range(seed, &[what, &id], lo, hi);
    let delivered = sent * per_mille("delivered", 950, 995) / 1000;
    let opened = delivered * per_mille("opened", 150, 450) / 1000;
    let clicked = opened * per_mille("clicked", 50, 300) / 1000;
    let rate = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Ok(Json(json!({
        "campaign_id": id,
        "sent": sent,
        "delivered": delivered,
        "bounced": sent - delivered,
        "opened": opened,
        "clicked": clicked,
        "unsubscribed": clicked / 20,
        "open_rate": rate(opened, delivered),
        "click_rate": rate(clicked, delivered),
        "last_updated": now(),
    })))
}

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    days: Option<i64>,
}

async fn email_report(
    State(state): State<MockState>,
    Params(q): Params<ReportQuery>,
) -> MockResult<Json<Value>> {
    let days = q.days.unwrap_or(7);
    if !(1..=365).contains(&days) {
        return Err(MockError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "days: must be 1–365",
        ));
    }
    let since = (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339();
    let (emails, total) = state
        .store
        .list(&Filter {
            kinds: vec!["email".into()],
            captured_only: true,
            since: Some(since),
            limit: 1000,
            ..Filter::default()
        })
        .await?;
    let mut by_day: std::collections::BTreeMap<String, u64> = Default::default();
    let mut by_subject: std::collections::BTreeMap<String, u64> = Default::default();
    for e in &emails {
        *by_day
            .entry(e.created_at.chars().take(10).collect())
            .or_default() += 1;
        *by_subject
            .entry(e.subject.clone().unwrap_or_default())
            .or_default() += 1;
    }
    let mut top: Vec<(String, u64)> = by_subject.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(Json(json!({
        "period_days": days,
        "total_emails": total,
        "emails_by_day": by_day.into_iter().map(|(d, n)| json!({ "date": d, "sent": n })).collect::<Vec<_>>(),
        "top_subjects": top.into_iter().take(5).map(|(s, n)| json!({ "subject": s, "sent": n })).collect::<Vec<_>>(),
    })))
}

async fn stats(State(state): State<MockState>) -> MockResult<Json<Value>> {
    // Sends are counted when accepted; captures are retained only up to the retention.
    let accepted = state.store.accepted_counts().await?;
    let retained = state.store.counts().await?;
    let count = |k: &str| accepted.of(k).max(retained.of(k));
    Ok(Json(json!({
        "service": "mock-crm",
        "uptime": "healthy",
        "uptime_seconds": state.started.elapsed().as_secs(),
        "requests_handled": state.counters.requests.load(Ordering::Relaxed),
        "emails_sent": count("email"),
        "emails_retained": retained.of("email"),
        "emails_duplicate": state.store.count_status("email", "duplicate").await?,
        "contacts_created": count("contact"),
        "campaigns_created": count("campaign"),
        "simulated_errors": state.counters.simulated_errors.load(Ordering::Relaxed),
        "faults_injected": state.counters.faults_injected.load(Ordering::Relaxed),
        "timestamp": now(),
    })))
}

/// Clears captures, records, idempotency keys, faults and the journal.
pub async fn reset(State(state): State<MockState>) -> MockResult<Json<Value>> {
    state.store.clear().await?;
    state.faults.clear();
    state.journal.clear();
    Ok(Json(
        json!({ "status": "success", "message": "All test data cleared" }),
    ))
}
