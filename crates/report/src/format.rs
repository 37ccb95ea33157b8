//! preflight's result format: what `preflight export` writes, and what exports, the viewer and
//! workers read. JSON Lines, one record per line, each with a `type`:
//!
//! - `run` (first line): `schema_version`, then the run as stored (id, status, suite, model,
//!   judge, totals, verdict, configuration);
//! - `probe`: one probe with its transcript, outcome and every score (the deciding one last);
//! - `measure`: one persuasion-game conversation's measured value;
//! - `stop`: one category of a sequential run (drawn, rounds, why it stopped).
//!
//! The JSON Schema is `docs/result-format.schema.json`; `docs/result-format.md` documents every
//! field. [`SCHEMA_VERSION`] changes when a field changes meaning or goes away; new optional
//! fields do not change it.

use std::io::Write;

use preflight_core::{CategoryStop, MeasureRecord, ModelSpend};
use preflight_store::{ProbeRow, RunRow, Store};
use serde::Serialize;

use crate::{BuildError, build::run_of, safe};

/// The result format's version (the `schema_version` of a `run` record and of `report --format json`).
pub const SCHEMA_VERSION: u32 = 1;

/// One line of an export.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Record<'a> {
    Run { schema_version: u32, run: &'a RunRow },
    Probe(&'a ProbeRow),
    Measure(&'a MeasureRecord),
    Stop(&'a CategoryStop),
    Spend(&'a ModelSpend),
}

/// How many records of each kind an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exported {
    pub probes: u64,
    pub measures: u64,
    pub stops: u64,
    pub spend: u64,
}

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Store(#[from] preflight_store::StoreError),
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
}

fn line(out: &mut impl Write, r: &Record<'_>) -> Result<(), ExportError> {
    let text = serde_json::to_string(r).expect("records serialise");
    // Safe to print: the characters a terminal acts on are \u-escaped, the data unchanged.
    out.write_all(safe::json(&text).as_bytes())?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Writes run `run_id` as JSON Lines, probes streamed one at a time.
pub fn export(store: &Store, run_id: &str, out: &mut impl Write) -> Result<Exported, ExportError> {
    let run = run_of(store, run_id)?;
    line(out, &Record::Run { schema_version: SCHEMA_VERSION, run: &run })?;
    let mut n = Exported::default();
    store.for_each_probe(run_id, |p| -> Result<(), ExportError> {
        n.probes += 1;
        line(out, &Record::Probe(&p))
    })?;
    for m in store.measures(run_id)? {
        n.measures += 1;
        line(out, &Record::Measure(&m))?;
    }
    for s in store.stops(run_id)? {
        n.stops += 1;
        line(out, &Record::Stop(&s))?;
    }
    for m in store.spend(run_id)? {
        n.spend += 1;
        line(out, &Record::Spend(&m))?;
    }
    out.flush()?;
    Ok(n)
}
