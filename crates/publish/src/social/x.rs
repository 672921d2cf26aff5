//! X API v2: `POST /2/tweets` with `{text}`, and `{text, reply: {in_reply_to_tweet_id}}` for
//! each later part of a thread. Success is 201 with `{data: {id, text}}`.

use super::Poster;
use crate::client::{CallError, RawAnswer};
use serde_json::json;

pub async fn post(
    poster: &Poster<'_>,
    text: &str,
    reply_to: Option<&str>,
) -> Result<RawAnswer, CallError> {
    let mut body = json!({ "text": text });
    if let Some(id) = reply_to {
        body["reply"] = json!({ "in_reply_to_tweet_id": id });
    }
    poster.send("2/tweets", Vec::new(), Some(&body), None).await
}

/// The id of a created post.
pub fn post_id(answer: &RawAnswer) -> Option<String> {
    answer.text_at("/data/id")
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
