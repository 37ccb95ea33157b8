//! Binomial confidence intervals.

use serde::Serialize;

/// A two-sided interval on a proportion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
}

/// Wilson score interval for `k` successes in `n` trials at two-sided `confidence` (e.g. 0.95).
/// With `n = 0` nothing is known: `[0, 1]`.
pub fn wilson(k: u64, n: u64, confidence: f64) -> Interval {
    if n == 0 {
        return Interval { lo: 0.0, hi: 1.0 };
    }
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let n_f = n as f64;
    let p = k as f64 / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denom;
    let half = z * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt() / denom;
    // At k = 0 or k = n the bound is exactly 0 or 1; clamp away floating-point dust.
    let lo = if k == 0 { 0.0 } else { (centre - half).max(0.0) };
    let hi = if k == n { 1.0 } else { (centre + half).min(1.0) };
    Interval { lo, hi }
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9).
// The coefficients are Acklam's published values, kept digit for digit.
#[allow(clippy::excessive_precision)]
pub fn normal_quantile(p: f64) -> f64 {
    assert!(p > 0.0 && p < 1.0, "quantile of {p}");
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.383577518672690e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] =
        [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
    let pl = 0.02425;
    if p < pl {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - pl {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() < tol
    }

    #[test]
    fn quantiles_match_tables() {
        assert!(close(normal_quantile(0.975), 1.959963985, 1e-7));
        assert!(close(normal_quantile(0.995), 2.575829304, 1e-7));
        assert!(close(normal_quantile(0.5), 0.0, 1e-9));
        assert!(close(normal_quantile(0.05), -1.644853627, 1e-7));
    }

    // Reference values: statsmodels.stats.proportion.proportion_confint(k, n, alpha=0.05,
    // method="wilson"), e.g. (5, 20) -> (0.11186, 0.46870); Newcombe (1998) Table I, 81/263 ->
    // (0.2553, 0.3662).
    #[test]
    fn wilson_matches_references() {
        let i = wilson(5, 20, 0.95);
        assert!(close(i.lo, 0.111_862, 1e-5) && close(i.hi, 0.468_701, 1e-5), "{i:?}");
        let i = wilson(81, 263, 0.95);
        assert!(close(i.lo, 0.2553, 1e-4) && close(i.hi, 0.3662, 1e-4), "{i:?}");
    }

    #[test]
    fn zero_failures_follow_rule_of_three_roughly() {
        let i = wilson(0, 100, 0.95);
        assert_eq!(i.lo, 0.0);
        // Wilson's upper bound at 0/100 is 0.037; the rule of three says ≈ 0.03.
        assert!(i.hi > 0.03 && i.hi < 0.04, "{i:?}");
        let all = wilson(100, 100, 0.95);
        assert_eq!(all.hi, 1.0);
        assert_eq!(wilson(0, 0, 0.95), Interval { lo: 0.0, hi: 1.0 });
    }
}
