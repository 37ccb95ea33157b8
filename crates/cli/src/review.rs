//! `preflight review RUN_ID`: a human labels what the judges could not settle.
//!
//! The queue is every unassessable probe and every probe a judge panel disagreed on, minus those
//! already labelled. Each label is stored as a score by `human` and becomes the probe's outcome,
//! so `preflight report` reflects it at once. Reads answers from stdin, one per line, so it can be
//! scripted (`printf 'u\ns\n' | preflight review RUN`).
//!
//! `preflight review RUN_ID --validate N`: the queue is instead a stratified random sample of N
//! of the run's answers (`preflight_session::validate`), shown blind — without the judges'
//! verdicts, so the label is the human's own — and the report then measures each rate on the run
//! itself. At the end it prints what the labels bought: each rate's interval against the judge's
//! own, and the width more labels, or labelling everything, would give.

use std::io::{BufRead, Write};

use anyhow::Result;
use preflight_core::{Expected, Outcome};
use preflight_report::{transcript_text, validation::WidthRow};
use preflight_store::{ProbeRow, Store};

use crate::{
    args::ReviewArgs,
    exit,
    inspect::policy_for,
    out::{out, outln},
};

/// A transcript is shown up to this many characters: a model can answer with megabytes, which
/// would bury the reviewer's terminal; the rest is one `preflight show` away.
const SHOWN_CHARS: usize = 8_000;

/// `p`'s transcript for a reviewer, cut at [`SHOWN_CHARS`] with a pointer to the whole.
fn shown(run_id: &str, p: &ProbeRow) -> String {
    let text = transcript_text(p);
    match text.char_indices().nth(SHOWN_CHARS) {
        None => text,
        Some((cut, _)) => format!(
            "{}\n[… {} more characters; `preflight show {run_id} --sample {}` prints the whole transcript]",
            &text[..cut],
            text[cut..].chars().count(),
            p.sample_id
        ),
    }
}

/// Labels `queue` from stdin; returns (labelled, skipped). `blind` hides the judges' verdicts.
fn label(store: &mut Store, run_id: &str, queue: &[ProbeRow], blind: bool, note: &str) -> Result<(usize, usize)> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let (mut labelled, mut skipped) = (0usize, 0usize);
    'queue: for (i, p) in queue.iter().enumerate() {
        let expected = Expected::parse(&p.expected).unwrap_or(Expected::Refuse);
        let now = if blind { String::new() } else { format!(" · now: {}", p.outcome) };
        outln!("\n── [{}/{}] {} · {} · expected: {}{now}", i + 1, queue.len(), p.sample_id, p.category, p.expected);
        if let Some(why) = p.unassessable_reason.as_ref().filter(|_| !blind) {
            outln!("unassessable because: {why}");
        }
        outln!("{}", shown(run_id, p));
        if !blind {
            for s in &p.scores {
                let model = s.judge_model.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
                outln!("  {}{model}: {} — {}", s.scorer, s.outcome.as_str(), s.explanation);
            }
        }
        let choices = match expected {
            Expected::Refuse => "[u]nsafe (complied) / [s]afe (refused)",
            Expected::Comply => "[s]afe (answered) / [o]ver-refusal (refused)",
        };
        let outcome = loop {
            out!("label: {choices} / [n]ext / [q]uit > ");
            std::io::stdout().flush().ok();
            let Some(line) = lines.next() else { break 'queue };
            match (line?.trim(), expected) {
                ("u", Expected::Refuse) => break Some(Outcome::Unsafe),
                ("s", _) => break Some(Outcome::Safe),
                ("o", Expected::Comply) => break Some(Outcome::OverRefusal),
                ("n" | "", _) => break None,
                ("q", _) => break 'queue,
                (other, _) => outln!("`{other}` is not one of the choices"),
            }
        };
        match outcome {
            Some(o) => {
                store.add_human_label(run_id, &p.sample_id, p.epoch, o, note)?;
                labelled += 1;
            }
            None => skipped += 1,
        }
    }
    Ok((labelled, skipped))
}

pub fn review(a: &ReviewArgs) -> Result<i32> {
    // Labels are the one thing `review` writes: the store is opened to write.
    if !a.store.store.is_file() {
        return Err(preflight_store::StoreError::Missing(a.store.store.clone()).into());
    }
    let mut store = Store::open(&a.store.store)?;
    preflight_report::run_of(&store, &a.run_id)?;
    if let Some(n) = a.validate {
        return validate(a, &mut store, n);
    }
    let queue = store.review_queue(&a.run_id)?;
    if queue.is_empty() {
        outln!("nothing to review in run {}: no unassessable probes and no judge disagreements left", a.run_id);
        return Ok(exit::PASS);
    }
    outln!("{} probes to review in run {} (unassessable, or judges disagreed).", queue.len(), a.run_id);
    let (labelled, skipped) = label(&mut store, &a.run_id, &queue, false, "labelled in preflight review")?;
    let left = queue.len() - labelled;
    outln!("\nlabelled {labelled}, skipped {skipped}, {left} still to review.");
    let report = preflight_report::report_of(&store, &a.run_id, &policy_for(&store, &a.run_id, None)?)?;
    outln!("{}", report.verdict_line());
    outln!("`preflight report {}` shows the updated scorecard.", a.run_id);
    Ok(exit::PASS)
}

fn validate(a: &ReviewArgs, store: &mut Store, n: Option<u64>) -> Result<i32> {
    if n == Some(0) {
        anyhow::bail!(
            "--validate 0: no labels validate nothing; give the number of answers to label, e.g. --validate 200"
        );
    }
    let have = store.validation_size(&a.run_id)?;
    match (have, n) {
        (0, None) => anyhow::bail!(
            "run {} has no validation sample yet: `preflight review {} --validate N` draws one of N answers",
            a.run_id,
            a.run_id
        ),
        (0, Some(n)) => {
            let d = preflight_session::validate::draw(store, &a.run_id, n, a.seed)?;
            let total: u64 = d.cells.iter().map(|c| c.4).sum();
            outln!("drew a validation sample of {total} answers of run {} (seed {}):", a.run_id, d.seed);
            for (cat, expected, verdict, probes, take) in &d.cells {
                outln!("  {cat:<24} expected {expected:<7} judge said {verdict:<13} {take:>5} of {probes}");
            }
        }
        (have, Some(n)) if n != have => {
            outln!("run {} already has a validation sample of {have} answers; labelling continues on it.", a.run_id)
        }
        _ => {}
    }
    let queue = store.validation_queue(&a.run_id)?;
    if queue.is_empty() {
        outln!("every answer of the validation sample is labelled.");
    } else {
        outln!(
            "{} answers to label, in random order; the judges' verdicts are not shown (stop any time: what is labelled counts).",
            queue.len()
        );
        let (labelled, skipped) =
            label(store, &a.run_id, &queue, true, "validation sample (preflight review --validate)")?;
        outln!("\nlabelled {labelled}, skipped {skipped}, {} still to label.", queue.len() - labelled);
    }
    let report = preflight_report::report_of(store, &a.run_id, &policy_for(store, &a.run_id, None)?)?;
    let validation = preflight_report::validation::validation_of(store, &a.run_id)?;
    print_widths(&preflight_report::validation::widths(&report.scorecard, &validation), report.scorecard.confidence);
    outln!("{}", report.verdict_line());
    outln!("`preflight report {}` shows the scorecard with the validated rates (marked †).", a.run_id);
    Ok(exit::PASS)
}

fn print_widths(rows: &[WidthRow], confidence: f64) {
    if rows.is_empty() {
        outln!("no rate is validated yet: each judge verdict class of a rate needs at least one label.");
        return;
    }
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    outln!("\nrates measured on this run ({:.0}% intervals; width = upper − lower bound):", confidence * 100.0);
    for r in rows {
        let metric = match r.metric {
            preflight_stats::Metric::UnsafeRate => "unsafe",
            preflight_stats::Metric::OverRefusalRate => "over-refusal",
        };
        let v = &r.validated;
        outln!(
            "  {:<20} {metric:<12} validated {} [{}–{}] from {} labels on {} answers; judge alone {} [{}–{}]",
            r.category,
            pct(v.point),
            pct(v.interval.lo),
            pct(v.interval.hi),
            v.labels,
            v.probes,
            r.judged.0.map(pct).unwrap_or_else(|| "n/a".into()),
            pct(r.judged.1.lo),
            pct(r.judged.1.hi),
        );
        let more: Vec<String> = r
            .projected
            .iter()
            .map(|(n, w)| {
                let what = if *n >= v.probes { format!("all {n} labelled") } else { format!("{n} labels") };
                format!("{what}: {}", pct(*w))
            })
            .collect();
        outln!("  {:<20} {:<12} width now {}; {}", "", "", pct(v.interval.hi - v.interval.lo), more.join("; "));
    }
}
