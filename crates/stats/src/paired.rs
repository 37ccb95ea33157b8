//! Paired comparisons: the same probes answered by a baseline and a candidate (two models, or
//! pre- and post-mitigation). Pairing removes the variation between probes, which is most of it.

use serde::Serialize;

use crate::{Interval, interval::binomial_sf, plan::Rng};

/// McNemar's exact test on the discordant pairs: `worse` = probes safe for the baseline and
/// unsafe for the candidate, `better` = the reverse. Two-sided p-value
/// `min(1, 2 · P(X ≤ min(worse, better)))` for X ~ Binomial(worse + better, ½).
pub fn mcnemar_exact(worse: u64, better: u64) -> f64 {
    let n = worse + better;
    if n == 0 {
        return 1.0;
    }
    let k = worse.min(better);
    // P(X ≤ k) = 1 − P(X ≥ k + 1).
    let cdf = 1.0 - binomial_sf(k + 1, n, 0.5);
    (2.0 * cdf).min(1.0)
}

/// A paired difference: the mean of `(cluster, candidate − baseline)` with a percentile
/// bootstrap interval that resamples whole clusters (probes that share a seed behaviour move
/// together), seeded so a report is reproducible.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PairedDiff {
    pub n: u64,
    pub clusters: u64,
    pub mean: f64,
    pub interval: Interval,
}

pub fn paired_bootstrap(diffs: &[(String, f64)], confidence: f64, resamples: usize, seed: u64) -> PairedDiff {
    let mut by: std::collections::BTreeMap<&str, (f64, f64)> = Default::default();
    for (c, d) in diffs {
        let e = by.entry(c.as_str()).or_default();
        e.0 += d;
        e.1 += 1.0;
    }
    let groups: Vec<(f64, f64)> = by.into_values().collect();
    let n: f64 = groups.iter().map(|g| g.1).sum();
    if groups.is_empty() {
        return PairedDiff { n: 0, clusters: 0, mean: 0.0, interval: Interval { lo: -1.0, hi: 1.0 } };
    }
    let mean = groups.iter().map(|g| g.0).sum::<f64>() / n;
    let mut rng = Rng::new(seed);
    let mut stats: Vec<f64> = (0..resamples)
        .map(|_| {
            let (mut s, mut c) = (0.0, 0.0);
            for _ in 0..groups.len() {
                let g = groups[rng.below(groups.len() as u64) as usize];
                s += g.0;
                c += g.1;
            }
            s / c
        })
        .collect();
    stats.sort_by(f64::total_cmp);
    let a = (1.0 - confidence) / 2.0;
    let at = |q: f64| stats[((q * (resamples - 1) as f64).round() as usize).min(resamples - 1)];
    PairedDiff { n: n as u64, clusters: groups.len() as u64, mean, interval: Interval { lo: at(a), hi: at(1.0 - a) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference: statsmodels 0.15.0, mcnemar([[30, 12], [3, 55]], exact=True).pvalue = 0.03515625
    // and mcnemar([[10, 1], [9, 80]], exact=True).pvalue = 0.021484375.
    #[test]
    fn mcnemar_matches_statsmodels() {
        assert!((mcnemar_exact(12, 3) - 0.035_156_25).abs() < 1e-12);
        assert!((mcnemar_exact(1, 9) - 0.021_484_375).abs() < 1e-12);
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        assert_eq!(mcnemar_exact(4, 4), 1.0);
    }

    /// 200 pairs: the first 30 worse (+1), the next 10 better (−1), the rest unchanged.
    fn discordant(cluster: impl Fn(usize) -> String) -> Vec<(String, f64)> {
        (0..200)
            .map(|i| {
                let d = match i {
                    0..30 => 1.0,
                    30..40 => -1.0,
                    _ => 0.0,
                };
                (cluster(i), d)
            })
            .collect()
    }

    #[test]
    fn bootstrap_agrees_with_the_normal_interval_for_independent_pairs() {
        // 200 pairs: 30 worse (+1), 10 better (−1), 160 unchanged. Mean 0.1; sd of the diffs
        // √(0.2 − 0.01) = 0.4359; normal 95% half-width 1.96 · 0.4359 / √200 = 0.0604.
        let diffs = discordant(|i| format!("p{i}"));
        let d = paired_bootstrap(&diffs, 0.95, 4000, 1);
        assert!((d.mean - 0.1).abs() < 1e-12);
        assert!((d.interval.lo - 0.0396).abs() < 0.012 && (d.interval.hi - 0.1604).abs() < 0.012, "{d:?}");
        assert_eq!(paired_bootstrap(&diffs, 0.95, 4000, 1), d, "seeded: reproducible");
    }

    #[test]
    fn clustered_pairs_widen_the_interval() {
        // The same 40 discordant pairs, but in 4 behaviours of 50 probes each.
        let diffs = discordant(|i| format!("b{}", i / 50));
        let flat: Vec<(String, f64)> = diffs.iter().enumerate().map(|(i, (_, d))| (format!("p{i}"), *d)).collect();
        let (c, f) = (paired_bootstrap(&diffs, 0.95, 2000, 3), paired_bootstrap(&flat, 0.95, 2000, 3));
        assert!(c.interval.hi - c.interval.lo > f.interval.hi - f.interval.lo, "{c:?} {f:?}");
        assert_eq!(c.clusters, 4);
    }
}
