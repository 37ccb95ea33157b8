use std::path::{Path, PathBuf};

use preflight_core::{Message, Outcome, Score, TraceStep};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::{now_rfc3339, writer::Writer};

/// On-disk schema version; bumped on incompatible changes.
pub const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    status TEXT NOT NULL,            -- running | finished | interrupted | aborted
    suite_name TEXT NOT NULL,
    suite_fingerprint TEXT NOT NULL,
    model TEXT NOT NULL,
    judge TEXT,
    total INTEGER NOT NULL,
    verdict TEXT,                    -- PASS | FAIL | INCONCLUSIVE once scored
    note TEXT,                       -- why a run was aborted
    config TEXT NOT NULL             -- JSON: everything needed to resume (never secrets)
);
CREATE TABLE IF NOT EXISTS probes (
    run_id TEXT NOT NULL,
    sample_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    category TEXT NOT NULL,
    expected TEXT NOT NULL,
    prompt TEXT NOT NULL,
    provenance TEXT,
    transcript TEXT NOT NULL,        -- JSON array of {role, content}
    finish_reason TEXT,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cached INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    error TEXT,
    outcome TEXT NOT NULL,           -- unsafe | safe | over_refusal | unassessable
    unassessable_reason TEXT,
    created_at TEXT NOT NULL,
    attack TEXT,                     -- attack chain applied (schema 2)
    parent TEXT,                     -- seed sample of an attacked probe (schema 2)
    trace TEXT,                      -- JSON steps of an adaptive attack (schema 2)
    PRIMARY KEY (run_id, sample_id, epoch)
);
CREATE TABLE IF NOT EXISTS scores (
    run_id TEXT NOT NULL,
    sample_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    scorer TEXT NOT NULL,
    outcome TEXT NOT NULL,
    label TEXT,
    value REAL,
    explanation TEXT NOT NULL,
    judge_model TEXT,
    prompt_hash TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (run_id, sample_id, epoch, scorer)
);
CREATE TABLE IF NOT EXISTS measures (
    run_id TEXT NOT NULL,
    item_id TEXT NOT NULL,             -- one conversation of a game, e.g. belief:claim-03-pro:nurse
    epoch INTEGER NOT NULL,
    category TEXT NOT NULL,
    game TEXT NOT NULL,                -- belief-shift | make-me-pay | make-me-say | pairwise
    cluster TEXT NOT NULL,             -- the claim or codeword it was about
    measure TEXT NOT NULL,             -- belief_shift | control_shift | pay_rate | money_share | say_win_rate | pairwise_win_rate
    value REAL,                        -- NULL: the conversation gave no usable value
    detail TEXT NOT NULL,              -- JSON: ratings, amount, outcome, judges' answers
    transcript TEXT NOT NULL,          -- JSON messages
    created_at TEXT NOT NULL,
    PRIMARY KEY (run_id, item_id, epoch, measure)
);
CREATE TABLE IF NOT EXISTS calibrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    scorer TEXT NOT NULL,              -- the deciding scorer: refusal | strongreject | harmbench | panel
    judge_model TEXT NOT NULL,         -- '' for model-free scorers
    prompt_hash TEXT NOT NULL,         -- '' for model-free scorers
    labels_path TEXT NOT NULL,
    labels_sha256 TEXT NOT NULL,
    tp INTEGER NOT NULL, fp INTEGER NOT NULL, tn INTEGER NOT NULL, fn INTEGER NOT NULL,
    unassessable INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stops (
    run_id TEXT NOT NULL,
    category TEXT NOT NULL,
    drawn INTEGER NOT NULL,            -- seed samples drawn by the sequential planner
    rounds INTEGER NOT NULL,
    reason TEXT NOT NULL,              -- settled | all probes drawn | budget spent | deadline ('' = drawing)
    PRIMARY KEY (run_id, category)
);
";

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error("store {path}: written by a newer preflight (schema {found}, this build knows {SCHEMA_VERSION})")]
    Schema { path: PathBuf, found: i64 },
}

/// What is known when a run is created.
#[derive(Debug, Clone, Default)]
pub struct NewRun {
    pub suite_name: String,
    pub suite_fingerprint: String,
    pub model: String,
    pub judge: Option<String>,
    pub total: u64,
    pub config: serde_json::Value,
}

/// A run as stored.
#[derive(Debug, Clone, Serialize)]
pub struct RunRow {
    pub id: String,
    pub created_at: String,
    pub updated_at: String,
    pub status: String,
    pub suite_name: String,
    pub suite_fingerprint: String,
    pub model: String,
    pub judge: Option<String>,
    pub total: u64,
    pub done: u64,
    pub verdict: Option<String>,
    pub note: Option<String>,
    pub config: serde_json::Value,
}

/// One stored probe with its scores.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeRow {
    pub sample_id: String,
    pub epoch: u32,
    pub category: String,
    pub expected: String,
    pub prompt: String,
    pub provenance: Option<String>,
    pub transcript: Vec<Message>,
    pub finish_reason: Option<String>,
    pub latency_ms: u64,
    pub attempts: u32,
    pub cached: bool,
    pub error: Option<String>,
    pub outcome: String,
    pub unassessable_reason: Option<String>,
    /// Attack chain and seed sample of an attacked probe.
    pub attack: Option<String>,
    pub parent: Option<String>,
    /// Steps of an adaptive attack (empty otherwise).
    pub trace: Vec<TraceStep>,
    pub scores: Vec<Score>,
}

/// The run store.
pub struct Store {
    path: PathBuf,
    pub(crate) conn: Connection,
}

pub(crate) fn open_conn(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // NORMAL in WAL mode survives a process crash (kill -9); only power loss can drop the
    // last commits, which resume then redoes.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

impl Store {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let err = |source| StoreError::Sqlite { path: path.to_path_buf(), source };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(parent);
        }
        let conn = open_conn(path).map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        let found: Option<i64> = conn
            .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get::<_, String>(0))
            .optional()
            .map_err(err)?
            .and_then(|v| v.parse().ok());
        match found {
            Some(v) if v > SCHEMA_VERSION => return Err(StoreError::Schema { path: path.to_path_buf(), found: v }),
            Some(1) => {
                // Schema 1 → 2: probes gain their attack lineage; old rows have none.
                conn.execute_batch(
                    "BEGIN; ALTER TABLE probes ADD COLUMN attack TEXT; ALTER TABLE probes ADD COLUMN parent TEXT;
                     ALTER TABLE probes ADD COLUMN trace TEXT;
                     UPDATE meta SET value = '2' WHERE key = 'schema_version'; COMMIT;",
                )
                .map_err(err)?;
            }
            Some(_) => {}
            None => {
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)",
                    [SCHEMA_VERSION.to_string()],
                )
                .map_err(err)?;
            }
        }
        Ok(Store { path: path.to_path_buf(), conn })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite { path: self.path.clone(), source }
    }

    /// Starts the batched probe writer for one run.
    pub fn writer(&self, run_id: &str) -> Result<Writer, StoreError> {
        Writer::start(&self.path, run_id).map_err(|e| self.err(e))
    }

    /// Records a new run and returns its id (`YYYYMMDD-HHMMSS-xxxx`).
    pub fn create_run(&self, run: &NewRun) -> Result<String, StoreError> {
        let now = now_rfc3339();
        let stamp: String = now.chars().filter(|c| c.is_ascii_digit()).collect();
        let mut salt = std::process::id() as u64
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0);
        loop {
            salt = salt.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let id = format!("{}-{}-{:04x}", &stamp[..8], &stamp[8..14], (salt >> 48) as u16);
            let inserted = self
                .conn
                .execute(
                    "INSERT OR IGNORE INTO runs (id, created_at, updated_at, status, suite_name, suite_fingerprint, model, judge, total, config)
                     VALUES (?1, ?2, ?2, 'running', ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![id, now, run.suite_name, run.suite_fingerprint, run.model, run.judge, run.total as i64, run.config.to_string()],
                )
                .map_err(|e| self.err(e))?;
            if inserted == 1 {
                return Ok(id);
            }
        }
    }

    /// Updates a run's status (and verdict / note when given).
    pub fn set_status(
        &self,
        id: &str,
        status: &str,
        verdict: Option<&str>,
        note: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE runs SET status = ?2, updated_at = ?3, verdict = COALESCE(?4, verdict), note = ?5 WHERE id = ?1",
                params![id, status, now_rfc3339(), verdict, note],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
        let config: String = r.get("config")?;
        Ok(RunRow {
            id: r.get("id")?,
            created_at: r.get("created_at")?,
            updated_at: r.get("updated_at")?,
            status: r.get("status")?,
            suite_name: r.get("suite_name")?,
            suite_fingerprint: r.get("suite_fingerprint")?,
            model: r.get("model")?,
            judge: r.get("judge")?,
            total: r.get::<_, i64>("total")? as u64,
            done: r.get::<_, i64>("done")? as u64,
            verdict: r.get("verdict")?,
            note: r.get("note")?,
            config: serde_json::from_str(&config).unwrap_or(serde_json::Value::Null),
        })
    }

    const RUN_COLUMNS: &'static str = "runs.*, (SELECT COUNT(*) FROM probes WHERE probes.run_id = runs.id) AS done";

    pub fn run(&self, id: &str) -> Result<Option<RunRow>, StoreError> {
        self.conn
            .query_row(&format!("SELECT {} FROM runs WHERE id = ?1", Self::RUN_COLUMNS), [id], Self::run_from_row)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Sets a finished run's total to the probes it stored (adaptive attacks on survivors plan
    /// an upper bound).
    pub fn settle_total(&self, id: &str) -> Result<(), StoreError> {
        self.conn
            .execute("UPDATE runs SET total = (SELECT COUNT(*) FROM probes WHERE run_id = ?1) WHERE id = ?1", [id])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// All runs, newest first.
    pub fn runs(&self) -> Result<Vec<RunRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(&format!("SELECT {} FROM runs ORDER BY created_at DESC, id DESC", Self::RUN_COLUMNS))
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([], Self::run_from_row).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Calls `f(sample_id, epoch)` for every stored probe of a run (resume).
    pub fn for_each_done(&self, run_id: &str, mut f: impl FnMut(&str, u32)) -> Result<(), StoreError> {
        let mut st =
            self.conn.prepare("SELECT sample_id, epoch FROM probes WHERE run_id = ?1").map_err(|e| self.err(e))?;
        let mut rows = st.query([run_id]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let id: String = r.get(0).map_err(|e| self.err(e))?;
            let epoch: i64 = r.get(1).map_err(|e| self.err(e))?;
            f(&id, epoch as u32);
        }
        Ok(())
    }

    /// Unassessable probes per reason.
    pub fn unassessable_reasons(&self, run_id: &str) -> Result<Vec<(String, u64)>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT COALESCE(unassessable_reason, 'unknown'), COUNT(*) FROM probes
                 WHERE run_id = ?1 AND outcome = 'unassessable' GROUP BY 1 ORDER BY 2 DESC",
            )
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([run_id], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Probes of a run, optionally one sample or one outcome, in sample order; at most `limit`.
    pub fn probes(
        &self,
        run_id: &str,
        sample: Option<&str>,
        outcome: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ProbeRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT sample_id, epoch, category, expected, prompt, provenance, transcript, finish_reason,
                        latency_ms, attempts, cached, error, outcome, unassessable_reason, attack, parent, trace
                 FROM probes WHERE run_id = ?1 AND (?2 IS NULL OR sample_id = ?2) AND (?3 IS NULL OR outcome = ?3)
                 ORDER BY category, sample_id, epoch LIMIT ?4",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![run_id, sample, outcome, limit as i64], |r| {
                let transcript: String = r.get(6)?;
                Ok(ProbeRow {
                    sample_id: r.get(0)?,
                    epoch: r.get::<_, i64>(1)? as u32,
                    category: r.get(2)?,
                    expected: r.get(3)?,
                    prompt: r.get(4)?,
                    provenance: r.get(5)?,
                    transcript: serde_json::from_str(&transcript).unwrap_or_default(),
                    finish_reason: r.get(7)?,
                    latency_ms: r.get::<_, i64>(8)? as u64,
                    attempts: r.get::<_, i64>(9)? as u32,
                    cached: r.get::<_, i64>(10)? != 0,
                    error: r.get(11)?,
                    outcome: r.get(12)?,
                    unassessable_reason: r.get(13)?,
                    attack: r.get(14)?,
                    parent: r.get(15)?,
                    trace: r
                        .get::<_, Option<String>>(16)?
                        .and_then(|t| serde_json::from_str(&t).ok())
                        .unwrap_or_default(),
                    scores: Vec::new(),
                })
            })
            .map_err(|e| self.err(e))?;
        let mut out: Vec<ProbeRow> = rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
        let mut sc = self
            .conn
            .prepare(
                "SELECT scorer, outcome, label, value, explanation, judge_model, prompt_hash FROM scores
                 WHERE run_id = ?1 AND sample_id = ?2 AND epoch = ?3 ORDER BY rowid",
            )
            .map_err(|e| self.err(e))?;
        for p in &mut out {
            let scores = sc
                .query_map(params![run_id, p.sample_id, p.epoch as i64], |r| {
                    let outcome: String = r.get(1)?;
                    Ok(Score {
                        scorer: r.get(0)?,
                        outcome: Outcome::parse(&outcome).unwrap_or(Outcome::Unassessable),
                        label: r.get(2)?,
                        value: r.get(3)?,
                        explanation: r.get(4)?,
                        judge_model: r.get(5)?,
                        prompt_hash: r.get(6)?,
                    })
                })
                .map_err(|e| self.err(e))?;
            p.scores = scores.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_1_store_gains_the_attack_columns_when_opened() {
        let dir = std::env::temp_dir().join(format!("pf-store-migrate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("old.db");
        {
            let c = Connection::open(&path).unwrap();
            // Schema 1's probes table: no attack, parent or trace.
            let v1 = SCHEMA.replace(
                "    attack TEXT,                     -- attack chain applied (schema 2)\n    parent TEXT,                     -- seed sample of an attacked probe (schema 2)\n    trace TEXT,                      -- JSON steps of an adaptive attack (schema 2)\n",
                "",
            );
            assert_ne!(v1, SCHEMA, "the v1 schema differs from v2");
            c.execute_batch(&v1).unwrap();
            c.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')", []).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let cols: Vec<String> = {
            let mut st = store.conn.prepare("SELECT name FROM pragma_table_info('probes')").unwrap();
            st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
        };
        assert!(["attack", "parent", "trace"].iter().all(|c| cols.iter().any(|x| x == c)), "{cols:?}");
        let v: String =
            store.conn.query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0)).unwrap();
        assert_eq!(v, "2");
        drop(store);
        Store::open(&path).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
