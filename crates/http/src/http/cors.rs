//! CORS from `CORS_ORIGINS`: the dashboard runs on its own origin and sends
//! `Authorization` and `Content-Type` on GET, POST and DELETE, so preflights for those are
//! answered (and may be cached for 10 minutes). Requests without an `Origin` header — every
//! probe, scraper and script — pay nothing.

use crate::config::CorsOrigins;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

const ALLOW_METHODS: &str = "GET, POST, PUT, PATCH, DELETE, OPTIONS";
const ALLOW_HEADERS: &str = "authorization, content-type, accept, x-api-key, x-correlation-id, idempotency-key, cache-control";
const EXPOSE_HEADERS: &str =
    "x-correlation-id, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset, retry-after";

/// The value of `Access-Control-Allow-Origin` for this request, when it may have one.
pub fn allowed_origin(origins: &CorsOrigins, headers: &HeaderMap) -> Option<HeaderValue> {
    let origin = headers.get(header::ORIGIN)?;
    match origins {
        CorsOrigins::Any => Some(HeaderValue::from_static("*")),
        CorsOrigins::List(list) => {
            let o = origin.to_str().ok()?.trim_end_matches('/');
            list.iter().any(|a| a == o).then(|| origin.clone())
        }
    }
}

/// Answers a preflight (`OPTIONS` with `Access-Control-Request-Method`) on its own.
pub fn preflight(origins: &CorsOrigins, method: &Method, headers: &HeaderMap) -> Option<Response> {
    if method != Method::OPTIONS || !headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        return None;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = allowed_origin(origins, headers) {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOW_METHODS),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(ALLOW_HEADERS),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        h.insert(header::VARY, HeaderValue::from_static("origin"));
    }
    Some(resp)
}

/// Adds the CORS headers of an actual (non-preflight) request from an allowed origin.
pub fn decorate(origin: Option<HeaderValue>, resp: &mut Response) {
    if let Some(origin) = origin {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
        h.append(header::VARY, HeaderValue::from_static("origin"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_origin(o: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        h
    }

    #[test]
    fn listed_origins_only_and_star() {
        let list = CorsOrigins::List(vec!["http://localhost:3000".into()]);
        assert_eq!(
            allowed_origin(&list, &with_origin("http://localhost:3000")).unwrap(),
            "http://localhost:3000"
        );
        assert!(allowed_origin(&list, &with_origin("http://evil.example")).is_none());
        assert!(allowed_origin(&list, &HeaderMap::new()).is_none());
        assert_eq!(
            allowed_origin(&CorsOrigins::Any, &with_origin("http://x.example")).unwrap(),
            "*"
        );
        let mut h = with_origin("http://localhost:3000");
        assert!(
            preflight(&list, &Method::OPTIONS, &h).is_none(),
            "a plain OPTIONS is no preflight"
        );
        h.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_static("DELETE"),
        );
        let r = preflight(&list, &Method::OPTIONS, &h).unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert!(
            r.headers()[header::ACCESS_CONTROL_ALLOW_METHODS]
                .to_str()
                .unwrap()
                .contains("DELETE")
        );
    }
}
