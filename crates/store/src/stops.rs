//! What a sequential run did per category: units drawn, rounds, and why it stopped; and each
//! probe's outcome with its cluster, for design effects and paired comparisons.

use preflight_core::CategoryStop;

use crate::{ProbeRow, Store, StoreError};

/// One probe's outcome, keyed for pairing.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeRow {
    pub sample_id: String,
    pub epoch: u32,
    pub category: String,
    pub expected: String,
    pub outcome: String,
    /// The seed behaviour the probe belongs to (its parent, or itself).
    pub cluster: String,
}

impl Store {
    /// A run's planner state by category (empty for a fixed-size run).
    pub fn stops(&self, run_id: &str) -> Result<Vec<CategoryStop>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT category, drawn, rounds, reason FROM stops WHERE run_id = ?1 ORDER BY category")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([run_id], |r| {
                Ok(CategoryStop {
                    category: r.get(0)?,
                    drawn: r.get::<_, i64>(1)? as u64,
                    rounds: r.get::<_, i64>(2)? as u32,
                    reason: r.get(3)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Every probe's outcome with its cluster, in sample order.
    pub fn outcomes(&self, run_id: &str) -> Result<Vec<OutcomeRow>, StoreError> {
        let mut out = Vec::new();
        self.for_each_outcome(run_id, |r| out.push(r))?;
        Ok(out)
    }

    /// Calls `f` with every probe's outcome and cluster, in sample order, one at a time (a
    /// scorecard of 10⁶ probes holds its counts, not its rows).
    pub fn for_each_outcome(&self, run_id: &str, mut f: impl FnMut(OutcomeRow)) -> Result<(), StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT sample_id, epoch, category, expected, outcome, COALESCE(parent, sample_id)
                 FROM probes WHERE run_id = ?1 ORDER BY sample_id, epoch",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([run_id]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let row = (|| {
                Ok::<_, rusqlite::Error>(OutcomeRow {
                    sample_id: r.get(0)?,
                    epoch: r.get::<_, i64>(1)? as u32,
                    category: r.get(2)?,
                    expected: r.get(3)?,
                    outcome: r.get(4)?,
                    cluster: r.get(5)?,
                })
            })()
            .map_err(|e| self.err(e))?;
            f(row);
        }
        Ok(())
    }

    /// A run's probes with `outcome`, at most `per_category` of each category (the first in
    /// sample order), loaded whole: the report's evidence.
    pub fn examples(&self, run_id: &str, outcome: &str, per_category: usize) -> Result<Vec<ProbeRow>, StoreError> {
        self.probes_where(
            run_id,
            "SELECT sample_id, epoch FROM (SELECT sample_id, epoch, category,
                 ROW_NUMBER() OVER (PARTITION BY category ORDER BY sample_id, epoch) AS n
                 FROM probes WHERE run_id = ?1 AND outcome = ?2)
             WHERE n <= ?3 ORDER BY category, sample_id, epoch",
            &[&outcome, &(per_category as i64)],
        )
    }
}
