//! The health family: `/health` (never "unknown": its checks run every second in the
//! background, so a probe reads memory and never touches the database), `/health/detailed` (also calls the CRM and the Platform), `/ready`,
//! `/live` and `/liveness`, `/startup`, and `POST /health/check/{component}`.

use super::{Entry, route};
use crate::auth::Access;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{SecondsFormat, Utc};
use halcytone_app::health::{self, Check, Level, round2};
use serde_json::{Map, Value, json};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

pub fn routes() -> Vec<Entry> {
    vec![
        route(
            "get",
            "/health",
            Access::Public,
            "health",
            "Overall status with the result of each check (200 unless unhealthy)",
            get(health),
        )
        .errors(&[(503, "Unhealthy: a check failed")]),
        route(
            "get",
            "/health/detailed",
            Access::Public,
            "health",
            "Every check, including calls to the CRM and the Platform",
            get(detailed),
        )
        .errors(&[(503, "Unhealthy: a check failed")]),
        route(
            "get",
            "/ready",
            Access::Public,
            "health",
            "Ready for traffic: database reachable, migrations applied, upstreams configured",
            get(ready),
        )
        .errors(&[(503, "Not ready; `detail` names the failing check")]),
        route(
            "get",
            "/live",
            Access::Public,
            "health",
            "The process is alive (memory and threads)",
            get(live),
        ),
        route(
            "get",
            "/liveness",
            Access::Public,
            "health",
            "Same as /live",
            get(live),
        ),
        route(
            "get",
            "/startup",
            Access::Public,
            "health",
            "Start-up finished (migrations applied, listeners bound)",
            get(startup),
        ),
        route(
            "post",
            "/health/check/{component}",
            Access::Public,
            "health",
            "Run one check now: database, migrations, crm, platform, cache, memory",
            post(check_one),
        )
        .errors(&[(404, "Unknown component; `detail` lists the available ones")]),
    ]
}

pub const COMPONENTS: [&str; 6] = [
    "database",
    "migrations",
    "crm",
    "platform",
    "cache",
    "memory",
];

/// `/health`'s checks, already serialized (probes may come by the thousand per second). A
/// background task ([`spawn_refresher`]) runs them every [`REFRESH`], so a probe reads memory
/// and never waits on the database; `/ready` runs them for real.
#[derive(Debug, Default)]
pub struct HealthCache(RwLock<Option<Arc<Quick>>>);

/// How often the background task runs `/health`'s checks.
pub const REFRESH: Duration = Duration::from_secs(1);
/// A reading older than this (no refresher running, or it is stuck) is taken again inline.
const STALE: Duration = Duration::from_secs(5);

impl HealthCache {
    fn current(&self) -> Option<Arc<Quick>> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
    fn set(&self, q: Arc<Quick>) {
        *self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(q);
    }
}

/// Runs `/health`'s checks every [`REFRESH`] until aborted, keeping the last reading.
pub fn spawn_refresher(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(REFRESH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let q = take_quick_checks(&state).await;
            state.health.set(q);
        }
    })
}

#[derive(Debug)]
struct Quick {
    at: Instant,
    /// `"service":…,"version":…,"environment":…,"dry_run":…` — fixed for the process.
    ident_json: Arc<str>,
    checks_json: Arc<str>,
    status: &'static str,
    code: StatusCode,
}

fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn run_check(state: &AppState, name: &str, call_upstreams: bool) -> Option<Check> {
    if name != "cache" {
        return health::run(state, name, call_upstreams).await;
    }
    let started = Instant::now();
    let (level, message, metadata) = match name {
        "cache" => {
            let c = state.cache.counts();
            (
                if c.enabled { Level::Pass } else { Level::Warn },
                format!(
                    "{} answer(s) cached, hit rate {:.2}",
                    c.entries,
                    c.hit_rate()
                ),
                json!({ "enabled": c.enabled, "entries": c.entries, "hits": c.hits, "misses": c.misses, "evictions": c.evictions, "invalidated": c.invalidated }),
            )
        }
        _ => return None,
    };
    Some(Check::timed(started, level, message, metadata))
}

const QUICK: [&str; 4] = ["database", "migrations", "crm", "platform"];

/// The last reading of the background task, or a fresh one when there is none or it is stale.
async fn quick_checks(state: &AppState) -> Arc<Quick> {
    if let Some(q) = state.health.current()
        && q.at.elapsed() < STALE
    {
        return q;
    }
    let q = take_quick_checks(state).await;
    state.health.set(q.clone());
    q
}

async fn take_quick_checks(state: &AppState) -> Arc<Quick> {
    let mut checks = Map::new();
    for name in QUICK {
        if let Some(c) = run_check(state, name, false).await {
            checks.insert(name.to_string(), c.json());
        }
    }
    let (status, code) = overall(&checks);
    let ident = json!({
        "service": state.config.service_name,
        "version": state.config.version,
        "environment": state.config.environment,
        "dry_run": state.publishing.settings.dry_run,
    })
    .to_string();
    Arc::new(Quick {
        at: Instant::now(),
        ident_json: ident[1..ident.len() - 1].into(),
        checks_json: Value::Object(checks).to_string().into(),
        status,
        code,
    })
}

fn overall(checks: &Map<String, Value>) -> (&'static str, StatusCode) {
    let has = |s: &str| checks.values().any(|c| c["status"] == s);
    if has("fail") {
        ("unhealthy", StatusCode::SERVICE_UNAVAILABLE)
    } else if has("warn") {
        ("degraded", StatusCode::OK)
    } else {
        ("healthy", StatusCode::OK)
    }
}

fn base(state: &AppState, status: &str) -> Value {
    let uptime = state.started.elapsed().as_secs_f64();
    json!({
        "status": status,
        "timestamp": now_iso(),
        "service": state.config.service_name,
        "version": state.config.version,
        "environment": state.config.environment,
        "dry_run": state.publishing.settings.dry_run,
        "uptime_seconds": round2(uptime),
        "uptime": uptime.floor(),
    })
}

async fn health(State(state): State<AppState>) -> Response {
    let q = quick_checks(&state).await;
    let uptime = state.started.elapsed().as_secs_f64();
    // Written directly: this is the route probes and dashboards hit most.
    let body = format!(
        "{{\"status\":\"{}\",\"timestamp\":\"{}\",{},\"uptime_seconds\":{},\"uptime\":{},\"checks\":{}}}",
        q.status,
        now_iso(),
        q.ident_json,
        round2(uptime),
        uptime.floor(),
        q.checks_json
    );
    (
        q.code,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

async fn detailed(State(state): State<AppState>) -> Response {
    let started = Instant::now();
    let mut checks = Map::new();
    let mut components = Map::new();
    let (mut warnings, mut errors) = (Vec::new(), Vec::new());
    for name in COMPONENTS {
        if let Some(c) = run_check(&state, name, true).await {
            match c.level {
                Level::Warn => warnings.push(format!("{name}: {}", c.message)),
                Level::Fail => errors.push(format!("{name}: {}", c.message)),
                Level::Pass => {}
            }
            checks.insert(name.to_string(), c.json());
            components.insert(name.to_string(), json!({
                "name": name, "status": c.level.as_str(), "message": c.message,
                "response_time_ms": round2(c.latency_ms), "last_check": now_iso(), "metadata": c.metadata,
            }));
        }
    }
    let (status, code) = overall(&checks);
    let mut body = base(&state, status);
    let total = checks.len();
    body["checks"] = Value::Object(checks);
    body["components"] = Value::Object(components);
    body["checks_total"] = json!(total);
    body["checks_failed"] = json!(errors.len());
    body["checks_passed"] = json!(total - errors.len());
    body["warnings"] = json!(warnings);
    body["errors"] = json!(errors);
    body["response_time_ms"] = json!(round2(started.elapsed().as_secs_f64() * 1000.0));
    (code, Json(body)).into_response()
}

async fn ready(State(state): State<AppState>) -> Response {
    let mut checks = Vec::new();
    let mut failing = Vec::new();
    for name in QUICK {
        if let Some(c) = run_check(&state, name, false).await {
            let ok = c.level != Level::Fail;
            if !ok {
                failing.push(format!("{name}: {}", c.message));
            }
            checks
                .push(json!({ "name": name, "ready": ok, "message": c.message, "required": true }));
        }
    }
    let ready = failing.is_empty();
    let passed = checks.iter().filter(|c| c["ready"] == true).count();
    let mut body = json!({
        "ready": ready,
        "timestamp": now_iso(),
        "checks": checks,
        "total_checks": checks.len(),
        "passed_checks": passed,
        "failed_checks": checks.len() - passed,
        "required_checks_passed": ready,
    });
    if ready {
        (StatusCode::OK, Json(body)).into_response()
    } else {
        body["detail"] = json!(format!("not ready: {}", failing.join("; ")));
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

async fn live(State(state): State<AppState>) -> Response {
    let mem = halcytone_telemetry::process::memory();
    let rss = mem.map(|m| m.0);
    let alive = rss.is_none_or(|mb| mb <= 2048.0);
    let body = json!({
        "alive": alive,
        "timestamp": now_iso(),
        "pid": std::process::id(),
        "memory_usage_mb": rss.map(round2),
        "thread_count": mem.map(|m| m.1),
        "uptime_seconds": round2(state.started.elapsed().as_secs_f64()),
    });
    let code = if alive {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

async fn startup(State(state): State<AppState>) -> Json<Value> {
    // The listener is bound only after migrations ran and the state was built, so a process
    // that answers has started.
    Json(json!({
        "started": true,
        "uptime_seconds": round2(state.started.elapsed().as_secs_f64()),
        "started_at": state.started_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "message": "Service startup complete",
        "timestamp": now_iso(),
    }))
}

async fn check_one(
    State(state): State<AppState>,
    Path(component): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let Some(c) = run_check(&state, &component, true).await else {
        return Err(ApiError::NotFound(format!(
            "component '{component}' not found; available components: {}",
            COMPONENTS.join(", ")
        )));
    };
    Ok(Json(json!({
        "component": component,
        "status": c.level.as_str(),
        "message": c.message,
        "response_time_ms": round2(c.latency_ms),
        "metadata": c.metadata,
        "error": (c.level == Level::Fail).then(|| c.message.clone()),
        "timestamp": now_iso(),
    })))
}
