//! API keys. A key arrives as `Authorization: Bearer <key>` (a key wrapped in quotes, as some
//! dashboard pages send it, is accepted) or `X-API-Key`. The first admin key comes from
//! `API_KEY` (compared in constant time); more are created with `halcytone keys create` and
//! stored only as hashes. Keys are never logged. Each route declares the [`Access`] it
//! needs; the guard resolves the key, checks its scope and applies the per-key rate limit.

use crate::error::ApiError;
use crate::http::rate_limit::Kind;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use halcytone_store::{KeyLimits, Scope, sha256_hex};
use subtle::ConstantTimeEq;

/// The id callers presenting the configured `API_KEY` get.
pub const ENV_KEY_ID: &str = "env:API_KEY";

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No key (health, metrics, docs, read-only catalogues).
    Public,
    /// A key with this scope or a higher one.
    Key(Scope),
    /// No key for a preview; the handler asks for `write` before it publishes.
    PreviewOrWrite,
    /// An inbound webhook: the handler checks its HMAC signature (or, with no secret
    /// configured, a `write` key).
    Signed,
}

pub use halcytone_app::caller::Caller;

/// The key a request presents, if any (quotes and whitespace removed).
pub fn presented_key(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let v = v.trim();
            v.get(..7)
                .filter(|p| p.eq_ignore_ascii_case("bearer "))
                .map(|_| &v[7..])
        });
    let raw = bearer.or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))?;
    let key = raw.trim().trim_matches('"').trim_matches('\'').trim();
    (!key.is_empty()).then(|| key.to_string())
}

/// Resolves a presented key to a caller.
pub async fn authenticate(state: &AppState, key: &str) -> Result<Caller, ApiError> {
    if let Some(configured) = &state.config.api_key {
        let a = sha256_hex(key);
        let b = sha256_hex(configured);
        if bool::from(a.as_bytes().ct_eq(b.as_bytes())) {
            return Ok(Caller {
                key_id: ENV_KEY_ID.into(),
                scopes: vec![Scope::Admin],
                limits: KeyLimits::default(),
            });
        }
    }
    match state.store.api_key(key).await? {
        Some(k) if k.revoked_ms.is_none() => Ok(Caller {
            key_id: k.id,
            scopes: k.scopes,
            limits: k.limits,
        }),
        _ => Err(ApiError::BadKey),
    }
}

/// Ensures the caller may act with `needed`.
pub fn require(caller: Option<&Caller>, needed: Scope) -> Result<&Caller, ApiError> {
    Ok(halcytone_app::caller::require(caller, needed)?)
}

/// The per-route guard (see [`crate::routes`]).
pub async fn guard(
    State((state, access)): State<(AppState, Access)>,
    mut req: Request,
    next: Next,
) -> Response {
    if matches!(access, Access::Public | Access::Signed) {
        return next.run(req).await;
    }
    let caller = match presented_key(req.headers()) {
        Some(key) => match authenticate(&state, &key).await {
            Ok(c) => Some(c),
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    if let Access::Key(needed) = access
        && let Err(e) = require(caller.as_ref(), needed)
    {
        return e.into_response();
    }
    // Reads (GET, HEAD, and routes that need only `read`) and writes have separate budgets.
    let kind = if matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) || access == Access::Key(Scope::Read)
    {
        Kind::Read
    } else {
        Kind::Write
    };
    let allowance = match &caller {
        Some(c) => match state.rate_limiter.check(
            &c.key_id,
            kind,
            state.rate_limiter.budget_for(kind, &c.limits),
            std::time::Instant::now(),
        ) {
            Ok(a) => a,
            Err(e) => return e.into_response(),
        },
        None => None,
    };
    if let Some(c) = caller {
        req.extensions_mut().insert(c);
    }
    let mut resp = next.run(req).await;
    if let Some(a) = allowance {
        a.write(resp.headers_mut());
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn keys_are_read_from_bearer_quoted_bearer_and_x_api_key() {
        let mut h = HeaderMap::new();
        assert_eq!(presented_key(&h), None);
        h.insert("authorization", HeaderValue::from_static("Bearer hk_abc"));
        assert_eq!(presented_key(&h).as_deref(), Some("hk_abc"));
        h.insert(
            "authorization",
            HeaderValue::from_static("Bearer \"hk_abc\""),
        );
        assert_eq!(presented_key(&h).as_deref(), Some("hk_abc"));
        h.insert("authorization", HeaderValue::from_static("bearer  hk_abc "));
        assert_eq!(presented_key(&h).as_deref(), Some("hk_abc"));
        h.remove("authorization");
        h.insert("x-api-key", HeaderValue::from_static("hk_xyz"));
        assert_eq!(presented_key(&h).as_deref(), Some("hk_xyz"));
        h.insert("x-api-key", HeaderValue::from_static("\"\""));
        assert_eq!(presented_key(&h), None);
    }

    #[test]
    fn scopes_are_ordered() {
        let c = Caller {
            key_id: "k".into(),
            scopes: vec![Scope::Write],
            limits: KeyLimits::default(),
        };
        assert!(require(Some(&c), Scope::Read).is_ok());
        assert!(require(Some(&c), Scope::Write).is_ok());
        assert!(matches!(
            require(Some(&c), Scope::Admin),
            Err(ApiError::Forbidden("admin"))
        ));
        assert!(matches!(
            require(None, Scope::Read),
            Err(ApiError::MissingKey)
        ));
    }
}
