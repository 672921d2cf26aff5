//! Email analytics (`/api/v2/analytics/email`, `/api/v2/analytics/campaigns/…`): every
//! campaign a send made, with the figures last pulled from the CRM; a refresh pulls them again.

use super::{Entry, READ, WRITE, route};
use crate::campaigns::{campaign_json, refresh as pull, totals_json};
use crate::error::{ApiError, ApiResult};
use crate::http::query::Query;
use crate::queue::now_ms;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "get",
            "/api/v2/analytics/email",
            READ,
            "analytics",
            "Email campaigns over a period with their stored CRM figures (sent, delivered, opened, clicked, unsubscribed, bounced) and totals",
            get(summary),
        )
        .query(&[
            ("days", "1–365 (default 30)"),
            ("limit", "campaigns listed, 1–500 (default 100)"),
        ]),
        route(
            "get",
            "/api/v2/analytics/campaigns/{campaign_id}",
            READ,
            "analytics",
            "One campaign and its figures as last pulled from the CRM",
            get(show),
        )
        .errors(&[(404, "Unknown campaign")]),
        route(
            "post",
            "/api/v2/analytics/campaigns/{campaign_id}/refresh",
            WRITE,
            "analytics",
            "Pull the campaign's figures from the CRM now and store them",
            post(refresh),
        )
        .errors(&[(404, "Unknown campaign"), (502, "The CRM could not be asked")]),
    ]
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SummaryQuery {
    days: Option<i64>,
    limit: Option<i64>,
}

async fn summary(
    State(state): State<AppState>,
    Query(q): Query<SummaryQuery>,
) -> ApiResult<Json<Value>> {
    let days = q.days.unwrap_or(30);
    if !(1..=365).contains(&days) {
        return Err(ApiError::invalid("days", "days: 1 to 365"));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit: 1 to 500"));
    }
    let since = now_ms() - days * 86_400_000;
    let all = state.store.campaigns(since, limit).await?;
    Ok(Json(json!({
        "period_days": days,
        "totals": totals_json(&all),
        "campaigns": all.iter().map(campaign_json).collect::<Vec<_>>(),
    })))
}

async fn load(state: &AppState, id: &str) -> ApiResult<halcytone_store::EmailCampaign> {
    state
        .store
        .campaign(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("campaign {id} not found")))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(campaign_json(&load(&state, &id).await?)))
}

async fn refresh(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    // Only campaigns we sent are asked about, so the id is one of ours.
    load(&state, &id).await?;
    pull(
        state.store.as_ref(),
        &state.publishing,
        &id,
        &crate::correlation::current(),
        now_ms(),
    )
    .await?
    .map_err(|e| ApiError::Upstream(format!("the CRM's analytics of {id}: {e}")))?;
    Ok(Json(campaign_json(&load(&state, &id).await?)))
}
