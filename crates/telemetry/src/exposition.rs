//! Prometheus conventions shared by the API's metric sets: the latency buckets every
//! histogram uses (explicit, so `histogram_quantile` works and the dashboards' quantiles
//! read the same edges everywhere). Rendering is `metrics-exporter-prometheus`'s.

/// Latency buckets in seconds.
pub const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_rise_and_cover_half_a_millisecond_to_ten_seconds() {
        assert!(BUCKETS.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(BUCKETS.first(), Some(&0.0005));
        assert_eq!(BUCKETS.last(), Some(&10.0));
    }
}
