//! Facebook Pages through the Graph API: `POST /{version}/{page-id}/feed` with `message` (and
//! `link`), authorised by a Page access token. Success is 200 with `{"id": "<page>_<post>"}`.
//! Errors are 4xx with `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`:
//! code 190 is an access token that no longer works; 4, 17, 32, 613 and 80001 are rate limits.
//! A Page token made from a long-lived user token does not expire and has no refresh token, so
//! a token that stops working needs the Page connected again.

use super::Poster;
use crate::client::{CallError, RawAnswer};
use serde_json::Value;

pub async fn post(
    poster: &Poster<'_>,
    version: &str,
    page_id: &str,
    message: &str,
    link: Option<&str>,
) -> Result<RawAnswer, CallError> {
    let path = format!("{version}/{page_id}/feed");
    let mut form: Vec<(&str, &str)> = vec![("message", message)];
    if let Some(l) = link {
        form.push(("link", l));
    }
    poster.send(&path, Vec::new(), None, Some(&form)).await
}

/// The id of a created post (`<page id>_<post id>`).
pub fn post_id(answer: &RawAnswer) -> Option<String> {
    answer.text_at("/id").filter(|id| !id.is_empty())
}

/// The Graph API error code of a failed call.
fn error_code(answer: &RawAnswer) -> Option<i64> {
    answer.body.pointer("/error/code").and_then(Value::as_i64)
}

/// The status the rest of the adapter reads: the Graph API answers an expired or revoked
/// token (code 190) and its rate limits with 400 or 403, which mean 401 and 429 here.
pub fn effective_status(answer: &RawAnswer) -> u16 {
    match error_code(answer) {
        Some(190) => 401,
        Some(4 | 17 | 32 | 613 | 80001) => 429,
        _ => answer.status,
    }
}

pub fn url_of(id: &str) -> String {
    format!("https://www.facebook.com/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: Value) -> RawAnswer {
        RawAnswer {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body,
        }
    }

    #[test]
    fn graph_errors_read_as_the_statuses_they_mean() {
        let expired = json!({"error": {"message": "Error validating access token: Session has expired", "type": "OAuthException", "code": 190, "error_subcode": 463}});
        assert_eq!(effective_status(&answer(400, expired)), 401);
        let limited = json!({"error": {"message": "Application request limit reached", "type": "OAuthException", "code": 4}});
        assert_eq!(effective_status(&answer(403, limited)), 429);
        let other = json!({"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100}});
        assert_eq!(effective_status(&answer(400, other)), 400);
        assert_eq!(
            post_id(&answer(200, json!({"id": "104_991"}))).as_deref(),
            Some("104_991")
        );
        assert_eq!(post_id(&answer(200, json!({}))), None);
    }
}
