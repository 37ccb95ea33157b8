//! `plan`: before a run, how many probes each category needs to settle its gate at the policy's
//! confidence — for a fixed-size run (sized for a given power) and for a sequential run
//! (expected draws, by simulating the planner on the assumed rates) — and how long that takes.

use std::{collections::BTreeMap, path::Path};

use anyhow::{Context, Result, bail};
use preflight_core::Expected;
use preflight_report::Tally;
use preflight_stats::{
    Level, Metric, Policy,
    plan::{Rng, Settings, Settle, Synthetic, fixed_n, simulate},
};
use preflight_store::Store;

use crate::suites;

/// Assumed rates per category: (unsafe, over-refusal).
type Priors = BTreeMap<String, (f64, f64)>;

/// Where the assumed rates come from.
pub enum Rates<'a> {
    /// `0.02` for all, or `cbrn=0.01,cyber=0.1`.
    Prior(&'a str),
    /// A pilot run's rates and measured speed.
    Pilot { store: &'a Store, run_id: &'a str },
}

/// What to plan.
pub struct Request<'a> {
    pub suite: &'a Path,
    pub policy: &'a Policy,
    pub cache_dir: &'a Path,
    pub rates: Rates<'a>,
    /// Probes per second (default: the pilot's, else 1).
    pub rate: Option<f64>,
    /// Probability of settling the fixed-size plan is sized for.
    pub power: f64,
    pub settle: Settle,
}

/// Where the speed came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speed {
    Given,
    Measured,
    Assumed,
}

/// One gated rate of one category.
#[derive(Debug, Clone)]
pub struct Row {
    pub category: String,
    pub metric: Metric,
    pub assumed: f64,
    /// The rate at the level above the gate.
    pub boundary: Option<f64>,
    pub in_suite: u64,
    /// Probes a fixed-size run needs (`None`: none settles it — the rate sits on the boundary).
    pub fixed_n: Option<u64>,
}

/// The sequential planner on the same rates: draws of one category over the simulated runs.
#[derive(Debug, Clone)]
pub struct Draws {
    pub category: String,
    pub mean: f64,
    pub p90: u64,
    pub of: u64,
}

/// A plan.
pub struct Planned {
    pub suite_name: String,
    pub gate: Level,
    pub source: String,
    pub speed: f64,
    pub speed_from: Speed,
    pub rows: Vec<Row>,
    /// Fixed-size probes in all (capped at the suite).
    pub fixed_total: u64,
    pub sequential: Vec<Draws>,
    pub sequential_total: f64,
    pub simulated_runs: usize,
}

fn parse_prior(text: &str, categories: &[String]) -> Result<Priors> {
    let mut all: Option<f64> = None;
    let mut by: BTreeMap<String, f64> = BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let rate = |s: &str| -> Result<f64> {
            let v: f64 = s.parse().with_context(|| format!("--prior: `{s}` is not a rate"))?;
            if !(0.0..=1.0).contains(&v) {
                bail!("--prior: {v} is not in [0, 1]");
            }
            Ok(v)
        };
        match part.split_once('=') {
            Some((cat, v)) => {
                by.insert(cat.trim().to_string(), rate(v.trim())?);
            }
            None => all = Some(rate(part)?),
        }
    }
    if let Some(unknown) = by.keys().find(|c| !categories.contains(c)) {
        bail!("--prior: the suite has no category `{unknown}` ({})", categories.join(", "));
    }
    categories
        .iter()
        .map(|c| {
            let p = by.get(c).copied().or(all).with_context(|| format!("--prior gives no rate for `{c}`"))?;
            Ok((c.clone(), (p, p)))
        })
        .collect()
}

/// Seconds between two RFC 3339 UTC timestamps as the store writes them.
fn seconds_between(a: &str, b: &str) -> f64 {
    match (preflight_store::rfc3339_seconds(a), preflight_store::rfc3339_seconds(b)) {
        (Some(x), Some(y)) => (y - x) as f64,
        _ => 0.0,
    }
}

pub fn plan(req: &Request<'_>) -> Result<Planned> {
    let policy = req.policy;
    let path = suites::resolve(req.suite)?;
    let suite = suites::load(&path, &[], req.cache_dir)?;
    let mut pools: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for s in suite.samples() {
        let s = s?;
        let e = pools.entry(s.category.clone()).or_default();
        if s.expected == Expected::Refuse { e.0 += 1 } else { e.1 += 1 }
    }
    let categories: Vec<String> = pools.keys().cloned().collect();
    // Rates and speed: from a pilot run, else the prior and the given rate.
    let (priors, measured, source) = match &req.rates {
        Rates::Pilot { store, run_id } => {
            let run = preflight_report::run_of(store, run_id)?;
            let tally = Tally::from_store(store, run_id)?;
            let mut priors = Priors::new();
            for c in &categories {
                let k = tally.counts().get(c).copied().unwrap_or_default();
                let rate = |f: u64, p: u64| if f + p == 0 { 0.0 } else { f as f64 / (f + p) as f64 };
                priors.insert(c.clone(), (rate(k.unsafe_, k.safe_refuse), rate(k.over_refusal, k.safe_comply)));
            }
            let secs = seconds_between(&run.created_at, &run.updated_at);
            let speed = (secs > 0.0 && run.done > 0).then(|| run.done as f64 / secs);
            (priors, speed, format!("pilot run {run_id} ({} probes)", run.done))
        }
        Rates::Prior(p) => (parse_prior(p, &categories)?, None, format!("prior {p}")),
    };
    let (speed, speed_from) = match (req.rate, measured) {
        (Some(r), _) => (r, Speed::Given),
        (None, Some(m)) => (m, Speed::Measured),
        (None, None) => (1.0, Speed::Assumed),
    };
    let gate = policy.max_level;
    let mut synthetic = BTreeMap::new();
    let (mut rows, mut fixed_total) = (Vec::new(), 0u64);
    for (cat, (refuse, comply)) in &pools {
        let (pu, po) = priors[cat];
        synthetic.insert(
            cat.clone(),
            Synthetic { refuse: *refuse, unsafe_rate: pu, comply: *comply, over_refusal_rate: po },
        );
        for (metric, n_pool, p) in [(Metric::UnsafeRate, *refuse, pu), (Metric::OverRefusalRate, *comply, po)] {
            if n_pool == 0 {
                continue;
            }
            let t = policy.thresholds(cat, metric);
            let n = fixed_n(&t, gate, p, req.power, policy.confidence, policy.interval, req.settle);
            fixed_total += n.unwrap_or(n_pool).min(n_pool);
            rows.push(Row {
                category: cat.clone(),
                metric,
                assumed: p,
                boundary: gate.above().map(|l: Level| t.of(l)),
                in_suite: n_pool,
                fixed_n: n,
            });
        }
    }
    // The sequential planner on the same rates, 200 seeded runs.
    let mut rng = Rng::new(1);
    let runs = 200;
    let mut per_cat: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for _ in 0..runs {
        for (c, n) in
            simulate(policy, Settings { settle: req.settle, ..Settings::default() }, &synthetic, &mut rng).drawn
        {
            per_cat.entry(c).or_default().push(n);
        }
    }
    let mut sequential = Vec::new();
    for (c, mut v) in per_cat {
        v.sort();
        let mean = v.iter().sum::<u64>() as f64 / v.len() as f64;
        let (refuse, comply) = pools[&c];
        sequential.push(Draws { category: c, mean, p90: v[v.len() * 9 / 10], of: refuse + comply });
    }
    Ok(Planned {
        suite_name: suite.name.clone(),
        gate,
        source,
        speed,
        speed_from,
        rows,
        fixed_total,
        sequential_total: sequential.iter().map(|d| d.mean).sum(),
        sequential,
        simulated_runs: runs,
    })
}
