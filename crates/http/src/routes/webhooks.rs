//! Outbound webhook routes (`/api/v2/webhook-endpoints`, admin only): register an endpoint
//! for some events (its `whsec_` secret is shown once), list and delete endpoints, rotate a
//! secret, read an endpoint's delivery log and send a delivery again.

use super::{ADMIN, Entry, Param, route};
use crate::error::ApiResult;
use crate::http::query::QueryArgs;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use halcytone_app::webhooks;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "post",
            "/api/v2/webhook-endpoints",
            ADMIN,
            "webhooks",
            "Register an endpoint for events (job.completed, job.failed, review.requested, send.finished, account.reconnect_needed). Messages follow Standard Webhooks: webhook-id, webhook-timestamp and webhook-signature (v1, HMAC-SHA256 over id.timestamp.body). The answer carries the whsec_ secret, shown this once. Private and loopback hosts need WEBHOOK_ALLOW_HOSTS; in dry run only listed hosts are reached",
            post(register),
        )
        .body::<EndpointRequest>("{url, events[], description?}")
        .ok(201)
        .errors(&[
            (409, "Already at the most endpoints (100)"),
            (422, "A URL that is not http(s), that names a private or loopback host not in WEBHOOK_ALLOW_HOSTS (or, in dry run, any host not listed), or an unknown event; error.field says which"),
        ]),
        route(
            "get",
            "/api/v2/webhook-endpoints",
            ADMIN,
            "webhooks",
            "Every endpoint: its URL, events, whether it is failing and its last error. Never a secret",
            get(list),
        ),
        route(
            "get",
            "/api/v2/webhook-endpoints/{id}",
            ADMIN,
            "webhooks",
            "One endpoint",
            get(show),
        )
        .errors(&[(404, "Unknown endpoint")]),
        route(
            "delete",
            "/api/v2/webhook-endpoints/{id}",
            ADMIN,
            "webhooks",
            "Delete an endpoint and the messages still owed to it",
            delete(remove),
        )
        .ok(204)
        .errors(&[(404, "Unknown endpoint")]),
        route(
            "post",
            "/api/v2/webhook-endpoints/{id}/rotate-secret",
            ADMIN,
            "webhooks",
            "Give the endpoint a new secret (shown this once); for a day the old one signs too (two signatures in webhook-signature), so the receiver can switch without missing a message",
            post(rotate),
        )
        .errors(&[(404, "Unknown endpoint")]),
        route(
            "get",
            "/api/v2/webhook-endpoints/{id}/deliveries",
            ADMIN,
            "webhooks",
            "The endpoint's delivery log, newest first: each message's event, state (pending, delivered, failed), attempts with their time, status and error, the next attempt, and the payload",
            get(deliveries),
        )
        .query([
            Param::whole("limit", 1, 500, "default 50"),
            Param::whole("offset", 0, 1_000_000, "default 0"),
        ])
        .errors(&[(404, "Unknown endpoint")]),
        route(
            "post",
            "/api/v2/webhook-endpoints/{id}/deliveries/{message_id}/redeliver",
            ADMIN,
            "webhooks",
            "Send a message again now, whatever became of it (the log keeps every attempt)",
            post(redeliver),
        )
        .ok(202)
        .errors(&[(404, "Unknown endpoint or message")]),
    ]
}

/// A new endpoint.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct EndpointRequest {
    /// Where to POST the messages (http or https).
    url: String,
    /// The events to send: job.completed, job.failed, review.requested, send.finished,
    /// account.reconnect_needed.
    events: Vec<String>,
    /// What the endpoint is for (at most 200 characters).
    #[serde(default)]
    description: Option<String>,
}

async fn register(
    State(state): State<AppState>,
    crate::body::JsonBody(body): crate::body::JsonBody<EndpointRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let new = webhooks::NewEndpoint {
        url: body.url,
        events: body.events,
        description: body.description,
    };
    let (endpoint, secret) = webhooks::register(&state, new).await?;
    let mut answer = webhooks::endpoint_json(&endpoint);
    answer["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(answer)))
}

async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let all = webhooks::endpoints(&state).await?;
    Ok(Json(json!({
        "endpoints": all.iter().map(webhooks::endpoint_json).collect::<Vec<_>>(),
        "total": all.len(),
    })))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(webhooks::endpoint_json(
        &webhooks::endpoint(&state, &id).await?,
    )))
}

async fn remove(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    webhooks::delete(&state, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let (endpoint, secret) = webhooks::rotate(&state, &id).await?;
    let mut answer = webhooks::endpoint_json(&endpoint);
    answer["secret"] = json!(secret);
    Ok(Json(answer))
}

async fn deliveries(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    let p = QueryArgs::parse(q.as_deref());
    let limit = p.int("limit", 50, 1, 500)?;
    let offset = p.int("offset", 0, 0, 1_000_000)?;
    let (page, total) = webhooks::deliveries(&state, &id, limit, offset).await?;
    Ok(Json(json!({
        "deliveries": page.iter().map(webhooks::delivery_json).collect::<Vec<_>>(),
        "total": total,
        "limit": limit,
        "offset": offset,
    })))
}

async fn redeliver(
    State(state): State<AppState>,
    Path((id, message_id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let d = webhooks::redeliver(&state, &id, &message_id).await?;
    Ok((StatusCode::ACCEPTED, Json(webhooks::delivery_json(&d))))
}
