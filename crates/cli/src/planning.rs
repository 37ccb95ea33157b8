//! `preflight plan`: before a run, how many probes each category needs to settle its gate at the
//! policy's confidence — for a fixed-size run (sized for a given power) and for a sequential run
//! (expected draws, by simulating the planner on the assumed rates) — and how long that takes.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use preflight_core::Expected;
use preflight_report::Tally;
use preflight_stats::{
    Level, Metric,
    plan::{Rng, Settings, Settle, Synthetic, fixed_n, simulate},
};

use preflight_session::{builtin, cache_dir, suites};

use crate::{args::PlanArgs, exit, inspect::open_existing, out::outln};

/// Assumed rates per category: (unsafe, over-refusal).
type Priors = BTreeMap<String, (f64, f64)>;

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

pub fn plan(a: &PlanArgs) -> Result<i32> {
    let policy = preflight_stats::Policy::load_or_default(a.policy.as_deref())?;
    let root = cache_dir(a.cache_dir.as_deref());
    let text = a.suite.to_string_lossy();
    let path = if a.suite.is_file() {
        a.suite.clone()
    } else if builtin::lookup(&text).is_some() {
        std::path::PathBuf::from(format!("builtin:{text}"))
    } else {
        bail!("{}: no such suite file, nor a built-in suite ({})", a.suite.display(), builtin::names().join(", "));
    };
    let suite = suites::load(&path, &[], &root)?;
    let mut pools: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for s in suite.samples() {
        let s = s?;
        let e = pools.entry(s.category.clone()).or_default();
        if s.expected == Expected::Refuse { e.0 += 1 } else { e.1 += 1 }
    }
    let categories: Vec<String> = pools.keys().cloned().collect();
    // Rates and speed: from a pilot run, else the prior and --rate.
    let (priors, measured_rate, source) = match (&a.pilot, &a.prior) {
        (Some(id), _) => {
            let store = open_existing(&a.store)?;
            let run = preflight_report::run_of(&store, id)?;
            let tally = Tally::from_rows(&store.outcomes(id)?);
            let mut priors = Priors::new();
            for c in &categories {
                let k = tally.counts().get(c).copied().unwrap_or_default();
                let rate = |f: u64, p: u64| if f + p == 0 { 0.0 } else { f as f64 / (f + p) as f64 };
                priors.insert(c.clone(), (rate(k.unsafe_, k.safe_refuse), rate(k.over_refusal, k.safe_comply)));
            }
            let secs = seconds_between(&run.created_at, &run.updated_at);
            let speed = (secs > 0.0 && run.done > 0).then(|| run.done as f64 / secs);
            (priors, speed, format!("pilot run {id} ({} probes)", run.done))
        }
        (None, Some(p)) => (parse_prior(p, &categories)?, None, format!("prior {p}")),
        (None, None) => bail!("pass --prior RATE (e.g. 0.02, or cbrn=0.01,cyber=0.1) or --pilot RUN_ID"),
    };
    let speed = a.rate.or(measured_rate).unwrap_or(1.0);
    let settle = a.settle;
    let gate = policy.max_level;
    outln!(
        "plan for suite \"{}\" under policy {} ({:.0}% confidence, gate {gate}, settling each {}) · rates from {source} · {speed:.2} probes/s{}",
        suite.name,
        policy.name,
        100.0 * policy.confidence,
        if settle == Settle::Level { "category's level" } else { "category's release decision" },
        if a.rate.is_some() {
            " (--rate)"
        } else if measured_rate.is_some() {
            " (measured)"
        } else {
            " (assumed; --rate sets it)"
        }
    );
    outln!();
    outln!(
        "{:<16} {:<13} {:>7} {:>9} {:>10} {:>14}",
        "CATEGORY",
        "METRIC",
        "ASSUMED",
        "BOUNDARY",
        "IN SUITE",
        "FIXED-N"
    );
    let mut synthetic = BTreeMap::new();
    let mut fixed_total = 0u64;
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
            let boundary = gate.above().map(|l: Level| t.of(l));
            let n = fixed_n(&t, gate, p, a.power, policy.confidence, policy.interval, settle);
            fixed_total += n.unwrap_or(n_pool).min(n_pool);
            outln!(
                "{:<16} {:<13} {:>6.1}% {:>9} {:>10} {:>14}",
                cat,
                if metric == Metric::UnsafeRate { "unsafe" } else { "over-refusal" },
                100.0 * p,
                boundary.map(|b| format!("{:.1}%", 100.0 * b)).unwrap_or_else(|| "-".into()),
                n_pool,
                match n {
                    Some(n) if n <= n_pool => n.to_string(),
                    Some(n) => format!("{n} (> suite)"),
                    None => "never".into(),
                },
            );
        }
    }
    // The sequential planner on the same rates, 200 seeded runs.
    let mut rng = Rng::new(1);
    let runs = 200;
    let mut per_cat: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for _ in 0..runs {
        for (c, n) in simulate(&policy, Settings { settle, ..Settings::default() }, &synthetic, &mut rng).drawn {
            per_cat.entry(c).or_default().push(n);
        }
    }
    outln!();
    outln!(
        "Sequential (eval --deadline / --budget-* / --sequential --settle {}): expected draws per category, {runs} simulated runs:",
        if settle == Settle::Level { "level" } else { "gate" }
    );
    let mut seq_total = 0.0;
    for (c, mut v) in per_cat {
        v.sort();
        let mean = v.iter().sum::<u64>() as f64 / v.len() as f64;
        seq_total += mean;
        let (refuse, comply) = pools[&c];
        outln!("  {c:<16} mean {mean:>7.0}   90th percentile {:>6}   of {}", v[v.len() * 9 / 10], refuse + comply);
    }
    let hms = |probes: f64| {
        let s = probes / speed;
        format!("{}h{:02}m", (s / 3600.0) as u64, ((s % 3600.0) / 60.0).round() as u64)
    };
    outln!();
    outln!(
        "Fixed-size run settling every rate with {:.0}% power if the assumed rates are right (capped at the suite): {fixed_total} probes ≈ {}. Sequential (adapts to the rates it meets; at least the warm-up of 20 per category): ≈ {seq_total:.0} probes ≈ {} on average.",
        100.0 * a.power,
        hms(fixed_total as f64),
        hms(seq_total)
    );
    outln!(
        "\"never\": the assumed rate sits on the boundary, no sample size settles it; \"> suite\": the suite is too small to settle it — add probes (preflight generate, attacks) or accept an inconclusive category."
    );
    Ok(exit::PASS)
}

/// Seconds between two RFC 3339 UTC timestamps as the store writes them.
fn seconds_between(a: &str, b: &str) -> f64 {
    match (preflight_store::rfc3339_seconds(a), preflight_store::rfc3339_seconds(b)) {
        (Some(x), Some(y)) => (y - x) as f64,
        _ => 0.0,
    }
}
