//! Prometheus text exposition shared by the API's metric sets: histogram buckets (explicit,
//! so `histogram_quantile` works), a histogram to fill, its rendering, and label escaping.

use std::fmt::Write;

/// Latency buckets in seconds.
pub const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Observations counted into [`BUCKETS`] (cumulative, as Prometheus reads them).
#[derive(Debug, Default, Clone)]
pub struct Histogram {
    pub counts: [u64; BUCKETS.len()],
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn observe(&mut self, seconds: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }

    /// Appends the `_bucket`, `_sum` and `_count` lines of `name` with `labels` (already
    /// escaped, without braces; empty for none).
    pub fn write(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braced = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braced} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braced} {}", self.count);
    }
}

/// Escapes a Prometheus label value.
pub fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_renders_cumulative_buckets_with_and_without_labels() {
        let mut h = Histogram::default();
        h.observe(0.003);
        h.observe(20.0);
        let mut out = String::new();
        h.write(&mut out, "x_seconds", "");
        assert!(out.contains("x_seconds_bucket{le=\"0.0025\"} 0\n"));
        assert!(out.contains("x_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(out.contains("x_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(out.contains("x_seconds_count 2\n"));
        let mut out = String::new();
        h.write(&mut out, "x_seconds", "route=\"/a\"");
        assert!(out.contains("x_seconds_bucket{route=\"/a\",le=\"10\"} 1\n"));
        assert!(out.contains("x_seconds_sum{route=\"/a\"} 20.003\n"));
        assert_eq!(esc("a\"b\\c\n"), "a\\\"b\\\\c\\n");
    }
}
