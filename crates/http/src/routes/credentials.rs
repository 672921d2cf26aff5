//! Outbound credential routes (`/api/v2/credentials`, admin only): list what the publishers
//! use and where it comes from, store a CRM or Platform key encrypted, delete it, and seal
//! everything again after the encryption key is rotated. No route ever returns a value.

use super::{ADMIN, Entry, route};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::credentials;
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::Value;

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "get",
            "/api/v2/credentials",
            ADMIN,
            "credentials",
            "Outbound credentials: for each, whether the key in use is stored (encrypted), from the environment or missing, and whether the stored one opens; the encryption key's id. Never a value",
            get(list),
        ),
        route(
            "put",
            "/api/v2/credentials/{name}",
            ADMIN,
            "credentials",
            "Store a credential (crm_api_key, platform_api_key) sealed with AES-256-GCM under API_KEY_ENCRYPTION_KEY; it replaces the environment's key from the next publish (audited)",
            put(store),
        )
        .body::<StoreBody>("{value: the key}")
        .errors(&[
            (404, "Unknown credential name"),
            (409, "API_KEY_ENCRYPTION_KEY is not set"),
            (422, "Empty, padded, multi-line or oversize value"),
        ]),
        route(
            "delete",
            "/api/v2/credentials/{name}",
            ADMIN,
            "credentials",
            "Delete a stored credential; the environment's key (if any) is used again (audited)",
            axum::routing::delete(remove),
        )
        .errors(&[(404, "Unknown or not stored")]),
        route(
            "post",
            "/api/v2/credentials/rotate",
            ADMIN,
            "credentials",
            "Seal every stored credential again under the current API_KEY_ENCRYPTION_KEY (the old key in API_KEY_ENCRYPTION_KEY_PREVIOUS); rows that do not open are reported, never changed (audited)",
            post(rotate),
        )
        .errors(&[(409, "API_KEY_ENCRYPTION_KEY is not set")]),
    ]
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
struct StoreBody {
    value: Option<String>,
}

async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(credentials::list(&state).await?))
}

async fn store(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<StoreBody>,
) -> ApiResult<Json<Value>> {
    let value = body.value.unwrap_or_default();
    Ok(Json(
        credentials::store(&state, &caller, &name, value).await?,
    ))
}

async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(credentials::remove(&state, &caller, &name).await?))
}

async fn rotate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    Ok(Json(credentials::rotate_all(&state, &caller).await?))
}
