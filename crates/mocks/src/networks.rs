//! The mock Platform also plays X, LinkedIn and Facebook Pages, so the live social adapters
//! can be rehearsed against it: `POST /2/tweets` and `POST /2/oauth2/token` answer like X's API
//! v2, `POST /rest/posts` and `POST /oauth/v2/accessToken` like LinkedIn's, and
//! `POST /{version}/{page_id}/feed` like the Graph API. Every post is a `social` capture like
//! the Platform's own.
//!
//! Rehearsal triggers: a bearer token starting with `expired` or `revoked` gets 401 (on the
//! Graph API, 400 with error code 190, as Facebook answers); a refresh token starting with
//! `revoked` gets 400 `invalid_request`. Every refresh hands out a new refresh token (X rotates
//! them).

use crate::error::MockResult;
use crate::idempotency;
use crate::state::MockState;
use crate::store::NewRecord;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

pub fn routes() -> Router<MockState> {
    Router::new()
        .route("/2/tweets", post(tweet))
        .route("/2/oauth2/token", post(x_token))
        .route("/rest/posts", post(linkedin_post))
        .route("/oauth/v2/accessToken", post(linkedin_token))
        .route("/{version}/{page_id}/feed", post(facebook_feed))
}

/// X's problem shape.
fn x_problem(status: StatusCode, title: &str, detail: &str) -> Response {
    (
        status,
        Json(json!({ "title": title, "type": "about:blank", "status": status.as_u16(), "detail": detail })),
    )
        .into_response()
}

/// The bearer token, or the 401 the network would answer.
fn bearer(headers: &HeaderMap) -> Result<String, String> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    if token.is_empty() {
        return Err("no bearer token".into());
    }
    if token.starts_with("expired") || token.starts_with("revoked") {
        return Err("the access token is expired or revoked".into());
    }
    Ok(token.to_string())
}

/// A numeric id like X's, deterministic per mock run.
fn numeric_id(state: &MockState) -> String {
    let n = (state.run << 32) | (state.counters.ids.fetch_add(1, Ordering::Relaxed) + 1);
    (1_860_000_000_000_000_000u64.wrapping_add(n)).to_string()
}

async fn capture(
    state: &MockState,
    headers: &HeaderMap,
    id: &str,
    platform: &str,
    text: &str,
    request: Value,
    response: Value,
) -> MockResult<()> {
    let record = NewRecord {
        subject: Some(text.chars().take(200).collect()),
        channel: Some(format!("social:{platform}")),
        status: Some("posted".into()),
        ..idempotency::capture("social", id.to_string(), headers, request, response)
    };
    state
        .store
        .commit(Some(&record), None, state.config.retention)
        .await?;
    Ok(())
}

async fn tweet(
    State(state): State<MockState>,
    headers: HeaderMap,
    body: String,
) -> MockResult<Response> {
    if let Err(why) = bearer(&headers) {
        return Ok(x_problem(StatusCode::UNAUTHORIZED, "Unauthorized", &why));
    }
    let Ok(req) = serde_json::from_str::<Value>(&body) else {
        return Ok(x_problem(
            StatusCode::BAD_REQUEST,
            "Invalid Request",
            "the body is not JSON",
        ));
    };
    let text = req.get("text").and_then(Value::as_str).unwrap_or_default();
    if text.trim().is_empty() {
        return Ok(x_problem(
            StatusCode::BAD_REQUEST,
            "Invalid Request",
            "text: must not be empty",
        ));
    }
    if weighted_length(text) > 280 {
        return Ok(x_problem(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "You are not permitted to create a Tweet with more than 280 characters",
        ));
    }
    let reply_to = req
        .pointer("/reply/in_reply_to_tweet_id")
        .and_then(Value::as_str)
        .map(str::to_string);
    if let Some(parent) = &reply_to
        && state.store.get(Some("social"), parent).await?.is_none()
    {
        return Ok(x_problem(
            StatusCode::BAD_REQUEST,
            "Invalid Request",
            &format!("in_reply_to_tweet_id {parent} is not a post of this mock"),
        ));
    }
    let id = numeric_id(&state);
    let response = json!({ "data": { "id": id, "text": text } });
    capture(
        &state,
        &headers,
        &id,
        "twitter",
        text,
        json!({ "platform": "twitter", "via": "x-api-v2", "content": text, "in_reply_to": reply_to }),
        response.clone(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(response)).into_response())
}

/// X's length rule (twitter-text v3), written here independently of the client's: a URL
/// counts 23; characters in the Latin-heavy ranges count 1, everything else (CJK, emoji) 2.
pub(crate) fn weighted_length(text: &str) -> usize {
    let mut n = 0;
    for word in text.split_inclusive(char::is_whitespace) {
        let bare = word.trim_end();
        if bare.starts_with("http://") || bare.starts_with("https://") {
            n += 23 + (word.len() - bare.len());
            continue;
        }
        for c in word.chars() {
            let u = c as u32;
            let light = u <= 0x10FF
                || (0x2000..=0x200D).contains(&u)
                || (0x2010..=0x201F).contains(&u)
                || (0x2032..=0x2037).contains(&u);
            n += if light { 1 } else { 2 };
        }
    }
    n
}

/// `application/x-www-form-urlencoded` pairs.
fn form(body: &str) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = |c: u8| (c as char).to_digit(16);
                    match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                        (Some(h), Some(l)) => {
                            out.push((h * 16 + l) as u8);
                            i += 2;
                        }
                        _ => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(p), String::new()),
        })
        .collect()
}

/// The OAuth error answer both networks give.
fn oauth_error((code, description): (&str, &str)) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": code, "error_description": description })),
    )
        .into_response()
}

/// The refresh grant both networks use; `Err` is the OAuth error code and description.
fn refresh(
    state: &MockState,
    body: &str,
    prefix: &str,
) -> Result<Value, (&'static str, &'static str)> {
    let pairs = form(body);
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if get("grant_type") != Some("refresh_token") {
        return Err(("unsupported_grant_type", "grant_type must be refresh_token"));
    }
    let token = get("refresh_token").unwrap_or_default();
    if token.is_empty() {
        return Err(("invalid_request", "refresh_token is missing"));
    }
    if token.starts_with("revoked") {
        return Err(("invalid_request", "Value passed for the token was invalid."));
    }
    if get("client_id").unwrap_or_default().is_empty() {
        return Err(("invalid_client", "client_id is missing"));
    }
    let n = state.counters.ids.fetch_add(1, Ordering::Relaxed) + 1;
    Ok(json!({
        "token_type": "bearer",
        "access_token": format!("mock-{prefix}-access-{n}"),
        "refresh_token": format!("mock-{prefix}-refresh-{n}"),
    }))
}

async fn x_token(State(state): State<MockState>, body: String) -> Response {
    match refresh(&state, &body, "x") {
        Ok(mut v) => {
            v["expires_in"] = json!(7200);
            v["scope"] = json!("tweet.read tweet.write users.read offline.access");
            Json(v).into_response()
        }
        Err(e) => oauth_error(e),
    }
}

async fn linkedin_token(State(state): State<MockState>, body: String) -> Response {
    match refresh(&state, &body, "linkedin") {
        Ok(mut v) => {
            v["expires_in"] = json!(5_183_999);
            v["refresh_token_expires_in"] = json!(31_535_999);
            if let Some(o) = v.as_object_mut() {
                o.remove("token_type");
            }
            Json(v).into_response()
        }
        Err(e) => oauth_error(e),
    }
}

async fn linkedin_post(
    State(state): State<MockState>,
    headers: HeaderMap,
    body: String,
) -> MockResult<Response> {
    let problem = |status: StatusCode, message: &str| {
        (
            status,
            Json(json!({ "status": status.as_u16(), "message": message })),
        )
            .into_response()
    };
    if let Err(why) = bearer(&headers) {
        return Ok(problem(StatusCode::UNAUTHORIZED, &why));
    }
    let version = headers
        .get("linkedin-version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if version.len() != 6 || !version.chars().all(|c| c.is_ascii_digit()) {
        return Ok(problem(
            StatusCode::UPGRADE_REQUIRED,
            "LinkedIn-Version header (YYYYMM) is required",
        ));
    }
    if headers
        .get("x-restli-protocol-version")
        .and_then(|v| v.to_str().ok())
        != Some("2.0.0")
    {
        return Ok(problem(
            StatusCode::BAD_REQUEST,
            "X-Restli-Protocol-Version: 2.0.0 is required",
        ));
    }
    let Ok(req) = serde_json::from_str::<Value>(&body) else {
        return Ok(problem(StatusCode::BAD_REQUEST, "the body is not JSON"));
    };
    let author = req
        .get("author")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !(author.starts_with("urn:li:organization:") || author.starts_with("urn:li:person:")) {
        return Ok(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "author: an organization or person URN",
        ));
    }
    let text = req
        .get("commentary")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if text.trim().is_empty() || text.chars().count() > 3000 {
        return Ok(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "commentary: 1 to 3000 characters",
        ));
    }
    let urn = format!("urn:li:share:{}", numeric_id(&state));
    capture(
        &state,
        &headers,
        &urn,
        "linkedin",
        text,
        json!({ "platform": "linkedin", "via": "linkedin-posts-api", "author": author, "content": text, "visibility": req.get("visibility") }),
        json!({ "id": urn }),
    )
    .await?;
    let mut resp = StatusCode::CREATED.into_response();
    if let Ok(v) = HeaderValue::from_str(&urn) {
        resp.headers_mut().insert("x-restli-id", v);
    }
    Ok(resp)
}

/// The Graph API's error shape.
fn graph_error(status: StatusCode, code: i64, kind: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "message": message, "type": kind, "code": code, "fbtrace_id": "AmockTrace" } })),
    )
        .into_response()
}

/// `POST /{version}/{page_id}/feed`: a Page post with `message` and/or `link`, authorised by
/// a bearer token or the `access_token` field. Answers `{"id": "<page>_<post>"}`.
async fn facebook_feed(
    State(state): State<MockState>,
    Path((version, page_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> MockResult<Response> {
    let known_version = version.strip_prefix('v').is_some_and(|v| {
        v.split_once('.').is_some_and(|(a, b)| {
            !a.is_empty()
                && !b.is_empty()
                && a.chars().all(|c| c.is_ascii_digit())
                && b.chars().all(|c| c.is_ascii_digit())
        })
    });
    if !known_version {
        return Ok(graph_error(
            StatusCode::BAD_REQUEST,
            2500,
            "OAuthException",
            &format!("Unknown path components: /{version}/{page_id}/feed"),
        ));
    }
    let fields = form(&body);
    let field = |k: &str| {
        fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let token = match (bearer(&headers), field("access_token")) {
        (Ok(t), _) => Ok(t),
        (Err(_), Some(t)) if !(t.starts_with("expired") || t.starts_with("revoked")) => Ok(t),
        (Err(why), Some(_)) => Err(why),
        (Err(why), None) => Err(why),
    };
    if let Err(why) = token {
        return Ok(graph_error(
            StatusCode::BAD_REQUEST,
            190,
            "OAuthException",
            &format!("Error validating access token: {why}"),
        ));
    }
    if page_id.is_empty() || !page_id.chars().all(|c| c.is_ascii_digit()) {
        return Ok(graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "OAuthException",
            &format!("(#100) {page_id} is not a Page id"),
        ));
    }
    let message = field("message").unwrap_or_default();
    let link = field("link");
    if message.is_empty() && link.is_none() {
        return Ok(graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "OAuthException",
            "(#100) Param message or link is required",
        ));
    }
    if message.chars().count() > 63_206 {
        return Ok(graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "OAuthException",
            "(#100) message is longer than 63206 characters",
        ));
    }
    let id = format!("{page_id}_{}", numeric_id(&state));
    capture(
        &state,
        &headers,
        &id,
        "facebook",
        &message,
        json!({ "platform": "facebook", "via": "facebook-graph-api", "graph_version": version, "page_id": page_id, "content": message, "link": link }),
        json!({ "id": id }),
    )
    .await?;
    Ok((StatusCode::OK, Json(json!({ "id": id }))).into_response())
}

#[cfg(test)]
mod tests {
    use super::{form, weighted_length};

    #[test]
    fn lengths_are_weighted_like_x() {
        assert_eq!(weighted_length("hello"), 5);
        assert_eq!(
            weighted_length("see https://halcytone.com/updates/a-very-long-path-indeed ok"),
            4 + 23 + 3
        );
        assert_eq!(weighted_length("呼吸"), 4);
        assert_eq!(weighted_length("🫁"), 2);
    }

    #[test]
    fn forms_decode() {
        assert_eq!(
            form("grant_type=refresh_token&refresh_token=a%2Bb+c&x"),
            vec![
                ("grant_type".to_string(), "refresh_token".to_string()),
                ("refresh_token".to_string(), "a+b c".to_string()),
                ("x".to_string(), String::new()),
            ]
        );
        assert_eq!(form("k=%zz%"), vec![("k".to_string(), "%zz%".to_string())]);
        assert_eq!(form("k=%é1"), vec![("k".to_string(), "%é1".to_string())]);
    }
}
