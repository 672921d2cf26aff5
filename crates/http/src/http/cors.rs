//! CORS from `CORS_ORIGINS`, as `tower_http::cors::CorsLayer`: the dashboard runs on its
//! own origin and sends `Authorization` and `Content-Type` on GET, POST and DELETE, so
//! preflights for those are answered (and may be cached for 10 minutes), and the headers a
//! dashboard reads (correlation id, budgets, `Retry-After`) are exposed. Requests without an
//! `Origin` header — every probe, scraper and script — pass through untouched.

use crate::config::CorsOrigins;
use axum::http::{HeaderName, HeaderValue, Method, header};
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};

const ALLOW_METHODS: [Method; 6] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::OPTIONS,
];

fn names(list: &[&'static str]) -> Vec<HeaderName> {
    list.iter().map(|n| HeaderName::from_static(n)).collect()
}

/// The layer for the configured origins.
pub fn layer(origins: &CorsOrigins) -> CorsLayer {
    let allow = match origins {
        CorsOrigins::Any => AllowOrigin::any(),
        CorsOrigins::List(list) => {
            let list: Vec<String> = list
                .iter()
                .map(|o| o.trim_end_matches('/').to_string())
                .collect();
            // A browser sends the origin without a trailing slash; a listed one may carry it.
            AllowOrigin::predicate(move |origin: &HeaderValue, _| {
                origin
                    .to_str()
                    .is_ok_and(|o| list.iter().any(|a| a == o.trim_end_matches('/')))
            })
        }
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods(ALLOW_METHODS)
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::CACHE_CONTROL,
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("x-correlation-id"),
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers(names(&[
            "x-correlation-id",
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
            "ratelimit-limit",
            "ratelimit-remaining",
            "ratelimit-reset",
            "ratelimit-policy",
            "retry-after",
        ]))
        .max_age(Duration::from_secs(600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    async fn ask(origins: &CorsOrigins, req: Request<Body>) -> axum::response::Response {
        Router::new()
            .route(
                "/x",
                axum::routing::get(|| async { "ok" }).delete(|| async { "ok" }),
            )
            .layer(layer(origins))
            .oneshot(req)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn listed_origins_only_and_star() {
        let list = CorsOrigins::List(vec!["http://localhost:3000/".into()]);
        let get = |o: &str| {
            Request::get("/x")
                .header(header::ORIGIN, o)
                .body(Body::empty())
                .unwrap()
        };
        let r = ask(&list, get("http://localhost:3000")).await;
        assert_eq!(
            r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "http://localhost:3000"
        );
        assert!(
            r.headers()[header::ACCESS_CONTROL_EXPOSE_HEADERS]
                .to_str()
                .unwrap()
                .contains("x-correlation-id")
        );
        let r = ask(&list, get("http://evil.example")).await;
        assert!(
            r.headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none()
        );
        let r = ask(&CorsOrigins::Any, get("http://x.example")).await;
        assert_eq!(r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        let preflight = Request::builder()
            .method(Method::OPTIONS)
            .uri("/x")
            .header(header::ORIGIN, "http://localhost:3000")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "DELETE")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
            .body(Body::empty())
            .unwrap();
        let r = ask(&list, preflight).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()[header::ACCESS_CONTROL_ALLOW_METHODS]
                .to_str()
                .unwrap()
                .contains("DELETE")
        );
        assert_eq!(r.headers()[header::ACCESS_CONTROL_MAX_AGE], "600");
    }
}
