//! Refreshing an access token with the refresh token (RFC 6749 §6), as X and LinkedIn do it.
//! A Facebook Page token has nothing to refresh with: when it stops working, the Page must be
//! connected again.
//! X rotates refresh tokens (each works once); LinkedIn may return none, in which case the
//! one we hold stays valid. A refresh never loses the token we hold: the caller stores the
//! result only when the exchange succeeded.

use super::{Network, NetworkSettings, Tokens};
use crate::client::{Auth, CallError, Exchange, HttpClient};
use halcytone_vault::Secret;
use reqwest::Method;
use serde_json::Value;

/// Why a refresh did not give new tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshError {
    /// The network refused the refresh token (revoked, expired, already used): only a new
    /// connection helps.
    Rejected(String),
    /// Not configured, or no refresh token: only a new connection helps.
    Impossible(String),
    /// Could not ask (network down, 5xx): try again later; the account is not marked.
    Unavailable(String),
}

pub async fn refresh(
    client: &HttpClient,
    network: Network,
    settings: &NetworkSettings,
    current: &Tokens,
    correlation_id: &str,
    now_ms: i64,
) -> Result<Tokens, RefreshError> {
    if network == Network::Facebook {
        return Err(RefreshError::Impossible(
            "a Facebook Page access token is not refreshed (it has no refresh token)".into(),
        ));
    }
    let Some(client_id) = settings.client_id.as_deref() else {
        return Err(RefreshError::Impossible(format!(
            "{}_CLIENT_ID is not set, so the token cannot be refreshed",
            if network == Network::X {
                "X"
            } else {
                "LINKEDIN"
            }
        )));
    };
    let Some(refresh_token) = current.refresh_token.as_ref() else {
        return Err(RefreshError::Impossible(
            "the access token expired and the account has no refresh token".into(),
        ));
    };
    let secret = settings.client_secret.as_ref().map(Secret::expose);
    let mut form: Vec<(&str, &str)> = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
        ("client_id", client_id),
    ];
    // X: confidential clients authenticate with HTTP Basic; LinkedIn: the secret in the form.
    let auth = match (network, secret) {
        (Network::X, Some(s)) => Auth::Basic(client_id, Some(s)),
        (Network::Linkedin, Some(s)) => {
            form.push(("client_secret", s));
            Auth::None
        }
        (Network::Facebook, _) | (_, None) => Auth::None,
    };
    let answer = client
        .exchange(Exchange {
            upstream: match network {
                Network::X => "x-oauth",
                Network::Linkedin => "linkedin-oauth",
                Network::Facebook => "facebook-oauth",
            },
            method: Method::POST,
            url: settings.token_url.clone(),
            headers: Vec::new(),
            auth,
            json: None,
            form: Some(&form),
            correlation_id,
        })
        .await
        .map_err(|e| match e {
            CallError::Egress(refused) => RefreshError::Impossible(refused.to_string()),
            other => RefreshError::Unavailable(other.to_string()),
        })?;
    if answer.status >= 500 || answer.status == 429 {
        return Err(RefreshError::Unavailable(format!(
            "the token endpoint answered {}: {}",
            answer.status,
            answer.message()
        )));
    }
    if !(200..300).contains(&answer.status) {
        let code = answer
            .body
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("");
        let detail = answer
            .body
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or("");
        let why = match (code, detail) {
            ("", "") => answer.message(),
            (c, "") => c.to_string(),
            ("", d) => d.to_string(),
            (c, d) => format!("{c}: {d}"),
        };
        return Err(RefreshError::Rejected(format!(
            "the token endpoint refused the refresh ({}): {why}",
            answer.status
        )));
    }
    let access = answer
        .body
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            RefreshError::Unavailable("the token endpoint answered without an access_token".into())
        })?;
    // A rotated refresh token replaces ours; an empty or missing one never does.
    let refresh = answer
        .body
        .get("refresh_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .or_else(|| current.refresh_token.clone());
    let expires_at_ms = answer
        .body
        .get("expires_in")
        .and_then(Value::as_i64)
        .map(|s| now_ms + s * 1000);
    Ok(Tokens {
        access_token: Secret::new(access),
        refresh_token: refresh,
        expires_at_ms,
    })
}
