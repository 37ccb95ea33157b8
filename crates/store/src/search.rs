//! Full-text search over a store's prompts and transcripts (SQLite FTS5), in a file of its own
//! beside the store (`preflight.db.search`): built by whoever searches (the viewer, in the
//! background), never by the run's writer, so an evaluation pays nothing for it; and derived
//! data only — deleting the file loses nothing.
//!
//! The index follows each run by its probes' rowids: [`SearchIndex::catch_up`] indexes what was
//! stored after the last indexed rowid. Rowids can be reused: a resume deletes a run's harness
//! errors, and when they were the newest rows their rowids go to the next probes stored. So every
//! indexed document keeps its probe's identity (run, sample, epoch), a search only returns a
//! document whose probe still has it, and a catch-up first takes back the run's documents above
//! the newest one whose probe is unchanged, and indexes from there again.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::{
    StoreError,
    browse::{Args, ProbeFilter, ProbeLine, conditions, fts_query, page},
    store::transcript_text_sql,
};

const SCHEMA: &str = "
CREATE VIRTUAL TABLE IF NOT EXISTS probe_text USING fts5 (prompt, text, content = '', contentless_delete = 1);
CREATE TABLE IF NOT EXISTS docs (      -- what each indexed rowid was when indexed
    rowid INTEGER PRIMARY KEY,         -- the probe's rowid in the store
    run_id TEXT NOT NULL,
    sample_id TEXT NOT NULL,
    epoch INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS docs_run ON docs (run_id, rowid);
CREATE TABLE IF NOT EXISTS indexed (   -- how far each run is indexed
    run_id TEXT PRIMARY KEY,
    upto INTEGER NOT NULL,             -- the newest rowid indexed
    docs INTEGER NOT NULL              -- documents of the run in the index
);
";

/// How much of a run the index holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub indexed: u64,
}

/// A store's search index.
pub struct SearchIndex {
    conn: Connection,
    path: PathBuf,
}

/// Where the index of the store at `store` lives: beside it, or, where its folder cannot be
/// written, in the temporary folder under a name made from the store's path. (Whether the folder
/// can be written is tried only while no index exists there yet.)
pub fn index_path(store: &Path) -> PathBuf {
    let beside = PathBuf::from(format!("{}.search", store.display()));
    let folder = beside.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if beside.exists() || can_write(folder) {
        return beside;
    }
    let abs = std::path::absolute(store).unwrap_or_else(|_| store.to_path_buf());
    std::env::temp_dir()
        .join(format!("preflight-search-{}.db", preflight_core::sha256_hex(abs.to_string_lossy().as_bytes())))
}

/// A file can be made in `folder` (a permission bit does not say so for root or a read-only
/// filesystem: a file is tried).
fn can_write(folder: &Path) -> bool {
    let probe = folder.join(format!(".preflight-write-check-{}", std::process::id()));
    let ok = std::fs::write(&probe, b"").is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

impl SearchIndex {
    /// Opens (creating) the index of the store at `store`, with the store attached read-only.
    pub fn open(store: &Path) -> Result<SearchIndex, StoreError> {
        let path = index_path(store);
        let err = |source| StoreError::Sqlite { path: path.clone(), source };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&path, flags).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        let uri = format!("file:{}?mode=ro", crate::store::uri_path(store));
        conn.execute("ATTACH DATABASE ?1 AS s", [uri])
            .map_err(|source| StoreError::Sqlite { path: store.to_path_buf(), source })?;
        Ok(SearchIndex { conn, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite { path: self.path.clone(), source }
    }

    /// Indexes up to `max` probes stored since the last catch-up, run by run; returns how many.
    pub fn catch_up(&mut self, max: usize) -> Result<u64, StoreError> {
        let runs: Vec<String> = {
            let mut st =
                self.conn.prepare("SELECT id FROM s.runs ORDER BY created_at DESC").map_err(|e| self.err(e))?;
            st.query_map([], |r| r.get(0))
                .map_err(|e| self.err(e))?
                .collect::<Result<_, _>>()
                .map_err(|e| self.err(e))?
        };
        let mut done = 0u64;
        for run in runs {
            if done as usize >= max {
                break;
            }
            done += self.catch_up_run(&run, max - done as usize)?;
        }
        Ok(done)
    }

    /// Indexes up to `max` probes of one run stored since its last catch-up; returns how many.
    pub fn catch_up_run(&mut self, run: &str, max: usize) -> Result<u64, StoreError> {
        self.catch_up_run_sql(run, max).map_err(|e| self.err(e))
    }

    fn catch_up_run_sql(&mut self, run: &str, max: usize) -> rusqlite::Result<u64> {
        let tx = self.conn.transaction()?;
        let upto: i64 =
            tx.query_row("SELECT upto FROM indexed WHERE run_id = ?1", [run], |r| r.get(0)).optional()?.unwrap_or(0);
        // The newest document whose probe is unchanged: anything of the run above it was
        // deleted or its rowid reused since, and is taken back.
        let unchanged: i64 = tx.query_row(
            "SELECT COALESCE((SELECT d.rowid FROM docs d JOIN s.probes p ON p.rowid = d.rowid AND p.run_id = d.run_id
                                  AND p.sample_id = d.sample_id AND p.epoch = d.epoch
                              WHERE d.run_id = ?1 ORDER BY d.rowid DESC LIMIT 1), 0)",
            [run],
            |r| r.get(0),
        )?;
        let mut start = upto;
        if unchanged < upto {
            tx.execute(
                "DELETE FROM probe_text WHERE rowid IN (SELECT rowid FROM docs WHERE run_id = ?1 AND rowid > ?2)",
                params![run, unchanged],
            )?;
            tx.execute("DELETE FROM docs WHERE run_id = ?1 AND rowid > ?2", params![run, unchanged])?;
            start = unchanged;
        }
        let new: Vec<(i64, String, i64, String, Option<String>)> = {
            let mut st = tx.prepare(&format!(
                "SELECT rowid, sample_id, epoch, prompt, {} FROM s.probes WHERE run_id = ?1 AND rowid > ?2 ORDER BY rowid LIMIT ?3",
                transcript_text_sql("transcript")
            ))?;
            st.query_map(params![run, start, max as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<_, _>>()?
        };
        let mut last = start;
        for (rowid, sample, epoch, prompt, text) in &new {
            // A rowid another run's document held (reused by this run's probe): that one goes.
            if tx.query_row("SELECT 1 FROM docs WHERE rowid = ?1", [rowid], |_| Ok(())).optional()?.is_some() {
                tx.execute("DELETE FROM probe_text WHERE rowid = ?1", [rowid])?;
                tx.execute("DELETE FROM docs WHERE rowid = ?1", [rowid])?;
            }
            tx.execute(
                "INSERT INTO probe_text (rowid, prompt, text) VALUES (?1, ?2, ?3)",
                params![rowid, prompt, text.as_deref().unwrap_or("")],
            )?;
            tx.execute(
                "INSERT INTO docs (rowid, run_id, sample_id, epoch) VALUES (?1, ?2, ?3, ?4)",
                params![rowid, run, sample, epoch],
            )?;
            last = *rowid;
        }
        if last != upto || start != upto {
            tx.execute(
                "INSERT INTO indexed (run_id, upto, docs) VALUES (?1, ?2, (SELECT COUNT(*) FROM docs WHERE run_id = ?1))
                 ON CONFLICT (run_id) DO UPDATE SET upto = excluded.upto, docs = excluded.docs",
                params![run, last],
            )?;
        }
        tx.commit()?;
        Ok(new.len() as u64)
    }

    /// How many of a run's probes the index holds.
    pub fn coverage(&self, run_id: &str) -> Result<Coverage, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT docs FROM indexed WHERE run_id = ?1", [run_id], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?
            .unwrap_or(0);
        Ok(Coverage { indexed: n as u64 })
    }

    /// Up to `limit` probes of `run_id` holding every word of `filter.search` and meeting the
    /// rest of `filter`, in the order they were stored, after `after`. Driven by the text index:
    /// it yields rowids in order, so a page stops at `limit` matches (CROSS JOIN keeps the
    /// planner from walking the run's probes instead, a lookup per probe when a word is rare).
    pub fn probe_page(
        &self,
        run_id: &str,
        filter: &ProbeFilter,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ProbeLine>, StoreError> {
        let Some(q) = filter.search.as_deref().and_then(fts_query) else {
            return Ok(Vec::new());
        };
        let mut args = Args::new(run_id, after);
        let q = args.add(q);
        let from = format!(
            "probe_text t CROSS JOIN docs d ON d.rowid = t.rowid CROSS JOIN s.probes p ON p.rowid = d.rowid
             WHERE probe_text MATCH {q} AND t.rowid > ?2 AND d.run_id = ?1
               AND p.run_id = d.run_id AND p.sample_id = d.sample_id AND p.epoch = d.epoch"
        );
        let cond = conditions(filter, "s.", &mut args);
        page(&self.conn, "s.", &from, &cond, args, limit).map_err(|e| self.err(e))
    }
}
