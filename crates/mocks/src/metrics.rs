//! Prometheus exposition of one mock (`mock_crm_*` or `mock_platform_*`): requests and their
//! latency by matched route, captures, simulated errors and injected faults.
//!
//! Recorded through the `metrics` facade into a `metrics-exporter-prometheus` recorder each
//! mock owns, so two mocks in one process (`halcytone up`) never mix their numbers. A route's
//! handles are registered once and kept; a request only increments them.

use crate::state::{MockKind, MockState};
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use halcytone_telemetry::route_series::{Register, Routes};
use metrics::{Counter, Histogram, Key, KeyName, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

/// Latency buckets in seconds (explicit, so `histogram_quantile` works).
pub const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

pub struct Metrics {
    prefix: &'static str,
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    routes: Mutex<Routes>,
    captured: Mutex<HashMap<String, Counter>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn metadata() -> Metadata<'static> {
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()))
}

impl Register for Metrics {
    fn requests(&self, method: &str, route: &str, status: u16) -> Counter {
        let status = status.to_string();
        self.counter(
            "requests_total",
            &[("method", method), ("route", route), ("status", &status)],
        )
    }

    fn latency(&self, method: &str, route: &str) -> Histogram {
        self.recorder.register_histogram(
            &self.key(
                "request_duration_seconds",
                &[("method", method), ("route", route)],
            ),
            &metadata(),
        )
    }
}

impl Metrics {
    pub fn new(kind: MockKind) -> Metrics {
        let prefix = match kind {
            MockKind::Crm => "mock_crm",
            MockKind::Platform => "mock_platform",
        };
        // BUCKETS is a fixed, non-empty list, so setting it cannot fail; were it to, the
        // histograms would render as summaries rather than the mock failing to start.
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let handle = recorder.handle();
        let m = Metrics {
            prefix,
            recorder,
            handle,
            routes: Mutex::default(),
            captured: Mutex::default(),
        };
        for (name, help) in [
            ("up", "Whether the mock is serving (always 1 when scraped)."),
            (
                "requests_total",
                "Requests answered, by method, matched route and status.",
            ),
            (
                "request_duration_seconds",
                "Time to answer a request, by method and matched route.",
            ),
            (
                "captured_total",
                "Emails, web posts and social posts captured since start, by kind.",
            ),
            (
                "duplicates_total",
                "Messages captured again under a Message-ID captured before, by kind.",
            ),
            (
                "stored_records",
                "Records held in the capture store, by kind.",
            ),
            (
                "simulated_errors_total",
                "Failures answered because a trigger word asked for them.",
            ),
            (
                "faults_injected_total",
                "Failures answered by fault injection.",
            ),
            ("uptime_seconds", "Seconds since the mock started."),
        ] {
            let key = KeyName::from(m.name(name));
            if name.ends_with("_total") {
                m.recorder.describe_counter(key, None, help.into());
            } else if name.ends_with("_duration_seconds") {
                m.recorder.describe_histogram(key, None, help.into());
            } else {
                m.recorder.describe_gauge(key, None, help.into());
            }
        }
        m
    }

    fn name(&self, suffix: &str) -> String {
        format!("{}_{suffix}", self.prefix)
    }

    fn key(&self, suffix: &str, labels: &[(&'static str, &str)]) -> Key {
        Key::from_parts(
            self.name(suffix),
            labels
                .iter()
                .map(|(k, v)| Label::new(*k, v.to_string()))
                .collect::<Vec<_>>(),
        )
    }

    fn counter(&self, suffix: &str, labels: &[(&'static str, &str)]) -> Counter {
        self.recorder
            .register_counter(&self.key(suffix, labels), &metadata())
    }

    fn gauge(&self, suffix: &str, labels: &[(&'static str, &str)]) -> metrics::Gauge {
        self.recorder
            .register_gauge(&self.key(suffix, labels), &metadata())
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .observe(self, method, route, status, seconds);
    }

    pub fn captured(&self, kind: &str) {
        let mut captured = self
            .captured
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match captured.get(kind) {
            Some(c) => c.increment(1),
            None => {
                let c = self.counter("captured_total", &[("kind", kind)]);
                c.increment(1);
                captured.insert(kind.to_string(), c);
            }
        }
    }

    /// A message captured again under a Message-ID captured before (`…_duplicates_total`).
    pub fn duplicate(&self, kind: &str) {
        self.counter("duplicates_total", &[("kind", kind)])
            .increment(1);
    }

    /// Folds histogram samples into buckets (the exporter keeps them until then).
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// The exposition, with the figures read at scrape time set first.
    fn render_with(&self, state: &MockState, stored: &[(String, i64)]) -> String {
        self.gauge("up", &[]).set(1.0);
        for (kind, n) in stored {
            self.gauge("stored_records", &[("kind", kind)])
                .set(*n as f64);
        }
        let c = &state.counters;
        self.counter("simulated_errors_total", &[])
            .absolute(c.simulated_errors.load(Ordering::Relaxed));
        self.counter("faults_injected_total", &[])
            .absolute(c.faults_injected.load(Ordering::Relaxed));
        self.gauge("uptime_seconds", &[])
            .set(state.started.elapsed().as_secs() as f64);
        self.handle.render()
    }
}

/// `GET /metrics`.
pub async fn render(State(state): State<MockState>) -> Response {
    let stored = state.store.counts().await.unwrap_or_default();
    let stored: Vec<(String, i64)> = stored.0.into_iter().collect();
    let out = state.metrics.render_with(&state, &stored);
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        out,
    )
        .into_response()
}
