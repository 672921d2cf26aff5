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
use halcytone_telemetry::exposition::esc;
use serde_json::json;
use std::fmt::Write;

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
    let service = &state.config.service_name;
    let mut out = String::with_capacity(16384);
    state.app_metrics.render(&mut out);
    let lag = state
        .store
        .queue_lag_ms(chrono::Utc::now().timestamp_millis())
        .await?;
    let _ = writeln!(
        out,
        "# HELP halcytone_job_queue_lag_seconds How long the oldest due job has waited for a worker.\n# TYPE halcytone_job_queue_lag_seconds gauge\nhalcytone_job_queue_lag_seconds {}",
        lag.unwrap_or(0) as f64 / 1000.0
    );
    out.push_str("# HELP halcytone_jobs Publish jobs by status.\n# TYPE halcytone_jobs gauge\n");
    for (status, n) in &counts {
        let _ = writeln!(out, "halcytone_jobs{{status=\"{}\"}} {n}", esc(status));
    }
    let p = &state.publishing;
    let _ = writeln!(
        out,
        "# HELP halcytone_dry_run_mode 1 when every publish goes to the mock services.\n# TYPE halcytone_dry_run_mode gauge\nhalcytone_dry_run_mode {}",
        u8::from(p.settings.dry_run)
    );
    let _ = writeln!(
        out,
        "# HELP halcytone_egress_blocked_total Calls refused by the dry-run egress guard.\n# TYPE halcytone_egress_blocked_total counter\nhalcytone_egress_blocked_total {}",
        p.client.guard.refused()
    );
    out.push_str("# HELP halcytone_circuit_breaker_state Circuit breaker per upstream: 0 closed, 1 open, 2 half-open.\n# TYPE halcytone_circuit_breaker_state gauge\n");
    for u in [&p.crm, &p.platform] {
        let _ = writeln!(
            out,
            "halcytone_circuit_breaker_state{{upstream=\"{}\"}} {}",
            u.name,
            HttpClient::breaker_state(u).as_gauge()
        );
    }
    let _ = writeln!(
        out,
        "# HELP halcytone_cache_hits_total GET answers served from the response cache.\n# TYPE halcytone_cache_hits_total counter\nhalcytone_cache_hits_total {}\n# HELP halcytone_cache_misses_total GET answers that had to be computed.\n# TYPE halcytone_cache_misses_total counter\nhalcytone_cache_misses_total {}\n# HELP halcytone_cache_evictions_total Cached answers dropped to make room or because they expired.\n# TYPE halcytone_cache_evictions_total counter\nhalcytone_cache_evictions_total {}\n# HELP halcytone_cache_invalidated_total Cached answers removed by invalidation.\n# TYPE halcytone_cache_invalidated_total counter\nhalcytone_cache_invalidated_total {}\n# HELP halcytone_cache_entries Answers in the response cache.\n# TYPE halcytone_cache_entries gauge\nhalcytone_cache_entries {}\n# HELP halcytone_cache_bytes Bytes held by the response cache.\n# TYPE halcytone_cache_bytes gauge\nhalcytone_cache_bytes {}",
        cache.hits, cache.misses, cache.evictions, cache.invalidated, cache.entries, cache.bytes
    );
    render_social(&state, &mut out).await;
    let _ = writeln!(
        out,
        "# HELP halcytone_build_info Build of this process.\n# TYPE halcytone_build_info gauge\nhalcytone_build_info{{version=\"{}\",service=\"{}\"}} 1",
        esc(&state.config.version),
        esc(service)
    );
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
async fn render_social(state: &AppState, out: &mut String) {
    use halcytone_publish::social::{AccountStatus, Network};
    let tokens = crate::social::tokens::StoreTokens::new(state.store.clone(), None);
    let health = state
        .publishing
        .live_social()
        .map(|l| l.health())
        .unwrap_or_default();
    out.push_str("# HELP halcytone_social_account_reconnect_needed 1 when a connected social account's tokens stopped working and an operator must connect it again.\n# TYPE halcytone_social_account_reconnect_needed gauge\n");
    for n in Network::ALL {
        let needed = match tokens.info(n).await {
            Ok(Some((info, _))) => info.status == AccountStatus::ReconnectNeeded,
            _ => false,
        };
        let _ = writeln!(
            out,
            "halcytone_social_account_reconnect_needed{{network=\"{n}\"}} {}",
            u8::from(needed)
        );
    }
    let h = |n: Network| {
        health
            .iter()
            .find(|(hn, _)| *hn == n)
            .map(|(_, h)| h.clone())
            .unwrap_or_default()
    };
    out.push_str("# HELP halcytone_social_quota_wait_seconds How long the next post to a network would wait for its quota or a 429 reset.\n# TYPE halcytone_social_quota_wait_seconds gauge\n");
    for n in Network::ALL {
        let w = h(n).quota_wait_seconds;
        let w = if w.is_finite() { w } else { 86_400.0 };
        let _ = writeln!(
            out,
            "halcytone_social_quota_wait_seconds{{network=\"{n}\"}} {w}"
        );
    }
    out.push_str("# HELP halcytone_social_posts_total Posts created directly on a network.\n# TYPE halcytone_social_posts_total counter\n");
    for n in Network::ALL {
        let _ = writeln!(
            out,
            "halcytone_social_posts_total{{network=\"{n}\"}} {}",
            h(n).posts
        );
    }
    out.push_str("# HELP halcytone_social_token_refreshes_total OAuth token refreshes, by outcome.\n# TYPE halcytone_social_token_refreshes_total counter\n");
    for n in Network::ALL {
        let x = h(n);
        let _ = writeln!(
            out,
            "halcytone_social_token_refreshes_total{{network=\"{n}\",outcome=\"success\"}} {}\nhalcytone_social_token_refreshes_total{{network=\"{n}\",outcome=\"failed\"}} {}",
            x.refreshes, x.refresh_failures
        );
    }
}
