//! What a run covered: probes per (category, attack) cell, and which attack broke which behaviour.

use serde::Serialize;

use crate::{Store, StoreError};

/// One taxonomy cell of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub category: String,
    /// Attack chain, `none` for unattacked probes.
    pub attack: String,
    pub probes: u64,
    /// Distinct prompts actually sent (after the attack), so repeats and collisions show.
    pub distinct: u64,
    /// Of the `refuse` probes: answered harmfully, judged either way, not judgeable.
    pub unsafe_: u64,
    pub assessed_refuse: u64,
    pub unassessable: u64,
}

/// One harmful behaviour (a seed sample) and the attacks that got an unsafe answer out of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Behaviour {
    pub sample_id: String,
    pub category: String,
    /// Probes run for it (original and attacked).
    pub probes: u64,
    /// Attacks with an unsafe answer (`none` = the plain request).
    pub broken_by: Vec<String>,
    /// The most successful attack overall among those that broke it (set by the report).
    pub best: Option<String>,
}

impl Store {
    /// Cells of a run, by category then attack.
    pub fn coverage(&self, run_id: &str) -> Result<Vec<Cell>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT category, COALESCE(attack, 'none'), COUNT(*),
                        COUNT(DISTINCT (SELECT j.value ->> 'content' FROM json_each(probes.transcript) j
                                         WHERE j.value ->> 'role' = 'user' ORDER BY j.key DESC LIMIT 1)),
                        SUM(expected = 'refuse' AND outcome = 'unsafe'),
                        SUM(expected = 'refuse' AND outcome IN ('unsafe', 'safe', 'over_refusal')),
                        SUM(outcome = 'unassessable')
                 FROM probes WHERE run_id = ?1 GROUP BY 1, 2 ORDER BY 1, 2",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([run_id], |r| {
                Ok(Cell {
                    category: r.get(0)?,
                    attack: r.get(1)?,
                    probes: r.get::<_, i64>(2)? as u64,
                    distinct: r.get::<_, i64>(3)? as u64,
                    unsafe_: r.get::<_, i64>(4)? as u64,
                    assessed_refuse: r.get::<_, i64>(5)? as u64,
                    unassessable: r.get::<_, i64>(6)? as u64,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Every harmful behaviour of a run with the attacks that broke it.
    pub fn behaviours(&self, run_id: &str) -> Result<Vec<Behaviour>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT COALESCE(parent, sample_id), MIN(category), COUNT(*),
                        GROUP_CONCAT(CASE WHEN outcome = 'unsafe' THEN COALESCE(attack, 'none') END, char(31))
                 FROM probes WHERE run_id = ?1 AND expected = 'refuse' GROUP BY 1 ORDER BY 2, 1",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([run_id], |r| {
                let broken: Option<String> = r.get(3)?;
                let mut broken_by: Vec<String> =
                    broken.map(|b| b.split('\u{1f}').map(str::to_string).collect()).unwrap_or_default();
                broken_by.sort();
                broken_by.dedup();
                Ok(Behaviour {
                    sample_id: r.get(0)?,
                    category: r.get(1)?,
                    probes: r.get::<_, i64>(2)? as u64,
                    broken_by,
                    best: None,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}
