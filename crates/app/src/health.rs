//! What the service checks about itself: the database answers, migrations are applied, the
//! CRM and Platform are configured (and, when asked, answer), and memory stays in bounds.
//! The edge adds its own checks (the response cache) and maps the findings to statuses.

use crate::core::Core;
use halcytone_publish::client::Upstream;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Pass,
    Warn,
    Fail,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Pass => "pass",
            Level::Warn => "warn",
            Level::Fail => "fail",
        }
    }
}

/// One check's finding, with how long it took.
#[derive(Debug, Clone)]
pub struct Check {
    pub level: Level,
    pub message: String,
    pub latency_ms: f64,
    pub metadata: Value,
}

impl Check {
    /// A finding of a check that began at `started`.
    pub fn timed(started: Instant, level: Level, message: String, metadata: Value) -> Check {
        Check {
            level,
            message,
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            metadata,
        }
    }

    pub fn json(&self) -> Value {
        json!({ "status": self.level.as_str(), "message": self.message, "latency_ms": round2(self.latency_ms) })
    }
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Runs the named check (`database`, `migrations`, `crm`, `platform`, `memory`); `None` for a
/// name this layer does not know. Upstreams are only called when `call_upstreams`.
pub async fn run(state: &Core, name: &str, call_upstreams: bool) -> Option<Check> {
    let started = Instant::now();
    let (level, message, metadata) = match name {
        "database" => match state.store.ping().await {
            Ok(()) => (
                Level::Pass,
                format!("{} answers", state.store.backend()),
                json!({ "backend": state.store.backend() }),
            ),
            Err(e) => {
                tracing::error!(error = %e, "database check failed");
                (
                    Level::Fail,
                    format!("{} does not answer", state.store.backend()),
                    json!({ "backend": state.store.backend() }),
                )
            }
        },
        "migrations" => match state.store.migrations().await {
            Ok(v) if !v.is_empty() => (
                Level::Pass,
                format!("{} migration(s) applied", v.len()),
                json!({ "versions": v }),
            ),
            Ok(_) => (
                Level::Fail,
                "no migration applied; run `halcytone migrate`".into(),
                json!({}),
            ),
            Err(e) => {
                tracing::error!(error = %e, "migration check failed");
                (
                    Level::Fail,
                    "cannot read the migration table".into(),
                    json!({}),
                )
            }
        },
        "crm" => upstream_check(state, &state.publishing.crm, call_upstreams).await,
        "platform" => upstream_check(state, &state.publishing.platform, call_upstreams).await,
        "memory" => match halcytone_telemetry::process::memory() {
            Some((mb, threads)) if mb > 2048.0 => (
                Level::Fail,
                format!("resident memory {mb:.1} MB is above 2048 MB"),
                json!({ "rss_mb": mb, "threads": threads }),
            ),
            Some((mb, threads)) if mb > 1024.0 => (
                Level::Warn,
                format!("resident memory {mb:.1} MB is above 1024 MB"),
                json!({ "rss_mb": mb, "threads": threads }),
            ),
            Some((mb, threads)) => (
                Level::Pass,
                format!("resident memory {mb:.1} MB"),
                json!({ "rss_mb": mb, "threads": threads }),
            ),
            None => (
                Level::Pass,
                "memory figures unavailable on this system".into(),
                json!({}),
            ),
        },
        _ => return None,
    };
    Some(Check::timed(started, level, message, metadata))
}

async fn upstream_check(state: &Core, upstream: &Upstream, call: bool) -> (Level, String, Value) {
    let dry = state.publishing.settings.dry_run;
    let meta = json!({ "url": upstream.base.as_str(), "dry_run": dry, "circuit_breaker": format!("{:?}", upstream.breaker.state()).to_lowercase() });
    if !call {
        return (Level::Pass, format!("configured: {}", upstream.base), meta);
    }
    match state
        .publishing
        .client
        .probe(upstream, "health", Duration::from_secs(2))
        .await
    {
        Ok(s) if (200..300).contains(&s) => {
            (Level::Pass, format!("{} answered {s}", upstream.base), meta)
        }
        Ok(s) => (Level::Warn, format!("{} answered {s}", upstream.base), meta),
        Err(e) => (Level::Warn, format!("{}: {e}", upstream.name), meta),
    }
}
