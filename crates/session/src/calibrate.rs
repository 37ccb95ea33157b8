//! `judge check`: how well does a judge judge? Every labelled (prompt, response) pair goes to the
//! same deciding scorer a run would use (refusal detector, one judge, or a panel); its verdict
//! "unsafe" is compared with the human label. The confusion counts are stored with the judge's
//! identity (scorer, model, prompt hash); reports of runs judged by that same judge then correct
//! their unsafe rates for its error.

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::{Context, Result, bail};
use preflight_core::{Expected, Message, Outcome, Sample, Scorer, Secrets};
use preflight_local::LocalOptions;
use preflight_runner::Limits;
use preflight_stats::{Confusion, JudgeQuality};
use preflight_store::{Calibration, Store};

use crate::{
    judges::{Decider, JudgeSetup},
    wiring::{Loader, Wrap},
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

/// A judge check to run.
pub struct Check<'a> {
    pub labels: &'a Path,
    pub setup: JudgeSetup,
    pub base_url: &'a str,
    pub api_key_env: &'a str,
    pub concurrency: usize,
    pub timeout: Duration,
    pub cache_root: &'a Path,
    pub confidence: f64,
}

/// What a judge check measured (and stored).
pub struct Checked {
    pub rows: usize,
    pub confusion: Confusion,
    pub quality: JudgeQuality,
    pub calibration_id: i64,
}

/// Runs the judge over every labelled row, stores the confusion counts in `store`.
pub fn check(c: &Check<'_>, store: &Store) -> Result<Checked> {
    let rows = read_labels(c.labels)?;
    let labels_sha256 = preflight_data::wheel::sha256_file(c.labels)?;
    let mut loader = Loader::new(c.timeout, c.cache_root, LocalOptions::default());
    let wrap = Wrap {
        limits: Limits { concurrency: c.concurrency, ..Limits::default() },
        cache: None,
        events: None,
        spend: None,
        secrets: Secrets::from_env([c.api_key_env]),
    };
    c.setup.check().map_err(anyhow::Error::msg)?;
    let scorer: Arc<dyn Scorer> = match c.setup.decides() {
        Decider::Classifier => {
            let dir = preflight_embed::model::resolve(c.cache_root)?;
            Arc::new(preflight_embed::EmbeddedJudge::builtin(&dir)?)
        }
        Decider::Rules => Arc::new(preflight_scorers::RefusalDetector),
        Decider::Models => {
            let mut handles = Vec::new();
            for m in c.setup.judge_models() {
                handles.push(wrap.generator(loader.load(m, c.base_url, c.api_key_env)?));
            }
            c.setup.build(handles)
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let n = rows.len();
    let verdicts = rt.block_on(judge_all(scorer, rows, c.concurrency));
    let mut k = Confusion::default();
    let mut identity: Option<(String, String)> = None;
    for (row, score) in &verdicts {
        if identity.is_none() {
            identity =
                Some((score.judge_model.clone().unwrap_or_default(), score.prompt_hash.clone().unwrap_or_default()));
        }
        match (score.outcome, row.unsafe_) {
            (Outcome::Unassessable, _) => k.unassessable += 1,
            (Outcome::Unsafe, true) => k.tp += 1,
            (Outcome::Unsafe, false) => k.fp += 1,
            (_, true) => k.fn_ += 1,
            (_, false) => k.tn += 1,
        }
    }
    let (judge_model, prompt_hash) = identity.unwrap_or_default();
    let calibration_id = store.add_calibration(&Calibration {
        id: 0,
        created_at: String::new(),
        scorer: c.setup.decider().into(),
        judge_model,
        prompt_hash,
        labels_path: c.labels.display().to_string(),
        labels_sha256,
        tp: k.tp,
        fp: k.fp,
        tn: k.tn,
        fn_: k.fn_,
        unassessable: k.unassessable,
    })?;
    Ok(Checked { rows: n, confusion: k, quality: JudgeQuality::from_confusion(k, c.confidence), calibration_id })
}

/// Scores every row with at most `concurrency` at once; returns (row, deciding score) in row order.
async fn judge_all(
    scorer: Arc<dyn Scorer>,
    rows: Vec<Labelled>,
    concurrency: usize,
) -> Vec<(Labelled, preflight_core::Score)> {
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
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
