//! `preflight review RUN --validate N`: draws a stratified random sample of a run's answered
//! probes for human labels. Strata are (category, expected behaviour, the judge's verdict); the
//! labels are spread evenly over a run's (category, expected) groups and, within a group, evenly
//! over the judge's verdicts, so the judge's rare verdict is measured as well as its common one.
//! The sample is stored once, in a random labelling order: a human who stops half-way leaves a
//! random sample of each stratum, which is all the estimate needs.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use preflight_stats::{plan::Rng, validation::allocate};
use preflight_store::{JudgedProbe, Store};

/// What was drawn, per (category, expected, judge's verdict): probes there and sampled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    pub seed: u64,
    pub cells: Vec<(String, String, String, u64, u64)>,
}

/// Draws and stores `n` probes of `run_id` (all of them when it has fewer answered). Refused
/// when the run already has a sample: labelling continues on that one.
pub fn draw(store: &mut Store, run_id: &str, n: u64, seed: u64) -> Result<Drawn> {
    if n == 0 {
        bail!("a validation sample of 0 answers validates nothing");
    }
    let existing = store.validation_size(run_id)?;
    if existing > 0 {
        bail!(
            "run {run_id} already has a validation sample of {existing} probes; `preflight review {run_id} --validate` labels the rest of it"
        );
    }
    let decider = preflight_report::decider_of(store, run_id)?.unwrap_or("refusal");
    let probes = store.judged_probes(run_id, decider)?;
    // (category, expected) → judge's verdict → probes.
    let mut groups: BTreeMap<(&str, &str), BTreeMap<&str, Vec<&JudgedProbe>>> = BTreeMap::new();
    for p in &probes {
        if let Some(j) = p.judged.as_deref() {
            groups.entry((&p.category, &p.expected)).or_default().entry(j).or_default().push(p);
        }
    }
    if groups.is_empty() {
        bail!("run {run_id} has no answered probes to validate");
    }
    let sizes: Vec<u64> = groups.values().map(|g| g.values().map(|v| v.len() as u64).sum()).collect();
    let per_group = allocate(&sizes, n);
    let mut rng = Rng::new(seed);
    let mut drawn = Vec::new();
    let mut cells = Vec::new();
    for (((cat, expected), by_verdict), want) in groups.into_iter().zip(per_group) {
        let sizes: Vec<u64> = by_verdict.values().map(|v| v.len() as u64).collect();
        for ((verdict, mut members), take) in by_verdict.into_iter().zip(allocate(&sizes, want)) {
            rng.shuffle(&mut members);
            cells.push((cat.to_string(), expected.to_string(), verdict.to_string(), members.len() as u64, take));
            drawn.extend(
                members.into_iter().take(take as usize).map(|p| (p.sample_id.clone(), p.epoch, verdict.to_string())),
            );
        }
    }
    rng.shuffle(&mut drawn);
    store.add_validation_sample(run_id, &drawn, seed)?;
    Ok(Drawn { seed, cells })
}
