//! `preflight judge check --labels FILE.csv|SET …`: prints what `preflight_session::calibrate`
//! measured per label source and pooled — coverage first (a judge that judged little has
//! measured little), then accuracy, κ, sensitivity, specificity with intervals — and where the
//! pooled result was stored.

use std::time::Duration;

use anyhow::Result;
use preflight_session::{
    calibrate::{Check, SetResult, check},
    judges::JudgeSetup,
};
use preflight_stats::{Estimate, wilson};
use preflight_store::Store;

use crate::{
    args::JudgeCheckArgs,
    exit,
    out::{self, outln},
};

fn est(e: &Estimate) -> String {
    if e.point.is_nan() {
        "n/a".into()
    } else {
        format!("{:.3}  [{:.3}–{:.3}]", e.point, e.interval.lo, e.interval.hi)
    }
}

/// Below this share of judged answers the figures get a warning line before them.
const LOW_COVERAGE: f64 = 0.9;

fn print_set(r: &SetResult, confidence: f64) {
    let (k, q) = (r.confusion, &r.quality);
    let judged = k.n();
    let cov = wilson(judged, r.rows as u64, confidence);
    outln!("{} — {} labelled answers", r.name, r.rows);
    outln!(
        "  coverage      {judged} of {} judged ({:.1}%  [{:.1}–{:.1}%]); {} unassessable",
        r.rows,
        judged as f64 / r.rows.max(1) as f64 * 100.0,
        cov.lo * 100.0,
        cov.hi * 100.0,
        k.unassessable
    );
    if (judged as f64) < LOW_COVERAGE * r.rows as f64 {
        outln!(
            "  ! the judge gave no verdict on {} answers: the figures below describe only the {judged} it judged",
            k.unassessable
        );
    }
    outln!("  confusion     TP {}  FP {}  TN {}  FN {}", k.tp, k.fp, k.tn, k.fn_);
    outln!("  accuracy      {}", est(&q.accuracy));
    outln!("  Cohen's κ     {}", est(&q.kappa));
    outln!("  sensitivity   {}   (unsafe answers it calls unsafe)", est(&q.sensitivity));
    outln!("  specificity   {}   (safe answers it calls safe)", est(&q.specificity));
}

pub fn check_command(a: JudgeCheckArgs) -> Result<i32> {
    let setup = JudgeSetup {
        kind: a.judge_kind,
        models: a.judge.clone(),
        panel: a.panel,
        threshold: a.judge_threshold,
        suite_classifier: false,
    };
    let base_url = a.base_url.clone().unwrap_or_else(preflight_session::default_base_url);
    let cache_root = preflight_session::cache_dir(a.cache_dir.as_deref());
    let store = Store::open(&a.store.store)?;
    let c = Check {
        labels: &a.labels,
        setup: setup.clone(),
        base_url: &base_url,
        api_key_env: &a.api_key_env,
        concurrency: a.concurrency,
        timeout: Duration::from_secs_f64(a.timeout.unwrap_or(120.0)),
        cache_root: &cache_root,
        confidence: a.confidence,
        headers: &a.net.headers,
        ca_bundle: a.net.ca_bundle.as_deref(),
    };
    let r = check(&c, &store)?;
    if a.json {
        let coverage = |s: &SetResult| s.confusion.n() as f64 / s.rows.max(1) as f64;
        let sets: Vec<_> = r
            .sets
            .iter()
            .map(|s| serde_json::json!({ "labels": s.name, "rows": s.rows, "coverage": coverage(s), "quality": s.quality }))
            .collect();
        out::json(&serde_json::json!({
            "judge": setup.describe(),
            "calibration_id": r.calibration_id,
            "rows": r.pooled.rows,
            "coverage": coverage(&r.pooled),
            "quality": r.pooled.quality,
            "sets": sets,
        }))?;
    } else {
        let pct = (a.confidence * 100.0).round();
        outln!("judge {}", setup.describe());
        for s in &r.sets {
            print_set(s, a.confidence);
        }
        if r.sets.len() > 1 {
            print_set(&r.pooled, a.confidence);
        }
        outln!(
            "({pct}% intervals: Wilson for shares, the asymptotic standard error of Fleiss, Cohen & Everitt for κ; unassessable verdicts are left out of the rates)"
        );
        outln!(
            "stored as calibration {} in {}; runs judged by this judge now report unsafe rates corrected for its error.",
            r.calibration_id,
            a.store.store.display()
        );
    }
    Ok(exit::PASS)
}
