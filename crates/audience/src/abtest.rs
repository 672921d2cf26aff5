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

/// Splits `recipients` for test `test_id`: recipients are ranked by SHA-256 of the test id and
/// their id; the first `round(fraction × n)` form the test group, dealt to the variants in turn
/// (so variant sizes differ by at most one), and the rest wait for the winner.
///
/// The test group is exactly the configured fraction (to one recipient), and the answer depends
/// only on the test id and the set of ids: the same ids always get the same assignment,
/// whatever order they come in. Another test id shuffles differently. Repeated ids are
/// assigned once (their first position answers for all).
pub fn split(
    test_id: &str,
    recipients: &[&str],
    variants: usize,
    fraction: f64,
) -> Vec<Assignment> {
    let mut out = vec![Assignment::Remainder; recipients.len()];
    if variants == 0 || !fraction.is_finite() {
        return out;
    }
    let mut ranked: Vec<(f64, &str, usize)> = Vec::with_capacity(recipients.len());
    let mut seen = std::collections::HashSet::new();
    for (i, id) in recipients.iter().enumerate() {
        if seen.insert(*id) {
            ranked.push((unit(&[test_id, id]), id, i));
        }
    }
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
    let test_n = (fraction.clamp(0.0, 1.0) * ranked.len() as f64).round() as usize;
    let mut by_id = std::collections::HashMap::new();
    for (rank, (_, id, _)) in ranked.iter().enumerate() {
        let a = if rank < test_n {
            Assignment::Test(rank % variants)
        } else {
            Assignment::Remainder
        };
        by_id.insert(*id, a);
    }
    for (slot, id) in out.iter_mut().zip(recipients) {
        *slot = by_id.get(id).copied().unwrap_or(Assignment::Remainder);
    }
    out
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
    fn the_split_is_exact_deterministic_and_order_free() {
        let ids: Vec<String> = (0..1000).map(|i| format!("sub_{i:04}")).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let first = split("t1", &refs, 2, 0.2);
        assert_eq!(first, split("t1", &refs, 2, 0.2));
        let test = first
            .iter()
            .filter(|a| matches!(a, Assignment::Test(_)))
            .count();
        assert_eq!(test, 200);
        let a = first.iter().filter(|a| **a == Assignment::Test(0)).count();
        assert_eq!(a, 100);
        // The order of the list does not matter.
        let mut reversed = refs.clone();
        reversed.reverse();
        let mut back = split("t1", &reversed, 2, 0.2);
        back.reverse();
        assert_eq!(first, back);
        // Another test shuffles differently.
        assert_ne!(first, split("t2", &refs, 2, 0.2));
        // Three variants of 301 test members: 101, 100, 100.
        let three = split("t3", &refs, 3, 0.301);
        let sizes: Vec<usize> = (0..3)
            .map(|v| three.iter().filter(|a| **a == Assignment::Test(v)).count())
            .collect();
        assert_eq!(sizes, vec![101, 100, 100]);
        assert!(
            split("t", &["x"], 0, 1.0)
                .iter()
                .all(|a| *a == Assignment::Remainder)
        );
        assert!(
            split("t", &["x"], 3, 0.0)
                .iter()
                .all(|a| *a == Assignment::Remainder)
        );
        assert!(
            split("t", &["x"], 3, f64::NAN)
                .iter()
                .all(|a| *a == Assignment::Remainder)
        );
        assert!(matches!(split("t", &["x"], 3, 1.0)[0], Assignment::Test(0)));
        let twice = split("t", &["x", "y", "x"], 2, 1.0);
        assert_eq!(twice[0], twice[2]);
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
