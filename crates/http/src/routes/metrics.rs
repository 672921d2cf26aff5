//! `/metrics`: Prometheus text for scrapers; the dashboard's JSON summary when the request
//! asks for JSON (`Accept: application/json`, or a JSON `Content-Type` as the dashboard sends).

use super::{Entry, route};
use crate::auth::Access;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use halcytone_publish::client::HttpClient;
use serde_json::json;

pub fn routes() -> Vec<Entry> {
    vec![route(
        "get",
        "/metrics",
        Access::Public,
        "metrics",
        "Prometheus exposition; a JSON summary (requests_per_second, avg_response_time_ms, error_rate, requests_total, active_jobs, queue_size, cache_hit_rate) when the request asks for JSON",
        get(metrics),
    )]
}

fn wants_json(headers: &HeaderMap) -> bool {
    let has_json = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.to_ascii_lowercase().contains("application/json"))
    };
    has_json(header::ACCEPT) || has_json(header::CONTENT_TYPE)
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let counts = state.store.job_counts().await?;
    let count = |s: &str| counts.get(s).copied().unwrap_or(0);
    let cache = state.cache.counts();
    if wants_json(&headers) {
        let s = state.http_metrics.summary();
        return Ok(Json(json!({
            "requests_per_second": (s.requests_per_second * 100.0).round() / 100.0,
            "avg_response_time_ms": (s.avg_response_time_ms * 100.0).round() / 100.0,
            "error_rate": s.error_rate,
            "requests_total": s.requests_total,
            "active_jobs": count("in_progress"),
            "queue_size": count("pending"),
            "cache_hit_rate": cache.hit_rate(),
            "jobs": counts,
            "uptime_seconds": state.started.elapsed().as_secs(),
            "dry_run": state.publishing.settings.dry_run,
        }))
        .into_response());
    }
    let m = &state.app_metrics;
    let lag = state
        .store
        .queue_lag_ms(chrono::Utc::now().timestamp_millis())
        .await?;
    m.gauge_now(
        "halcytone_job_queue_lag_seconds",
        &[],
        lag.unwrap_or(0) as f64 / 1000.0,
    );
    for (status, n) in &counts {
        m.gauge_now("halcytone_jobs", &[("status", status)], *n as f64);
    }
    let p = &state.publishing;
    m.gauge_now(
        "halcytone_dry_run_mode",
        &[],
        f64::from(u8::from(p.settings.dry_run)),
    );
    m.total_now(
        "halcytone_egress_blocked_total",
        &[],
        p.client.guard.refused(),
    );
    for u in [&p.crm, &p.platform] {
        m.gauge_now(
            "halcytone_circuit_breaker_state",
            &[("upstream", u.name)],
            f64::from(HttpClient::breaker_state(u).as_gauge()),
        );
    }
    for (name, n) in [
        ("halcytone_cache_hits_total", cache.hits),
        ("halcytone_cache_misses_total", cache.misses),
        ("halcytone_cache_evictions_total", cache.evictions),
        ("halcytone_cache_invalidated_total", cache.invalidated),
    ] {
        m.total_now(name, &[], n);
    }
    m.gauge_now("halcytone_cache_entries", &[], cache.entries as f64);
    m.gauge_now("halcytone_cache_bytes", &[], cache.bytes as f64);
    record_social(&state).await;
    m.gauge_now(
        "halcytone_build_info",
        &[
            ("version", &state.config.version),
            ("service", &state.config.service_name),
        ],
        1.0,
    );
    let mut out = String::with_capacity(16384);
    m.render(&mut out);
    halcytone_telemetry::process::render(&mut out, state.started_at.timestamp());
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

/// A router with `/metrics` alone, for a separate listener (`METRICS_PORT`).
pub fn standalone(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Social accounts: "reconnect needed" from the store (so every replica agrees), the quota
/// wait, posts and token refreshes from this process's live adapters.
async fn record_social(state: &AppState) {
    use halcytone_publish::social::{AccountStatus, Network};
    let m = &state.app_metrics;
    let tokens = crate::social::tokens::StoreTokens::new(state.store.clone(), None);
    let health = state
        .publishing
        .live_social()
        .map(|l| l.health())
        .unwrap_or_default();
    for n in Network::ALL {
        let needed = match tokens.info(n).await {
            Ok(Some((info, _))) => info.status == AccountStatus::ReconnectNeeded,
            _ => false,
        };
        let network = n.to_string();
        let labels = [("network", network.as_str())];
        m.gauge_now(
            "halcytone_social_account_reconnect_needed",
            &labels,
            f64::from(u8::from(needed)),
        );
        let h = health
            .iter()
            .find(|(hn, _)| *hn == n)
            .map(|(_, h)| h.clone())
            .unwrap_or_default();
        let wait = if h.quota_wait_seconds.is_finite() {
            h.quota_wait_seconds
        } else {
            86_400.0
        };
        m.gauge_now("halcytone_social_quota_wait_seconds", &labels, wait);
        m.total_now("halcytone_social_posts_total", &labels, h.posts);
        for (outcome, count) in [("success", h.refreshes), ("failed", h.refresh_failures)] {
            m.total_now(
                "halcytone_social_token_refreshes_total",
                &[("network", network.as_str()), ("outcome", outcome)],
                count,
            );
        }
    }
}
