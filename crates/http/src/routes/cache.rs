//! Cache routes: invalidation by key, `*` pattern or tag, a signed inbound webhook, health,
//! statistics, history and a full clear (`/api/v1/cache/*`), plus the web dashboard's
//! `/api/v2/cache/{stats, invalidate, clear}` with the field names it reads.

use super::{ADMIN, Entry, Param, READ, WRITE, route};
use crate::auth::{self, Access, Caller};
use crate::body::{self, JsonBody};
use crate::cache::invalidation::{Body, Request};
use crate::correlation;
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryArgs;
use crate::state::AppState;
use axum::Extension;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::routing::{delete, get, post};
use bytes::Bytes;
use chrono::{SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

const INVALIDATE_BODY: &str = "{targets?: [local|memory|api|cdn|redis|database] (default [local]), keys?: [string], patterns?: [string with * wildcards], tags?: [string], force?: bool, reason?: string}";

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "post",
            "/api/v1/cache/invalidate",
            WRITE,
            "cache",
            "Invalidate cached answers by key, pattern or tag, locally and on the CDN",
            post(invalidate),
        )
        .body::<Body>(INVALIDATE_BODY)
        .errors(&[(422, "Unknown target, empty key or nothing to invalidate")]),
        route(
            "post",
            "/api/v1/cache/webhook",
            Access::Signed,
            "cache",
            "Inbound invalidation webhook; X-Signature: sha256=HMAC-SHA256(CACHE_WEBHOOK_SECRET, \"<X-Timestamp>.<body>\") required when a secret is configured, an API key (write) otherwise",
            post(webhook),
        )
        .body::<Body>("{event: content_updated|deployment|manual|…, targets?, keys?, patterns?, tags?, force?, reason?}")
        .errors(&[
            (401, "Missing, wrong, stale (over 300 s) or replayed signature"),
            (422, "Invalid body"),
        ]),
        route(
            "post",
            "/api/v1/cache/webhook/test",
            Access::Signed,
            "cache",
            "Check a webhook signature without invalidating anything",
            post(webhook_test),
        ),
        route(
            "get",
            "/api/v1/cache/health",
            READ,
            "cache",
            "Health of each cache target",
            get(health),
        ),
        route(
            "get",
            "/api/v1/cache/stats",
            READ,
            "cache",
            "Configured targets, recent invalidations and counters",
            get(stats_v1),
        ),
        route(
            "get",
            "/api/v1/cache/history",
            READ,
            "cache",
            "Invalidations, newest first",
            get(history),
        )
        .query([Param::whole("limit", 1, 200, "default 50")]),
        route(
            "delete",
            "/api/v1/cache/clear-all",
            ADMIN,
            "cache",
            "Drop every cached answer on every configured target (needs confirm=true)",
            delete(clear_all),
        )
        .query([Param::must_be_true("confirm", "says you mean it")])
        .errors(&[(400, "confirm=true missing")]),
        route(
            "get",
            "/api/v2/cache/stats",
            READ,
            "cache",
            "Cache statistics for the dashboard: hit_rate, miss_rate, hits, misses, evictions, total_keys, memory_usage_mb, avg_ttl_seconds, oldest_key_age_seconds, cache_targets",
            get(stats_v2),
        ),
        route(
            "post",
            "/api/v2/cache/invalidate",
            WRITE,
            "cache",
            "Invalidate by one pattern, a list of keys or tags; answers the number invalidated",
            post(invalidate_v2),
        )
        .body::<DashboardInvalidate>("{pattern: string} | {cache_keys: [string]} | {tags: [string]}")
        .errors(&[(422, "None of pattern, cache_keys, tags given")]),
        route(
            "post",
            "/api/v2/cache/clear",
            WRITE,
            "cache",
            "Drop every locally cached answer",
            post(clear_v2),
        ),
    ]
}

fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn validated(body: Body) -> ApiResult<Request> {
    body.validate()
        .map_err(|e| ApiError::invalid(e.field, e.message))
}

async fn invalidate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<Body>,
) -> ApiResult<Json<Value>> {
    let req = validated(body)?;
    let actor = format!("api_key:{}", caller.key_id);
    Ok(Json(
        state
            .invalidator
            .run(&req, &actor, &correlation::current())
            .await,
    ))
}

async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let actor = match &state.config.cache.webhook_secret {
        Some(secret) => {
            state
                .webhook_signatures
                .verify(
                    secret.as_bytes(),
                    header(&headers, "x-signature"),
                    header(&headers, "x-timestamp"),
                    &bytes,
                    Utc::now().timestamp(),
                )
                .map_err(|e| ApiError::BadSignature(e.to_string()))?;
            "webhook:signed".to_string()
        }
        None => {
            let key = auth::presented_key(&headers).ok_or(ApiError::MissingKey)?;
            let caller = auth::authenticate(&state, &key).await?;
            auth::require(Some(&caller), halcytone_store::Scope::Write)?;
            format!("webhook:api_key:{}", caller.key_id)
        }
    };
    let body: Body = body::parse(&bytes)?;
    let event = body.event.clone().unwrap_or_else(|| "manual".into());
    if event.len() > 100 {
        return Err(ApiError::invalid("event", "event: at most 100 characters"));
    }
    let mut body = body;
    if body.keys.is_none() && body.patterns.is_none() && body.tags.is_none() && !body.force {
        // An event alone drops what publishing would: everything derived from content.
        body.tags = Some(vec!["content".into(), "preview".into()]);
    }
    let req = validated(body)?;
    let mut result = state
        .invalidator
        .run(&req, &actor, &correlation::current())
        .await;
    result["webhook_event"] = json!(event);
    Ok(Json(result))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn webhook_test(
    State(state): State<AppState>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult<Json<Value>> {
    let provided = header(&headers, "x-signature").is_some_and(|s| !s.trim().is_empty());
    let secret = state.config.cache.webhook_secret.as_deref();
    if !provided {
        return Err(ApiError::BadSignature(
            "X-Signature is required on the test route".into(),
        ));
    }
    let (valid, reason) = match secret {
        None => (
            false,
            Some("no CACHE_WEBHOOK_SECRET is configured".to_string()),
        ),
        Some(secret) => match state.webhook_signatures.check(
            secret.as_bytes(),
            header(&headers, "x-signature"),
            header(&headers, "x-timestamp"),
            &bytes,
            Utc::now().timestamp(),
            false,
        ) {
            Ok(()) => (true, None),
            Err(e) => (false, Some(e.to_string())),
        },
    };
    Ok(Json(json!({
        "signature_valid": valid,
        "signature_provided": provided,
        "reason": reason,
        "body_length": bytes.len(),
        "webhook_secret_configured": secret.is_some(),
        "timestamp": now_iso(),
    })))
}

fn target_health(state: &AppState) -> Value {
    let mut out = serde_json::Map::new();
    for t in crate::cache::invalidation::TARGETS {
        let ok = state.invalidator.configured(t);
        out.insert(
            t.to_string(),
            json!({
                "healthy": ok,
                "configured": ok,
                "status": if ok { "operational" } else { "not_configured" },
            }),
        );
    }
    Value::Object(out)
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    let targets = state.invalidator.configured_targets();
    let c = state.cache.counts();
    Json(json!({
        "overall_health": if c.enabled { "healthy" } else { "degraded" },
        "targets": target_health(&state),
        "total_targets": targets.len(),
        "cache_enabled": c.enabled,
        "timestamp": now_iso(),
    }))
}

async fn stats_v1(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let recent = state.store.invalidations(10).await?;
    let total = state.store.invalidation_count().await?;
    let c = state.cache.counts();
    Ok(Json(json!({
        "targets_configured": state.invalidator.configured_targets(),
        "health_status": target_health(&state),
        "recent_requests": recent.iter().map(|i| &i.result).collect::<Vec<_>>(),
        "total_requests": total,
        "webhook_configured": state.config.cache.webhook_secret.is_some(),
        "api_keys_configured": true,
        "local": counts_json(&c),
        "timestamp": now_iso(),
    })))
}

fn counts_json(c: &crate::cache::CacheCounts) -> Value {
    json!({
        "enabled": c.enabled,
        "hit_rate": c.hit_rate(),
        "hits": c.hits,
        "misses": c.misses,
        "evictions": c.evictions,
        "invalidated": c.invalidated,
        "total_keys": c.entries,
        "capacity": c.capacity,
        "memory_mb": c.bytes as f64 / (1024.0 * 1024.0),
    })
}

async fn history(State(state): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Json<Value>> {
    let limit = QueryArgs::parse(q.as_deref()).int("limit", 50, 1, 200)?;
    let limit = limit.min(state.config.cache.max_history);
    let rows = state.store.invalidations(limit).await?;
    let total = state.store.invalidation_count().await?;
    let history: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "request_id": r.request_id,
                "actor": r.actor,
                "at": chrono::DateTime::from_timestamp_millis(r.at_ms)
                    .map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)),
                "request": r.request,
                "result": r.result,
            })
        })
        .collect();
    Ok(Json(json!({
        "history": history,
        "total_count": total,
        "limit": limit,
    })))
}

async fn clear_all(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<Value>> {
    if QueryArgs::parse(q.as_deref()).boolean("confirm")? != Some(true) {
        return Err(ApiError::BadRequest(
            "Must set confirm=true to clear all caches".into(),
        ));
    }
    let req = Request {
        targets: state
            .invalidator
            .configured_targets()
            .into_iter()
            .map(String::from)
            .collect(),
        force: true,
        reason: Some("Force clear all caches via API".into()),
        ..Request::default()
    };
    let actor = format!("api_key:{}", caller.key_id);
    state
        .store
        .audit(
            &actor,
            "cache.clear_all",
            "cache",
            "confirm=true",
            Utc::now().timestamp_millis(),
        )
        .await?;
    let r = state
        .invalidator
        .run(&req, &actor, &correlation::current())
        .await;
    Ok(Json(json!({
        "success": r["success"],
        "request_id": r["request_id"],
        "status": r["status"],
        "targets_cleared": r["targets_processed"],
        "keys_invalidated": r["keys_invalidated"],
        "duration_ms": r["duration_ms"],
        "errors": r["errors"],
        "warning": "All cache data has been cleared",
        "timestamp": r["timestamp"],
    })))
}

async fn stats_v2(State(state): State<AppState>) -> Json<Value> {
    let c = state.cache.counts();
    let memory_mb = c.bytes as f64 / (1024.0 * 1024.0);
    Json(json!({
        "hit_rate": c.hit_rate(),
        "miss_rate": c.miss_rate(),
        "hits": c.hits,
        "misses": c.misses,
        "evictions": c.evictions,
        "bypassed": c.bypassed,
        "not_kept_too_large": c.too_large,
        "total_keys": c.entries,
        "max_bytes": c.max_bytes,
        "memory_usage_mb": memory_mb,
        "avg_ttl_seconds": c.avg_ttl_seconds,
        "oldest_key_age_seconds": c.oldest_age_seconds,
        "cache_targets": {
            "local": { "enabled": c.enabled, "hit_rate": c.hit_rate(), "total_keys": c.entries, "memory_mb": memory_mb },
            "api": { "enabled": c.enabled, "hit_rate": c.hit_rate(), "total_keys": c.entries, "memory_mb": memory_mb },
            "redis": { "enabled": false, "hit_rate": 0.0, "total_keys": 0, "memory_mb": 0.0 },
        },
        "timestamp": now_iso(),
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DashboardInvalidate {
    #[serde(default)]
    #[schema(schema_with = halcytone_app::schema::optional_pattern)]
    pattern: Option<String>,
    #[serde(default)]
    #[schema(schema_with = halcytone_app::schema::cache_entries)]
    cache_keys: Option<Vec<String>>,
    #[serde(default)]
    #[schema(schema_with = halcytone_app::schema::cache_entries)]
    tags: Option<Vec<String>>,
}

async fn invalidate_v2(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    JsonBody(body): JsonBody<DashboardInvalidate>,
) -> ApiResult<Json<Value>> {
    if body.pattern.is_none() && body.cache_keys.is_none() && body.tags.is_none() {
        return Err(ApiError::invalid(
            "pattern",
            "send one of pattern, cache_keys or tags",
        ));
    }
    let req = validated(Body {
        targets: None,
        keys: body.cache_keys,
        patterns: body.pattern.map(|p| vec![p]),
        tags: body.tags,
        force: false,
        reason: Some("dashboard".into()),
        event: None,
    })
    .map_err(|e| match e {
        ApiError::Invalid { field, message } if field.starts_with("patterns") => {
            ApiError::invalid("pattern", message.replacen("patterns[0]", "pattern", 1))
        }
        ApiError::Invalid { field, message } if field.starts_with("keys") => ApiError::invalid(
            field.replacen("keys", "cache_keys", 1),
            message.replacen("keys", "cache_keys", 1),
        ),
        other => other,
    })?;
    Ok(Json(
        dashboard_run(&state, &caller, &req, "invalidated").await,
    ))
}

/// Runs an invalidation for the dashboard; the count is answered under `count_field`.
async fn dashboard_run(
    state: &AppState,
    caller: &Caller,
    req: &Request,
    count_field: &str,
) -> Value {
    let actor = format!("api_key:{}", caller.key_id);
    let r = state
        .invalidator
        .run(req, &actor, &correlation::current())
        .await;
    let mut out = json!({
        "success": r["success"],
        "request_id": r["request_id"],
        "timestamp": r["timestamp"],
    });
    out[count_field] = r["keys_invalidated"].clone();
    out
}

async fn clear_v2(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    let req = Request {
        targets: vec!["local".into()],
        force: true,
        reason: Some("dashboard clear".into()),
        ..Request::default()
    };
    Ok(Json(dashboard_run(&state, &caller, &req, "cleared").await))
}
