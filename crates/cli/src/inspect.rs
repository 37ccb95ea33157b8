//! Read-only commands over the store: `runs`, `show`, `report`.

use anyhow::{Context, Result};
use preflight_report::{AttackResult, ControlCheck, PreMitigation, Report, Tally, transcript_text};
use preflight_stats::{
    Confusion, Inputs, JudgeInfo, Measure, MeasureInput, Measures, Method, Policy, Scorecard, Verdict,
};
use preflight_store::Store;

use crate::{
    args::{CoverageArgs, ReportArgs, ShowArgs, StoreArg},
    eval::{load_policy, print_report},
    exit,
};

/// Failing probes shown per category in a report.
const EVIDENCE_PER_CATEGORY: usize = 3;

pub fn verdict_code(v: Verdict) -> i32 {
    match v {
        Verdict::Pass => exit::PASS,
        Verdict::Fail => exit::GATE_FAILED,
        Verdict::Inconclusive => exit::INCONCLUSIVE,
    }
}

pub(crate) fn open_existing(arg: &StoreArg) -> Result<Store> {
    if !arg.store.exists() {
        anyhow::bail!("no store at {} (pass --store PATH)", arg.store.display());
    }
    Ok(Store::open(&arg.store)?)
}

/// Scorecard, unassessable breakdown and evidence for a stored run.
pub fn build_report(store: &Store, run_id: &str, policy: &Policy) -> Result<Report> {
    let run = store.run(run_id)?.with_context(|| format!("no run `{run_id}` in {}", store.path().display()))?;
    let (scorecard, controls) = scorecard_of(store, &run, policy)?;
    let stage = stage_of(&run.config);
    let mut evidence = Vec::new();
    for outcome in ["unsafe", "over_refusal"] {
        let mut per_cat = std::collections::HashMap::<String, usize>::new();
        for p in store.probes(run_id, None, Some(outcome), 5_000)? {
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
    })
}

/// `pre` / `post` when the run was labelled.
pub(crate) fn stage_of(config: &serde_json::Value) -> Option<String> {
    config.get("stage").and_then(|s| s.as_str()).map(str::to_string)
}

/// A stored run's scorecard: outcomes with their clustering, the deciding judge's measured
/// error, persuasion measures; the confidence sequence if the run stopped early; the development
/// gate if it is a pre-mitigation run. With it, the persuasion games' instrument check.
pub(crate) fn scorecard_of(
    store: &Store,
    run: &preflight_store::RunRow,
    policy: &Policy,
) -> Result<(Scorecard, Option<ControlCheck>)> {
    let tally = Tally::from_rows(&store.outcomes(&run.id)?);
    let judge = deciding_judge(store, &run.id, run.judge.as_deref())?;
    let (measures, controls) = measures_of(store, &run.id, policy.confidence)?;
    let sequential = run.config.get("sequential").is_some_and(|v| !v.is_null());
    let inputs = Inputs {
        judges: tally.counts().keys().map(|c| (c.clone(), judge.clone())).collect(),
        counts: tally.counts().clone(),
        designs: tally.designs(),
        measures,
        method: sequential.then_some(Method::Sequential),
        pre_mitigation: stage_of(&run.config).as_deref() == Some("pre"),
    };
    Ok((Scorecard::from_inputs(policy, &inputs), controls))
}

/// The run's persuasion-game measures per category, and the control claims' shift (the
/// instrument check, reported beside them, never gated).
fn measures_of(store: &Store, run_id: &str, confidence: f64) -> Result<(Measures, Option<ControlCheck>)> {
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
    Ok((out, controls))
}

/// The judge that decided a run's outcomes (the same for every category), with its newest
/// calibration if `preflight judge check` measured exactly that judge (scorer, model, prompt).
fn deciding_judge(store: &Store, run_id: &str, described: Option<&str>) -> Result<JudgeInfo> {
    for scorer in ["panel", "strongreject", "harmbench", "refusal"] {
        if let Some((model, hash)) = store.scorer_identity(run_id, scorer)? {
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
            return Ok(JudgeInfo { name, calibration });
        }
    }
    Ok(JudgeInfo { name: described.unwrap_or("refusal (string rules)").to_string(), calibration: None })
}

pub fn runs(arg: &StoreArg) -> Result<i32> {
    let store = open_existing(arg)?;
    let runs = store.runs()?;
    if runs.is_empty() {
        println!("no runs in {}", arg.store.display());
        return Ok(exit::PASS);
    }
    println!(
        "{:<22} {:<20} {:<11} {:>13} {:<12} {:<24} MODEL",
        "RUN", "CREATED", "STATUS", "PROBES", "VERDICT", "SUITE"
    );
    for r in runs {
        println!(
            "{:<22} {:<20} {:<11} {:>13} {:<12} {:<24} {}",
            r.id,
            r.created_at,
            r.status,
            format!("{}/{}", r.done, r.total),
            r.verdict.as_deref().unwrap_or("-"),
            r.suite_name,
            r.model
        );
    }
    Ok(exit::PASS)
}

pub fn show(a: &ShowArgs) -> Result<i32> {
    let store = open_existing(&a.store)?;
    let run = store.run(&a.run_id)?.with_context(|| format!("no run `{}` in {}", a.run_id, a.store.store.display()))?;
    let probes = store.probes(&a.run_id, a.sample.as_deref(), a.outcome.as_deref(), a.limit)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "run": run, "probes": probes }))?);
        return Ok(exit::PASS);
    }
    println!(
        "run {} · {} · suite \"{}\" · model {} · {}/{} probes",
        run.id, run.status, run.suite_name, run.model, run.done, run.total
    );
    if let Some(note) = &run.note {
        println!("note: {note}");
    }
    if let Some(id) = a.sample.as_deref().filter(|_| probes.is_empty()) {
        // Not a probe: perhaps a persuasion-game conversation.
        let rows = store.measure_item(&a.run_id, id)?;
        if rows.is_empty() {
            anyhow::bail!("run {} has no stored probe or game conversation `{id}`", a.run_id);
        }
        for (measure, value, detail, transcript) in rows {
            println!(
                "\n── {id} · {measure} = {}",
                value.map(|v| format!("{v:+.3}")).unwrap_or_else(|| "no value".into())
            );
            println!("{detail}");
            for m in &transcript {
                println!("[{:?}]\n{}\n", m.role, m.content);
            }
        }
        return Ok(exit::PASS);
    }
    for p in &probes {
        println!();
        println!(
            "── {} · epoch {} · {} · expected {} · {}{}",
            p.sample_id,
            p.epoch,
            p.category,
            p.expected,
            p.outcome,
            p.unassessable_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default()
        );
        if a.sample.is_some() {
            if let Some(prov) = &p.provenance {
                println!("source: {prov}");
            }
            println!("latency {} ms · attempts {} · cached {}", p.latency_ms, p.attempts, p.cached);
            if let Some(a) = &p.attack {
                println!("attack: {a} on seed {}", p.parent.as_deref().unwrap_or("?"));
            }
            for t in &p.trace {
                println!(
                    "  step {}{}{}: {}",
                    t.step,
                    t.score.map(|s| format!(" · score {s}")).unwrap_or_default(),
                    if t.note.is_empty() { String::new() } else { format!(" · {}", t.note) },
                    one_line(&t.prompt, 90)
                );
                if let Some(r) = &t.response {
                    println!("      → {}", one_line(r, 90));
                }
            }
            print!("{}", transcript_text(p));
        } else {
            let answer = p
                .transcript
                .last()
                .filter(|m| m.role == preflight_core::Role::Assistant)
                .map(|m| m.content.as_str())
                .unwrap_or("");
            println!("prompt: {}", one_line(&p.prompt, 110));
            println!("answer: {}", one_line(answer, 110));
        }
        if let Some(e) = &p.error {
            println!("error: {e}");
        }
        for s in &p.scores {
            println!(
                "score [{}] {}{}{} — {}{}",
                s.scorer,
                s.outcome.as_str(),
                s.label.as_deref().map(|l| format!(" / {l}")).unwrap_or_default(),
                s.value.map(|v| format!(" / {v:.3}")).unwrap_or_default(),
                one_line(&s.explanation, 100),
                s.judge_model
                    .as_deref()
                    .map(|j| format!(
                        " (judge {j}, prompt {})",
                        &s.prompt_hash.as_deref().unwrap_or("")[..12.min(s.prompt_hash.as_deref().unwrap_or("").len())]
                    ))
                    .unwrap_or_default()
            );
        }
    }
    Ok(exit::PASS)
}

fn one_line(s: &str, n: usize) -> String {
    let one = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() <= n { one } else { format!("{}…", one.chars().take(n - 1).collect::<String>()) }
}

pub fn report(a: &ReportArgs) -> Result<i32> {
    let store = open_existing(&a.store)?;
    let run = store.run(&a.run_id)?.with_context(|| format!("no run `{}` in {}", a.run_id, a.store.store.display()))?;
    let stored_policy = run.config.get("policy").and_then(|p| p.as_str()).map(std::path::PathBuf::from);
    let policy = load_policy(a.policy.as_deref().or(stored_policy.as_deref()))?;
    let mut report = build_report(&store, &a.run_id, &policy)?;
    if let Some(pre_id) = &a.pre {
        let pre = store.run(pre_id)?.with_context(|| format!("no run `{pre_id}` in {}", a.store.store.display()))?;
        if stage_of(&pre.config).as_deref() == Some("post") {
            anyhow::bail!("run {pre_id} is labelled post-mitigation; --pre takes the pre-mitigation run");
        }
        if report.stage.as_deref() == Some("pre") {
            anyhow::bail!(
                "run {} is labelled pre-mitigation; report the post-mitigation run with --pre {pre_id}",
                a.run_id
            );
        }
        // The pre column is scored as a pre-mitigation run whatever its label.
        let mut config = pre.config.clone();
        config["stage"] = "pre".into();
        let (scorecard, _) = scorecard_of(&store, &preflight_store::RunRow { config, ..pre.clone() }, &policy)?;
        report.pre = Some(PreMitigation { run: pre.id.clone(), scorecard });
    }
    print_report(&report, a.format);
    Ok(exit::PASS)
}

/// `preflight coverage RUN_ID`: probes and distinct probes per (category × attack) cell, attack
/// success per cell, the thin cells; `--behaviours`: which attacks broke which behaviour.
pub fn coverage(a: &CoverageArgs) -> Result<i32> {
    let store = open_existing(&a.store)?;
    store.run(&a.run_id)?.with_context(|| format!("no run `{}` in {}", a.run_id, a.store.store.display()))?;
    let cells = store.coverage(&a.run_id)?;
    let thin: Vec<&preflight_store::Cell> = cells.iter().filter(|c| c.distinct < a.min).collect();
    let mut behaviours = if a.behaviours { store.behaviours(&a.run_id)? } else { Vec::new() };
    let ranked = AttackResult::from_cells(&cells, 0.95);
    for b in &mut behaviours {
        b.best = ranked.iter().find(|r| b.broken_by.contains(&r.attack)).map(|r| r.attack.clone());
    }
    if a.json {
        let v = serde_json::json!({ "cells": cells, "thin": thin, "min": a.min, "behaviours": behaviours });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(exit::PASS);
    }
    println!("{:<16} {:<32} {:>7} {:>9} {:>14}", "CATEGORY", "ATTACK", "PROBES", "DISTINCT", "UNSAFE/JUDGED");
    for c in &cells {
        let mark = if c.distinct < a.min { "  thin" } else { "" };
        println!(
            "{:<16} {:<32} {:>7} {:>9} {:>14}{mark}",
            c.category,
            c.attack,
            c.probes,
            c.distinct,
            format!("{}/{}", c.unsafe_, c.assessed_refuse)
        );
    }
    let categories: std::collections::BTreeSet<&str> = cells.iter().map(|c| c.category.as_str()).collect();
    let attacks: std::collections::BTreeSet<&str> = cells.iter().map(|c| c.attack.as_str()).collect();
    println!(
        "\n{} cells ({} categories × {} attacks), {} probes, {} distinct; {} thin (< {} distinct probes).",
        cells.len(),
        categories.len(),
        attacks.len(),
        cells.iter().map(|c| c.probes).sum::<u64>(),
        cells.iter().map(|c| c.distinct).sum::<u64>(),
        thin.len(),
        a.min
    );
    for b in &behaviours {
        let broken = if b.broken_by.is_empty() { "not broken".to_string() } else { b.broken_by.join(", ") };
        let best = b.best.as_deref().map(|x| format!("  (best: {x})")).unwrap_or_default();
        println!("{:<40} {:<16} {broken}{best}", b.sample_id, b.category);
    }
    Ok(exit::PASS)
}
