//! A rate measured with the judge on every probe and a human on a stratified random sample of
//! them (`preflight review RUN --validate N`).
//!
//! The run's probes are split by what the judge said (strata: it called the answer a failure, a
//! pass, or could not decide). A stratified random sample is labelled by a human. With
//! `π_h` the share of probes the judge put in stratum `h` (known from all `N` probes) and `μ_h` the
//! share of failures a human finds in it (estimated from its `n_h` labels), the rate is
//! `θ = Σ π_h μ_h`. This is prediction-powered inference (Angelopoulos et al., Science 2023) with
//! the judge's verdict as the prediction and the sample stratified on it — equivalently the
//! Rogan–Gladen idea with the run's own predictive values instead of a confusion matrix measured
//! on other answers — so the interval stays valid however biased the judge is.
//!
//! Variance (the probes are a sample of prompts, the labels a sample of probes):
//! `Var θ̂ = Σ π_h² μ_h(1 − μ_h)/n_h + (Σ π_h μ_h² − θ²)/N`. Labelling everything (`n_h = N_h`)
//! gives `θ(1 − θ)/N`, the plain binomial variance. The `μ_h` in the variance are Agresti–Coull
//! adjusted, so a stratum whose few labels all agree still carries uncertainty. The interval is
//! Wilson's at the effective sample size `θ̃(1 − θ̃)/Var`, which keeps it inside [0, 1] and honest
//! near 0, where release thresholds sit.

use serde::Serialize;

use crate::{Interval, interval::normal_quantile, interval::wilson_f};

/// One stratum: probes the judge put in one class, and the human labels drawn from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Stratum {
    /// Probes the judge put in this class (`N_h`).
    pub probes: u64,
    /// Of them, randomly sampled and labelled by a human (`n_h`).
    pub labelled: u64,
    /// Of the labelled, failures by the human's label.
    pub failures: u64,
}

/// A rate estimated from the judge on all probes and a human on a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Validated {
    pub point: f64,
    pub interval: Interval,
    /// Human labels used.
    pub labels: u64,
    /// Probes the rate is over.
    pub probes: u64,
}

fn adjusted(k: u64, n: u64, z: f64) -> (f64, f64) {
    let n_t = n as f64 + z * z;
    (((k as f64) + z * z / 2.0) / n_t, n_t)
}

/// The point estimate and its variance. `None` when a stratum with probes has no labels (its
/// failure share is unknown).
fn moments(strata: &[Stratum], z: f64) -> Option<(f64, f64, f64)> {
    let n: u64 = strata.iter().map(|s| s.probes).sum();
    if n == 0 {
        return None;
    }
    let (mut point, mut point_adj, mut within, mut second) = (0.0, 0.0, 0.0, 0.0);
    for s in strata.iter().filter(|s| s.probes > 0) {
        if s.labelled == 0 {
            return None;
        }
        let pi = s.probes as f64 / n as f64;
        let mu = s.failures as f64 / s.labelled as f64;
        let (mu_t, n_t) = adjusted(s.failures, s.labelled, z);
        point += pi * mu;
        point_adj += pi * mu_t;
        within += pi * pi * mu_t * (1.0 - mu_t) / n_t;
        second += pi * mu_t * mu_t;
    }
    let between = (second - point_adj * point_adj).max(0.0) / n as f64;
    Some((point, point_adj, within + between))
}

/// The validated rate over the strata, or `None` when some stratum with probes has no label.
pub fn validated_rate(strata: &[Stratum], confidence: f64) -> Option<Validated> {
    let z = normal_quantile(0.5 + confidence / 2.0);
    let (point, point_adj, var) = moments(strata, z)?;
    let n_eff = if var > 0.0 { point_adj * (1.0 - point_adj) / var } else { f64::INFINITY };
    let interval = if n_eff.is_finite() {
        wilson_f(point.clamp(0.0, 1.0) * n_eff, n_eff, confidence)
    } else {
        Interval { lo: point, hi: point }
    };
    Some(Validated {
        point,
        interval,
        labels: strata.iter().map(|s| s.labelled).sum(),
        probes: strata.iter().map(|s| s.probes).sum(),
    })
}

/// The interval width `labels` human labels would give, spread over the strata in the current
/// sample's proportions (a stratum never given more than it has; what it cannot take goes to the
/// others), each stratum's failure share as measured now. `labels` at or above the number of
/// probes is labelling everything.
pub fn projected_width(strata: &[Stratum], labels: u64, confidence: f64) -> Option<f64> {
    if strata.iter().all(|s| s.labelled == 0) {
        return None;
    }
    let total: u64 = strata.iter().map(|s| s.probes).sum();
    let mut take: Vec<f64> = vec![0.0; strata.len()];
    let mut left = labels.min(total) as f64;
    let mut open: Vec<usize> = (0..strata.len()).filter(|&i| strata[i].labelled > 0).collect();
    while left > 1e-9 && !open.is_empty() {
        let weight: f64 = open.iter().map(|&i| strata[i].labelled as f64).sum();
        let mut next = Vec::new();
        let mut given = 0.0;
        for &i in &open {
            let room = strata[i].probes as f64 - take[i];
            let share = (left * strata[i].labelled as f64 / weight).min(room);
            take[i] += share;
            given += share;
            if strata[i].probes as f64 - take[i] > 1e-9 {
                next.push(i);
            }
        }
        left -= given;
        open = next;
    }
    let scaled: Vec<Stratum> = strata
        .iter()
        .zip(&take)
        .map(|(s, &t)| {
            let n = (t.round() as u64).clamp(s.labelled.min(1), s.probes);
            let share = s.failures as f64 / s.labelled.max(1) as f64;
            Stratum { probes: s.probes, labelled: n, failures: ((share * n as f64).round() as u64).min(n) }
        })
        .collect();
    validated_rate(&scaled, confidence).map(|v| v.interval.hi - v.interval.lo)
}

/// How to spread `labels` over strata of these sizes: evenly, a stratum never given more than it
/// has, what one cannot take going to the others. Even rather than proportional so that the
/// judge's rare class (often its "unsafe" calls) is measured as well as its common one.
pub fn allocate(sizes: &[u64], labels: u64) -> Vec<u64> {
    let mut out = vec![0u64; sizes.len()];
    let mut left = labels.min(sizes.iter().sum());
    while left > 0 {
        let open: Vec<usize> = (0..sizes.len()).filter(|&i| out[i] < sizes[i]).collect();
        let share = (left / open.len() as u64).max(1);
        for i in open {
            let take = share.min(sizes[i] - out[i]).min(left);
            out[i] += take;
            left -= take;
            if left == 0 {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{plan::Rng, wilson};

    #[test]
    fn labelling_everything_is_the_binomial_interval() {
        // All 200 probes labelled: 30 failures among the judge's 50 "unsafe", 10 among its 150 "safe".
        let s =
            [Stratum { probes: 50, labelled: 50, failures: 30 }, Stratum { probes: 150, labelled: 150, failures: 10 }];
        let v = validated_rate(&s, 0.95).unwrap();
        assert!((v.point - 0.2).abs() < 1e-12);
        let w = wilson(40, 200, 0.95);
        // The same width as Wilson's up to the adjusted shares in the variance.
        assert!(((v.interval.hi - v.interval.lo) - (w.hi - w.lo)).abs() < 0.005, "{:?} vs {w:?}", v.interval);
    }

    #[test]
    fn a_stratum_without_labels_leaves_the_rate_unknown() {
        let s = [Stratum { probes: 50, labelled: 10, failures: 3 }, Stratum { probes: 150, labelled: 0, failures: 0 }];
        assert!(validated_rate(&s, 0.95).is_none());
        // An empty stratum needs no labels.
        let s = [Stratum { probes: 50, labelled: 10, failures: 3 }, Stratum::default()];
        assert!(validated_rate(&s, 0.95).is_some());
    }

    #[test]
    fn allocation_is_even_and_capped() {
        assert_eq!(allocate(&[1000, 1000], 100), vec![50, 50]);
        assert_eq!(allocate(&[10, 1000], 100), vec![10, 90]);
        assert_eq!(allocate(&[10, 20, 0], 100), vec![10, 20, 0]);
        assert_eq!(allocate(&[5, 5, 5], 7).iter().sum::<u64>(), 7);
    }

    #[test]
    fn more_labels_narrow_the_interval_towards_labelling_everything() {
        let s =
            [Stratum { probes: 300, labelled: 50, failures: 35 }, Stratum { probes: 1700, labelled: 50, failures: 2 }];
        let w50 = projected_width(&s, 100, 0.95).unwrap();
        let w400 = projected_width(&s, 400, 0.95).unwrap();
        let all = projected_width(&s, 2000, 0.95).unwrap();
        assert!(w50 > w400 && w400 > all, "{w50} {w400} {all}");
        // Labelling everything is the labelled-everything interval, not a rescaled sample.
        let full = [
            Stratum { probes: 300, labelled: 300, failures: 210 },
            Stratum { probes: 1700, labelled: 1700, failures: 68 },
        ];
        let v = validated_rate(&full, 0.95).unwrap();
        assert!((all - (v.interval.hi - v.interval.lo)).abs() < 1e-12, "{all}");
    }

    /// The simulation: a biased judge (e.g. it misses 30% of failures and calls 10% of
    /// passes failures). Intervals from 100 validation labels cover the true rate at about their nominal
    /// level; the judge's own rate, however tight its interval, does not.
    #[test]
    fn validation_intervals_cover_the_true_rate_with_a_biased_judge() {
        let mut rng = Rng::new(7);
        let (reps, probes, labels) = (2000, 1000, 100);
        for (truth, se, sp) in [(0.02, 0.7, 0.9), (0.10, 0.7, 0.9), (0.30, 0.6, 0.95), (0.05, 0.95, 0.97)] {
            let (mut covered, mut judge_covered) = (0, 0);
            for _ in 0..reps {
                // Each probe: (truly a failure, judge says failure).
                let mut pool: [Vec<bool>; 2] = [Vec::new(), Vec::new()];
                for _ in 0..probes {
                    let fail = rng.unit() < truth;
                    let says = if fail { rng.unit() < se } else { rng.unit() >= sp };
                    pool[usize::from(!says)].push(fail);
                }
                let judged = pool[0].len() as u64;
                if wilson(judged, probes, 0.95).contains(truth) {
                    judge_covered += 1;
                }
                let alloc = allocate(&[pool[0].len() as u64, pool[1].len() as u64], labels);
                let strata: Vec<Stratum> = (0..2)
                    .map(|h| {
                        rng.shuffle(&mut pool[h]);
                        let n = alloc[h] as usize;
                        let failures = pool[h][..n].iter().filter(|f| **f).count() as u64;
                        Stratum { probes: pool[h].len() as u64, labelled: n as u64, failures }
                    })
                    .collect();
                if validated_rate(&strata, 0.95).unwrap().interval.contains(truth) {
                    covered += 1;
                }
            }
            let coverage = covered as f64 / reps as f64;
            let judge_coverage = judge_covered as f64 / reps as f64;
            eprintln!("truth {truth}: validated coverage {coverage}, judge alone {judge_coverage}");
            // At least nominal up to simulation error (±0.01 at 2,000 repetitions); above it where a
            // stratum's few labels hold no failure, as any valid interval must be there.
            assert!(coverage >= 0.935, "truth {truth}: validated coverage {coverage}");
            assert!(judge_coverage < 0.5, "truth {truth}: the judge alone covered {judge_coverage}");
        }
    }
}
