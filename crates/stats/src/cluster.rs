//! Estimates over observations that come in clusters (several personas reading one claim, several
//! conversations about one codeword). Treating them as independent makes intervals too narrow;
//! these use the cluster totals.

use crate::{Interval, calibration::Estimate, interval::normal_quantile};

/// Groups `(cluster, value)` pairs: per cluster (sum, count).
fn clusters(obs: &[(String, f64)]) -> Vec<(f64, f64)> {
    let mut by: std::collections::BTreeMap<&str, (f64, f64)> = Default::default();
    for (c, v) in obs {
        let e = by.entry(c.as_str()).or_default();
        e.0 += v;
        e.1 += 1.0;
    }
    by.into_values().collect()
}

/// Cluster-robust variance of the mean (Liang–Zeger with the G/(G−1) small-sample factor).
fn cluster_variance(obs: &[(String, f64)], mean: f64) -> f64 {
    let g = clusters(obs);
    let n: f64 = g.iter().map(|c| c.1).sum();
    if g.len() < 2 || n == 0.0 {
        return f64::INFINITY;
    }
    let k = g.len() as f64;
    let ss: f64 = g.iter().map(|(sum, cnt)| (sum - cnt * mean).powi(2)).sum();
    k / (k - 1.0) * ss / (n * n)
}

/// The mean with a cluster-robust normal interval. With fewer than two clusters the interval is
/// unbounded (`±∞`): one cluster says nothing about the spread between them.
pub fn clustered_mean(obs: &[(String, f64)], confidence: f64) -> Estimate {
    if obs.is_empty() {
        return Estimate { point: f64::NAN, interval: Interval { lo: f64::NEG_INFINITY, hi: f64::INFINITY } };
    }
    let mean = obs.iter().map(|(_, v)| v).sum::<f64>() / obs.len() as f64;
    let se = cluster_variance(obs, mean).sqrt();
    let z = normal_quantile(0.5 + confidence / 2.0);
    Estimate { point: mean, interval: Interval { lo: mean - z * se, hi: mean + z * se } }
}

/// The design effect of clustered 0/1 (or bounded) observations: the cluster-robust variance of
/// the mean over the independent one, at least 1. Exactly 1 when no cluster holds more than one
/// observation (nothing is clustered), so independent probes keep their plain interval.
pub fn design_effect(obs: &[(String, f64)]) -> f64 {
    let g = clusters(obs);
    if g.len() == obs.len() || g.len() < 2 {
        return 1.0;
    }
    let n = obs.len() as f64;
    let mean = obs.iter().map(|(_, v)| v).sum::<f64>() / n;
    let iid = obs.iter().map(|(_, v)| (v - mean).powi(2)).sum::<f64>() / (n - 1.0) / n;
    if iid <= 0.0 {
        return 1.0;
    }
    (cluster_variance(obs, mean) / iid).max(1.0)
}

/// A rate of 0/1 outcomes in clusters: Wilson's interval on the effective sample size n / deff,
/// where the design effect deff is the cluster-robust variance over the independent one (≥ 1).
pub fn clustered_rate(obs: &[(String, f64)], confidence: f64) -> Estimate {
    let n = obs.len() as f64;
    if n == 0.0 {
        return Estimate { point: f64::NAN, interval: Interval { lo: 0.0, hi: 1.0 } };
    }
    let p = obs.iter().map(|(_, v)| v).sum::<f64>() / n;
    let iid = p * (1.0 - p) / n;
    let deff = if iid > 0.0 { (cluster_variance(obs, p) / iid).max(1.0) } else { 1.0 };
    let n_eff = (n / deff).max(1.0);
    let z = normal_quantile(0.5 + confidence / 2.0);
    let (z2, k) = (z * z, p * n_eff);
    let centre = (k + z2 / 2.0) / (n_eff + z2);
    let half = z / (n_eff + z2) * (k * (1.0 - p) + z2 / 4.0).sqrt();
    Estimate { point: p, interval: Interval { lo: (centre - half).max(0.0), hi: (centre + half).min(1.0) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(v: &[(&str, f64)]) -> Vec<(String, f64)> {
        v.iter().map(|(c, x)| (c.to_string(), *x)).collect()
    }

    #[test]
    fn singleton_clusters_match_the_usual_standard_error() {
        // Independent observations 1..=5: mean 3; CR variance = 5/4 · Σ(x−3)²/25 = 5/4 · 10/25 = 0.5,
        // i.e. the sample variance 2.5 over n = 5.
        let e = clustered_mean(&obs(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0), ("e", 5.0)]), 0.95);
        assert_eq!(e.point, 3.0);
        let half = 1.959964 * 0.5f64.sqrt();
        assert!((e.interval.hi - 3.0 - half).abs() < 1e-5, "{e:?}");
    }

    #[test]
    fn clustering_widens_the_interval() {
        // The same values, but two tight clusters: far less information than 8 independent ones.
        let flat =
            obs(&[("a", 0.0), ("b", 0.0), ("c", 0.0), ("d", 0.0), ("e", 2.0), ("f", 2.0), ("g", 2.0), ("h", 2.0)]);
        let tight =
            obs(&[("x", 0.0), ("x", 0.0), ("x", 0.0), ("x", 0.0), ("y", 2.0), ("y", 2.0), ("y", 2.0), ("y", 2.0)]);
        let (a, b) = (clustered_mean(&flat, 0.95), clustered_mean(&tight, 0.95));
        assert_eq!(a.point, b.point);
        assert!(b.interval.hi - b.interval.lo > 1.5 * (a.interval.hi - a.interval.lo), "{a:?} {b:?}");
        assert!(clustered_mean(&obs(&[("x", 1.0), ("x", 2.0)]), 0.95).interval.hi.is_infinite());
    }

    #[test]
    fn clustered_rates_use_wilson_on_the_effective_size() {
        let iid: Vec<(String, f64)> = (0..20).map(|i| (format!("c{i}"), if i < 5 { 1.0 } else { 0.0 })).collect();
        let e = clustered_rate(&iid, 0.95);
        let w = crate::wilson(5, 20, 0.95);
        assert!((e.interval.lo - w.lo).abs() < 0.02 && (e.interval.hi - w.hi).abs() < 0.02, "{e:?} {w:?}");
        // All successes in one cluster of 5 among 4 clusters: wider.
        let grouped: Vec<(String, f64)> =
            (0..20).map(|i| (format!("c{}", i / 5), if i < 5 { 1.0 } else { 0.0 })).collect();
        let g = clustered_rate(&grouped, 0.95);
        assert!(g.interval.hi - g.interval.lo > e.interval.hi - e.interval.lo);
        assert_eq!(clustered_rate(&[], 0.95).interval, Interval { lo: 0.0, hi: 1.0 });
    }
}
