//! Halcytone's own metrics (DESIGN §7): content generated per channel and how long it took,
//! publish outcomes, durations and retries per channel, and WebSocket connections. The API
//! and its embedded worker share one set; `/metrics` renders it beside the HTTP metrics.
//!
//! Recorded through the `metrics` facade into a `metrics-exporter-prometheus` recorder that
//! this set owns (not the process-wide one), so `halcytone up` — the API and both mocks in one
//! process — keeps each service's exposition its own. Histograms use the explicit buckets of
//! `halcytone_telemetry::exposition::BUCKETS`, so `histogram_quantile` works on them.

use halcytone_telemetry::exposition::BUCKETS;
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// The WebSocket endpoints, always present in the exposition (0 when none is open).
pub const WEBSOCKET_ENDPOINTS: [&str; 3] =
    ["/ws/jobs", "/ws/live-updates", "/ws/session/{id}/events"];

const CHANNELS: [&str; 3] = ["email", "web", "social"];
const OUTCOMES: [&str; 3] = ["success", "failed", "skipped"];

const GENERATED: &str = "halcytone_content_generated_total";
const GENERATION_SECONDS: &str = "halcytone_content_generation_duration_seconds";
const GENERATION_ERRORS: &str = "halcytone_content_generation_errors_total";
const GENERATION_TIMEOUTS: &str = "halcytone_content_generation_timeouts_total";
const PUBLISHED: &str = "halcytone_publish_total";
const PUBLISH_SECONDS: &str = "halcytone_publish_duration_seconds";
const RETRIES: &str = "halcytone_publish_retries_total";
const WEBSOCKETS: &str = "halcytone_websocket_connections";
const RECIPIENTS: &str = "halcytone_recipients_total";
/// The delivery-ledger states a recipient ends in, as [`RECIPIENTS`] labels them.
pub const RECIPIENT_STATES: [&str; 6] = [
    "delivered",
    "failed",
    "refused",
    "suppressed",
    "bounced",
    "complained",
];
const HTTP_REQUESTS: &str = "http_requests_total";
const HTTP_SECONDS: &str = "http_request_duration_seconds";

/// The `# HELP` text of every series.
const HELP: [(&str, &str); 11] = [
    (
        HTTP_REQUESTS,
        "HTTP requests answered, by matched route and status.",
    ),
    (HTTP_SECONDS, "Time to answer a request, by matched route."),
    (GENERATED, "Channel content composed, by channel."),
    (GENERATION_SECONDS, "Time to compose a document's channels."),
    (GENERATION_ERRORS, "Compositions that failed."),
    (
        GENERATION_TIMEOUTS,
        "Generations stopped at their time budget (GENERATION_TIMEOUT_SECONDS).",
    ),
    (PUBLISHED, "Publish targets by channel and outcome."),
    (PUBLISH_SECONDS, "Time to publish a channel of a job."),
    (
        RETRIES,
        "Upstream calls repeated after a transient failure, by channel.",
    ),
    (WEBSOCKETS, "Open WebSocket connections, by endpoint."),
    (
        RECIPIENTS,
        "Newsletter recipients recorded in the delivery ledger, by how their message ended.",
    ),
];

/// Series set when `/metrics` is read (gauges), with their help.
const SCRAPED_GAUGES: [(&str, &str); 9] = [
    (
        "halcytone_job_queue_lag_seconds",
        "How long the oldest due job has waited for a worker.",
    ),
    ("halcytone_jobs", "Publish jobs by status."),
    (
        "halcytone_dry_run_mode",
        "1 when every publish goes to the mock services.",
    ),
    (
        "halcytone_circuit_breaker_state",
        "Circuit breaker per upstream: 0 closed, 1 open, 2 half-open.",
    ),
    ("halcytone_cache_entries", "Answers in the response cache."),
    ("halcytone_cache_bytes", "Bytes held by the response cache."),
    ("halcytone_build_info", "Build of this process."),
    (
        "halcytone_social_account_reconnect_needed",
        "1 when a connected social account's tokens stopped working and an operator must connect it again.",
    ),
    (
        "halcytone_social_quota_wait_seconds",
        "How long the next post to a network would wait for its quota or a 429 reset.",
    ),
];

/// Series set when `/metrics` is read (totals kept elsewhere), with their help.
const SCRAPED_TOTALS: [(&str, &str); 7] = [
    (
        "halcytone_cache_hits_total",
        "GET answers served from the response cache.",
    ),
    (
        "halcytone_cache_misses_total",
        "GET answers that had to be computed.",
    ),
    (
        "halcytone_cache_evictions_total",
        "Cached answers dropped to make room or because they expired.",
    ),
    (
        "halcytone_cache_invalidated_total",
        "Cached answers removed by invalidation.",
    ),
    (
        "halcytone_egress_blocked_total",
        "Calls refused by the dry-run egress guard.",
    ),
    (
        "halcytone_social_posts_total",
        "Posts created directly on a network.",
    ),
    (
        "halcytone_social_token_refreshes_total",
        "OAuth token refreshes, by outcome.",
    ),
];

pub struct AppMetrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for AppMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppMetrics").finish_non_exhaustive()
    }
}

impl Default for AppMetrics {
    fn default() -> Self {
        // BUCKETS is a fixed, non-empty list, so setting it cannot fail; were it to, the
        // histograms would render as summaries rather than the service failing to start.
        let builder = PrometheusBuilder::new();
        let builder = match builder.set_buckets(&BUCKETS) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "histogram buckets refused");
                PrometheusBuilder::new()
            }
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let m = AppMetrics { recorder, handle };
        for (name, help) in HELP {
            let key = KeyName::from_const_str(name);
            if name.ends_with("_seconds") {
                m.recorder.describe_histogram(key, None, help.into());
            } else if name == WEBSOCKETS {
                m.recorder.describe_gauge(key, None, help.into());
            } else {
                m.recorder.describe_counter(key, None, help.into());
            }
        }
        for (name, help) in SCRAPED_GAUGES {
            m.recorder
                .describe_gauge(KeyName::from_const_str(name), None, help.into());
        }
        for (name, help) in SCRAPED_TOTALS {
            m.recorder
                .describe_counter(KeyName::from_const_str(name), None, help.into());
        }
        // Every series a dashboard or alert reads is there from the start, at zero.
        for c in CHANNELS {
            m.counter(GENERATED, &[("channel", c)]).increment(0);
            m.counter(RETRIES, &[("channel", c)]).increment(0);
            for o in OUTCOMES {
                m.counter(PUBLISHED, &[("channel", c), ("outcome", o)])
                    .increment(0);
            }
        }
        for state in RECIPIENT_STATES {
            m.counter(RECIPIENTS, &[("state", state)]).increment(0);
        }
        m.counter(GENERATION_ERRORS, &[]).increment(0);
        m.counter(GENERATION_TIMEOUTS, &[]).increment(0);
        let _registered = m.histogram(GENERATION_SECONDS, &[]);
        for e in WEBSOCKET_ENDPOINTS {
            m.gauge(WEBSOCKETS, &[("endpoint", e)]).increment(0.0);
        }
        m
    }
}

fn key(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
    Key::from_parts(
        name,
        labels
            .iter()
            .map(|(k, v)| Label::new(*k, v.to_string()))
            .collect::<Vec<_>>(),
    )
}

fn metadata() -> Metadata<'static> {
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()))
}

impl AppMetrics {
    fn counter(&self, name: &'static str, labels: &[(&'static str, &str)]) -> Counter {
        self.recorder
            .register_counter(&key(name, labels), &metadata())
    }

    fn histogram(&self, name: &'static str, labels: &[(&'static str, &str)]) -> Histogram {
        self.recorder
            .register_histogram(&key(name, labels), &metadata())
    }

    fn gauge(&self, name: &'static str, labels: &[(&'static str, &str)]) -> Gauge {
        self.recorder
            .register_gauge(&key(name, labels), &metadata())
    }

    /// One composition of `channels`, taking `seconds`.
    pub fn generated(&self, channels: &[&str], seconds: f64) {
        for c in channels {
            self.counter(GENERATED, &[("channel", c)]).increment(1);
        }
        self.histogram(GENERATION_SECONDS, &[]).record(seconds);
    }

    pub fn generation_failed(&self) {
        self.counter(GENERATION_ERRORS, &[]).increment(1);
    }

    /// A generation stopped (or never started) because its time budget ran out.
    pub fn generation_timed_out(&self) {
        self.counter(GENERATION_TIMEOUTS, &[]).increment(1);
    }

    /// One publish target's outcome (`success`, `failed`, `skipped`) after `attempts`.
    pub fn published(&self, channel: &str, outcome: &str, attempts: u32) {
        self.counter(PUBLISHED, &[("channel", channel), ("outcome", outcome)])
            .increment(1);
        if attempts > 1 {
            self.counter(RETRIES, &[("channel", channel)])
                .increment(u64::from(attempts - 1));
        }
    }

    /// One recipient's message ended `state` (one of [`RECIPIENT_STATES`]).
    pub fn recipient(&self, state: &str) {
        self.counter(RECIPIENTS, &[("state", state)]).increment(1);
    }

    pub fn publish_took(&self, channel: &str, seconds: f64) {
        self.histogram(PUBLISH_SECONDS, &[("channel", channel)])
            .record(seconds);
    }

    /// A WebSocket on `endpoint` (one of [`WEBSOCKET_ENDPOINTS`]) opened (+1) or closed (-1).
    pub fn websocket(&self, endpoint: &str, delta: i64) {
        let g = self.gauge(WEBSOCKETS, &[("endpoint", endpoint)]);
        if delta >= 0 {
            g.increment(delta as f64);
        } else {
            g.decrement(delta.unsigned_abs() as f64);
        }
    }

    /// The counter of requests to `route` (a route template, never a raw path) answered
    /// with `status`. Register once and keep the handle: the hot path only increments it.
    pub fn http_requests(&self, service: &str, method: &str, route: &str, status: u16) -> Counter {
        let status = status.to_string();
        self.counter(
            HTTP_REQUESTS,
            &[
                ("service", service),
                ("method", method),
                ("route", route),
                ("status", &status),
            ],
        )
    }

    /// The latency histogram of requests to `route`.
    pub fn http_latency(&self, service: &str, method: &str, route: &str) -> Histogram {
        self.histogram(
            HTTP_SECONDS,
            &[("service", service), ("method", method), ("route", route)],
        )
    }

    /// Folds the samples histograms hold into their buckets. The exporter keeps raw samples
    /// until then, so this runs every few seconds (see [`AppMetrics::keep_bounded`]) whether
    /// or not anyone scrapes.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// Runs [`AppMetrics::run_upkeep`] every `every` for as long as `metrics` is alive.
    pub fn keep_bounded(metrics: &std::sync::Arc<AppMetrics>, every: std::time::Duration) {
        halcytone_telemetry::upkeep::while_alive(metrics, every, AppMetrics::run_upkeep);
    }

    /// Sets a gauge read at scrape time (a queue's lag, a breaker's state; one of
    /// `SCRAPED_GAUGES`, described once at start).
    pub fn gauge_now(&self, name: &'static str, labels: &[(&'static str, &str)], value: f64) {
        self.gauge(name, labels).set(value);
    }

    /// Sets a counter whose total another part keeps (cache hits, egress refusals; one of
    /// `SCRAPED_TOTALS`).
    pub fn total_now(&self, name: &'static str, labels: &[(&'static str, &str)], value: u64) {
        self.counter(name, labels).absolute(value);
    }

    /// Appends the Prometheus text exposition of every series.
    pub fn render(&self, out: &mut String) {
        out.push_str(&self.handle.render());
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

    #[test]
    fn http_series_keep_their_names_labels_and_buckets() {
        let m = AppMetrics::default();
        let ok = m.http_requests("halcytone", "GET", "/health", 200);
        ok.increment(1);
        ok.increment(1);
        let h = m.http_latency("halcytone", "GET", "/health");
        h.record(0.0007);
        h.record(0.02);
        m.run_upkeep();
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains(
            "http_requests_total{service=\"halcytone\",method=\"GET\",route=\"/health\",status=\"200\"} 2"
        ), "{out}");
        assert!(out.contains("route=\"/health\",le=\"0.001\"} 1"), "{out}");
        assert!(out.contains("route=\"/health\",le=\"+Inf\"} 2"), "{out}");
        assert!(out.contains("# TYPE http_request_duration_seconds histogram"));
    }
}
