//! `POST /api/v1/newsletter/send`: a newsletter written by hand, sent through a job — to the
//! one configured test address in test mode, otherwise to every subscriber.

use super::{Entry, WRITE, route};
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::newsletter::{self, NewsletterRequest};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Extension, Json};
use serde_json::Value;

pub fn routes() -> Vec<Entry> {
    vec![
        route("post", "/api/v1/newsletter/send", WRITE, "jobs", "Send a hand-written newsletter through a job: test_mode sends one email to the test address", post(send))
            .accepted_while_running()
            .body::<halcytone_app::newsletter::NewsletterRequest>("{subject, html_content, text_content?, preview_text?, test_mode?, test_email?, schedule_time?, recipient_filter?}"),
    ]
}

async fn send(
    State(state): State<AppState>,
    Extension(caller): Extension<crate::auth::Caller>,
    JsonBody(body): JsonBody<NewsletterRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (job, answer) = newsletter::send_newsletter(&state, &caller, body).await?;
    let code = if job.status.is_terminal() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((code, Json(answer)))
}
