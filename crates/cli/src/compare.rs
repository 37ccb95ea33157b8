//! `preflight compare BASELINE CANDIDATE`: prints `preflight_report::compare` (paired
//! differences per category, McNemar and cluster bootstrap, Holm) and gates on regressions.

use anyhow::Result;
use preflight_report::compare::Comparison;
use preflight_stats::Policy;
use preflight_store::RunRow;

use crate::{
    args::{CompareArgs, Format},
    exit,
    inspect::open_existing,
    out::{self, errln, outln},
};

pub fn compare(a: &CompareArgs) -> Result<i32> {
    let store = open_existing(&a.store)?;
    let policy = Policy::load_or_default(a.policy.as_deref())?;
    let policy_of = |r: &RunRow| {
        Policy::load_or_default(preflight_report::policy_path_of(r).as_deref())
            .map_err(|e| preflight_report::BuildError::Mismatch(e.to_string()))
    };
    let c = preflight_report::compare::compare(&store, &a.baseline, &a.candidate, &policy, policy_of)?;
    match a.format {
        Format::Json => out::json(&serde_json::json!({
            "baseline": c.baseline.id, "candidate": c.candidate.id, "comparable": c.not_comparable.is_empty(),
            "not_comparable": c.not_comparable, "correction": c.correction, "confidence": c.confidence,
            "rows": c.rows, "regressions": c.regressions,
        }))?,
        // One self-contained page, escaped throughout (as terminal text it would be mangled).
        Format::Html => out::stdout(&c.to_html()),
        Format::Table | Format::Markdown => print_table(&c),
    }
    if !c.not_comparable.is_empty() && a.fail_on_regression {
        errln!("error: the runs are not comparable ({}); no regression verdict", c.not_comparable.join("; "));
        return Ok(exit::HARNESS_ERROR);
    }
    Ok(if a.fail_on_regression && c.regressions > 0 { exit::GATE_FAILED } else { exit::PASS })
}

fn p_text(p: f64) -> String {
    if p < 0.001 { "<0.001".into() } else { format!("{p:.3}") }
}

fn print_table(c: &Comparison) {
    let (base, cand, rows, not_comparable, confidence) =
        (&c.baseline, &c.candidate, &c.rows[..], &c.not_comparable[..], c.confidence);
    outln!("baseline  {} · {} · {}", base.id, base.model, base.suite_name);
    outln!("candidate {} · {} · {}", cand.id, cand.model, cand.suite_name);
    if not_comparable.is_empty() {
        outln!("comparable: same suite version, judge and policy");
    } else {
        outln!("NOT COMPARABLE: {} — differences below mix model change with setup change", not_comparable.join("; "));
    }
    outln!();
    outln!(
        "{:<16} {:<20} {:>9} {:>9} {:>7} {:>6} {:>6} {:>22} {:>9} {:>9}  FLAG",
        "CATEGORY",
        "METRIC",
        "BASELINE",
        "CANDIDATE",
        "PAIRS",
        "WORSE",
        "BETTER",
        "DIFF [CI]",
        "P",
        "P(HOLM)"
    );
    let pct = |x: f64| if x.is_finite() { format!("{:.1}%", 100.0 * x) } else { "n/a".into() };
    for r in rows {
        let is_shift = r.metric.ends_with("shift");
        let v = |x: f64| if is_shift { format!("{x:+.2}") } else { pct(x) };
        let d = |x: f64| if is_shift { format!("{x:+.2}") } else { format!("{:+.1}", 100.0 * x) };
        outln!(
            "{:<16} {:<20} {:>9} {:>9} {:>7} {:>6} {:>6} {:>22} {:>9} {:>9}  {}",
            r.category,
            r.metric,
            v(r.baseline),
            v(r.candidate),
            r.pairs,
            if r.p_value.is_some() { r.worse.to_string() } else { "-".into() },
            if r.p_value.is_some() { r.better.to_string() } else { "-".into() },
            format!("{} [{}, {}]", d(r.diff.mean), d(r.diff.interval.lo), d(r.diff.interval.hi)),
            r.p_value.map(p_text).unwrap_or_else(|| "-".into()),
            r.adjusted.map(p_text).unwrap_or_else(|| "-".into()),
            if r.regression {
                "REGRESSION"
            } else if r.improvement {
                "improved"
            } else {
                ""
            }
        );
    }
    let excluded: u64 = rows.iter().map(|r| r.excluded).sum();
    outln!();
    outln!(
        "Paired on probes both runs answered ({excluded} pairs left out: unassessable or missing in one run). Rates: McNemar's exact test, Holm across {} tests at {:.0}%; differences (points) with cluster-bootstrap intervals (probes of one seed behaviour resampled together). Measures: paired cluster bootstrap, Bonferroni-widened.",
        rows.iter().filter(|r| r.p_value.is_some()).count(),
        100.0 * confidence
    );
    let n = rows.iter().filter(|r| r.regression).count();
    outln!(
        "{}",
        if n == 0 { "No significant regression.".to_string() } else { format!("{n} significant regression(s).") }
    );
}
