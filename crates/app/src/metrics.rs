//! Halcytone's own metrics (DESIGN §7): content generated per channel and how long it took,
//! publish outcomes, durations and retries per channel, and WebSocket connections. The API
//! and its embedded worker share one set; `/metrics` renders it beside the HTTP metrics.

use halcytone_telemetry::exposition::{Histogram, esc};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// The WebSocket endpoints, always present in the exposition (0 when none is open).
pub const WEBSOCKET_ENDPOINTS: [&str; 3] =
    ["/ws/jobs", "/ws/live-updates", "/ws/session/{id}/events"];

#[derive(Debug, Default)]
struct Inner {
    generated: BTreeMap<String, u64>,
    generation: Histogram,
    generation_errors: u64,
    generation_timeouts: u64,
    publish: BTreeMap<(String, String), u64>,
    publish_seconds: BTreeMap<String, Histogram>,
    retries: BTreeMap<String, u64>,
    websockets: BTreeMap<String, i64>,
}

#[derive(Debug, Default)]
pub struct AppMetrics {
    inner: Mutex<Inner>,
}

impl AppMetrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One composition of `channels`, taking `seconds`.
    pub fn generated(&self, channels: &[&str], seconds: f64) {
        let mut i = self.lock();
        for c in channels {
            *i.generated.entry((*c).to_string()).or_default() += 1;
        }
        i.generation.observe(seconds);
    }

    pub fn generation_failed(&self) {
        self.lock().generation_errors += 1;
    }

    /// A generation stopped (or never started) because its time budget ran out.
    pub fn generation_timed_out(&self) {
        self.lock().generation_timeouts += 1;
    }

    /// One publish target's outcome (`success`, `failed`, `skipped`) after `attempts`.
    pub fn published(&self, channel: &str, outcome: &str, attempts: u32) {
        let mut i = self.lock();
        *i.publish
            .entry((channel.to_string(), outcome.to_string()))
            .or_default() += 1;
        if attempts > 1 {
            *i.retries.entry(channel.to_string()).or_default() += u64::from(attempts - 1);
        }
    }

    pub fn publish_took(&self, channel: &str, seconds: f64) {
        self.lock()
            .publish_seconds
            .entry(channel.to_string())
            .or_default()
            .observe(seconds);
    }

    /// A WebSocket on `endpoint` (one of [`WEBSOCKET_ENDPOINTS`]) opened (+1) or closed (-1).
    pub fn websocket(&self, endpoint: &str, delta: i64) {
        *self
            .lock()
            .websockets
            .entry(endpoint.to_string())
            .or_default() += delta;
    }

    pub fn render(&self, out: &mut String) {
        let i = self.lock();
        out.push_str("# HELP halcytone_content_generated_total Channel content composed, by channel.\n# TYPE halcytone_content_generated_total counter\n");
        for c in ["email", "web", "social"] {
            let n = i.generated.get(c).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "halcytone_content_generated_total{{channel=\"{c}\"}} {n}"
            );
        }
        out.push_str("# HELP halcytone_content_generation_duration_seconds Time to compose a document's channels.\n# TYPE halcytone_content_generation_duration_seconds histogram\n");
        i.generation
            .write(out, "halcytone_content_generation_duration_seconds", "");
        let _ = writeln!(
            out,
            "# HELP halcytone_content_generation_errors_total Compositions that failed.\n# TYPE halcytone_content_generation_errors_total counter\nhalcytone_content_generation_errors_total {}",
            i.generation_errors
        );
        let _ = writeln!(
            out,
            "# HELP halcytone_content_generation_timeouts_total Generations stopped at their time budget (GENERATION_TIMEOUT_SECONDS).\n# TYPE halcytone_content_generation_timeouts_total counter\nhalcytone_content_generation_timeouts_total {}",
            i.generation_timeouts
        );
        out.push_str("# HELP halcytone_publish_total Publish targets by channel and outcome.\n# TYPE halcytone_publish_total counter\n");
        for c in ["email", "web", "social"] {
            for o in ["success", "failed", "skipped"] {
                let n = i
                    .publish
                    .get(&(c.to_string(), o.to_string()))
                    .copied()
                    .unwrap_or(0);
                let _ = writeln!(
                    out,
                    "halcytone_publish_total{{channel=\"{c}\",outcome=\"{o}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP halcytone_publish_duration_seconds Time to publish a channel of a job.\n# TYPE halcytone_publish_duration_seconds histogram\n");
        for (c, h) in &i.publish_seconds {
            h.write(
                out,
                "halcytone_publish_duration_seconds",
                &format!("channel=\"{}\"", esc(c)),
            );
        }
        out.push_str("# HELP halcytone_publish_retries_total Upstream calls repeated after a transient failure, by channel.\n# TYPE halcytone_publish_retries_total counter\n");
        for c in ["email", "web", "social"] {
            let n = i.retries.get(c).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "halcytone_publish_retries_total{{channel=\"{c}\"}} {n}"
            );
        }
        out.push_str("# HELP halcytone_websocket_connections Open WebSocket connections, by endpoint.\n# TYPE halcytone_websocket_connections gauge\n");
        for e in WEBSOCKET_ENDPOINTS {
            if !i.websockets.contains_key(e) {
                let _ = writeln!(out, "halcytone_websocket_connections{{endpoint=\"{e}\"}} 0");
            }
        }
        for (e, n) in &i.websockets {
            let _ = writeln!(
                out,
                "halcytone_websocket_connections{{endpoint=\"{}\"}} {n}",
                esc(e)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_series_with_zeroes_first() {
        let m = AppMetrics::default();
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains("halcytone_content_generated_total{channel=\"web\"} 0"));
        assert!(out.contains("halcytone_publish_total{channel=\"email\",outcome=\"failed\"} 0"));
        assert!(out.contains("halcytone_content_generation_duration_seconds_count 0"));
        m.generated(&["email", "web"], 0.0004);
        m.published("web", "success", 3);
        m.publish_took("web", 0.02);
        m.generation_failed();
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains("halcytone_content_generated_total{channel=\"email\"} 1"));
        assert!(
            out.contains("halcytone_content_generation_duration_seconds_bucket{le=\"0.0005\"} 1")
        );
        assert!(out.contains("halcytone_publish_retries_total{channel=\"web\"} 2"));
        assert!(
            out.contains(
                "halcytone_publish_duration_seconds_bucket{channel=\"web\",le=\"0.025\"} 1"
            )
        );
        assert!(out.contains("halcytone_publish_duration_seconds_count{channel=\"web\"} 1"));
        assert!(out.contains("halcytone_content_generation_errors_total 1"));
    }
}
