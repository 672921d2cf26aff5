//! Correlation ids: every request gets one (the caller's `X-Correlation-ID` when it is
//! sensible, else a new one), echoed in the response, attached to every log line of the
//! request, and readable anywhere in the handler through [`current`]. The `http::edge`
//! middleware sets it.

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
        _ => generate(),
    }
}

/// A new id: a random per-process prefix and a counter — unique across replicas, and cheap
/// (no system call per request).
pub fn generate() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..12].to_string());
    format!("{prefix}-{:08x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Runs `work` with `id` as the current correlation id.
pub async fn scope<F: std::future::Future>(id: String, work: F) -> F::Output {
    CORRELATION_ID.scope(id, work).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_sensible_ids_and_replaces_others() {
        assert_eq!(sanitize(Some("abc-123")), "abc-123");
        assert_ne!(sanitize(Some("bad id with spaces")), "bad id with spaces");
        assert_ne!(sanitize(Some(&"x".repeat(200))), "x".repeat(200));
        let (a, b) = (sanitize(None), sanitize(None));
        assert_ne!(a, b);
        assert_eq!(a.len(), 21);
        assert_eq!(sanitize(Some(&a)), a, "generated ids pass the check");
    }
}
