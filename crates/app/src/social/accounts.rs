//! Social accounts: connect an X or LinkedIn account with its OAuth tokens, or a Facebook
//! Page with its Page access token (stored sealed), list every network with its health,
//! disconnect. Tokens are never shown.

use super::tokens::StoreTokens;
use crate::caller::Caller;
use crate::core::Core;
use crate::error::{AppError, AppResult};
use crate::queue::{iso, now_ms};
use halcytone_publish::social::{AccountInfo, AccountStatus, Network, NetworkHealth, Tokens};
use halcytone_vault::Secret;
use serde::Deserialize;
use serde_json::{Value, json};

/// The network a path names; Instagram has no live adapter.
pub fn network(name: &str) -> AppResult<Network> {
    Network::parse(name).ok_or_else(|| {
        AppError::NotFound(match name.to_ascii_lowercase().as_str() {
            "instagram" => {
                format!("{name} has no live adapter: its posts always go through the Platform")
            }
            _ => format!("no social network named {name}; live adapters: x, linkedin, facebook"),
        })
    })
}

fn tokens(state: &Core) -> StoreTokens {
    StoreTokens::new(state.store.clone(), state.config.keyring.clone())
}

fn view(
    info: Option<&AccountInfo>,
    health: Option<&NetworkHealth>,
    state: &Core,
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

/// Every network with its account (never its tokens), health and quota.
pub async fn list(state: &Core) -> AppResult<Value> {
    let t = tokens(state);
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
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let h = health.iter().find(|(hn, _)| *hn == n).map(|(_, h)| h);
        out.push(view(info.as_ref().map(|(i, _)| i), h, state, n));
    }
    out.push(json!({ "network": "instagram", "connected": false, "posts_via": "platform", "note": "no live adapter: Instagram's API publishes images and videos, and the composed posts are text" }));
    Ok(json!({ "dry_run": state.publishing.settings.dry_run, "accounts": out }))
}

/// An account to connect, with its tokens.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectRequest {
    pub account_id: Option<String>,
    pub username: Option<String>,
    pub access_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_in: Option<i64>,
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

/// Checks and seals an account's tokens, audits the connection, and refreshes the networks'
/// health.
pub async fn connect(
    state: &Core,
    caller: &Caller,
    name: &str,
    body: ConnectRequest,
) -> AppResult<Value> {
    let n = network(name)?;
    let account_id = body.account_id.unwrap_or_default().trim().to_string();
    check_account(n, &account_id)
        .map_err(|m| AppError::invalid("account_id", format!("account_id: {m}")))?;
    let access = body.access_token.unwrap_or_default();
    crate::credentials::check_value(&access)
        .map_err(|m| AppError::invalid("access_token", format!("access_token: {m}")))?;
    let refresh = body.refresh_token.filter(|r| !r.is_empty());
    if let Some(r) = &refresh {
        crate::credentials::check_value(r)
            .map_err(|m| AppError::invalid("refresh_token", format!("refresh_token: {m}")))?;
    }
    if n == Network::Facebook && refresh.is_some() {
        return Err(AppError::invalid(
            "refresh_token",
            "refresh_token: a Facebook Page access token has none; send only access_token",
        ));
    }
    if let Some(e) = body.expires_in
        && !(60..=31_536_000).contains(&e)
    {
        return Err(AppError::invalid(
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
        return Err(AppError::invalid(
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
    let row = tokens(state)
        .connect(&info, &toks, now)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
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
    Ok(view(Some(&info), None, state, n))
}

/// Deletes an account's tokens (posts go through the Platform again), audited.
pub async fn disconnect(state: &Core, caller: &Caller, name: &str) -> AppResult<Value> {
    let n = network(name)?;
    if !state.store.delete_credential(n.credential_name()).await? {
        return Err(AppError::NotFound(format!("no {n} account is connected")));
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
    Ok(json!({ "disconnected": n, "now": view(None, None, state, n) }))
}
