//! Anytime-valid confidence sequences for a rate, so a run may look at its results after every
//! round and stop a category as soon as its level is settled.
//!
//! A fixed-n interval (Wilson, Clopper–Pearson) is valid only if the sample size was fixed in
//! advance: checking it after every round and stopping when it clears a threshold inflates the
//! error rate. The beta-binomial mixture martingale (Robbins 1970; Howard et al. 2021, "Time-
//! uniform, nonparametric, nonasymptotic confidence sequences") is not fooled by peeking: for the
//! true rate p,
//!
//! ```text
//! M_n(p) = B(a + S, b + F) / B(a, b) / (p^S (1 − p)^F)
//! ```
//!
//! (S failures, F passes after n draws) is a nonnegative martingale with mean 1, so by Ville's
//! inequality P(∃ n: M_n(p) ≥ 1/α) ≤ α. The set {p : M_n(p) < 1/α} is therefore a confidence
//! sequence: it covers p at *every* n simultaneously with probability ≥ 1 − α, whenever the run
//! stops. `ln M_n(p)` is convex in p, so the set is an interval found by bisection on each side of
//! S/n.

use crate::{Interval, interval::ln_beta};

/// The mixing prior Beta(a, b). Its mass sits near 0, where a release-worthy model's rates and the
/// policy's thresholds lie: 0 failures in 80 draws then bound the rate at 4.3% (Wilson: 4.6%), while
/// 20 failures in 20 still put it above 0.66. Any prior gives a valid sequence; this one spends its
/// width where release decisions are made.
pub const PRIOR: (f64, f64) = (0.1, 1.0);

/// The confidence sequence after `k` failures in `n` draws, at `confidence` (1 − α). Real-valued
/// counts let clustered data enter at their effective size.
pub fn confidence_sequence(k: f64, n: f64, confidence: f64) -> Interval {
    if n <= 0.0 {
        return Interval { lo: 0.0, hi: 1.0 };
    }
    let k = k.clamp(0.0, n);
    let f = n - k;
    let (a, b) = PRIOR;
    let bound = (1.0 / (1.0 - confidence)).ln();
    let mixture = ln_beta(a + k, b + f) - ln_beta(a, b);
    // g(p) = ln M(p) − ln(1/α): negative inside the sequence.
    let g = |p: f64| mixture - k * p.ln() - f * (1.0 - p).ln() - bound;
    let centre = (k / n).clamp(1e-12, 1.0 - 1e-12);
    let edge = 1e-15;
    let root = |mut inside: f64, mut outside: f64| {
        for _ in 0..100 {
            let mid = 0.5 * (inside + outside);
            if g(mid) < 0.0 {
                inside = mid;
            } else {
                outside = mid;
            }
        }
        0.5 * (inside + outside)
    };
    let lo = if k <= 0.0 || g(edge) < 0.0 { 0.0 } else { root(centre, edge) };
    let hi = if f <= 0.0 || g(1.0 - edge) < 0.0 { 1.0 } else { root(centre, 1.0 - edge) };
    Interval { lo, hi }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values: the same mixture computed independently in Python (scipy.special.betaln,
    // brentq on ln M(p) − ln 20, prior Beta(0.1, 1)), once, for these constants.
    #[test]
    fn matches_an_independent_computation() {
        for (k, n, lo, hi) in [
            (0.0, 80.0, 0.0, 0.042_621_218_137_831_26),
            (80.0, 80.0, 0.886_016_314_173_876_2, 1.0),
            (10.0, 100.0, 0.027_973_058_348_030_534, 0.231_344_549_098_603_9),
            (3.0, 80.0, 0.002_599_236_795_489_773, 0.147_905_713_739_837_96),
            (20.0, 20.0, 0.660_372_070_858_375_2, 1.0),
            (0.0, 260.0, 0.0, 0.013_757_884_202_635_87),
        ] {
            let i = confidence_sequence(k, n, 0.95);
            assert!((i.lo - lo).abs() < 1e-9 && (i.hi - hi).abs() < 1e-9, "{k}/{n}: {i:?}");
        }
    }

    #[test]
    fn the_sequence_is_wider_than_a_fixed_n_interval_away_from_zero() {
        let cs = confidence_sequence(10.0, 100.0, 0.95);
        let w = crate::wilson(10, 100, 0.95);
        assert!(cs.lo < w.lo && cs.hi > w.hi, "{cs:?} {w:?}");
        assert_eq!(confidence_sequence(0.0, 0.0, 0.95), Interval { lo: 0.0, hi: 1.0 });
    }

    /// Peeking after every draw: the share of seeded runs in which the sequence ever misses the
    /// true rate stays under α (Ville), where Wilson checked at every draw does not.
    #[test]
    fn coverage_holds_under_continuous_peeking() {
        let mut rng = crate::plan::Rng::new(7);
        let (runs, horizon, p) = (400, 300, 0.1);
        let (mut cs_miss, mut wilson_miss) = (0, 0);
        for _ in 0..runs {
            let (mut k, mut cs_out, mut w_out) = (0u64, false, false);
            for n in 1..=horizon {
                k += u64::from(rng.unit() < p);
                let cs = confidence_sequence(k as f64, n as f64, 0.95);
                cs_out |= p < cs.lo || p > cs.hi;
                let w = crate::wilson(k, n, 0.95);
                w_out |= p < w.lo || p > w.hi;
            }
            cs_miss += u32::from(cs_out);
            wilson_miss += u32::from(w_out);
        }
        let (cs_rate, w_rate) = (cs_miss as f64 / runs as f64, wilson_miss as f64 / runs as f64);
        assert!(cs_rate <= 0.05, "confidence sequence missed in {cs_rate}");
        assert!(w_rate > 0.15, "peeking at Wilson should fail often; missed in {w_rate}");
    }
}
