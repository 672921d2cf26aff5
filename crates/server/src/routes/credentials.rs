//! Outbound credential routes (`/api/v2/credentials`, admin only): list what the publishers
//! use and where it comes from, store a CRM or Platform key encrypted, delete it, and seal
//! everything again after the encryption key is rotated. No route ever returns a value.

use super::{ADMIN, Entry, route};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::credentials::{self, CredentialError, KNOWN, Spec};
use crate::error::{ApiError, ApiResult};
use crate::queue::now_ms;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Extension, Json};
use halcytone_vault::Secret;
use serde::Deserialize;
use serde_json::{Value, json};

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
        .body("{value: the key}")
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

fn known(name: &str) -> ApiResult<&'static Spec> {
    credentials::spec(name).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no credential named {name}; known: {}",
            credentials::known_names()
        ))
    })
}

impl From<CredentialError> for ApiError {
    fn from(e: CredentialError) -> Self {
        match e {
            CredentialError::NoKeyring => ApiError::Conflict(e.to_string()),
            CredentialError::Store(s) => s.into(),
            CredentialError::Vault(v) => ApiError::Internal(v.to_string()),
        }
    }
}

async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let rows = state.store.credentials().await?;
    let creds = &state.credentials;
    let items: Vec<Value> = KNOWN
        .iter()
        .map(|spec| creds.describe(spec, rows.iter().find(|r| r.name == spec.name)))
        .collect();
    Ok(Json(json!({
        "encryption": creds.encryption(),
        "credentials": items,
    })))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct StoreBody {
    value: Option<String>,
}

async fn store(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<StoreBody>,
) -> ApiResult<Json<Value>> {
    let spec = known(&name)?;
    let value = body.value.unwrap_or_default();
    credentials::check_value(&value)
        .map_err(|m| ApiError::invalid("value", format!("value: {m}")))?;
    let actor = format!("api_key:{}", caller.key_id);
    let row = state
        .credentials
        .put(
            state.store.as_ref(),
            spec,
            &Secret::new(value),
            &actor,
            now_ms(),
        )
        .await?;
    state
        .store
        .audit(
            &actor,
            "credential.stored",
            spec.name,
            &json!({ "key_id": row.key_id, "revision": row.revision }).to_string(),
            now_ms(),
        )
        .await?;
    state
        .credentials
        .sync(state.store.as_ref(), &state.publishing)
        .await?;
    tracing::info!(
        credential = spec.name,
        revision = row.revision,
        "credential stored"
    );
    Ok(Json(state.credentials.describe(spec, Some(&row))))
}

async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let spec = known(&name)?;
    if !state.store.delete_credential(spec.name).await? {
        return Err(ApiError::NotFound(format!(
            "{} is not stored (the key in use, if any, comes from {})",
            spec.name, spec.env_var
        )));
    }
    let actor = format!("api_key:{}", caller.key_id);
    state
        .store
        .audit(&actor, "credential.deleted", spec.name, "{}", now_ms())
        .await?;
    state
        .credentials
        .sync(state.store.as_ref(), &state.publishing)
        .await?;
    Ok(Json(json!({
        "deleted": spec.name,
        "now": state.credentials.describe(spec, None),
    })))
}

async fn rotate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    let ring = state
        .credentials
        .keyring()
        .ok_or(CredentialError::NoKeyring)?;
    let done = credentials::rotate(state.store.as_ref(), ring, now_ms()).await?;
    let actor = format!("api_key:{}", caller.key_id);
    state
        .store
        .audit(
            &actor,
            "credential.rotated",
            "*",
            &json!({ "key_id": done.key_id, "resealed": done.resealed, "failed": done.failed.len() })
                .to_string(),
            now_ms(),
        )
        .await?;
    Ok(Json(serde_json::to_value(&done).unwrap_or_default()))
}
