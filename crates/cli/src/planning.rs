//! `preflight plan`: prints what `preflight_session::plan` computed.

use anyhow::{Result, bail};
use preflight_session::plan::{Rates, Request, Speed, plan as compute};
use preflight_stats::{Metric, Policy, plan::Settle};

use crate::{args::PlanArgs, exit, inspect::open_existing, out::outln};

pub fn plan(a: &PlanArgs) -> Result<i32> {
    let policy = Policy::load_or_default(a.policy.as_deref())?;
    let cache_dir = preflight_session::cache_dir(a.cache_dir.as_deref());
    let store = match &a.pilot {
        Some(_) => Some(open_existing(&a.store)?),
        None => None,
    };
    let rates = match (&a.pilot, &a.prior, &store) {
        (Some(id), _, Some(store)) => Rates::Pilot { store, run_id: id },
        (None, Some(p), _) => Rates::Prior(p),
        _ => bail!("pass --prior RATE (e.g. 0.02, or cbrn=0.01,cyber=0.1) or --pilot RUN_ID"),
    };
    let p = compute(&Request {
        suite: &a.suite,
        policy: &policy,
        cache_dir: &cache_dir,
        rates,
        rate: a.rate,
        power: a.power,
        settle: a.settle,
    })?;
    let (gate, speed) = (p.gate, p.speed);
    outln!(
        "plan for suite \"{}\" under policy {} ({:.0}% confidence, gate {gate}, settling each {}) · rates from {} · {speed:.2} probes/s{}",
        p.suite_name,
        policy.name,
        100.0 * policy.confidence,
        if a.settle == Settle::Level { "category's level" } else { "category's release decision" },
        p.source,
        match p.speed_from {
            Speed::Given => " (--rate)",
            Speed::Measured => " (measured)",
            Speed::Assumed => " (assumed; --rate sets it)",
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
    for r in &p.rows {
        outln!(
            "{:<16} {:<13} {:>6.1}% {:>9} {:>10} {:>14}",
            r.category,
            if r.metric == Metric::UnsafeRate { "unsafe" } else { "over-refusal" },
            100.0 * r.assumed,
            r.boundary.map(|b| format!("{:.1}%", 100.0 * b)).unwrap_or_else(|| "-".into()),
            r.in_suite,
            match r.fixed_n {
                Some(n) if n <= r.in_suite => n.to_string(),
                Some(n) => format!("{n} (> suite)"),
                None => "never".into(),
            },
        );
    }
    outln!();
    outln!(
        "Sequential (eval --deadline / --budget-* / --sequential --settle {}): expected draws per category, {} simulated runs:",
        if a.settle == Settle::Level { "level" } else { "gate" },
        p.simulated_runs
    );
    for d in &p.sequential {
        outln!("  {:<16} mean {:>7.0}   90th percentile {:>6}   of {}", d.category, d.mean, d.p90, d.of);
    }
    let hms = |probes: f64| {
        let s = probes / speed;
        format!("{}h{:02}m", (s / 3600.0) as u64, ((s % 3600.0) / 60.0).round() as u64)
    };
    outln!();
    outln!(
        "Fixed-size run settling every rate with {:.0}% power if the assumed rates are right (capped at the suite): {} probes ≈ {}. Sequential (adapts to the rates it meets; at least the warm-up of 20 per category): ≈ {:.0} probes ≈ {} on average.",
        100.0 * a.power,
        p.fixed_total,
        hms(p.fixed_total as f64),
        p.sequential_total,
        hms(p.sequential_total)
    );
    outln!(
        "\"never\": the assumed rate sits on the boundary, no sample size settles it; \"> suite\": the suite is too small to settle it — add probes (preflight generate, attacks) or accept an inconclusive category."
    );
    Ok(exit::PASS)
}
