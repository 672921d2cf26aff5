//! Correlation ids: every request gets one (the caller's `X-Correlation-ID` when it is
//! sensible, else a new one), echoed in the response, attached to every log line of the
//! request, and readable anywhere in the handler through [`current`].

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const HEADER: &str = "x-correlation-id";

tokio::task_local! {
    static CORRELATION_ID: String;
}

/// The correlation id of the request being handled ("" outside a request).
pub fn current() -> String {
    CORRELATION_ID.try_with(|id| id.clone()).unwrap_or_default()
}

/// Accepts ids of up to 128 characters from `[A-Za-z0-9._:-]`; anything else is replaced.
pub fn sanitize(raw: Option<&str>) -> String {
    match raw.map(str::trim) {
        Some(id)
            if !id.is_empty()
                && id.len() <= 128
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')) =>
        {
            id.to_string()
        }
        _ => uuid::Uuid::new_v4().to_string(),
    }
}

pub async fn middleware(req: Request, next: Next) -> Response {
    let id = sanitize(req.headers().get(HEADER).and_then(|v| v.to_str().ok()));
    let span = tracing::info_span!("request", correlation_id = %id, method = %req.method(), path = %req.uri().path());
    let mut resp = CORRELATION_ID
        .scope(id.clone(), next.run(req).instrument(span))
        .await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(HEADER, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_sensible_ids_and_replaces_others() {
        assert_eq!(sanitize(Some("abc-123")), "abc-123");
        assert_ne!(sanitize(Some("bad id with spaces")), "bad id with spaces");
        assert_ne!(sanitize(Some(&"x".repeat(200))), "x".repeat(200));
        assert_eq!(sanitize(None).len(), 36);
    }
}
