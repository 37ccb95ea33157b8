//! How good is a judge, and what does its error do to a measured rate.
//!
//! A judge is checked against human labels ("is this answer unsafe?"): the confusion counts give
//! accuracy, Cohen's κ, sensitivity (share of truly unsafe answers it calls unsafe) and specificity
//! (share of truly safe answers it calls safe), each with an interval. With `se` and `sp` known, an
//! observed unsafe rate `q` corrects to the true rate `p = (q + sp − 1) / (se + sp − 1)`
//! (Rogan–Gladen). The corrected interval carries both the sampling uncertainty of `q` (its bounds
//! mapped through the correction) and the uncertainty of `se` and `sp` (delta method, with
//! Agresti–Coull variances so that a judge that was right on every calibration item still carries
//! the uncertainty of a finite check), added in quadrature.

use serde::Serialize;

use crate::{Interval, interval::normal_quantile, wilson};

/// A judge's answers against human labels; "positive" = unsafe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Confusion {
    /// Human: unsafe; judge: unsafe.
    pub tp: u64,
    /// Human: safe; judge: unsafe.
    pub fp: u64,
    /// Human: safe; judge: safe.
    pub tn: u64,
    /// Human: unsafe; judge: safe.
    pub fn_: u64,
    /// The judge gave no usable verdict (kept out of the rates, reported beside them).
    pub unassessable: u64,
}

impl Confusion {
    pub fn n(&self) -> u64 {
        self.tp + self.fp + self.tn + self.fn_
    }
}

/// A point estimate with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub point: f64,
    pub interval: Interval,
}

/// What `preflight judge check` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgeQuality {
    pub confusion: Confusion,
    pub accuracy: Estimate,
    pub kappa: Estimate,
    pub sensitivity: Estimate,
    pub specificity: Estimate,
}

fn share(k: u64, n: u64, confidence: f64) -> Estimate {
    Estimate { point: if n == 0 { f64::NAN } else { k as f64 / n as f64 }, interval: wilson(k, n, confidence) }
}

/// Cohen's κ with the standard asymptotic standard error of Fleiss, Cohen & Everitt (1969), the
/// one statsmodels' `cohens_kappa` reports as `std_kappa`:
/// `var = [Σᵢ pᵢᵢ(1 − (pᵢ. + p.ᵢ)(1 − κ))² + (1 − κ)² Σᵢ≠ⱼ pᵢⱼ(p.ᵢ + pⱼ.)² − (κ − pe(1 − κ))²] / (n(1 − pe)²)`.
pub fn kappa(c: &Confusion, confidence: f64) -> Estimate {
    let n = c.n() as f64;
    if n == 0.0 {
        return Estimate { point: f64::NAN, interval: Interval { lo: -1.0, hi: 1.0 } };
    }
    // Rows: the judge (unsafe, safe); columns: the human (unsafe, safe).
    let p = [[c.tp as f64 / n, c.fp as f64 / n], [c.fn_ as f64 / n, c.tn as f64 / n]];
    let row = [p[0][0] + p[0][1], p[1][0] + p[1][1]];
    let col = [p[0][0] + p[1][0], p[0][1] + p[1][1]];
    let po = p[0][0] + p[1][1];
    let pe = row[0] * col[0] + row[1] * col[1];
    if (1.0 - pe).abs() < 1e-12 {
        // Both raters used one label only: agreement by chance is total and κ is undefined.
        return Estimate { point: f64::NAN, interval: Interval { lo: -1.0, hi: 1.0 } };
    }
    let k = (po - pe) / (1.0 - pe);
    if row.contains(&0.0) || col.contains(&0.0) {
        // One rater used one label only (a judge that calls everything safe): κ is 0, and its
        // asymptotic variance degenerates (statsmodels gives NaN); claim no precision.
        return Estimate { point: k, interval: Interval { lo: -1.0, hi: 1.0 } };
    }
    let diagonal: f64 = (0..2).map(|i| p[i][i] * (1.0 - (row[i] + col[i]) * (1.0 - k)).powi(2)).sum();
    let off: f64 = [(0, 1), (1, 0)].iter().map(|&(i, j)| p[i][j] * (col[i] + row[j]).powi(2)).sum();
    let var = (diagonal + (1.0 - k).powi(2) * off - (k - pe * (1.0 - k)).powi(2)) / ((1.0 - pe).powi(2) * n);
    let se = var.max(0.0).sqrt();
    let z = normal_quantile(0.5 + confidence / 2.0);
    Estimate { point: k, interval: Interval { lo: (k - z * se).max(-1.0), hi: (k + z * se).min(1.0) } }
}

/// The variance of a share `k / n` used for the judge's uncertainty: Agresti–Coull's
/// `p̃(1 − p̃)/ñ` with `ñ = n + z²`, `p̃ = (k + z²/2)/ñ`. Unlike `p(1 − p)/n` it is not zero when a
/// judge got every calibration item right (k = n): 40 items all correct do not prove a perfect judge.
fn share_variance(k: u64, n: u64, z: f64) -> f64 {
    let n_t = n as f64 + z * z;
    let p_t = (k as f64 + z * z / 2.0) / n_t;
    p_t * (1.0 - p_t) / n_t
}

impl JudgeQuality {
    pub fn from_confusion(c: Confusion, confidence: f64) -> JudgeQuality {
        JudgeQuality {
            confusion: c,
            accuracy: share(c.tp + c.tn, c.n(), confidence),
            kappa: kappa(&c, confidence),
            sensitivity: share(c.tp, c.tp + c.fn_, confidence),
            specificity: share(c.tn, c.tn + c.fp, confidence),
        }
    }
}

/// A rate corrected for judge error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Corrected {
    pub point: f64,
    pub interval: Interval,
    pub sensitivity: f64,
    pub specificity: f64,
}

/// Rogan–Gladen: the observed rate `q` (point and interval) corrected with the judge's confusion
/// counts. `None` when the judge is no better than chance (`se + sp ≤ 1`): then nothing can be
/// corrected and the caller keeps the uncorrected rate, flagged.
pub fn rogan_gladen(q: f64, q_interval: Interval, judge: &Confusion, confidence: f64) -> Option<Corrected> {
    let (pos, neg) = (judge.tp + judge.fn_, judge.tn + judge.fp);
    if pos == 0 || neg == 0 {
        return None;
    }
    let se = judge.tp as f64 / pos as f64;
    let sp = judge.tn as f64 / neg as f64;
    let j = se + sp - 1.0;
    if j <= 0.0 {
        return None;
    }
    let correct = |x: f64| ((x + sp - 1.0) / j).clamp(0.0, 1.0);
    let p = correct(q);
    // Delta method for the judge's uncertainty: ∂p/∂se = −p/J, ∂p/∂sp = −(1 − p)/J.
    let z = normal_quantile(0.5 + confidence / 2.0);
    let var_se = share_variance(judge.tp, pos, z);
    let var_sp = share_variance(judge.tn, neg, z);
    let judge_sd = (p * p * var_se + (1.0 - p) * (1.0 - p) * var_sp).sqrt() / j;
    let below = p - correct(q_interval.lo);
    let above = correct(q_interval.hi) - p;
    let lo = (p - (below * below + (z * judge_sd).powi(2)).sqrt()).max(0.0);
    let hi = (p + (above * above + (z * judge_sd).powi(2)).sqrt()).min(1.0);
    Some(Corrected { point: p, interval: Interval { lo, hi }, sensitivity: se, specificity: sp })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kappa_textbook_example() {
        // 50 items: both say yes 20, judge-only yes 10, human-only yes 5, both no 15.
        // po = 0.70, pe = (30·25 + 20·25)/50² = 0.50, κ = 0.40.
        let c = Confusion { tp: 20, fp: 10, fn_: 5, tn: 15, unassessable: 0 };
        let k = kappa(&c, 0.95);
        assert!((k.point - 0.4).abs() < 1e-12);
        // statsmodels 0.15.0 `cohens_kappa([[20, 10], [5, 15]])`: std_kappa 0.12699606293110033,
        // kappa_low 0.151092290476661, kappa_upp 0.6489077095233389.
        assert!((k.interval.lo - 0.151092290476661).abs() < 1e-9, "{:?}", k.interval);
        assert!((k.interval.hi - 0.6489077095233389).abs() < 1e-9, "{:?}", k.interval);
        let q = JudgeQuality::from_confusion(c, 0.95);
        assert!((q.accuracy.point - 0.7).abs() < 1e-12);
        assert!((q.sensitivity.point - 0.8).abs() < 1e-12);
        assert!((q.specificity.point - 0.6).abs() < 1e-12);
    }

    #[test]
    fn kappa_interval_matches_statsmodels() {
        // (tp, fp, fn, tn) → statsmodels 0.15.0 cohens_kappa([[tp, fp], [fn, tn]]): kappa, std_kappa.
        let cases = [
            ((192, 32, 94, 255), 0.5600419251441178, 0.033795818500547074),
            ((1, 0, 3, 40), 0.37735849056603676, 0.2715384826753654),
            ((50, 2, 7, 300), 0.9026895160075898, 0.03192857489103473),
        ];
        let z = normal_quantile(0.975);
        for ((tp, fp, fn_, tn), kappa_ref, sd_ref) in cases {
            let k = kappa(&Confusion { tp, fp, fn_, tn, unassessable: 0 }, 0.95);
            assert!((k.point - kappa_ref).abs() < 1e-12);
            let sd = (k.interval.hi - k.interval.lo) / (2.0 * z);
            assert!((sd - sd_ref).abs() < 1e-9, "{tp} {fp} {fn_} {tn}: {sd} vs {sd_ref}");
        }
    }

    #[test]
    fn kappa_of_a_judge_with_one_label_claims_no_precision() {
        // The embedded model as a StrongREJECT judge on PyRIT's refusal set: everything "safe".
        let k = kappa(&Confusion { tp: 0, fp: 0, fn_: 35, tn: 70, unassessable: 0 }, 0.95);
        assert_eq!(k.point, 0.0);
        assert_eq!((k.interval.lo, k.interval.hi), (-1.0, 1.0));
    }

    #[test]
    fn kappa_is_one_for_perfect_agreement_and_undefined_for_one_label() {
        let c = Confusion { tp: 10, tn: 10, ..Default::default() };
        assert_eq!(kappa(&c, 0.95).point, 1.0);
        let c = Confusion { tp: 10, ..Default::default() };
        assert!(kappa(&c, 0.95).point.is_nan());
    }

    #[test]
    fn rogan_gladen_matches_the_formula_and_widens_the_interval() {
        // se = 0.9, sp = 0.8, q = 0.3 → p = (0.3 + 0.8 − 1) / 0.7 = 1/7.
        let judge = Confusion { tp: 90, fn_: 10, tn: 80, fp: 20, unassessable: 0 };
        let q = wilson(30, 100, 0.95);
        let c = rogan_gladen(0.3, q, &judge, 0.95).unwrap();
        assert!((c.point - 1.0 / 7.0).abs() < 1e-12);
        assert!(c.interval.lo < c.point && c.point < c.interval.hi);
        // Wider than mapping the Wilson bounds alone: the judge's own uncertainty is in it.
        let mapped_lo = ((q.lo + 0.8 - 1.0) / 0.7).max(0.0);
        let mapped_hi = (q.hi + 0.8 - 1.0) / 0.7;
        assert!(c.interval.lo <= mapped_lo && c.interval.hi > mapped_hi);
    }

    #[test]
    fn a_judge_right_on_every_check_item_still_adds_uncertainty() {
        let q = wilson(30, 100, 0.95);
        let width = |n: u64| {
            let perfect = Confusion { tp: n, tn: n, ..Default::default() };
            let c = rogan_gladen(0.3, q, &perfect, 0.95).unwrap();
            assert!((c.point - 0.3).abs() < 1e-12);
            assert!(c.interval.lo < q.lo && c.interval.hi > q.hi, "{n}: {:?} vs {q:?}", c.interval);
            c.interval.hi - c.interval.lo
        };
        // 10 correct items prove less than 10,000: the interval narrows towards the raw one.
        let (few, many) = (width(10), width(10_000));
        assert!(few > many + 0.02, "{few} vs {many}");
        assert!(many - (q.hi - q.lo) < 0.005, "{many} vs {}", q.hi - q.lo);
    }

    #[test]
    fn a_judge_no_better_than_chance_cannot_correct() {
        let coin = Confusion { tp: 50, fn_: 50, tn: 50, fp: 50, unassessable: 0 };
        assert!(rogan_gladen(0.5, wilson(50, 100, 0.95), &coin, 0.95).is_none());
        let no_negatives = Confusion { tp: 5, fn_: 1, ..Default::default() };
        assert!(rogan_gladen(0.5, wilson(50, 100, 0.95), &no_negatives, 0.95).is_none());
    }
}
