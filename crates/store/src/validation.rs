//! Validation samples (`preflight review RUN --validate N`): a stratified random sample of a
//! run's answered probes, drawn once and stored, then labelled by a human. The stratum is the
//! judge's verdict when the sample was drawn, so a human label that later becomes the probe's
//! outcome does not move the probe out of its stratum.

use preflight_core::is_harness_error;
use rusqlite::params;

use crate::{ProbeRow, Store, StoreError, now_rfc3339};

/// One probe as validation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgedProbe {
    pub sample_id: String,
    pub epoch: u32,
    pub category: String,
    pub expected: String,
    /// The judge's verdict: `unsafe`, `safe`, `over_refusal` or `unassessable` (it could not
    /// decide on an answer it had). Harness errors (no answer to judge) are `None`.
    pub judged: Option<String>,
    /// In the run's validation sample.
    pub sampled: bool,
    /// A human's label, if any: `unsafe`, `safe` or `over_refusal`.
    pub human: Option<String>,
}

impl Store {
    /// Every probe of a run with the judge's verdict (from `decider`'s score where a human has
    /// since labelled it), whether it is in the validation sample, and its human label.
    pub fn judged_probes(&self, run_id: &str, decider: &str) -> Result<Vec<JudgedProbe>, StoreError> {
        let sample_join = if self.schema >= 4 {
            "LEFT JOIN validation v ON v.run_id = p.run_id AND v.sample_id = p.sample_id AND v.epoch = p.epoch"
        } else {
            "LEFT JOIN (SELECT NULL AS stratum, NULL AS run_id) v ON 0"
        };
        let sql = format!(
            "SELECT p.sample_id, p.epoch, p.category, p.expected, p.outcome, p.unassessable_reason,
                    v.stratum, h.outcome, d.outcome
             FROM probes p {sample_join}
             LEFT JOIN scores h ON h.run_id = p.run_id AND h.sample_id = p.sample_id AND h.epoch = p.epoch
                                AND h.scorer = 'human'
             LEFT JOIN scores d ON d.run_id = p.run_id AND d.sample_id = p.sample_id AND d.epoch = p.epoch
                                AND d.scorer = ?2
             WHERE p.run_id = ?1 ORDER BY p.category, p.sample_id, p.epoch"
        );
        let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![run_id, decider], |r| {
                let outcome: String = r.get(4)?;
                let reason: Option<String> = r.get(5)?;
                let stratum: Option<String> = r.get(6)?;
                let human: Option<String> = r.get(7)?;
                let decided: Option<String> = r.get(8)?;
                let judged = match (&stratum, &human) {
                    (Some(s), _) => Some(s.clone()),
                    // Labelled by a human: what the judge said is in its score.
                    (None, Some(_)) => Some(decided.unwrap_or_else(|| "unassessable".into())),
                    (None, None) if reason.as_deref().is_some_and(is_harness_error) => None,
                    (None, None) => Some(outcome),
                };
                Ok(JudgedProbe {
                    sample_id: r.get(0)?,
                    epoch: r.get::<_, i64>(1)? as u32,
                    category: r.get(2)?,
                    expected: r.get(3)?,
                    judged,
                    sampled: stratum.is_some(),
                    human,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Probes in the run's validation sample.
    pub fn validation_size(&self, run_id: &str) -> Result<u64, StoreError> {
        if self.schema < 4 {
            return Ok(0);
        }
        self.conn
            .query_row("SELECT COUNT(*) FROM validation WHERE run_id = ?1", [run_id], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Stores a drawn sample: `(sample, epoch, stratum)` in labelling order.
    pub fn add_validation_sample(
        &mut self,
        run_id: &str,
        drawn: &[(String, u32, String)],
        seed: u64,
    ) -> Result<(), StoreError> {
        let now = now_rfc3339();
        let path = self.path().to_path_buf();
        let fail = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(fail)?;
        {
            let mut st = tx
                .prepare(
                    "INSERT INTO validation (run_id, sample_id, epoch, stratum, ord, seed, drawn_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(fail)?;
            for (ord, (sample, epoch, stratum)) in drawn.iter().enumerate() {
                st.execute(params![run_id, sample, *epoch as i64, stratum, ord as i64, seed as i64, now])
                    .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)
    }

    /// The sample's probes no human has labelled yet, in labelling order.
    pub fn validation_queue(&self, run_id: &str) -> Result<Vec<ProbeRow>, StoreError> {
        if self.schema < 4 {
            return Ok(Vec::new());
        }
        self.probes_where(
            run_id,
            "SELECT v.sample_id, v.epoch FROM validation v WHERE v.run_id = ?1
               AND NOT EXISTS (SELECT 1 FROM scores h WHERE h.run_id = v.run_id AND h.sample_id = v.sample_id
                               AND h.epoch = v.epoch AND h.scorer = 'human')
             ORDER BY v.ord",
            &[],
        )
    }
}
