//! HTTP request metrics of the API, labelled by the matched route template (never the raw
//! path). The Prometheus series (`http_requests_total`, `http_request_duration_seconds`) are
//! recorded through the `metrics` facade into the application's recorder
//! (`halcytone_app::metrics::AppMetrics`); each route keeps the handles it registered, so a
//! request only increments them. Beside them, the rolling figures of the dashboard's JSON
//! summary (requests per second over the last minute, mean latency, error rate).

use halcytone_app::metrics::AppMetrics;
use halcytone_telemetry::route_series::{Register, Routes};
use metrics::{Counter, Histogram};
use std::sync::Mutex;

/// Registers the API's request series in the application's recorder, under `service`.
struct Registrar<'a> {
    metrics: &'a AppMetrics,
    service: &'a str,
}

impl Register for Registrar<'_> {
    fn requests(&self, method: &str, route: &str, status: u16) -> Counter {
        self.metrics
            .http_requests(self.service, method, route, status)
    }
    fn latency(&self, method: &str, route: &str) -> Histogram {
        self.metrics.http_latency(self.service, method, route)
    }
}

const WINDOW_SECS: usize = 60;

#[derive(Debug, Default)]
struct Inner {
    /// Each route's registered series.
    routes: Routes,
    total: u64,
    errors: u64,
    latency_sum: f64,
    /// Requests per second of the last minute: (unix second, count).
    window: Vec<(u64, u64)>,
}

#[derive(Debug)]
pub struct HttpMetrics {
    inner: Mutex<Inner>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics {
            inner: Mutex::new(Inner {
                window: vec![(0, 0); WINDOW_SECS],
                ..Inner::default()
            }),
        }
    }
}

/// The JSON summary's request figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub requests_total: u64,
    pub requests_per_second: f64,
    pub avg_response_time_ms: f64,
    pub error_rate: f64,
}

fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl HttpMetrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One answered request: its series in `metrics` (registered on first sight of the
    /// route, method and status) and the rolling summary.
    pub fn observe(
        &self,
        metrics: &AppMetrics,
        service: &str,
        method: &str,
        route: &str,
        status: u16,
        seconds: f64,
    ) {
        let now = unix_secs();
        let mut inner = self.lock();
        inner.routes.observe(
            &Registrar { metrics, service },
            method,
            route,
            status,
            seconds,
        );
        inner.total += 1;
        inner.latency_sum += seconds;
        if status >= 500 {
            inner.errors += 1;
        }
        let slot = &mut inner.window[(now as usize) % WINDOW_SECS];
        if slot.0 == now {
            slot.1 += 1;
        } else {
            *slot = (now, 1);
        }
    }

    pub fn summary(&self) -> Summary {
        let now = unix_secs();
        let inner = self.lock();
        let recent: u64 = inner
            .window
            .iter()
            .filter(|(s, _)| *s + (WINDOW_SECS as u64) > now && *s <= now)
            .map(|(_, n)| n)
            .sum();
        let total = inner.total;
        Summary {
            requests_total: total,
            requests_per_second: recent as f64 / WINDOW_SECS as f64,
            avg_response_time_ms: if total == 0 {
                0.0
            } else {
                inner.latency_sum * 1000.0 / total as f64
            },
            error_rate: if total == 0 {
                0.0
            } else {
                inner.errors as f64 / total as f64
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_histograms_and_summary() {
        let m = HttpMetrics::default();
        let app = AppMetrics::default();
        m.observe(&app, "halcytone", "GET", "/health", 200, 0.0007);
        m.observe(&app, "halcytone", "GET", "/health", 200, 0.02);
        m.observe(
            &app,
            "halcytone",
            "POST",
            "/api/v2/jobs/{id}/retry",
            500,
            0.3,
        );
        let s = m.summary();
        assert_eq!(s.requests_total, 3);
        assert!((s.error_rate - 1.0 / 3.0).abs() < 1e-9);
        assert!(s.requests_per_second > 0.0);
        app.run_upkeep();
        let mut out = String::new();
        app.render(&mut out);
        assert!(out.contains(
            "http_requests_total{service=\"halcytone\",method=\"GET\",route=\"/health\",status=\"200\"} 2"
        ));
        assert!(out.contains("route=\"/health\",le=\"0.001\"} 1"));
        assert!(out.contains("route=\"/health\",le=\"+Inf\"} 2"));
        assert!(out.contains("route=\"/api/v2/jobs/{id}/retry\""));
    }
}
