//! Binomial confidence intervals.

use serde::Serialize;

/// A two-sided interval on a proportion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub lo: f64,
    pub hi: f64,
}

impl Interval {
    /// `lo ≤ x ≤ hi`.
    pub fn contains(&self, x: f64) -> bool {
        self.lo <= x && x <= self.hi
    }
}

/// Wilson score interval for `k` successes in `n` trials at two-sided `confidence` (e.g. 0.95).
/// With `n = 0` nothing is known: `[0, 1]`.
pub fn wilson(k: u64, n: u64, confidence: f64) -> Interval {
    wilson_f(k as f64, n as f64, confidence)
}

/// [`wilson`] on real-valued counts: clustered data enter as `k / deff` successes in `n / deff`
/// trials (the effective sample size).
pub fn wilson_f(k: f64, n: f64, confidence: f64) -> Interval {
    if n <= 0.0 {
        return Interval { lo: 0.0, hi: 1.0 };
    }
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let p = (k / n).clamp(0.0, 1.0);
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    // At k = 0 or k = n the bound is exactly 0 or 1; clamp away floating-point dust.
    let lo = if k <= 0.0 { 0.0 } else { (centre - half).max(0.0) };
    let hi = if k >= n { 1.0 } else { (centre + half).min(1.0) };
    Interval { lo, hi }
}

/// Clopper–Pearson ("exact") interval: the Beta quantiles `B(α/2; k, n−k+1)` and
/// `B(1−α/2; k+1, n−k)`. Never narrower than its nominal coverage, usually wider than Wilson.
pub fn clopper_pearson(k: f64, n: f64, confidence: f64) -> Interval {
    if n <= 0.0 {
        return Interval { lo: 0.0, hi: 1.0 };
    }
    let a = (1.0 - confidence) / 2.0;
    let k = k.clamp(0.0, n);
    let lo = if k <= 0.0 { 0.0 } else { beta_quantile(a, k, n - k + 1.0) };
    let hi = if k >= n { 1.0 } else { beta_quantile(1.0 - a, k + 1.0, n - k) };
    Interval { lo, hi }
}

/// P(X ≥ k) for X ~ Binomial(n, p): the one-sided exact test of "rate ≥ p" (= I_p(k, n−k+1)).
pub fn binomial_sf(k: u64, n: u64, p: f64) -> f64 {
    if k == 0 {
        1.0
    } else if k > n {
        0.0
    } else {
        beta_inc(k as f64, (n - k + 1) as f64, p)
    }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error ~1e-15).
// The coefficients are the published Lanczos values, kept digit for digit.
#[allow(clippy::excessive_precision)]
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_93,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_13,
        -176.615_029_162_140_59,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_571_6e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1−x) = π / sin(πx).
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = G[1..].iter().enumerate().fold(G[0], |acc, (i, g)| acc + g / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// ln B(a, b).
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// The regularized incomplete beta function I_x(a, b) (continued fraction, Lentz's method).
pub fn beta_inc(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (a * x.ln() + b * (1.0 - x).ln() - ln_beta(a, b)).exp();
    // The fraction converges fast for x < (a+1)/(a+b+2); use the symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - (b * (1.0 - x).ln() + a * x.ln() - ln_beta(a, b)).exp() * beta_fraction(b, a, 1.0 - x) / b
    }
}

fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..500 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The `q` quantile of Beta(a, b), by bisection on [`beta_inc`] (monotone, so it cannot miss).
pub fn beta_quantile(q: f64, a: f64, b: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if beta_inc(a, b, mid) < q {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-15 {
            break;
        }
    }
    0.5 * (lo + hi)
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

#[cfg(test)]
mod exact_tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() < tol
    }

    // Reference values computed once with statsmodels 0.15.0 / scipy 1.17.1:
    // proportion_confint(k, n, alpha=0.05, method="beta"), binom.sf(k-1, n, p),
    // special.betainc, special.gammaln.
    #[test]
    fn clopper_pearson_matches_statsmodels() {
        for (k, n, lo, hi) in [
            (5.0, 20.0, 0.086_571_469_101_434_61, 0.491_045_871_707_957_55),
            (0.0, 80.0, 0.0, 0.045_064_035_067_692_3),
            (81.0, 263.0, 0.252_736_745_585_271_26, 0.367_621_922_601_351_4),
            (30.0, 30.0, 0.884_296_691_777_972_2, 1.0),
        ] {
            let i = clopper_pearson(k, n, 0.95);
            assert!(close(i.lo, lo, 1e-9) && close(i.hi, hi, 1e-9), "{k}/{n}: {i:?}");
        }
    }

    #[test]
    fn special_functions_match_scipy() {
        assert!(close(binomial_sf(8, 80, 0.05), 0.046_591_527_485_232_76, 1e-12));
        assert!(close(binomial_sf(30, 100, 0.2), 0.011_248_978_720_991_648, 1e-12));
        assert!(close(binomial_sf(1, 10, 0.3), 0.971_752_475_1, 1e-9));
        assert_eq!(binomial_sf(0, 10, 0.3), 1.0);
        assert!(close(beta_inc(2.5, 3.5, 0.4), 0.486_904_191_526_117_6, 1e-12));
        assert!(close(beta_inc(0.5, 40.5, 0.01), 0.631_605_198_952_594, 1e-12));
        assert!(close(ln_gamma(0.1), 2.252_712_651_734_206, 1e-12));
        assert!(close(ln_gamma(100.5), 361.435_540_467_777_57, 1e-9));
        assert!(close(ln_gamma(3.0), 2f64.ln(), 1e-13));
    }

    #[test]
    fn real_valued_wilson_agrees_with_the_integer_one() {
        assert_eq!(wilson_f(5.0, 20.0, 0.95), wilson(5, 20, 0.95));
        // Halving both counts (design effect 2) widens the interval around the same rate.
        let (a, b) = (wilson_f(10.0, 40.0, 0.95), wilson_f(5.0, 20.0, 0.95));
        assert!(b.hi - b.lo > a.hi - a.lo);
    }
}

/// How a rate's interval is computed. Stored with a run, so its report is rebuilt the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Wilson score interval: the default for a fixed-size run.
    #[default]
    Wilson,
    /// Clopper–Pearson: exact and conservative.
    ClopperPearson,
    /// The anytime-valid confidence sequence ([`crate::sequential`]): required when the run
    /// looked at its results and stopped early.
    Sequential,
}

impl Method {
    pub fn interval(self, k: f64, n: f64, confidence: f64) -> Interval {
        match self {
            Method::Wilson => wilson_f(k, n, confidence),
            Method::ClopperPearson => clopper_pearson(k, n, confidence),
            Method::Sequential => crate::sequential::confidence_sequence(k, n, confidence),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Wilson => "Wilson",
            Method::ClopperPearson => "Clopper–Pearson",
            Method::Sequential => "anytime-valid confidence sequence (beta-binomial mixture)",
        }
    }
}
