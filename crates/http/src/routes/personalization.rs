//! The personalised newsletter preview (`/api/v2/newsletter/personalized-preview`): the
//! configured living document composed for a segment (its introduction and call to action)
//! with merge tags filled for one subscriber, exactly as that subscriber would read it.

use super::{Entry, READ, route};
use crate::error::ApiResult;
use crate::http::query::Query;
use crate::personalization::{self, PreviewRequest};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::routing::get;
use serde_json::Value;

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "get",
            "/api/v2/newsletter/personalized-preview",
            READ,
            "audience",
            "The newsletter one subscriber would receive: the configured document composed for a segment (its intro and call to action), greeting by first name with the fallback, merge tags filled",
            get(preview),
        )
        .query(&[
            ("subscriber_id", "the CRM subscriber to render for (default: the first one in the segment)"),
            ("segment_id", "compose with this segment's intro and call to action"),
            ("first_name_fallback", "written where the subscriber has no first name (default \"there\")"),
            ("tone", "professional | encouraging | medical_scientific"),
            ("template_style", "modern | minimal | plain | breathscape"),
        ])
        .errors(&[
            (404, "Unknown subscriber or segment"),
            (422, "A bad tone, template or fallback"),
            (502, "The CRM could not be asked"),
        ]),
    ]
}

async fn preview(
    State(state): State<AppState>,
    Query(q): Query<PreviewRequest>,
) -> ApiResult<Json<Value>> {
    Ok(Json(personalization::preview(&state, q).await?))
}
