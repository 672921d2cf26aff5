//! The mock CRM's inbox as JSON: `GET /api/v1/messages` searches captured emails as the
//! console's inbox does (`q` over the subject, text part and HTML part with SQLite FTS5;
//! `campaign`, `recipient`, `since`, `until`), each with the worst finding of its checks
//! ([`crate::checks`]), and `GET /api/v1/messages/{id}` answers one with the addresses of its
//! page, `.eml` and checks.

use crate::body::Params;
use crate::error::{MockError, MockResult};
use crate::state::MockState;
use crate::store::{ConsoleQuery, StoreError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// An FTS5 query over the subject, text and HTML.
    q: Option<String>,
    campaign: Option<String>,
    /// Part of a recipient's address (case-insensitive).
    recipient: Option<String>,
    /// RFC 3339, or a date (`YYYY-MM-DD`: from its start / to its end).
    since: Option<String>,
    until: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

fn unprocessable(detail: impl Into<String>) -> MockError {
    MockError::new(StatusCode::UNPROCESSABLE_ENTITY, detail)
}

/// A text filter: trimmed, blank as absent, at most 200 characters.
fn text(field: &str, v: Option<String>) -> MockResult<Option<String>> {
    let v = v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    match v {
        Some(s) if s.chars().count() > 200 => {
            Err(unprocessable(format!("{field}: at most 200 characters")))
        }
        v => Ok(v),
    }
}

fn bound(field: &str, v: Option<String>) -> MockResult<Option<String>> {
    text(field, v)?
        .map(|t| crate::search::time_bound(field, &t).map_err(unprocessable))
        .transpose()
}

/// `GET /api/v1/messages`: captured emails, newest first.
pub async fn list(
    State(state): State<MockState>,
    Params(p): Params<MessagesQuery>,
) -> MockResult<Json<Value>> {
    let limit = p.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(unprocessable("limit: must be 1–1000"));
    }
    let offset = p.offset.unwrap_or(0);
    if !(0..=10_000_000).contains(&offset) {
        return Err(unprocessable("offset: must be 0–10000000"));
    }
    let query = ConsoleQuery {
        kind: "email".into(),
        search: text("q", p.q)?,
        campaign: text("campaign", p.campaign)?,
        recipient: text("recipient", p.recipient)?,
        since: bound("since", p.since)?,
        until: bound("until", p.until)?,
        // One more than asked, to tell whether there are more.
        limit: limit + 1,
        offset,
        ..ConsoleQuery::default()
    };
    let mut rows = match state.store.inbox_rows(&query).await {
        Err(StoreError::Search(why)) => return Err(unprocessable(why)),
        other => other?,
    };
    let has_more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let mut worst = crate::checks::worst_of(&state, &seqs).await?;
    let messages: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let path = format!("/messages/{}", halcytone_webpage::query::encode(&r.id));
            let checks_path = format!(
                "/api/v1/messages/{}/checks",
                halcytone_webpage::query::encode(&r.id)
            );
            json!({
                "id": r.id,
                "subject": r.subject,
                "campaign": r.campaign,
                "created_at": r.created_at,
                "recipients": r.recipients,
                "variant": r.variant,
                "duplicate_of": r.duplicate_of,
                "worst_finding": worst.remove(&r.seq),
                "checks": checks_path,
                "page": path,
                "eml": format!("{path}.eml"),
            })
        })
        .collect();
    Ok(Json(json!({
        "count": messages.len(),
        "limit": limit,
        "offset": offset,
        "has_more": has_more,
        "searched": crate::search::SEARCHED,
        "messages": messages,
    })))
}

/// The captured email `id`, or a 404 "Message not found".
pub async fn captured(state: &MockState, id: &str) -> MockResult<crate::store::Record> {
    match state.store.get(Some("email"), id).await? {
        Some(r) if r.captured => Ok(r),
        _ => Err(MockError::not_found("Message")),
    }
}

/// `GET /api/v1/messages/{id}`: one captured email (its capture record and its addresses).
pub async fn get(
    State(state): State<MockState>,
    Path(id): Path<String>,
) -> MockResult<Json<Value>> {
    let r = captured(&state, &id).await?;
    let path = format!("/messages/{}", halcytone_webpage::query::encode(&r.id));
    let mut body = json!(r);
    body["page"] = json!(path);
    body["eml"] = json!(format!("{path}.eml"));
    body["checks"] = json!(format!(
        "/api/v1/messages/{}/checks",
        halcytone_webpage::query::encode(&r.id)
    ));
    Ok(Json(body))
}
