//! A/B subject tests: a deterministic split of recipients into a test group (a configured
//! fraction, spread evenly over the variants) and the remainder, and the choice of a winner
//! from open rates.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// A number in [0, 1) from SHA-256 of the parts: the same inputs always give the same value.
fn unit(parts: &[&str]) -> f64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// Where one recipient goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "group", content = "variant")]
pub enum Assignment {
    /// In the test group, receiving this variant (0-based).
    Test(usize),
    /// Waits for the winner.
    Remainder,
}

/// Assigns `recipient` for test `test_id` with `variants` variants and `fraction` of the
/// audience in the test group. Deterministic: the same ids always get the same answer.
pub fn split(test_id: &str, recipient: &str, variants: usize, fraction: f64) -> Assignment {
    if variants == 0 || unit(&[test_id, recipient, "in-test"]) >= fraction.clamp(0.0, 1.0) {
        return Assignment::Remainder;
    }
    let v = (unit(&[test_id, recipient, "variant"]) * variants as f64) as usize;
    Assignment::Test(v.min(variants - 1))
}

/// One variant's figures from the CRM's analytics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantStats {
    pub variant: usize,
    pub delivered: u64,
    pub opened: u64,
}

impl VariantStats {
    pub fn open_rate(&self) -> f64 {
        if self.delivered == 0 {
            0.0
        } else {
            self.opened as f64 / self.delivered as f64
        }
    }
}

/// The chosen variant and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Winner {
    pub variant: usize,
    pub open_rate: f64,
    /// Whether the lead over the runner-up is significant at 95 % (two-proportion z-test).
    pub significant: bool,
    pub z: f64,
}

/// The variant with the highest open rate; ties go to the earlier variant. `None` when no
/// variant was delivered to anyone.
pub fn pick_winner(stats: &[VariantStats]) -> Option<Winner> {
    let mut ranked: Vec<&VariantStats> = stats.iter().filter(|s| s.delivered > 0).collect();
    if ranked.is_empty() {
        return None;
    }
    ranked.sort_by(|a, b| {
        b.open_rate()
            .partial_cmp(&a.open_rate())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.variant.cmp(&b.variant))
    });
    let best = ranked[0];
    let z = match ranked.get(1) {
        Some(second) => {
            let (n1, n2) = (best.delivered as f64, second.delivered as f64);
            let p = (best.opened + second.opened) as f64 / (n1 + n2);
            let se = (p * (1.0 - p) * (1.0 / n1 + 1.0 / n2)).sqrt();
            if se > 0.0 {
                (best.open_rate() - second.open_rate()) / se
            } else {
                0.0
            }
        }
        None => 0.0,
    };
    Some(Winner {
        variant: best.variant,
        open_rate: best.open_rate(),
        significant: z >= 1.96,
        z,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_deterministic_and_matches_the_fraction() {
        let ids: Vec<String> = (0..10_000).map(|i| format!("sub_{i}")).collect();
        let first: Vec<Assignment> = ids.iter().map(|id| split("t1", id, 2, 0.2)).collect();
        let again: Vec<Assignment> = ids.iter().map(|id| split("t1", id, 2, 0.2)).collect();
        assert_eq!(first, again);
        let test = first
            .iter()
            .filter(|a| matches!(a, Assignment::Test(_)))
            .count();
        assert!((test as f64 / 10_000.0 - 0.2).abs() < 0.02, "{test}");
        let a = first.iter().filter(|a| **a == Assignment::Test(0)).count();
        assert!((a as f64 / test as f64 - 0.5).abs() < 0.05, "{a} of {test}");
        // Another test shuffles differently.
        let other: Vec<Assignment> = ids.iter().map(|id| split("t2", id, 2, 0.2)).collect();
        assert_ne!(first, other);
        assert_eq!(split("t", "x", 0, 1.0), Assignment::Remainder);
        assert_eq!(split("t", "x", 3, 0.0), Assignment::Remainder);
        assert!(matches!(split("t", "x", 3, 1.0), Assignment::Test(v) if v < 3));
    }

    #[test]
    fn the_winner_has_the_best_open_rate() {
        let s = |variant, delivered, opened| VariantStats {
            variant,
            delivered,
            opened,
        };
        let w = pick_winner(&[s(0, 100, 20), s(1, 100, 35), s(2, 0, 0)])
            .unwrap_or_else(|| unreachable!());
        assert_eq!(w.variant, 1);
        assert!((w.open_rate - 0.35).abs() < 1e-9);
        assert!(w.significant, "{w:?}");
        let tie = pick_winner(&[s(0, 50, 10), s(1, 50, 10)]).unwrap_or_else(|| unreachable!());
        assert_eq!((tie.variant, tie.significant), (0, false));
        assert!(pick_winner(&[s(0, 0, 0)]).is_none());
    }
}
