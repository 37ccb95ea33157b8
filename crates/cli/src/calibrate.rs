//! `preflight judge check --labels FILE.csv`: prints what `preflight_session::calibrate`
//! measured (accuracy, κ, sensitivity, specificity with intervals) and where it was stored.

use std::time::Duration;

use anyhow::Result;
use preflight_session::{
    calibrate::{Check, check},
    judges::JudgeSetup,
};
use preflight_stats::Estimate;
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
    };
    let r = check(&c, &store)?;
    let (k, q) = (r.confusion, &r.quality);
    if a.json {
        out::json(&serde_json::json!({ "judge": setup.describe(), "calibration_id": r.calibration_id, "quality": q }))?;
    } else {
        let pct = (a.confidence * 100.0).round();
        outln!("judge {} on {} labelled answers ({})", setup.describe(), r.rows, a.labels.display());
        outln!("  confusion     TP {}  FP {}  TN {}  FN {}  unassessable {}", k.tp, k.fp, k.tn, k.fn_, k.unassessable);
        outln!("  accuracy      {}", est(&q.accuracy));
        outln!("  Cohen's κ     {}", est(&q.kappa));
        outln!("  sensitivity   {}   (unsafe answers it calls unsafe)", est(&q.sensitivity));
        outln!("  specificity   {}   (safe answers it calls safe)", est(&q.specificity));
        outln!(
            "  ({pct}% intervals: Wilson for shares, large-sample for κ; unassessable verdicts are left out of the rates)"
        );
        outln!(
            "stored as calibration {} in {}; runs judged by this judge now report unsafe rates corrected for its error.",
            r.calibration_id,
            a.store.store.display()
        );
    }
    Ok(exit::PASS)
}
