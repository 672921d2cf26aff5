//! Answering a GET from the response cache: a hit is sent as stored, a miss is computed,
//! stored with its tags and sent. `X-Cache: HIT|MISS` says which; a request with
//! `Cache-Control: no-cache` skips the lookup (and refreshes the entry).

use super::{Cached, ResponseCache};
use crate::error::ApiResult;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::future::Future;
use std::time::Duration;

/// Whether the request asks to bypass cached answers.
pub fn bypass(headers: &HeaderMap) -> bool {
    headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|d| matches!(d.trim(), "no-cache" | "no-store" | "max-age=0"))
        })
}

/// Sends cached JSON with the hit/miss header.
pub fn respond(body: Bytes, content_type: &'static str, hit: bool) -> Response {
    let mut r = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    r.headers_mut().insert(
        "x-cache",
        HeaderValue::from_static(if hit { "HIT" } else { "MISS" }),
    );
    r
}

/// The cached answer under `key`, or `compute`'s, stored with `tags` (worked out only on a
/// miss) for `ttl`.
pub async fn json<F, Fut>(
    cache: &ResponseCache,
    key: String,
    tags: impl FnOnce() -> Vec<String>,
    ttl: Option<Duration>,
    skip_lookup: bool,
    compute: F,
) -> ApiResult<Response>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<Bytes>>,
{
    if skip_lookup {
        cache.note_bypass();
    } else if let Some(hit) = cache.get(&key) {
        return Ok(respond(hit.body, hit.content_type, true));
    }
    let body = compute().await?;
    cache.put(
        key,
        Cached {
            body: body.clone(),
            content_type: "application/json",
        },
        tags(),
        ttl,
    );
    Ok(respond(body, "application/json", false))
}

/// Serializes an answer for the cache.
pub fn to_bytes(v: &serde_json::Value) -> ApiResult<Bytes> {
    serde_json::to_vec(v)
        .map(Bytes::from)
        .map_err(|e| crate::error::ApiError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_cache_directives_bypass() {
        let mut h = HeaderMap::new();
        assert!(!bypass(&h));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=0"));
        assert!(bypass(&h));
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
        assert!(bypass(&h));
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=60"),
        );
        assert!(!bypass(&h));
    }
}
