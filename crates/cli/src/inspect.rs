//! Read-only commands over the store: `runs`, `show`, `report`, `coverage`, `export`. They open
//! the store read-only (a read-only file or filesystem works, nothing is written), and print
//! every stored text neutralised for the terminal.

use anyhow::{Context, Result};
use preflight_report::{AttackResult, transcript_text};
use preflight_stats::Policy;
use preflight_store::Store;

use crate::{
    args::{CoverageArgs, ExportArgs, Format, ReportArgs, ShowArgs, StoreArg},
    exit,
    out::{self, out, outln},
};

pub(crate) fn open_existing(arg: &StoreArg) -> Result<Store> {
    Ok(Store::open_read_only(&arg.store)?)
}

/// The policy a stored run was started with, unless `flag` names another.
pub(crate) fn policy_for(store: &Store, run_id: &str, flag: Option<&std::path::Path>) -> Result<Policy> {
    let run = preflight_report::run_of(store, run_id)?;
    let stored = preflight_report::policy_path_of(&run);
    Ok(Policy::load_or_default(flag.or(stored.as_deref()))?)
}

/// The report in `format`.
fn rendered(report: &preflight_report::Report, format: Format) -> String {
    match format {
        Format::Table => report.to_table(),
        Format::Json => report.to_json() + "\n",
        Format::Markdown => report.to_markdown(),
        Format::Html => report.to_html(),
    }
}

pub fn print_report(report: &preflight_report::Report, format: Format) {
    let text = rendered(report, format);
    match format {
        Format::Table | Format::Markdown => out!("{text}"),
        // JSON is made terminal-safe by its renderer; HTML is escaped throughout, and as terminal
        // text it would be mangled, so it is written as it is.
        Format::Json | Format::Html => crate::out::stdout(&text),
    }
}

pub fn runs(arg: &StoreArg) -> Result<i32> {
    let store = open_existing(arg)?;
    let runs = store.runs()?;
    if runs.is_empty() {
        outln!("no runs in {}", arg.store.display());
        return Ok(exit::PASS);
    }
    outln!("{:<22} {:<20} {:<11} {:>13} {:<12} {:<24} MODEL", "RUN", "CREATED", "STATUS", "PROBES", "VERDICT", "SUITE");
    for r in runs {
        outln!(
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
    let run = preflight_report::run_of(&store, &a.run_id)?;
    let probes = store.probes(&a.run_id, a.sample.as_deref(), a.outcome.as_deref(), a.limit)?;
    if a.json {
        out::json(&serde_json::json!({
            "schema_version": preflight_report::SCHEMA_VERSION, "run": run, "probes": probes
        }))?;
        return Ok(exit::PASS);
    }
    outln!(
        "run {} · {} · suite \"{}\" · model {} · {}/{} probes",
        run.id,
        run.status,
        run.suite_name,
        run.model,
        run.done,
        run.total
    );
    if let Some(note) = &run.note {
        outln!("note: {note}");
    }
    if let Some(id) = a.sample.as_deref().filter(|_| probes.is_empty()) {
        // Not a probe: perhaps a persuasion-game conversation.
        let rows = store.measure_item(&a.run_id, id)?;
        if rows.is_empty() {
            anyhow::bail!("run {} has no stored probe or game conversation `{id}`", a.run_id);
        }
        for (measure, value, mut detail, transcript) in rows {
            outln!(
                "\n── {id} · {measure} = {}",
                value.map(|v| format!("{v:+.3}")).unwrap_or_else(|| "no value".into())
            );
            // An agent attempt: its steps one by one, the rest of its detail before them.
            let steps = detail.as_object_mut().and_then(|d| d.remove("steps"));
            outln!("{detail}");
            if let Some(serde_json::Value::Array(steps)) = steps {
                for s in &steps {
                    let exit = s["exit"].as_i64().map(|e| format!("exit {e}, ")).unwrap_or_default();
                    outln!("\n── step {} · {} ({exit}{} ms)", s["step"], s["tool"].as_str().unwrap_or("?"), s["ms"]);
                    outln!("{}", s["input"].as_str().unwrap_or(""));
                    outln!("→ {}", s["output"].as_str().unwrap_or(""));
                }
                continue;
            }
            for m in &transcript {
                outln!("[{:?}]\n{}\n", m.role, m.content);
            }
        }
        return Ok(exit::PASS);
    }
    for p in &probes {
        outln!();
        outln!(
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
                outln!("source: {prov}");
            }
            let streamed = p.first_token_ms.map(|t| format!(" · first token {t} ms")).unwrap_or_default();
            outln!("latency {} ms{streamed} · attempts {} · cached {}", p.latency_ms, p.attempts, p.cached);
            if let Some(a) = &p.attack {
                outln!("attack: {a} on seed {}", p.parent.as_deref().unwrap_or("?"));
            }
            for t in &p.trace {
                outln!(
                    "  step {}{}{}: {}",
                    t.step,
                    t.score.map(|s| format!(" · score {s}")).unwrap_or_default(),
                    if t.note.is_empty() { String::new() } else { format!(" · {}", t.note) },
                    one_line(&t.prompt, 90)
                );
                if let Some(r) = &t.response {
                    outln!("      → {}", one_line(r, 90));
                }
            }
            out!("{}", transcript_text(p));
        } else {
            let answer = p
                .transcript
                .last()
                .filter(|m| m.role == preflight_core::Role::Assistant)
                .map(|m| m.content.as_str())
                .unwrap_or("");
            outln!("prompt: {}", one_line(&p.prompt, 110));
            outln!("answer: {}", one_line(answer, 110));
        }
        if let Some(e) = &p.error {
            outln!("error: {e}");
        }
        for s in &p.scores {
            outln!(
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
    let policy = policy_for(&store, &a.run_id, a.policy.as_deref())?;
    let mut report = preflight_report::report_of(&store, &a.run_id, &policy)?;
    if let Some(pre_id) = &a.pre {
        report = preflight_report::with_pre(&store, report, pre_id, &policy)?;
    }
    if let Some(path) = &a.out {
        std::fs::write(path, rendered(&report, a.format))
            .with_context(|| format!("{}: cannot write", path.display()))?;
        crate::out::errln!("preflight: wrote the report of run {} to {}", a.run_id, path.display());
        return Ok(exit::PASS);
    }
    print_report(&report, a.format);
    Ok(exit::PASS)
}

/// `preflight export RUN_ID`: the run in the result format, to stdout or `--out`.
pub fn export(a: &ExportArgs) -> Result<i32> {
    let store = open_existing(&a.store)?;
    let n = match &a.out {
        Some(path) => {
            let file = std::fs::File::create(path).with_context(|| format!("{}: cannot write", path.display()))?;
            let mut w = std::io::BufWriter::new(file);
            preflight_report::export(&store, &a.run_id, &mut w)?
        }
        None => preflight_report::export(&store, &a.run_id, &mut std::io::stdout().lock())?,
    };
    if let Some(path) = &a.out {
        crate::out::errln!(
            "preflight: wrote run {} to {} ({} probes, {} measures, {} stops, spend of {} models)",
            a.run_id,
            path.display(),
            n.probes,
            n.measures,
            n.stops,
            n.spend
        );
    }
    Ok(exit::PASS)
}

/// `preflight coverage RUN_ID`: probes and distinct probes per (category × attack) cell, attack
/// success per cell, the thin cells; `--behaviours`: which attacks broke which behaviour.
pub fn coverage(a: &CoverageArgs) -> Result<i32> {
    let store = open_existing(&a.store)?;
    preflight_report::run_of(&store, &a.run_id)?;
    let cells = store.coverage(&a.run_id)?;
    let thin: Vec<&preflight_store::Cell> = cells.iter().filter(|c| c.distinct < a.min).collect();
    let mut behaviours = if a.behaviours { store.behaviours(&a.run_id)? } else { Vec::new() };
    let ranked = AttackResult::from_cells(&cells, 0.95);
    for b in &mut behaviours {
        b.best = ranked.iter().find(|r| b.broken_by.contains(&r.attack)).map(|r| r.attack.clone());
    }
    if a.json {
        out::json(&serde_json::json!({ "cells": cells, "thin": thin, "min": a.min, "behaviours": behaviours }))?;
        return Ok(exit::PASS);
    }
    outln!("{:<16} {:<32} {:>7} {:>9} {:>14}", "CATEGORY", "ATTACK", "PROBES", "DISTINCT", "UNSAFE/JUDGED");
    for c in &cells {
        let mark = if c.distinct < a.min { "  thin" } else { "" };
        outln!(
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
    outln!(
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
        outln!("{:<40} {:<16} {broken}{best}", b.sample_id, b.category);
    }
    Ok(exit::PASS)
}
