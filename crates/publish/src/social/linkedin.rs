//! LinkedIn Posts API: `POST /rest/posts` with the author URN, `LinkedIn-Version` and
//! `X-Restli-Protocol-Version: 2.0.0`. Success is 201 with the post's URN in `x-restli-id`.

use super::Poster;
use crate::client::{CallError, RawAnswer};
use serde_json::json;

pub async fn post(
    poster: &Poster<'_>,
    version: &str,
    author: &str,
    text: &str,
) -> Result<RawAnswer, CallError> {
    let body = json!({
        "author": author,
        "commentary": escape_commentary(text),
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": []
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false
    });
    let headers = vec![
        ("LinkedIn-Version", version.to_string()),
        ("X-Restli-Protocol-Version", "2.0.0".to_string()),
    ];
    poster.send("rest/posts", headers, Some(&body), None).await
}

/// The commentary field is "little text": these characters are markup unless escaped.
pub fn escape_commentary(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '|' | '{' | '}' | '@' | '[' | ']' | '(' | ')' | '<' | '>' | '*' | '_' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn post_urn(answer: &RawAnswer) -> Option<String> {
    answer
        .header("x-restli-id")
        .or_else(|| answer.header("x-linkedin-id"))
        .map(str::to_string)
        .or_else(|| {
            answer
                .body
                .get("id")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string)
        })
}

pub fn url_of(urn: &str) -> String {
    format!("https://www.linkedin.com/feed/update/{urn}/")
}

/// When a 429 may be retried: `Retry-After` seconds.
pub fn reset_at_ms(answer: &RawAnswer, now_ms: i64) -> Option<i64> {
    answer
        .header("retry-after")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|s| now_ms + s * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn little_text_characters_are_escaped() {
        assert_eq!(
            escape_commentary("New (beta) #breathing @team"),
            "New \\(beta\\) #breathing \\@team"
        );
    }
}
