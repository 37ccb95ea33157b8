//! Results of the persuasion games: one row per (conversation, measure).

use std::collections::{BTreeMap, HashSet};

use preflight_core::{MeasureRecord, Message};

use crate::{Store, StoreError};

/// One stored row of a game conversation: (measure, value, detail JSON, transcript).
pub type GameRow = (String, Option<f64>, serde_json::Value, Vec<Message>);

/// One stored agent attempt: (item, epoch, category, value, detail JSON).
pub type AgentAttempt = (String, u32, String, Option<f64>, serde_json::Value);

/// Per category, per measure: `(cluster, value)` observations, and how many gave no value.
pub type MeasureObs = BTreeMap<String, BTreeMap<String, (Vec<(String, f64)>, u64)>>;

impl Store {
    /// Every measured value of a run with its conversation, in item order (exports).
    pub fn measures(&self, run_id: &str) -> Result<Vec<MeasureRecord>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT item_id, epoch, category, game, cluster, measure, value, detail, transcript FROM measures
                 WHERE run_id = ?1 ORDER BY item_id, epoch, measure",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([run_id], |r| {
                let detail: String = r.get(7)?;
                let transcript: String = r.get(8)?;
                Ok(MeasureRecord {
                    item_id: r.get(0)?,
                    epoch: r.get::<_, i64>(1)? as u32,
                    category: r.get(2)?,
                    game: r.get(3)?,
                    cluster: r.get(4)?,
                    measure: r.get(5)?,
                    value: r.get(6)?,
                    detail: serde_json::from_str(&detail).unwrap_or_default(),
                    transcript: serde_json::from_str(&transcript).unwrap_or_default(),
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Agent attempts and knowledge questions of a run, and how many of them the harness or the
    /// provider spoiled (no value, for another reason than an answer naming no choice): the
    /// capability twin of [`Store::harness_errors`].
    pub fn spoiled_capabilities(&self, run_id: &str) -> Result<(u64, u64), StoreError> {
        self.conn
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(value IS NULL AND COALESCE(json_extract(detail, '$.unassessable_reason'), '') <> 'no_choice'), 0)
                 FROM measures WHERE run_id = ?1 AND game IN ('agent', 'knowledge')",
                [run_id],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(|e| self.err(e))
    }

    /// Every agent attempt of a run: (item, epoch, category, value, detail), in item order.
    pub fn agent_attempts(&self, run_id: &str) -> Result<Vec<AgentAttempt>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT item_id, epoch, category, value, detail FROM measures WHERE run_id = ?1 AND game = 'agent'
                 ORDER BY category, item_id, epoch",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([run_id], |r| {
                let detail: String = r.get(4)?;
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)? as u32,
                    r.get(2)?,
                    r.get(3)?,
                    serde_json::from_str(&detail).unwrap_or_default(),
                ))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// (item, epoch) of every stored game conversation of a run (resume).
    pub fn measured_items(&self, run_id: &str) -> Result<HashSet<(String, u32)>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT DISTINCT item_id, epoch FROM measures WHERE run_id = ?1")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([run_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u32)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Per measure, the conversation with the highest value: (measure, item, value).
    pub fn measure_examples(&self, run_id: &str) -> Result<Vec<(String, String, f64)>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT measure, item_id, MAX(value) FROM measures WHERE run_id = ?1 AND value IS NOT NULL
                 AND measure != 'control_shift' GROUP BY measure ORDER BY measure",
            )
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// One game conversation's rows: (measure, value, detail JSON, transcript).
    pub fn measure_item(&self, run_id: &str, item_id: &str) -> Result<Vec<GameRow>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT measure, value, detail, transcript FROM measures WHERE run_id = ?1 AND item_id = ?2")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([run_id, item_id], |r| {
                let detail: String = r.get(2)?;
                let transcript: String = r.get(3)?;
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    serde_json::from_str(&detail).unwrap_or_default(),
                    serde_json::from_str(&transcript).unwrap_or_default(),
                ))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Every measure of a run, grouped for the scorecard.
    pub fn measure_obs(&self, run_id: &str) -> Result<MeasureObs, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT category, measure, cluster, value FROM measures WHERE run_id = ?1 ORDER BY rowid")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([run_id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<f64>>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = MeasureObs::new();
        for row in rows {
            let (cat, measure, cluster, value) = row.map_err(|e| self.err(e))?;
            let slot = out.entry(cat).or_default().entry(measure).or_default();
            match value {
                Some(v) => slot.0.push((cluster, v)),
                None => slot.1 += 1,
            }
        }
        Ok(out)
    }
}

/// One measured value, keyed for pairing: (category, measure, item, epoch, cluster, value).
pub type MeasureItem = (String, String, String, u32, String, Option<f64>);

impl Store {
    /// Every measured value of a run, item by item (paired comparisons).
    pub fn measure_items(&self, run_id: &str) -> Result<Vec<MeasureItem>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT category, measure, item_id, epoch, cluster, value FROM measures WHERE run_id = ?1
                 ORDER BY category, measure, item_id, epoch",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([run_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)? as u32, r.get(4)?, r.get(5)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}
