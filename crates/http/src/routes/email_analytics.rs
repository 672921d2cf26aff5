//! Email analytics (`/api/v2/analytics/email`, `/api/v2/analytics/campaigns/…`): every
//! campaign a send made, with the figures last pulled from the CRM; a refresh pulls them again.

use super::{Entry, Param, READ, WRITE, route};
use crate::campaigns::{self, campaign_json};
use crate::error::ApiResult;
use crate::http::query::Query;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value;

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
        .query([
            Param::whole("days", 1, 365, "default 30"),
            Param::whole("limit", 1, 500, "campaigns listed (default 100)"),
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
    Ok(Json(campaigns::summary(&state, q.days, q.limit).await?))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(campaign_json(&campaigns::load(&state, &id).await?)))
}

async fn refresh(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(campaigns::refresh_now(&state, &id).await?))
}
