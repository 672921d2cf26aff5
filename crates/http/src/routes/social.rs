//! Social account routes (`/api/v2/social/accounts`): connect an X or LinkedIn account with
//! its OAuth tokens, or a Facebook Page with its Page access token (stored sealed), list every
//! network with its health, disconnect. Tokens are never returned.

use super::{ADMIN, Entry, READ, route};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::ApiResult;
use crate::social::accounts::{self, ConnectRequest};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Extension, Json};
use serde_json::Value;

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "get",
            "/api/v2/social/accounts",
            READ,
            "social",
            "Every social network: whether an account is connected (X, LinkedIn, a Facebook Page), whether it needs reconnecting and why, token expiry, quota and how posts are sent (direct, or through the Platform). Never a token",
            get(list),
        ),
        route(
            "put",
            "/api/v2/social/accounts/{network}",
            ADMIN,
            "social",
            "Connect an account (x, linkedin or facebook) with the OAuth tokens from the network's developer portal or your OAuth flow (for facebook, a Page access token); the tokens are sealed with AES-256-GCM (audited)",
            put(connect),
        )
        .body::<halcytone_app::social::accounts::ConnectRequest>("{account_id: X user id | LinkedIn author URN | Facebook Page id, username?, access_token, refresh_token?, expires_in?: seconds}")
        .errors(&[
            (404, "Not a network with a live adapter"),
            (409, "API_KEY_ENCRYPTION_KEY is not set"),
            (422, "A bad account id, token or expiry"),
        ]),
        route(
            "delete",
            "/api/v2/social/accounts/{network}",
            ADMIN,
            "social",
            "Disconnect an account: its posts go through the Platform again (audited)",
            axum::routing::delete(disconnect),
        )
        .errors(&[(404, "Not connected")]),
    ]
}

async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(accounts::list(&state).await?))
}

async fn connect(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<ConnectRequest>,
) -> ApiResult<Json<Value>> {
    Ok(Json(accounts::connect(&state, &caller, &name, body).await?))
}

async fn disconnect(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(accounts::disconnect(&state, &caller, &name).await?))
}
