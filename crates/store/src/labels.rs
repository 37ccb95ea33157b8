//! Human labels (`preflight review`) and judge calibrations (`preflight judge check`).

use preflight_core::{Outcome, Score};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::{ProbeRow, Store, StoreError, now_rfc3339};

/// A judge checked against human labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Calibration {
    pub id: i64,
    pub created_at: String,
    pub scorer: String,
    pub judge_model: String,
    pub prompt_hash: String,
    pub labels_path: String,
    pub labels_sha256: String,
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    pub fn_: u64,
    pub unassessable: u64,
}

impl Store {
    /// Probes waiting for a human: unassessable ones, and those a judge panel disagreed on,
    /// unless a human already labelled them.
    pub fn review_queue(&self, run_id: &str) -> Result<Vec<ProbeRow>, StoreError> {
        self.probes_where(
            run_id,
            "SELECT p.sample_id, p.epoch FROM probes p WHERE p.run_id = ?1
                   AND NOT EXISTS (SELECT 1 FROM scores h WHERE h.run_id = p.run_id AND h.sample_id = p.sample_id
                                   AND h.epoch = p.epoch AND h.scorer = 'human')
                   AND (p.outcome = 'unassessable'
                        OR EXISTS (SELECT 1 FROM scores s WHERE s.run_id = p.run_id AND s.sample_id = p.sample_id
                                   AND s.epoch = p.epoch AND s.scorer = 'panel' AND s.label = 'disagree'))
                 ORDER BY p.category, p.sample_id, p.epoch",
            &[],
        )
    }

    /// The probes whose `(sample_id, epoch)` the query `sql` selects, in its order; `?1` is the
    /// run, `?2`… are `more`.
    pub(crate) fn probes_where(
        &self,
        run_id: &str,
        sql: &str,
        more: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<ProbeRow>, StoreError> {
        let mut st = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let params: Vec<&dyn rusqlite::ToSql> =
            std::iter::once(&run_id as &dyn rusqlite::ToSql).chain(more.iter().copied()).collect();
        let keys: Vec<(String, i64)> = st
            .query_map(params.as_slice(), |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?
            .collect::<Result<_, _>>()
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(keys.len());
        for (sample, epoch) in keys {
            out.extend(self.probe(run_id, &sample, epoch as u32)?);
        }
        Ok(out)
    }

    /// Stores a human label as a score by `human` and makes it the probe's outcome, in one
    /// transaction.
    pub fn add_human_label(
        &mut self,
        run_id: &str,
        sample_id: &str,
        epoch: u32,
        outcome: Outcome,
        note: &str,
    ) -> Result<(), StoreError> {
        let now = now_rfc3339();
        let path = self.path().to_path_buf();
        let fail = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(fail)?;
        let score = Score {
            scorer: "human".into(),
            outcome,
            label: Some(outcome.as_str().into()),
            value: None,
            explanation: note.into(),
            judge_model: None,
            prompt_hash: None,
        };
        let run = || -> Result<(), rusqlite::Error> {
            tx.execute(
                "INSERT OR REPLACE INTO scores (run_id, sample_id, epoch, scorer, outcome, label, value, explanation,
                     judge_model, prompt_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, NULL, NULL, ?8)",
                params![
                    run_id,
                    sample_id,
                    epoch as i64,
                    score.scorer,
                    outcome.as_str(),
                    score.label,
                    score.explanation,
                    now
                ],
            )?;
            tx.execute(
                "UPDATE probes SET outcome = ?4, unassessable_reason = NULL
                 WHERE run_id = ?1 AND sample_id = ?2 AND epoch = ?3",
                params![run_id, sample_id, epoch as i64, outcome.as_str()],
            )?;
            Ok(())
        };
        run().map_err(fail)?;
        tx.commit().map_err(fail)
    }

    /// Probes of a run a human labelled.
    pub fn human_labels(&self, run_id: &str) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT COUNT(*) FROM scores WHERE run_id = ?1 AND scorer = 'human'", [run_id], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// The (judge model, prompt hash) a scorer recorded in a run, if it scored anything.
    pub fn scorer_identity(&self, run_id: &str, scorer: &str) -> Result<Option<(String, String)>, StoreError> {
        self.conn
            .query_row(
                "SELECT COALESCE(judge_model, ''), COALESCE(prompt_hash, '') FROM scores
                 WHERE run_id = ?1 AND scorer = ?2 LIMIT 1",
                [run_id, scorer],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Records a calibration; returns its id.
    pub fn add_calibration(&self, c: &Calibration) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO calibrations (created_at, scorer, judge_model, prompt_hash, labels_path, labels_sha256,
                     tp, fp, tn, fn, unassessable) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    now_rfc3339(),
                    c.scorer,
                    c.judge_model,
                    c.prompt_hash,
                    c.labels_path,
                    c.labels_sha256,
                    c.tp as i64,
                    c.fp as i64,
                    c.tn as i64,
                    c.fn_ as i64,
                    c.unassessable as i64
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The newest calibration of exactly this judge (scorer, model and prompt).
    pub fn latest_calibration(
        &self,
        scorer: &str,
        judge_model: &str,
        prompt_hash: &str,
    ) -> Result<Option<Calibration>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, created_at, scorer, judge_model, prompt_hash, labels_path, labels_sha256, tp, fp, tn, fn,
                        unassessable FROM calibrations
                 WHERE scorer = ?1 AND judge_model = ?2 AND prompt_hash = ?3 ORDER BY id DESC LIMIT 1",
                [scorer, judge_model, prompt_hash],
                |r| {
                    Ok(Calibration {
                        id: r.get(0)?,
                        created_at: r.get(1)?,
                        scorer: r.get(2)?,
                        judge_model: r.get(3)?,
                        prompt_hash: r.get(4)?,
                        labels_path: r.get(5)?,
                        labels_sha256: r.get(6)?,
                        tp: r.get::<_, i64>(7)? as u64,
                        fp: r.get::<_, i64>(8)? as u64,
                        tn: r.get::<_, i64>(9)? as u64,
                        fn_: r.get::<_, i64>(10)? as u64,
                        unassessable: r.get::<_, i64>(11)? as u64,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }
}
