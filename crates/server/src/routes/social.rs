//! Social account routes (`/api/v2/social/accounts`): connect an X or LinkedIn account with
//! its OAuth tokens, or a Facebook Page with its Page access token (stored sealed), list every
//! network with its health, disconnect. Tokens are never returned.

use super::{ADMIN, Entry, READ, route};
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::error::{ApiError, ApiResult};
use crate::queue::{iso, now_ms};
use crate::social::tokens::StoreTokens;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::routing::{get, put};
use axum::{Extension, Json};
use halcytone_publish::social::{AccountInfo, AccountStatus, Network, NetworkHealth, Tokens};
use halcytone_vault::Secret;
use serde::Deserialize;
use serde_json::{Value, json};

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
        .body("{account_id: X user id | LinkedIn author URN | Facebook Page id, username?, access_token, refresh_token?, expires_in?: seconds}")
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

fn network(name: &str) -> ApiResult<Network> {
    Network::parse(name).ok_or_else(|| {
        ApiError::NotFound(match name.to_ascii_lowercase().as_str() {
            "instagram" => {
                format!("{name} has no live adapter: its posts always go through the Platform")
            }
            _ => format!("no social network named {name}; live adapters: x, linkedin, facebook"),
        })
    })
}

fn tokens(state: &AppState) -> StoreTokens {
    StoreTokens::new(state.store.clone(), state.config.keyring.clone())
}

fn view(
    info: Option<&AccountInfo>,
    health: Option<&NetworkHealth>,
    state: &AppState,
    n: Network,
) -> Value {
    let s = state.config.social.network(n);
    let direct = state.publishing.live_social().is_some();
    let dry = state.publishing.settings.dry_run;
    let via = match (info, direct) {
        (Some(i), true) if i.status == AccountStatus::Connected && dry => {
            "direct (dry run: the mock Platform plays the network)"
        }
        (Some(i), true) if i.status == AccountStatus::Connected => "direct",
        (Some(_), true) => "none: reconnect needed",
        _ => "platform",
    };
    json!({
        "network": n,
        "connected": info.is_some(),
        "status": info.map(|i| i.status),
        "reconnect_needed": info.is_some_and(|i| i.status == AccountStatus::ReconnectNeeded),
        "account_id": info.map(|i| &i.account_id),
        "username": info.and_then(|i| i.username.as_ref()),
        "last_error": info.and_then(|i| i.last_error.as_ref()),
        "expires_at": info.and_then(|i| i.expires_at_ms).and_then(iso),
        "connected_at": info.and_then(|i| iso(i.connected_ms)),
        "refreshed_at": info.and_then(|i| i.refreshed_ms).and_then(iso),
        "refresh_configured": s.client_id.is_some(),
        "posts_via": via,
        "quota": { "per_hour": s.per_hour, "per_day": s.per_day, "wait_seconds": health.map(|h| h.quota_wait_seconds) },
        "posts_sent": health.map(|h| h.posts),
    })
}

async fn list(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let t = tokens(&state);
    let health = state
        .publishing
        .live_social()
        .map(|l| l.health())
        .unwrap_or_default();
    let mut out = Vec::new();
    for n in Network::ALL {
        let info = t
            .info(n)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let h = health.iter().find(|(hn, _)| *hn == n).map(|(_, h)| h);
        out.push(view(info.as_ref().map(|(i, _)| i), h, &state, n));
    }
    out.push(json!({ "network": "instagram", "connected": false, "posts_via": "platform", "note": "no live adapter: Instagram's API publishes images and videos, and the composed posts are text" }));
    Ok(Json(
        json!({ "dry_run": state.publishing.settings.dry_run, "accounts": out }),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ConnectBody {
    account_id: Option<String>,
    username: Option<String>,
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
}

fn check_account(n: Network, id: &str) -> Result<(), String> {
    match n {
        Network::X => {
            if id.is_empty() || id.len() > 20 || !id.chars().all(|c| c.is_ascii_digit()) {
                return Err("the X user id: 1 to 20 digits (GET /2/users/me answers it)".into());
            }
        }
        Network::Facebook => {
            if id.is_empty() || id.len() > 20 || !id.chars().all(|c| c.is_ascii_digit()) {
                return Err(
                    "the Facebook Page id: 1 to 20 digits (the Page's About section, or GET /me/accounts, shows it)"
                        .into(),
                );
            }
        }
        Network::Linkedin => {
            let rest = id
                .strip_prefix("urn:li:organization:")
                .or_else(|| id.strip_prefix("urn:li:person:"));
            if !rest.is_some_and(|r| {
                !r.is_empty()
                    && r.len() <= 64
                    && r.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            }) {
                return Err(
                    "the author URN: urn:li:organization:<id> or urn:li:person:<id>".into(),
                );
            }
        }
    }
    Ok(())
}

async fn connect(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<ConnectBody>,
) -> ApiResult<Json<Value>> {
    let n = network(&name)?;
    let account_id = body.account_id.unwrap_or_default().trim().to_string();
    check_account(n, &account_id)
        .map_err(|m| ApiError::invalid("account_id", format!("account_id: {m}")))?;
    let access = body.access_token.unwrap_or_default();
    crate::credentials::check_value(&access)
        .map_err(|m| ApiError::invalid("access_token", format!("access_token: {m}")))?;
    let refresh = body.refresh_token.filter(|r| !r.is_empty());
    if let Some(r) = &refresh {
        crate::credentials::check_value(r)
            .map_err(|m| ApiError::invalid("refresh_token", format!("refresh_token: {m}")))?;
    }
    if n == Network::Facebook && refresh.is_some() {
        return Err(ApiError::invalid(
            "refresh_token",
            "refresh_token: a Facebook Page access token has none; send only access_token",
        ));
    }
    if let Some(e) = body.expires_in
        && !(60..=31_536_000).contains(&e)
    {
        return Err(ApiError::invalid(
            "expires_in",
            "expires_in: seconds until the access token expires, 60 to 31536000",
        ));
    }
    let username = body
        .username
        .map(|u| u.trim().trim_start_matches('@').to_string())
        .filter(|u| !u.is_empty());
    if let Some(u) = &username
        && (u.chars().count() > 100 || u.chars().any(char::is_control))
    {
        return Err(ApiError::invalid(
            "username",
            "username: at most 100 characters, one line",
        ));
    }
    if state.config.keyring.is_none() {
        return Err(crate::credentials::CredentialError::NoKeyring.into());
    }
    let now = now_ms();
    let expires_at_ms = body.expires_in.map(|s| now + s * 1000);
    let info = AccountInfo {
        network: n,
        account_id,
        username,
        status: AccountStatus::Connected,
        last_error: None,
        expires_at_ms,
        connected_ms: now,
        refreshed_ms: None,
    };
    let toks = Tokens {
        access_token: Secret::new(access),
        refresh_token: refresh.map(Secret::new),
        expires_at_ms,
    };
    let row = tokens(&state)
        .connect(&info, &toks, now)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let actor = format!("api_key:{}", caller.key_id);
    state
        .store
        .audit(
            &actor,
            "social.connected",
            n.credential_name(),
            &json!({ "account_id": info.account_id, "revision": row.revision, "refresh_token": toks.refresh_token.is_some() }).to_string(),
            now,
        )
        .await?;
    if let Some(live) = state.publishing.live_social() {
        live.refresh_health().await;
    }
    tracing::info!(network = %n, "social account connected");
    Ok(Json(view(Some(&info), None, &state, n)))
}

async fn disconnect(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let n = network(&name)?;
    if !state.store.delete_credential(n.credential_name()).await? {
        return Err(ApiError::NotFound(format!("no {n} account is connected")));
    }
    let actor = format!("api_key:{}", caller.key_id);
    state
        .store
        .audit(
            &actor,
            "social.disconnected",
            n.credential_name(),
            "{}",
            now_ms(),
        )
        .await?;
    if let Some(live) = state.publishing.live_social() {
        live.refresh_health().await;
    }
    Ok(Json(
        json!({ "disconnected": n, "now": view(None, None, &state, n) }),
    ))
}
