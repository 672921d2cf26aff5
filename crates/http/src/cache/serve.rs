//! Answering a GET from the response cache: a hit is sent as stored, a miss is computed,
//! stored with its tags and sent. `X-Cache: HIT|MISS` says which; a request with
//! `Cache-Control: no-cache` skips the lookup (and refreshes the entry).

use super::encoded::Encoding;
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

/// Sends a cached answer: its compressed copy (made once, then shared by every hit) when
/// the request accepts one, else the body as stored. Either way `Vary: Accept-Encoding`.
pub fn respond_cached(cached: &Cached, hit: bool, request: &HeaderMap) -> Response {
    let encoding = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .and_then(Encoding::chosen);
    let compressed = encoding.and_then(|e| Some((e, cached.variants.get(e, &cached.body)?)));
    let mut r = match compressed {
        Some((e, bytes)) => {
            let mut r = respond(bytes, cached.content_type, hit);
            r.headers_mut().insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(e.as_str()),
            );
            r
        }
        None => respond(cached.body.clone(), cached.content_type, hit),
    };
    r.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
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
    request: &HeaderMap,
    compute: F,
) -> ApiResult<Response>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<Bytes>>,
{
    if skip_lookup {
        cache.note_bypass();
    } else if let Some(hit) = cache.get(&key) {
        return Ok(respond_cached(&hit, true, request));
    }
    let cached = Cached::new(compute().await?, "application/json");
    cache.put(key, cached.clone(), tags(), ttl);
    Ok(respond_cached(&cached, false, request))
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

    #[tokio::test]
    async fn a_hit_is_sent_as_the_kept_copy_without_the_compression_layer() {
        use std::io::Read;
        let body = Bytes::from("{\"html\":\"".to_string() + &"<p>Hello</p>".repeat(500) + "\"}");
        let cached = Cached::new(body.clone(), "application/json");
        let mut request = HeaderMap::new();
        request.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let r = respond_cached(&cached, true, &request);
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(r.headers()[header::VARY], "accept-encoding");
        assert_eq!(r.headers()["x-cache"], "HIT");
        let sent = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&sent[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, body);
        // Without Accept-Encoding: the body as stored.
        let r = respond_cached(&cached, true, &HeaderMap::new());
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
        let sent = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(sent, body);
    }

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
