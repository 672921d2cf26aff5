//! The mock's web console, in the manner of Mailpit: server-rendered pages that show what the
//! mock captured, change its fault rules and empty it. On the mock CRM `/` is an inbox of
//! captured emails; on the mock Platform it lists web and social posts.
//!
//! Every page is HTML rendered from minijinja templates with autoescaping, and works without
//! JavaScript; `/console/live.js` only adds a "new captures" banner fed by `/console/events`.
//! Captured HTML is never put in a console page: it is served on its own route with a
//! `sandbox` CSP and shown in a `sandbox=""` iframe. Console requests are not journalled,
//! counted in `/metrics` or subject to injected faults.

mod assets;
mod faults_page;
mod images;
mod inbox;
mod live;
mod message;
mod page;
mod params;
mod posts;
mod social;

pub use images::BLOCKED_CSP as IMAGES_BLOCKED_CSP;
pub use inbox::inbox_html;
pub use page::ConsoleError;
pub use params::Params;

use crate::state::{MockKind, MockState};
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};

/// The page and sandbox policies, shared with the API's console.
pub use halcytone_webpage::{PAGE_CSP, SANDBOX_CSP as CAPTURED_CSP};

/// The console's routes; pages of the other mock answer an HTML 404.
pub fn routes() -> Router<MockState> {
    Router::new()
        .route("/", get(home))
        .route("/messages/{id}", get(message::view))
        .route("/messages/{id}/html", get(message::html))
        .route(
            "/messages/{id}/attachments/{index}",
            get(message::attachment),
        )
        .route("/posts/web", get(posts::web_list))
        .route("/posts/web/{id}", get(posts::web_post))
        .route("/posts/web/{id}/html", get(posts::web_html))
        .route("/posts/social", get(social::cards))
        .route("/faults", get(faults_page::view).post(faults_page::change))
        .route("/reset", post(faults_page::reset))
        .route("/console/events", get(live::events))
        .route("/console/live.js", get(assets::script))
        .route("/console/style.css", get(assets::style))
        .layer(axum::middleware::map_response(
            halcytone_webpage::security_headers,
        ))
}

/// `/`: the inbox on the CRM, the posts overview on the Platform.
async fn home(State(state): State<MockState>, params: Params) -> Result<Response, ConsoleError> {
    match state.kind {
        MockKind::Crm => inbox::page(&state, &params).await,
        MockKind::Platform => posts::overview(&state, &params).await,
    }
}
