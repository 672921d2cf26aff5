//! X API v2: `POST /2/tweets` with `{text}`, and `{text, reply: {in_reply_to_tweet_id}}` for
//! each later part of a thread. Success is 201 with `{data: {id, text}}`.

use crate::client::{Auth, CallError, Exchange, HttpClient, RawAnswer};
use reqwest::Method;
use serde_json::{Value, json};
use url::Url;

pub async fn post(
    client: &HttpClient,
    api_base: &Url,
    token: &str,
    text: &str,
    reply_to: Option<&str>,
    correlation_id: &str,
) -> Result<RawAnswer, CallError> {
    let url = api_base
        .join("2/tweets")
        .map_err(|e| CallError::Url(format!("{api_base}2/tweets: {e}")))?;
    let mut body = json!({ "text": text });
    if let Some(id) = reply_to {
        body["reply"] = json!({ "in_reply_to_tweet_id": id });
    }
    client
        .exchange(Exchange {
            upstream: "x",
            method: Method::POST,
            url,
            headers: Vec::new(),
            auth: Auth::Bearer(token),
            json: Some(&body),
            form: None,
            correlation_id,
        })
        .await
}

/// The id of a created post.
pub fn post_id(answer: &RawAnswer) -> Option<String> {
    answer
        .body
        .pointer("/data/id")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// When a 429's window resets: `x-rate-limit-reset` (epoch seconds).
pub fn reset_at_ms(answer: &RawAnswer) -> Option<i64> {
    answer
        .header("x-rate-limit-reset")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|s| s * 1000)
}

pub fn url_of(username: Option<&str>, id: &str) -> String {
    match username {
        Some(u) if !u.is_empty() => format!("https://x.com/{u}/status/{id}"),
        _ => format!("https://x.com/i/web/status/{id}"),
    }
}
