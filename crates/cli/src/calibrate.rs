//! `preflight judge check --labels FILE.csv`: how well does a judge judge?
//!
//! Every labelled (prompt, response) pair goes to the same deciding scorer a run would use
//! (refusal detector, one judge, or a panel); its verdict "unsafe" is compared with the human
//! label. The confusion counts are stored with the judge's identity (scorer, model, prompt hash);
//! reports of runs judged by that same judge then correct their unsafe rates for its error.

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::{Context, Result, bail};
use preflight_core::{Expected, Message, Outcome, Sample, Scorer};
use preflight_local::LocalOptions;
use preflight_runner::{Generator, Limits};
use preflight_stats::{Confusion, Estimate, JudgeQuality};
use preflight_store::{Calibration, Store};

use crate::{
    args::JudgeCheckArgs,
    eval::{Built, cache_dir, default_base_url, provider},
    exit,
    judges::{JudgeKind, JudgeSetup, parse_panel},
};

/// One labelled row.
struct Labelled {
    line: u64,
    prompt: String,
    response: String,
    unsafe_: bool,
}

fn read_labels(path: &Path) -> Result<Vec<Labelled>> {
    let mut r = csv::Reader::from_path(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let header = r.headers().with_context(|| format!("{}:1: bad CSV header", path.display()))?.clone();
    let col = |name: &str| {
        header.iter().position(|h| h.trim().eq_ignore_ascii_case(name)).with_context(|| {
            format!("{}:1: field `{name}`: no such column (need prompt, response, label)", path.display())
        })
    };
    let (pi, ri, li) = (col("prompt")?, col("response")?, col("label")?);
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            anyhow::anyhow!("{}:{line}: bad CSV row: {e}", path.display())
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let at = |field: &str, msg: &str| anyhow::anyhow!("{}:{line}: field `{field}`: {msg}", path.display());
        let prompt = rec.get(pi).unwrap_or("").to_string();
        if prompt.trim().is_empty() {
            return Err(at("prompt", "empty"));
        }
        let label = rec.get(li).unwrap_or("").trim().to_ascii_lowercase();
        let unsafe_ = match label.as_str() {
            "unsafe" | "yes" | "1" | "true" | "harmful" | "jailbroken" => true,
            "safe" | "no" | "0" | "false" | "harmless" | "refused" => false,
            other => {
                return Err(at("label", &format!("`{other}` is not a label (unsafe/safe, yes/no, 1/0, true/false)")));
            }
        };
        out.push(Labelled { line, prompt, response: rec.get(ri).unwrap_or("").to_string(), unsafe_ });
    }
    if out.is_empty() {
        bail!("{}: no labelled rows", path.display());
    }
    Ok(out)
}

fn est(e: &Estimate) -> String {
    if e.point.is_nan() {
        "n/a".into()
    } else {
        format!("{:.3}  [{:.3}–{:.3}]", e.point, e.interval.lo, e.interval.hi)
    }
}

pub fn check(a: JudgeCheckArgs) -> Result<i32> {
    let rows = read_labels(&a.labels)?;
    let labels_sha256 = preflight_data::wheel::sha256_file(&a.labels)?;
    let setup = JudgeSetup {
        kind: JudgeKind::parse(&a.judge_kind)?,
        models: a.judge.clone(),
        panel: parse_panel(&a.panel)?,
        threshold: a.judge_threshold,
    };
    let base_url = a.base_url.clone().unwrap_or_else(default_base_url);
    let timeout = Duration::from_secs_f64(a.timeout.unwrap_or(120.0).max(0.001));
    let cache_root = cache_dir(a.cache_dir.as_deref());
    let limits = Limits { concurrency: a.concurrency.max(1), ..Limits::default() };
    let mut loaded: Vec<(String, Built)> = Vec::new();
    let mut handles = Vec::new();
    for m in &setup.models {
        let p = provider(m, &base_url, &a.api_key_env, timeout, &cache_root, &LocalOptions::default(), &loaded)?;
        loaded.push((m.clone(), p.clone()));
        handles.push(Generator::new(p.0, p.1, limits.clone(), None, None));
    }
    let scorer = setup.build(handles);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let verdicts = rt.block_on(judge_all(scorer, rows, a.concurrency.max(1)));

    let mut c = Confusion::default();
    let mut identity: Option<(String, String)> = None;
    for (row, score) in &verdicts {
        if identity.is_none() {
            identity =
                Some((score.judge_model.clone().unwrap_or_default(), score.prompt_hash.clone().unwrap_or_default()));
        }
        match (score.outcome, row.unsafe_) {
            (Outcome::Unassessable, _) => c.unassessable += 1,
            (Outcome::Unsafe, true) => c.tp += 1,
            (Outcome::Unsafe, false) => c.fp += 1,
            (_, true) => c.fn_ += 1,
            (_, false) => c.tn += 1,
        }
    }
    let (judge_model, prompt_hash) = identity.unwrap_or_default();
    let store = Store::open(&a.store.store)?;
    let id = store.add_calibration(&Calibration {
        id: 0,
        created_at: String::new(),
        scorer: setup.decider().into(),
        judge_model,
        prompt_hash,
        labels_path: a.labels.display().to_string(),
        labels_sha256,
        tp: c.tp,
        fp: c.fp,
        tn: c.tn,
        fn_: c.fn_,
        unassessable: c.unassessable,
    })?;
    let q = JudgeQuality::from_confusion(c, a.confidence);
    if a.json {
        let v = serde_json::json!({ "judge": setup.describe(), "calibration_id": id, "quality": q });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let pct = (a.confidence * 100.0).round();
        println!("judge {} on {} labelled answers ({})", setup.describe(), verdicts.len(), a.labels.display());
        println!(
            "  confusion     TP {}  FP {}  TN {}  FN {}  unassessable {}",
            c.tp, c.fp, c.tn, c.fn_, c.unassessable
        );
        println!("  accuracy      {}", est(&q.accuracy));
        println!("  Cohen's κ     {}", est(&q.kappa));
        println!("  sensitivity   {}   (unsafe answers it calls unsafe)", est(&q.sensitivity));
        println!("  specificity   {}   (safe answers it calls safe)", est(&q.specificity));
        println!(
            "  ({pct}% intervals: Wilson for shares, large-sample for κ; unassessable verdicts are left out of the rates)"
        );
        println!(
            "stored as calibration {id} in {}; runs judged by this judge now report unsafe rates corrected for its error.",
            a.store.store.display()
        );
    }
    Ok(exit::PASS)
}

/// Scores every row with at most `concurrency` at once; returns (row, deciding score) in row order.
async fn judge_all(
    scorer: Arc<dyn Scorer>,
    rows: Vec<Labelled>,
    concurrency: usize,
) -> Vec<(Labelled, preflight_core::Score)> {
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut set = tokio::task::JoinSet::new();
    for (i, row) in rows.into_iter().enumerate() {
        let (scorer, sem) = (scorer.clone(), sem.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            let sample = Sample::new(&format!("label-{}", row.line), &row.prompt, Expected::Refuse, "calibration");
            let transcript = [Message::user(row.prompt.clone()), Message::assistant(row.response.clone())];
            let scores = scorer.score_all(&sample, &transcript, 1).await;
            (i, row, scores.into_iter().last().expect("a deciding score"))
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.expect("judge task"));
    }
    out.sort_by_key(|(i, _, _)| *i);
    out.into_iter().map(|(_, row, s)| (row, s)).collect()
}
