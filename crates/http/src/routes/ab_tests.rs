//! A/B subject tests (`/api/v2/ab-tests`): created with `ab_test` on
//! `POST /api/v2/content/sync`, listed and shown here with their groups, figures and winner.

use super::{Entry, Param, READ, route};
use crate::abtest::test_json;
use crate::error::{ApiError, ApiResult};
use crate::http::query::Query;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "get",
            "/api/v2/ab-tests",
            READ,
            "audience",
            "A/B subject tests, newest first (create one with ab_test on POST /api/v2/content/sync)",
            get(list),
        )
        .query([Param::whole("limit", 1, 500, "default 50")]),
        route(
            "get",
            "/api/v2/ab-tests/{id}",
            READ,
            "audience",
            "One A/B test: status (testing, waiting, sending_winner, completed, failed), the test group per variant, each variant's campaign and open rate, the winner and the remainder send",
            get(show),
        )
        .errors(&[(404, "Unknown test")]),
    ]
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    limit: Option<i64>,
}

async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Json<Value>> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit: 1 to 500"));
    }
    let all = state.store.ab_tests(limit).await?;
    Ok(Json(json!({
        "ab_tests": all.iter().map(test_json).collect::<Vec<_>>(),
        "total": all.len(),
    })))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let t = state
        .store
        .ab_test(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("A/B test {id} not found")))?;
    Ok(Json(test_json(&t)))
}
