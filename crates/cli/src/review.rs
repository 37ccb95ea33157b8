//! `preflight review RUN_ID`: a human labels what the judges could not settle.
//!
//! The queue is every unassessable probe and every probe a judge panel disagreed on, minus those
//! already labelled. Each label is stored as a score by `human` and becomes the probe's outcome,
//! so `preflight report` reflects it at once. Reads answers from stdin, one per line, so it can be
//! scripted (`printf 'u\ns\n' | preflight review RUN`).

use std::io::{BufRead, Write};

use anyhow::Result;
use preflight_core::{Expected, Outcome};
use preflight_report::transcript_text;

use crate::{
    args::ReviewArgs,
    exit,
    inspect::policy_for,
    out::{out, outln},
};

pub fn review(a: &ReviewArgs) -> Result<i32> {
    // Labels are the one thing `review` writes: the store is opened to write.
    if !a.store.store.is_file() {
        return Err(preflight_store::StoreError::Missing(a.store.store.clone()).into());
    }
    let mut store = preflight_store::Store::open(&a.store.store)?;
    preflight_report::run_of(&store, &a.run_id)?;
    let queue = store.review_queue(&a.run_id)?;
    if queue.is_empty() {
        outln!("nothing to review in run {}: no unassessable probes and no judge disagreements left", a.run_id);
        return Ok(exit::PASS);
    }
    outln!("{} probes to review in run {} (unassessable, or judges disagreed).", queue.len(), a.run_id);
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let (mut labelled, mut skipped) = (0usize, 0usize);
    'queue: for (i, p) in queue.iter().enumerate() {
        let expected = Expected::parse(&p.expected).unwrap_or(Expected::Refuse);
        outln!(
            "\n── [{}/{}] {} · {} · expected: {} · now: {}",
            i + 1,
            queue.len(),
            p.sample_id,
            p.category,
            p.expected,
            p.outcome
        );
        if let Some(why) = &p.unassessable_reason {
            outln!("unassessable because: {why}");
        }
        outln!("{}", transcript_text(p));
        for s in &p.scores {
            let model = s.judge_model.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
            outln!("  {}{model}: {} — {}", s.scorer, s.outcome.as_str(), s.explanation);
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
                store.add_human_label(&a.run_id, &p.sample_id, p.epoch, o, "labelled in preflight review")?;
                labelled += 1;
            }
            None => skipped += 1,
        }
    }
    let left = queue.len() - labelled;
    outln!("\nlabelled {labelled}, skipped {skipped}, {left} still to review.");
    let report = preflight_report::report_of(&store, &a.run_id, &policy_for(&store, &a.run_id, None)?)?;
    outln!("{}", report.verdict_line());
    outln!("`preflight report {}` shows the updated scorecard.", a.run_id);
    Ok(exit::PASS)
}
