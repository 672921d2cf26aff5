//! Prometheus exposition of one mock (`mock_crm_*` or `mock_platform_*`): requests and their
//! latency by matched route, captures, simulated errors and injected faults.
//!
//! Each mock keeps its own registry, so two mocks in one process never mix their numbers.

use crate::state::MockState;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

/// Latency buckets in seconds (explicit, so `histogram_quantile` works).
pub const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

#[derive(Debug, Default)]
struct Inner {
    /// (method, route, status) → count
    requests: BTreeMap<(String, String, u16), u64>,
    /// (method, route) → latency histogram
    latency: BTreeMap<(String, String), Histogram>,
    /// kind → captures made
    captured: BTreeMap<String, u64>,
}

#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut inner = self.lock();
        *inner
            .requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        let h = inner
            .latency
            .entry((method.to_string(), route.to_string()))
            .or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.count += 1;
    }

    pub fn captured(&self, kind: &str) {
        *self.lock().captured.entry(kind.to_string()).or_default() += 1;
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`.
pub async fn render(State(state): State<MockState>) -> Response {
    let p = match state.kind {
        crate::state::MockKind::Crm => "mock_crm",
        crate::state::MockKind::Platform => "mock_platform",
    };
    let stored = state.store.counts().await.unwrap_or_default();
    let inner = state.metrics.lock();
    let mut out = String::with_capacity(4096);
    let _ = writeln!(
        out,
        "# HELP {p}_up Whether the mock is serving (always 1 when scraped).\n# TYPE {p}_up gauge\n{p}_up 1"
    );
    let _ = writeln!(
        out,
        "# HELP {p}_requests_total Requests answered, by method, matched route and status.\n# TYPE {p}_requests_total counter"
    );
    for ((method, route, status), n) in &inner.requests {
        let _ = writeln!(
            out,
            "{p}_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
            escape(route)
        );
    }
    let _ = writeln!(
        out,
        "# HELP {p}_request_duration_seconds Time to answer a request, by method and matched route.\n# TYPE {p}_request_duration_seconds histogram"
    );
    for ((method, route), h) in &inner.latency {
        let route = escape(route);
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{p}_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\"{b}\"}} {}",
                h.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{p}_request_duration_seconds_bucket{{method=\"{method}\",route=\"{route}\",le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(
            out,
            "{p}_request_duration_seconds_sum{{method=\"{method}\",route=\"{route}\"}} {}",
            h.sum
        );
        let _ = writeln!(
            out,
            "{p}_request_duration_seconds_count{{method=\"{method}\",route=\"{route}\"}} {}",
            h.count
        );
    }
    let _ = writeln!(
        out,
        "# HELP {p}_captured_total Emails, web posts and social posts captured since start, by kind.\n# TYPE {p}_captured_total counter"
    );
    for (kind, n) in &inner.captured {
        let _ = writeln!(out, "{p}_captured_total{{kind=\"{}\"}} {n}", escape(kind));
    }
    let _ = writeln!(
        out,
        "# HELP {p}_stored_records Records held in the capture store, by kind.\n# TYPE {p}_stored_records gauge"
    );
    for (kind, n) in &stored.0 {
        let _ = writeln!(out, "{p}_stored_records{{kind=\"{}\"}} {n}", escape(kind));
    }
    let c = &state.counters;
    let _ = writeln!(
        out,
        "# HELP {p}_simulated_errors_total Failures answered because a trigger word asked for them.\n# TYPE {p}_simulated_errors_total counter\n{p}_simulated_errors_total {}",
        c.simulated_errors.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP {p}_faults_injected_total Failures answered by fault injection.\n# TYPE {p}_faults_injected_total counter\n{p}_faults_injected_total {}",
        c.faults_injected.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "# HELP {p}_uptime_seconds Seconds since the mock started.\n# TYPE {p}_uptime_seconds gauge\n{p}_uptime_seconds {}",
        state.started.elapsed().as_secs()
    );
    drop(inner);
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
        .into_response()
}
