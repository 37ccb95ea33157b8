use std::path::{Path, PathBuf};

use preflight_core::{Message, ModelSpend, Outcome, RunStatus, Score, TraceStep};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

use crate::{
    lease::{Lease, LeaseHolder},
    now_rfc3339,
    writer::Writer,
};

/// On-disk schema version; bumped on incompatible changes.
pub const SCHEMA_VERSION: i64 = 8;

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
    config TEXT NOT NULL,            -- JSON: everything needed to resume (never secrets)
    lease_owner TEXT,                -- host/pid/nonce of the process running it (schema 3)
    lease_heartbeat_ms INTEGER       -- its last sign of life, ms since the epoch (schema 3)
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
    first_token_ms INTEGER,          -- streamed answers: time to the first token (schema 5)
    last_token_ms INTEGER,           -- … and to the stream's end (schema 5)
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
    measure TEXT NOT NULL,             -- belief_shift | control_shift | pay_rate | money_share | say_win_rate | pairwise_win_rate | pass_rate | accuracy
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
CREATE TABLE IF NOT EXISTS validation (
    run_id TEXT NOT NULL,
    sample_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    stratum TEXT NOT NULL,             -- the judge's outcome when drawn: unsafe | safe | over_refusal | unassessable
    ord INTEGER NOT NULL,              -- labelling order (random, so a partly labelled sample is still random)
    seed INTEGER NOT NULL,
    drawn_at TEXT NOT NULL,
    PRIMARY KEY (run_id, sample_id, epoch)
);
CREATE TABLE IF NOT EXISTS spend (     -- schema 6: provider requests per model, summed over attempts
    run_id TEXT NOT NULL,
    model TEXT NOT NULL,
    requests INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    usd REAL NOT NULL,                 -- dollars of the priced requests
    unpriced INTEGER NOT NULL,         -- requests the run's price table had no price for
    PRIMARY KEY (run_id, model)
);
CREATE TABLE IF NOT EXISTS batches (   -- schema 7: chunks of requests sent to a provider's batch API
    chunk_id TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,           -- the provider endpoint and model, as in cache keys
    batch_id TEXT,                     -- the provider's id, once it answered the submission
    keys TEXT NOT NULL,                -- JSON array of the requests' custom ids (cache keys)
    created_ms INTEGER NOT NULL,
    closed_ms INTEGER                  -- results collected, or the chunk given up
);
CREATE INDEX IF NOT EXISTS batches_open ON batches (namespace) WHERE closed_ms IS NULL;
";

/// Schema 8's indexes, made after the migrations (they name columns a schema-1 store gains only
/// then): what the viewer pages by, its pages walking them in rowid order, 50 rows at a time.
/// Its search index is a file of its own (`search.rs`), so the writer never pays for it.
const VIEW_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS probes_run ON probes (run_id);
CREATE INDEX IF NOT EXISTS probes_outcome ON probes (run_id, outcome);
CREATE INDEX IF NOT EXISTS probes_category ON probes (run_id, category);
CREATE INDEX IF NOT EXISTS probes_attack ON probes (run_id, attack);
CREATE INDEX IF NOT EXISTS scores_disagree ON scores (run_id, sample_id, epoch)
    WHERE scorer = 'panel' AND label = 'disagree';
";

/// The searchable text of a stored transcript (its messages' contents but the system prompt's),
/// as SQL over the column `{t}` (the search index's, `search.rs`).
pub(crate) fn transcript_text_sql(t: &str) -> String {
    format!(
        "(SELECT group_concat(json_extract(m.value, '$.content'), ' ') FROM json_each({t}) AS m \
          WHERE json_extract(m.value, '$.role') <> 'system')"
    )
}

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error(
        "store {path}: written by a newer preflight (schema {found}, this build knows {SCHEMA_VERSION}); nothing was changed"
    )]
    Schema { path: PathBuf, found: i64 },
    #[error("no store at {0} (pass --store PATH)")]
    Missing(PathBuf),
    #[error("run {run} is being run by {holder}; wait for it to finish, or stop that process first")]
    Leased { run: String, holder: LeaseHolder },
}

/// [`preflight_core::is_harness_error`] as SQL over `probes.unassessable_reason`.
const HARNESS_ERROR_SQL: &str = "unassessable_reason LIKE 'provider\\_error:%' ESCAPE '\\'
     OR unassessable_reason LIKE 'attack\\_error:%' ESCAPE '\\'
     OR unassessable_reason LIKE 'judge\\_error:%' ESCAPE '\\'
     OR unassessable_reason = 'empty_reply'";

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
    /// As the run stands: a run stored as `running` whose process is gone (killed, crashed, the
    /// disk filled up) reads as `interrupted`.
    pub status: RunStatus,
    pub suite_name: String,
    pub suite_fingerprint: String,
    pub model: String,
    pub judge: Option<String>,
    pub total: u64,
    pub done: u64,
    pub verdict: Option<String>,
    pub note: Option<String>,
    pub config: serde_json::Value,
    /// The process running it, while one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<LeaseHolder>,
}

/// One stored probe with its scores.
/// How fast a run's streamed answers came (`report`, `eval --stream`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Speed {
    pub streamed: u64,
    pub first_token_median_ms: u64,
    pub first_token_p90_ms: u64,
    /// Output tokens per second after the first token; `None` when no answer had two tokens.
    pub tokens_per_s_median: Option<f64>,
}

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
    /// Tokens the provider reported for the target's answer.
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// A streamed answer's time to first token, and to the stream's end.
    pub first_token_ms: Option<u64>,
    pub last_token_ms: Option<u64>,
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
    /// Opened read-only: nothing is ever written through it.
    read_only: bool,
    /// The store's schema: an older store opened read-only lacks the lease columns (3) and the
    /// validation table (4).
    pub(crate) schema: i64,
}

pub(crate) fn open_conn(path: &Path) -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    journal(&conn)?;
    Ok(conn)
}

fn journal(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // NORMAL in WAL mode survives a process crash (kill -9); only power loss can drop the
    // last commits, which resume then redoes.
    conn.pragma_update(None, "synchronous", "NORMAL")
}

/// The schema version a store records, read without writing anything (`None`: not a store yet).
fn stored_version(conn: &Connection) -> Result<Option<i64>, rusqlite::Error> {
    let has_meta: bool = conn
        .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'", [], |_| Ok(true))
        .optional()?
        .unwrap_or(false);
    if !has_meta {
        return Ok(None);
    }
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get::<_, String>(0))
        .optional()?
        .and_then(|v| v.parse().ok()))
}

/// Brings a store of schema `found` (`None`: new) up to [`SCHEMA_VERSION`], each step in one
/// transaction.
fn migrate(conn: &Connection, found: Option<i64>) -> Result<(), rusqlite::Error> {
    let Some(mut v) = found else {
        conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?1)", [SCHEMA_VERSION.to_string()])?;
        return Ok(());
    };
    if v == 1 {
        // Schema 1 → 2: probes gain their attack lineage; old rows have none.
        conn.execute_batch(
            "BEGIN; ALTER TABLE probes ADD COLUMN attack TEXT; ALTER TABLE probes ADD COLUMN parent TEXT;
             ALTER TABLE probes ADD COLUMN trace TEXT;
             UPDATE meta SET value = '2' WHERE key = 'schema_version'; COMMIT;",
        )?;
        v = 2;
    }
    if v == 2 {
        // Schema 2 → 3: runs are leased to the process running them.
        conn.execute_batch(
            "BEGIN; ALTER TABLE runs ADD COLUMN lease_owner TEXT; ALTER TABLE runs ADD COLUMN lease_heartbeat_ms INTEGER;
             UPDATE meta SET value = '3' WHERE key = 'schema_version'; COMMIT;",
        )?;
        v = 3;
    }
    if v == 3 {
        // Schema 3 → 4: validation samples (their table is created with the schema).
        conn.execute_batch("UPDATE meta SET value = '4' WHERE key = 'schema_version'")?;
        v = 4;
    }
    if v == 4 {
        // Schema 4 → 5: streamed probes keep their time to first token; old rows have none.
        conn.execute_batch(
            "BEGIN; ALTER TABLE probes ADD COLUMN first_token_ms INTEGER; ALTER TABLE probes ADD COLUMN last_token_ms INTEGER;
             UPDATE meta SET value = '5' WHERE key = 'schema_version'; COMMIT;",
        )?;
        v = 5;
    }
    if v == 5 {
        // Schema 5 → 6: spend per model (a table created with the schema).
        conn.execute_batch("UPDATE meta SET value = '6' WHERE key = 'schema_version'")?;
        v = 6;
    }
    if v == 6 {
        // Schema 6 → 7: the batch journal (a table created with the schema).
        conn.execute_batch("UPDATE meta SET value = '7' WHERE key = 'schema_version'")?;
        v = 7;
    }
    if v == 7 {
        // Schema 7 → 8: the viewer's indexes (created with the schema).
        conn.execute_batch("UPDATE meta SET value = '8' WHERE key = 'schema_version'")?;
    }
    Ok(())
}

/// A path as the path part of an SQLite `file:` URI.
pub(crate) fn uri_path(path: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::new();
    for b in abs.to_string_lossy().bytes() {
        match b {
            b'?' | b'#' | b'%' | 0x80.. => out.push_str(&format!("%{b:02X}")),
            _ => out.push(b as char),
        }
    }
    out
}

impl Store {
    /// Opens (creating if needed) the store at `path` to read and write. A store written by a
    /// newer preflight is refused before anything in it is touched (not even its journal mode).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let err = |source| StoreError::Sqlite { path: path.to_path_buf(), source };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            let _ = std::fs::create_dir_all(parent);
        }
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(err)?;
        let found = stored_version(&conn).map_err(err)?;
        if let Some(v) = found.filter(|v| *v > SCHEMA_VERSION) {
            return Err(StoreError::Schema { path: path.to_path_buf(), found: v });
        }
        journal(&conn).map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        migrate(&conn, found).map_err(err)?;
        conn.execute_batch(VIEW_INDEXES).map_err(err)?;
        Ok(Store { path: path.to_path_buf(), conn, read_only: false, schema: SCHEMA_VERSION })
    }

    /// Opens an existing store for reading only: nothing in it or beside it is written, so
    /// `runs`, `show`, `report` work on a read-only file or filesystem (and on a store another
    /// process is writing).
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Missing(path.to_path_buf()));
        }
        let err = |source| StoreError::Sqlite { path: path.to_path_buf(), source };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let open = |uri: String| -> Result<(Connection, Option<i64>), rusqlite::Error> {
            let conn = Connection::open_with_flags(uri, flags)?;
            conn.busy_timeout(std::time::Duration::from_secs(30))?;
            let v = stored_version(&conn)?;
            Ok((conn, v))
        };
        let uri = |extra: &str| format!("file:{}?mode=ro{extra}", uri_path(path));
        // A WAL store needs its shared-memory file; where that cannot be made (a read-only
        // folder or filesystem) the file is read as immutable: as it is on disk.
        let (conn, found) = match open(uri("")) {
            Ok(x) => x,
            Err(_) => open(uri("&immutable=1")).map_err(err)?,
        };
        match found {
            Some(v) if v > SCHEMA_VERSION => Err(StoreError::Schema { path: path.to_path_buf(), found: v }),
            None => Err(StoreError::Missing(path.to_path_buf())),
            Some(v) => Ok(Store { path: path.to_path_buf(), conn, read_only: true, schema: v }),
        }
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite { path: self.path.clone(), source }
    }

    /// Starts the writer of one run's events, holding its lease for `lease`. `on_failure` is
    /// called once, from the writer's thread, when a write fails (a full disk): the caller must
    /// stop producing, since nothing more will be stored.
    pub fn writer(
        &self,
        run_id: &str,
        lease: &Lease,
        on_failure: Box<dyn Fn(&str) + Send>,
    ) -> Result<Writer, StoreError> {
        Writer::start(&self.path, run_id, lease.clone(), on_failure).map_err(|e| self.err(e))
    }

    /// Records a new run and returns its id (`YYYYMMDD-HHMMSS-xxxx`).
    pub fn create_run(&self, run: &NewRun, lease: &Lease) -> Result<String, StoreError> {
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
                    "INSERT OR IGNORE INTO runs (id, created_at, updated_at, status, suite_name, suite_fingerprint, model,
                        judge, total, config, lease_owner, lease_heartbeat_ms)
                     VALUES (?1, ?2, ?2, 'running', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        id,
                        now,
                        run.suite_name,
                        run.suite_fingerprint,
                        run.model,
                        run.judge,
                        run.total as i64,
                        run.config.to_string(),
                        lease.owner(),
                        crate::lease::now_ms()
                    ],
                )
                .map_err(|e| self.err(e))?;
            if inserted == 1 {
                return Ok(id);
            }
        }
    }

    fn run_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
        let config: String = r.get("config")?;
        let stored: String = r.get("status")?;
        let stored = RunStatus::parse(&stored).unwrap_or(RunStatus::Interrupted);
        let holder = LeaseHolder::from_columns(r.get("lease_owner")?, r.get("lease_heartbeat_ms")?);
        // `running` is a claim by a live process; without one the run stopped unannounced.
        let live = holder.as_ref().filter(|h| h.is_live());
        let status = if stored == RunStatus::Running && live.is_none() { RunStatus::Interrupted } else { stored };
        Ok(RunRow {
            id: r.get("id")?,
            created_at: r.get("created_at")?,
            updated_at: r.get("updated_at")?,
            status,
            suite_name: r.get("suite_name")?,
            suite_fingerprint: r.get("suite_fingerprint")?,
            model: r.get("model")?,
            judge: r.get("judge")?,
            total: r.get::<_, i64>("total")? as u64,
            done: r.get::<_, i64>("done")? as u64,
            verdict: r.get("verdict")?,
            note: r.get("note")?,
            config: serde_json::from_str(&config).unwrap_or(serde_json::Value::Null),
            holder: live.cloned(),
        })
    }

    /// The columns a run is read with (a store older than schema 3 has no lease), `done` by the
    /// SQL `done` (the count of its probes, or a stand-in where it is not wanted).
    fn run_columns(&self, done: &str) -> String {
        let lease = if self.schema >= 3 { "" } else { "NULL AS lease_owner, NULL AS lease_heartbeat_ms, " };
        format!("runs.*, {lease}{done} AS done")
    }

    /// The count of a run's probes, as `run_columns` reads it.
    const DONE: &'static str = "(SELECT COUNT(*) FROM probes WHERE probes.run_id = runs.id)";

    /// The run without counting its probes (`done` is 0): what a page that only needs the
    /// run's identity and state reads (the count walks an index of the whole run).
    pub fn run_header(&self, id: &str) -> Result<Option<RunRow>, StoreError> {
        self.conn
            .query_row(&format!("SELECT {} FROM runs WHERE id = ?1", self.run_columns("0")), [id], Self::run_from_row)
            .optional()
            .map_err(|e| self.err(e))
    }

    pub fn run(&self, id: &str) -> Result<Option<RunRow>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {} FROM runs WHERE id = ?1", self.run_columns(Self::DONE)),
                [id],
                Self::run_from_row,
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Takes a run over for `lease` (a resume): refused while another live process holds it.
    /// Marks it running again, and forgets its harness errors (probes that hold no observation,
    /// agent attempts and questions the harness or provider spoiled), so they are asked again;
    /// returns how many it forgot.
    pub fn resume_run(&mut self, id: &str, lease: &Lease) -> Result<u64, StoreError> {
        let path = self.path.clone();
        let fail = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(fail)?;
        let (owner, beat): (Option<String>, Option<i64>) = tx
            .query_row("SELECT lease_owner, lease_heartbeat_ms FROM runs WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(fail)?;
        if let Some(h) = LeaseHolder::from_columns(owner, beat).filter(|h| h.is_live() && h.owner != lease.owner()) {
            return Err(StoreError::Leased { run: id.to_string(), holder: h });
        }
        tx.execute(
            "UPDATE runs SET status = 'running', updated_at = ?2, note = NULL, lease_owner = ?3, lease_heartbeat_ms = ?4
             WHERE id = ?1",
            params![id, now_rfc3339(), lease.owner(), crate::lease::now_ms()],
        )
        .map_err(fail)?;
        let errors = format!("run_id = ?1 AND ({HARNESS_ERROR_SQL})");
        tx.execute(
            &format!(
                "DELETE FROM scores WHERE run_id = ?1 AND (sample_id, epoch) IN
                 (SELECT sample_id, epoch FROM probes WHERE {errors})"
            ),
            [id],
        )
        .map_err(fail)?;
        let mut forgot = tx.execute(&format!("DELETE FROM probes WHERE {errors}"), [id]).map_err(fail)?;
        // Agent attempts and questions the harness or the provider spoiled are run again too (an
        // answer that named no choice is the model's, and stays).
        forgot += tx
            .execute(
                "DELETE FROM measures WHERE run_id = ?1 AND game IN ('agent', 'knowledge') AND value IS NULL
                 AND COALESCE(json_extract(detail, '$.unassessable_reason'), '') <> 'no_choice'",
                [id],
            )
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(forgot as u64)
    }

    /// Probes of a run, and how many of them are harness errors (no observation).
    pub fn harness_errors(&self, run_id: &str) -> Result<(u64, u64), StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN {HARNESS_ERROR_SQL} THEN 1 ELSE 0 END), 0)
                     FROM probes WHERE run_id = ?1"
                ),
                [run_id],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(|e| self.err(e))
    }

    /// All runs, newest first.
    pub fn runs(&self) -> Result<Vec<RunRow>, StoreError> {
        let mut st = self
            .conn
            .prepare(&format!("SELECT {} FROM runs ORDER BY created_at DESC, id DESC", self.run_columns(Self::DONE)))
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

    /// The speed of a run's streamed answers, `None` when none was streamed. Cached answers
    /// carry no times (they were not timed in this run).
    pub fn speed(&self, run_id: &str) -> Result<Option<Speed>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT first_token_ms, last_token_ms, completion_tokens FROM probes
                 WHERE run_id = ?1 AND first_token_ms IS NOT NULL",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([run_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, i64>(2)?)))
            .map_err(|e| self.err(e))?;
        let rows: Vec<(i64, Option<i64>, i64)> = rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut first: Vec<u64> = rows.iter().map(|r| r.0.max(0) as u64).collect();
        first.sort_unstable();
        // Decoding speed: the tokens after the first over the time after the first token.
        let mut rates: Vec<f64> = rows
            .iter()
            .filter_map(|&(f, l, n)| {
                let span = l? - f;
                (span > 0 && n > 1).then(|| (n - 1) as f64 / (span as f64 / 1000.0))
            })
            .collect();
        rates.sort_by(f64::total_cmp);
        let at = |q: f64| first[((first.len() - 1) as f64 * q).round() as usize];
        Ok(Some(Speed {
            streamed: rows.len() as u64,
            first_token_median_ms: at(0.5),
            first_token_p90_ms: at(0.9),
            tokens_per_s_median: (!rates.is_empty()).then(|| rates[(rates.len() - 1) / 2]),
        }))
    }

    /// What each model has cost the run (every attempt of it), by model id.
    pub fn spend(&self, run_id: &str) -> Result<Vec<ModelSpend>, StoreError> {
        if self.schema < 6 {
            return Ok(Vec::new());
        }
        let mut st = self
            .conn
            .prepare(
                "SELECT model, requests, prompt_tokens, completion_tokens, usd, unpriced FROM spend
                 WHERE run_id = ?1 ORDER BY model",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([run_id], |r| {
                Ok(ModelSpend {
                    model: r.get(0)?,
                    requests: r.get::<_, i64>(1)? as u64,
                    prompt_tokens: r.get::<_, i64>(2)? as u64,
                    completion_tokens: r.get::<_, i64>(3)? as u64,
                    usd: r.get(4)?,
                    unpriced: r.get::<_, i64>(5)? as u64,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
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
        let mut out = Vec::new();
        self.each_probe(run_id, sample, outcome, limit, |p| {
            out.push(p);
            Ok(())
        })?;
        Ok(out)
    }

    /// One probe with its scores, found by its primary key.
    pub fn probe(&self, run_id: &str, sample_id: &str, epoch: u32) -> Result<Option<ProbeRow>, StoreError> {
        let rows = self.probes(run_id, Some(sample_id), None, usize::MAX >> 1)?;
        Ok(rows.into_iter().find(|p| p.epoch == epoch))
    }

    /// Calls `f` with every probe of a run and its scores, in sample order, one at a time (an
    /// export of 10⁶ probes holds one in memory). Stops at `f`'s first error.
    pub fn for_each_probe<E: From<StoreError>>(
        &self,
        run_id: &str,
        f: impl FnMut(ProbeRow) -> Result<(), E>,
    ) -> Result<(), E> {
        self.each_probe(run_id, None, None, usize::MAX >> 1, f)
    }

    fn each_probe<E: From<StoreError>>(
        &self,
        run_id: &str,
        sample: Option<&str>,
        outcome: Option<&str>,
        limit: usize,
        mut f: impl FnMut(ProbeRow) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT sample_id, epoch, category, expected, prompt, provenance, transcript, finish_reason,
                        latency_ms, attempts, cached, error, outcome, unassessable_reason, attack, parent, trace,
                        prompt_tokens, completion_tokens, first_token_ms, last_token_ms
                 FROM probes WHERE run_id = ?1 AND {} AND (?3 IS NULL OR outcome = ?3)
                 ORDER BY {} LIMIT ?4",
                // One sample is found by the primary key: an `?2 IS NULL OR` condition, or an
                // order the (run_id, category) index could give, would walk the whole run.
                if sample.is_some() { "sample_id = ?2" } else { "?2 IS NULL" },
                if sample.is_some() { "epoch" } else { "category, sample_id, epoch" }
            ))
            .map_err(|e| self.err(e))?;
        let mut sc = self
            .conn
            .prepare(
                "SELECT scorer, outcome, label, value, explanation, judge_model, prompt_hash FROM scores
                 WHERE run_id = ?1 AND sample_id = ?2 AND epoch = ?3 ORDER BY rowid",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query(params![run_id, sample, outcome, limit as i64]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let mut p = probe_from_row(r).map_err(|e| self.err(e))?;
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
            f(p)?;
        }
        Ok(())
    }
}

fn probe_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ProbeRow> {
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
        trace: r.get::<_, Option<String>>(16)?.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default(),
        prompt_tokens: r.get::<_, i64>(17)? as u64,
        completion_tokens: r.get::<_, i64>(18)? as u64,
        first_token_ms: r.get::<_, Option<i64>>(19)?.map(|v| v as u64),
        last_token_ms: r.get::<_, Option<i64>>(20)?.map(|v| v as u64),
        scores: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_1_store_gains_every_later_column_when_opened() {
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
            let v1 = v1.replace(
                "    config TEXT NOT NULL,            -- JSON: everything needed to resume (never secrets)\n    lease_owner TEXT,                -- host/pid/nonce of the process running it (schema 3)\n    lease_heartbeat_ms INTEGER       -- its last sign of life, ms since the epoch (schema 3)\n",
                "    config TEXT NOT NULL\n",
            );
            let v1 = v1.replace(
                "    first_token_ms INTEGER,          -- streamed answers: time to the first token (schema 5)\n    last_token_ms INTEGER,           -- … and to the stream's end (schema 5)\n",
                "",
            );
            assert!(
                !v1.contains("lease_owner") && !v1.contains("parent TEXT") && !v1.contains("first_token_ms"),
                "the v1 schema has none of them"
            );
            c.execute_batch(&v1).unwrap();
            c.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')", []).unwrap();
        }
        let store = Store::open(&path).unwrap();
        let cols: Vec<String> = {
            let mut st = store.conn.prepare("SELECT name FROM pragma_table_info('probes')").unwrap();
            st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
        };
        assert!(
            ["attack", "parent", "trace", "first_token_ms", "last_token_ms"]
                .iter()
                .all(|c| cols.iter().any(|x| x == c)),
            "{cols:?}"
        );
        let run_cols: Vec<String> = {
            let mut st = store.conn.prepare("SELECT name FROM pragma_table_info('runs')").unwrap();
            st.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
        };
        assert!(run_cols.iter().any(|c| c == "lease_owner"), "{run_cols:?}");
        let v: String =
            store.conn.query_row("SELECT value FROM meta WHERE key = 'schema_version'", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION.to_string());
        let tables: i64 = store
            .conn
            .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'validation'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(tables, 1);
        // The viewer's indexes (schema 8) are made once the columns they name exist.
        let indexes: i64 = store
            .conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'probes\\_%' ESCAPE '\\'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 4);
        drop(store);
        Store::open(&path).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
