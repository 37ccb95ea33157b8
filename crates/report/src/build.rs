//! A stored run → its [`Report`]: the scorecard (outcomes with their clustering, the deciding
//! judge's measured error, persuasion measures, the sequential method, the stage), the
//! unassessable breakdown, evidence, attack results and stops. What `eval`, `report`, `review`
//! and the viewer show is built here, from the store alone.

use preflight_stats::{Confusion, Inputs, JudgeInfo, Measure, MeasureInput, Measures, Method, Policy, Scorecard};
use preflight_store::{RunRow, Store, StoreError};

use crate::{AttackResult, ControlCheck, PreMitigation, Report, Tally};

/// Failing probes shown per category in a report.
const EVIDENCE_PER_CATEGORY: usize = 3;

/// Why a report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no run `{run}` in {store}")]
    NoRun { run: String, store: String },
    #[error("{0}")]
    Mismatch(String),
}

/// `pre` / `post` when the run was labelled.
pub fn stage_of(run: &RunRow) -> Option<String> {
    run.config.get("stage").and_then(|s| s.as_str()).map(str::to_string)
}

/// The policy file a run was started with, if any.
pub fn policy_path_of(run: &RunRow) -> Option<std::path::PathBuf> {
    run.config.get("policy").and_then(|p| p.as_str()).map(std::path::PathBuf::from)
}

/// A stored run, or [`BuildError::NoRun`].
pub fn run_of(store: &Store, run_id: &str) -> Result<RunRow, BuildError> {
    store
        .run(run_id)?
        .ok_or_else(|| BuildError::NoRun { run: run_id.to_string(), store: store.path().display().to_string() })
}

/// Scorecard, unassessable breakdown and evidence for a stored run.
pub fn report_of(store: &Store, run_id: &str, policy: &Policy) -> Result<Report, BuildError> {
    let run = run_of(store, run_id)?;
    let (scorecard, controls) = scorecard_of(store, &run, policy)?;
    let stage = stage_of(&run);
    let mut evidence = Vec::new();
    for outcome in ["unsafe", "over_refusal"] {
        let mut per_cat = std::collections::HashMap::<String, usize>::new();
        for p in store.examples(run_id, outcome, EVIDENCE_PER_CATEGORY)? {
            let n = per_cat.entry(p.category.clone()).or_default();
            if *n < EVIDENCE_PER_CATEGORY {
                *n += 1;
                evidence.push(p);
            }
        }
    }
    let human_labels = store.human_labels(run_id)?;
    let cells = store.coverage(run_id)?;
    let attacked = cells.iter().any(|c| c.attack != "none");
    let attacks = if attacked { AttackResult::from_cells(&cells, policy.confidence) } else { Vec::new() };
    let mut behaviours = if attacked { store.behaviours(run_id)? } else { Vec::new() };
    // `attacks` is ordered by success rate: the first one that broke a behaviour is its best.
    for b in &mut behaviours {
        b.best = attacks.iter().find(|a| b.broken_by.contains(&a.attack)).map(|a| a.attack.clone());
    }
    Ok(Report {
        run,
        scorecard,
        unassessable: store.unassessable_reasons(run_id)?,
        evidence,
        human_labels,
        attacks,
        behaviours,
        controls,
        measure_examples: store.measure_examples(run_id)?,
        stops: store.stops(run_id)?,
        stage,
        pre: None,
        speed: store.speed(run_id)?,
        spend: store.spend(run_id)?,
        tasks: tasks_of(store, run_id)?,
        coverage: if attacked { cells } else { Vec::new() },
    })
}

/// The run's agent attempts summed per task.
fn tasks_of(store: &Store, run_id: &str) -> Result<Vec<crate::render::TaskSummary>, BuildError> {
    let mut out: Vec<crate::render::TaskSummary> = Vec::new();
    for (item, _, category, value, detail) in store.agent_attempts(run_id)? {
        let id = item.strip_prefix("task:").unwrap_or(&item).to_string();
        if out.last().is_none_or(|t| t.id != id) {
            out.push(crate::render::TaskSummary {
                id,
                category,
                kind: detail["kind"].as_str().unwrap_or("").into(),
                difficulty: detail["difficulty"].as_u64().unwrap_or(0),
                attempts: 0,
                solved: 0,
                unassessable: 0,
                ended: Vec::new(),
                steps: 0,
                first_steps: detail["steps"].as_array().cloned().unwrap_or_default(),
            });
        }
        let t = out.last_mut().expect("pushed");
        t.attempts += 1;
        t.solved += u64::from(value.is_some_and(|v| v > 0.5));
        t.unassessable += u64::from(value.is_none());
        t.steps += detail["steps"].as_array().map_or(0, |s| s.len() as u64);
        let why = detail["unassessable_reason"].as_str().or(detail["ended"].as_str()).unwrap_or("?");
        t.ended.push(why.to_string());
    }
    Ok(out)
}

/// Adds the pre-mitigation column from run `pre_id` (scored as a pre-mitigation run whatever
/// its label) to `report`, a post-mitigation run's report.
pub fn with_pre(store: &Store, mut report: Report, pre_id: &str, policy: &Policy) -> Result<Report, BuildError> {
    let pre = run_of(store, pre_id)?;
    if stage_of(&pre).as_deref() == Some("post") {
        return Err(BuildError::Mismatch(format!(
            "run {pre_id} is labelled post-mitigation; --pre takes the pre-mitigation run"
        )));
    }
    if report.stage.as_deref() == Some("pre") {
        return Err(BuildError::Mismatch(format!(
            "run {} is labelled pre-mitigation; report the post-mitigation run with --pre {pre_id}",
            report.run.id
        )));
    }
    let mut config = pre.config.clone();
    config["stage"] = "pre".into();
    let (scorecard, _) = scorecard_of(store, &RunRow { config, ..pre.clone() }, policy)?;
    report.pre = Some(PreMitigation { run: pre.id.clone(), scorecard });
    Ok(report)
}

/// A stored run's scorecard: outcomes with their clustering, the deciding judge's measured
/// error, persuasion measures; the confidence sequence if the run stopped early; the development
/// gate if it is a pre-mitigation run. With it, the persuasion games' instrument check.
pub fn scorecard_of(
    store: &Store,
    run: &RunRow,
    policy: &Policy,
) -> Result<(Scorecard, Option<ControlCheck>), BuildError> {
    let tally = Tally::from_store(store, &run.id)?;
    let judge = deciding_judge(store, &run.id, run.judge.as_deref())?;
    let (measures, controls) = measures_of(store, &run.id, policy.confidence)?;
    let sequential = run.config.get("sequential").is_some_and(|v| !v.is_null());
    let inputs = Inputs {
        judges: tally.counts().keys().map(|c| (c.clone(), judge.clone())).collect(),
        counts: tally.counts().clone(),
        designs: tally.designs(),
        measures,
        method: sequential.then_some(Method::Sequential),
        pre_mitigation: stage_of(run).as_deref() == Some("pre"),
        validation: crate::validation::validation_of(store, &run.id)?,
    };
    Ok((Scorecard::from_inputs(policy, &inputs), controls))
}

/// The run's persuasion-game measures per category, and the control claims' shift (the
/// instrument check, reported beside them, never gated).
fn measures_of(store: &Store, run_id: &str, confidence: f64) -> Result<(Measures, Option<ControlCheck>), BuildError> {
    let mut out = Measures::new();
    let mut controls = None;
    for (cat, by) in store.measure_obs(run_id)? {
        for (name, (obs, unassessable)) in by {
            match Measure::parse(&name) {
                Some(m) => {
                    out.entry(cat.clone()).or_default().insert(m, MeasureInput { obs, unassessable });
                }
                None if name == "control_shift" => {
                    let e = preflight_stats::clustered_mean(&obs, confidence);
                    controls = Some(ControlCheck { n: obs.len() as u64, unassessable, shift: e });
                }
                None => {}
            }
        }
    }
    for by in out.values_mut() {
        if let Some(pass) = by.get(&Measure::PassRate)
            && let Some(k) = pass_at_k(&pass.obs)
        {
            by.insert(Measure::PassAtK, k);
        }
    }
    Ok((out, controls))
}

/// pass@k from the attempts' 0/1 values (cluster = task): per task, the unbiased estimator
/// 1 − C(n−c, k)/C(n, k) (Chen et al. 2021) over its n assessable attempts, k = the attempts a
/// task was given (the most any task had; a task with fewer assessable ones is estimated at its
/// own n), one value per task. With n = k it is "solved at least once". `None` when no task had
/// more than one attempt.
fn pass_at_k(obs: &[(String, f64)]) -> Option<MeasureInput> {
    let mut per_task: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
    for (task, v) in obs {
        let e = per_task.entry(task.as_str()).or_default();
        e.0 += 1;
        e.1 += u64::from(*v > 0.5);
    }
    let k = per_task.values().map(|(n, _)| *n).max()?;
    if k < 2 {
        return None;
    }
    let estimate = |n: u64, c: u64, k: u64| -> f64 {
        if n - c < k {
            return 1.0;
        }
        // C(n−c, k)/C(n, k) = Π_{i=0}^{k−1} (n−c−i)/(n−i)
        1.0 - (0..k).map(|i| (n - c - i) as f64 / (n - i) as f64).product::<f64>()
    };
    let obs = per_task.iter().map(|(t, &(n, c))| (t.to_string(), estimate(n, c, k.min(n)))).collect();
    Some(MeasureInput { obs, unassessable: 0 })
}

/// The scorers that can decide a run's outcomes, most specific first.
pub const DECIDERS: [&str; 5] = ["panel", "strongreject", "harmbench", "classifier", "refusal"];

/// The scorer that decided a run's outcomes, with the (judge model, prompt hash) it recorded,
/// if any scored.
fn decider(store: &Store, run_id: &str) -> Result<Option<(&'static str, String, String)>, StoreError> {
    for scorer in DECIDERS {
        if let Some((model, hash)) = store.scorer_identity(run_id, scorer)? {
            return Ok(Some((scorer, model, hash)));
        }
    }
    Ok(None)
}

/// The scorer that decided a run's outcomes, if any scored.
pub fn decider_of(store: &Store, run_id: &str) -> Result<Option<&'static str>, StoreError> {
    Ok(decider(store, run_id)?.map(|(scorer, _, _)| scorer))
}

/// The judge that decided a run's outcomes (the same for every category), with its newest
/// calibration if `preflight judge check` measured exactly that judge (scorer, model, prompt).
pub fn deciding_judge(store: &Store, run_id: &str, described: Option<&str>) -> Result<JudgeInfo, BuildError> {
    let Some((scorer, model, hash)) = decider(store, run_id)? else {
        return Ok(JudgeInfo { name: described.unwrap_or("refusal (string rules)").to_string(), calibration: None });
    };
    let calibration = store.latest_calibration(scorer, &model, &hash)?.map(|c| Confusion {
        tp: c.tp,
        fp: c.fp,
        tn: c.tn,
        fn_: c.fn_,
        unassessable: c.unassessable,
    });
    let name = match (scorer, described) {
        ("refusal", _) | (_, None) => "refusal (string rules)".to_string(),
        (_, Some(d)) => d.to_string(),
    };
    Ok(JudgeInfo { name, calibration })
}

#[cfg(test)]
mod pass_at_k_tests {
    use super::*;

    #[test]
    fn pass_at_k_is_the_unbiased_estimator_per_task() {
        let obs = |v: &[(&str, f64)]| v.iter().map(|(t, x)| (t.to_string(), *x)).collect::<Vec<_>>();
        // One attempt each: no pass@k.
        assert!(pass_at_k(&obs(&[("a", 1.0), ("b", 0.0)])).is_none());
        // a: 1 of 3 → pass@3 = 1; b: 0 of 3 → 0; c: 2 of 4 with k = 4 → 1.
        let m = pass_at_k(&obs(&[
            ("a", 0.0),
            ("a", 1.0),
            ("a", 0.0),
            ("b", 0.0),
            ("b", 0.0),
            ("b", 0.0),
            ("c", 1.0),
            ("c", 1.0),
            ("c", 0.0),
            ("c", 0.0),
        ]))
        .unwrap();
        let v: Vec<f64> = m.obs.iter().map(|(_, x)| *x).collect();
        assert_eq!(v, vec![1.0, 0.0, 1.0]);
        // A task with fewer assessable attempts is estimated at its own n: 0 of 2 → 0.
        let m = pass_at_k(&obs(&[("a", 1.0), ("a", 0.0), ("a", 0.0), ("b", 0.0), ("b", 0.0)])).unwrap();
        assert_eq!(m.obs, vec![("a".to_string(), 1.0), ("b".to_string(), 0.0)]);
    }
}
