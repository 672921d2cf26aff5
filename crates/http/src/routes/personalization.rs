//! The personalised newsletter preview (`/api/v2/newsletter/personalized-preview`): the
//! configured living document composed for a segment (its introduction and call to action)
//! with merge tags filled for one subscriber, exactly as that subscriber would read it.

use super::{Entry, Param, READ, params, route};
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
        .query([
            Param::text("subscriber_id", "the CRM subscriber to render for (default: the first one in the segment)"),
            Param::text("segment_id", "compose with this segment's intro and call to action"),
            Param::line("first_name_fallback", 50, "written where the subscriber has no first name (default \"there\")"),
            Param::one_of("tone", params::tones, "tone of voice"),
            Param::one_of("template_style", params::templates, "newsletter template"),
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
