//! HTTP request metrics of the API, labelled by the matched route template (never the raw
//! path): a counter and a latency histogram with explicit buckets for Prometheus, plus the
//! rolling figures of the dashboard's JSON summary (requests per second over the last
//! minute, mean latency, error rate).

use std::collections::HashMap;
use std::sync::Mutex;

pub use halcytone_telemetry::exposition::{BUCKETS, Histogram, esc};

const WINDOW_SECS: usize = 60;

/// One route's numbers; methods and statuses per route are few, so vectors beat maps.
#[derive(Debug, Default)]
struct RouteStats {
    /// (method, status) → count
    requests: Vec<(String, u16, u64)>,
    /// method → latency
    latency: Vec<(String, Histogram)>,
}

#[derive(Debug, Default)]
struct Inner {
    /// route → numbers (looked up by `&str`, so a request allocates nothing once seen)
    routes: HashMap<String, RouteStats>,
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

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let now = unix_secs();
        let mut inner = self.lock();
        if !inner.routes.contains_key(route) {
            inner
                .routes
                .insert(route.to_string(), RouteStats::default());
        }
        if let Some(r) = inner.routes.get_mut(route) {
            match r
                .requests
                .iter_mut()
                .find(|(m, s, _)| m == method && *s == status)
            {
                Some(entry) => entry.2 += 1,
                None => r.requests.push((method.to_string(), status, 1)),
            }
            if !r.latency.iter().any(|(m, _)| m == method) {
                r.latency.push((method.to_string(), Histogram::default()));
            }
            if let Some((_, h)) = r.latency.iter_mut().find(|(m, _)| m == method) {
                h.observe(seconds);
            }
        }
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

    /// Appends `http_requests_total` and `http_request_duration_seconds` in Prometheus text.
    pub fn render(&self, service: &str, out: &mut String) {
        use std::fmt::Write;
        let inner = self.lock();
        let mut routes: Vec<(&String, &RouteStats)> = inner.routes.iter().collect();
        routes.sort_by(|a, b| a.0.cmp(b.0));
        out.push_str("# HELP http_requests_total HTTP requests answered, by matched route and status.\n# TYPE http_requests_total counter\n");
        for (route, r) in &routes {
            let mut rows: Vec<_> = r.requests.iter().collect();
            rows.sort();
            for (method, status, n) in rows {
                let _ = writeln!(
                    out,
                    "http_requests_total{{service=\"{}\",method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                    esc(service),
                    esc(method),
                    esc(route)
                );
            }
        }
        out.push_str("# HELP http_request_duration_seconds Time to answer a request, by matched route.\n# TYPE http_request_duration_seconds histogram\n");
        for (route, r) in &routes {
            let mut rows: Vec<_> = r.latency.iter().collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            for (method, h) in rows {
                let labels = format!(
                    "service=\"{}\",method=\"{}\",route=\"{}\"",
                    esc(service),
                    esc(method),
                    esc(route)
                );
                h.write(out, "http_request_duration_seconds", &labels);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_histograms_and_summary() {
        let m = HttpMetrics::default();
        m.observe("GET", "/health", 200, 0.0007);
        m.observe("GET", "/health", 200, 0.02);
        m.observe("POST", "/api/v2/jobs/{id}/retry", 500, 0.3);
        let s = m.summary();
        assert_eq!(s.requests_total, 3);
        assert!((s.error_rate - 1.0 / 3.0).abs() < 1e-9);
        assert!(s.requests_per_second > 0.0);
        let mut out = String::new();
        m.render("halcytone", &mut out);
        assert!(out.contains(
            "http_requests_total{service=\"halcytone\",method=\"GET\",route=\"/health\",status=\"200\"} 2"
        ));
        assert!(out.contains("route=\"/health\",le=\"0.001\"} 1"));
        assert!(out.contains("route=\"/health\",le=\"+Inf\"} 2"));
        assert!(out.contains("route=\"/api/v2/jobs/{id}/retry\""));
    }
}
