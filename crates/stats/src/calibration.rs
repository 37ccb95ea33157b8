//! How good is a judge, and what does its error do to a measured rate.
//!
//! A judge is checked against human labels ("is this answer unsafe?"): the confusion counts give
//! accuracy, Cohen's κ, sensitivity (share of truly unsafe answers it calls unsafe) and specificity
//! (share of truly safe answers it calls safe), each with an interval. With `se` and `sp` known, an
//! observed unsafe rate `q` corrects to the true rate `p = (q + sp − 1) / (se + sp − 1)`
//! (Rogan–Gladen). The corrected interval carries both the sampling uncertainty of `q` (its bounds
//! mapped through the correction) and the uncertainty of `se` and `sp` (delta method), added in
//! quadrature.

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

/// Cohen's κ with its large-sample standard error `sqrt(po(1 − po) / (n (1 − pe)²))`.
pub fn kappa(c: &Confusion, confidence: f64) -> Estimate {
    let n = c.n() as f64;
    if n == 0.0 {
        return Estimate { point: f64::NAN, interval: Interval { lo: -1.0, hi: 1.0 } };
    }
    let po = (c.tp + c.tn) as f64 / n;
    let judge_pos = (c.tp + c.fp) as f64 / n;
    let human_pos = (c.tp + c.fn_) as f64 / n;
    let pe = judge_pos * human_pos + (1.0 - judge_pos) * (1.0 - human_pos);
    if (1.0 - pe).abs() < 1e-12 {
        // Both raters used one label only: agreement by chance is total and κ is undefined.
        return Estimate { point: f64::NAN, interval: Interval { lo: -1.0, hi: 1.0 } };
    }
    let k = (po - pe) / (1.0 - pe);
    let se = (po * (1.0 - po) / (n * (1.0 - pe).powi(2))).sqrt();
    let z = normal_quantile(0.5 + confidence / 2.0);
    Estimate { point: k, interval: Interval { lo: (k - z * se).max(-1.0), hi: (k + z * se).min(1.0) } }
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
    let var_se = se * (1.0 - se) / pos as f64;
    let var_sp = sp * (1.0 - sp) / neg as f64;
    let judge_sd = (p * p * var_se + (1.0 - p) * (1.0 - p) * var_sp).sqrt() / j;
    let z = normal_quantile(0.5 + confidence / 2.0);
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
        // se = sqrt(0.7·0.3 / (50·0.25)) = 0.12961; 95% → ±0.25404.
        assert!((k.interval.lo - 0.14596).abs() < 1e-4, "{:?}", k.interval);
        assert!((k.interval.hi - 0.65404).abs() < 1e-4, "{:?}", k.interval);
        let q = JudgeQuality::from_confusion(c, 0.95);
        assert!((q.accuracy.point - 0.7).abs() < 1e-12);
        assert!((q.sensitivity.point - 0.8).abs() < 1e-12);
        assert!((q.specificity.point - 0.6).abs() < 1e-12);
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
        // A perfect judge changes nothing.
        let perfect = Confusion { tp: 50, tn: 50, ..Default::default() };
        let c = rogan_gladen(0.3, q, &perfect, 0.95).unwrap();
        assert!((c.point - 0.3).abs() < 1e-12);
        assert!((c.interval.lo - q.lo).abs() < 1e-12 && (c.interval.hi - q.hi).abs() < 1e-12);
    }

    #[test]
    fn a_judge_no_better_than_chance_cannot_correct() {
        let coin = Confusion { tp: 50, fn_: 50, tn: 50, fp: 50, unassessable: 0 };
        assert!(rogan_gladen(0.5, wilson(50, 100, 0.95), &coin, 0.95).is_none());
        let no_negatives = Confusion { tp: 5, fn_: 1, ..Default::default() };
        assert!(rogan_gladen(0.5, wilson(50, 100, 0.95), &no_negatives, 0.95).is_none());
    }
}
