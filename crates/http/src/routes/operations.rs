//! Operations: what the service is connected to, a live check of the CRM and the Platform,
//! and the database's state and migrations (admin).

use super::{ADMIN, Entry, READ, route};
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::queue::now_ms;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Json};
use halcytone_publish::client::Upstream;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "get",
            "/api/v1/services/status",
            READ,
            "operations",
            "The configured CRM and Platform, dry-run mode and circuit breakers",
            get(services_status),
        ),
        route(
            "post",
            "/api/v1/services/validate",
            READ,
            "operations",
            "Call the CRM's and the Platform's health endpoints now",
            post(services_validate),
        ),
        route(
            "get",
            "/api/v1/database/status",
            READ,
            "operations",
            "Database backend, reachability and applied migrations",
            get(database_status),
        ),
        route(
            "post",
            "/api/v1/database/migrate",
            ADMIN,
            "operations",
            "Apply pending migrations (audited)",
            post(database_migrate),
        ),
    ]
}

fn upstream_info(u: &Upstream) -> Value {
    json!({
        "name": u.name,
        "url": u.base.as_str(),
        "api_key_configured": u.api_key().is_some(),
        "circuit_breaker": format!("{:?}", u.breaker.state()).to_lowercase(),
    })
}

async fn services_status(State(state): State<AppState>) -> Json<Value> {
    let p = &state.publishing;
    Json(json!({
        "status": "success",
        "dry_run": p.settings.dry_run,
        "service_info": {
            "crm": upstream_info(&p.crm),
            "platform": upstream_info(&p.platform),
            "mock_urls": p.settings.mock_urls.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
            "egress_blocked_total": p.client.guard.refused(),
        },
    }))
}

async fn probe(state: &AppState, u: &Upstream) -> Value {
    let started = Instant::now();
    let result = state
        .publishing
        .client
        .probe(u, "health", Duration::from_secs(3))
        .await;
    let ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
    match result {
        Ok(s) if (200..300).contains(&s) => {
            json!({ "ok": true, "status_code": s, "url": u.base.as_str(), "latency_ms": ms })
        }
        Ok(s) => {
            json!({ "ok": false, "status_code": s, "url": u.base.as_str(), "latency_ms": ms, "error": format!("answered {s}") })
        }
        Err(e) => {
            json!({ "ok": false, "url": u.base.as_str(), "latency_ms": ms, "error": e.to_string() })
        }
    }
}

async fn services_validate(State(state): State<AppState>) -> Json<Value> {
    let crm = probe(&state, &state.publishing.crm).await;
    let platform = probe(&state, &state.publishing.platform).await;
    let all_ok = crm["ok"] == true && platform["ok"] == true;
    Json(json!({
        "status": if all_ok { "success" } else { "partial_failure" },
        "all_services_ok": all_ok,
        "dry_run": state.publishing.settings.dry_run,
        "results": { "crm": crm, "platform": platform },
    }))
}

async fn database_status(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let started = Instant::now();
    let reachable = state.store.ping().await.is_ok();
    let latency = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
    let migrations = if reachable {
        state.store.migrations().await.ok()
    } else {
        None
    };
    Ok(Json(json!({
        "status": if reachable { "success" } else { "error" },
        "health": { "connected": reachable, "latency_ms": latency },
        "configuration": { "database_type": state.store.backend() },
        "migrations": migrations,
        "jobs": if reachable { state.store.job_counts().await.ok() } else { None },
    })))
}

async fn database_migrate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<Value>> {
    let applied = state.store.migrate().await?;
    state
        .store
        .audit(
            &caller.key_id,
            "database.migrate",
            state.store.backend(),
            &format!("{} migration(s) applied", applied.len()),
            now_ms(),
        )
        .await?;
    Ok(Json(json!({
        "status": "success",
        "message": "Migrations completed successfully",
        "applied": applied,
    })))
}
