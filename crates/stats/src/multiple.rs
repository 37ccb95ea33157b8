//! Many categories tested at once. With ten categories each checked at 95%, one of them crosses a
//! threshold by chance far more often than 5% of the time; a threshold counts as crossed only
//! after a correction across every (category, gated rate) test.
//!
//! Each test's p-value is read off the interval it belongs to ([`p_value`]): the smallest α at
//! which the two-sided (1 − α) interval's lower bound reaches the threshold. So a single test is
//! significant at α exactly when its interval at the policy's confidence clears the threshold, and
//! the correction works on the same evidence the levels show.
//!
//! A PASS needs no correction: "every category is below its threshold" is an intersection of
//! claims, and an intersection–union test at level α is valid with each part at level α.

use serde::{Deserialize, Serialize};

/// Which correction the policy applies before a threshold counts as crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Correction {
    /// Holm's step-down: family-wise error ≤ α (no false "crossed" at all, with probability 1 − α).
    #[default]
    Holm,
    /// Benjamini–Hochberg: expected share of false "crossed" among those declared ≤ α.
    BenjaminiHochberg,
    /// Each test on its own (for a single category, or when the user accepts the inflation).
    None,
}

impl Correction {
    pub fn as_str(self) -> &'static str {
        match self {
            Correction::Holm => "Holm",
            Correction::BenjaminiHochberg => "Benjamini–Hochberg",
            Correction::None => "none",
        }
    }

    /// Adjusted p-values, in the order given.
    pub fn adjust(self, p: &[f64]) -> Vec<f64> {
        match self {
            Correction::Holm => holm(p),
            Correction::BenjaminiHochberg => benjamini_hochberg(p),
            Correction::None => p.to_vec(),
        }
    }
}

/// Holm-adjusted p-values: sorted ascending, `p(i) · (m − i)`, made monotone, capped at 1.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// Benjamini–Hochberg adjusted p-values: sorted descending, `p(i) · m / i`, made monotone.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let mut out = vec![0.0; m];
    let mut running = 1.0f64;
    for (k, &i) in order.iter().enumerate() {
        let rank = (m - k) as f64;
        running = running.min(p[i] * m as f64 / rank).min(1.0);
        out[i] = running;
    }
    out
}

/// The p-value of "the rate is at or above `threshold`" for an interval family: the smallest α
/// such that the lower bound of the (1 − α) interval, `lower(1 − α)`, reaches `threshold`.
/// Lower bounds shrink as confidence grows, so bisection on ln α finds it.
pub fn p_value(lower: impl Fn(f64) -> f64, threshold: f64) -> f64 {
    // At confidence → 0 the interval is its centre: below the threshold means no evidence at all.
    if lower(1e-9) < threshold {
        return 1.0;
    }
    // Below 1e-15 the confidence 1 − α is no longer distinguishable from 1 in f64.
    const FLOOR: f64 = 1e-15;
    let (mut lo, mut hi) = (FLOOR.ln(), (1.0f64 - 1e-9).ln());
    if lower(1.0 - FLOOR) >= threshold {
        return FLOOR;
    }
    // Invariant: at α = e^hi the bound clears the threshold; at α = e^lo it does not.
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if lower(1.0 - mid.exp()) >= threshold {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi.exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference: statsmodels 0.15.0, multipletests([0.01, 0.04, 0.03, 0.005, 0.20], alpha=0.05,
    // method="holm" / "fdr_bh")[1].
    #[test]
    fn corrections_match_statsmodels() {
        let p = [0.01, 0.04, 0.03, 0.005, 0.20];
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12);
        assert!(close(&holm(&p), &[0.04, 0.09, 0.09, 0.025, 0.2]), "{:?}", holm(&p));
        assert!(close(&benjamini_hochberg(&p), &[0.025, 0.05, 0.05, 0.025, 0.2]), "{:?}", benjamini_hochberg(&p));
        assert_eq!(Correction::None.adjust(&p), p.to_vec());
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn p_values_invert_the_interval() {
        // Wilson's lower bound is the score test's inversion: 30/100 against 0.2 gives the
        // two-sided score-test p-value 2·(1 − Φ((0.3 − 0.2)/√(0.2·0.8/100))) = 2·(1 − Φ(2.5)).
        let p = p_value(|c| crate::wilson(30, 100, c).lo, 0.2);
        assert!((p - 0.012_419_330_651_552_265).abs() < 1e-6, "{p}");
        // Nothing above the threshold: no evidence.
        assert_eq!(p_value(|c| crate::wilson(10, 100, c).lo, 0.2), 1.0);
    }
}
