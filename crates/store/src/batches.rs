//! The batch journal in the store: which chunks were sent to a provider's batch API, under
//! which batch id, and which are still open. It has its own connection, written at once and
//! synchronously (not through the run's writer thread): a chunk must be on disk before the
//! request that submits it leaves, and a power cut must not lose it, so every write is a
//! `synchronous = FULL` commit. Chunks are few (one per thousand requests), so this costs
//! nothing measurable.

use std::{path::Path, sync::Mutex};

use preflight_core::{BatchChunk, BatchJournal};
use rusqlite::{Connection, params};

use crate::{StoreError, store::open_conn};

/// The store's batch journal.
pub struct StoreJournal {
    conn: Mutex<Connection>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl StoreJournal {
    /// The journal of the store at `path` (opened and migrated by [`crate::Store::open`] first).
    pub fn open(path: &Path) -> Result<StoreJournal, StoreError> {
        let err = |e: rusqlite::Error| StoreError::Sqlite { path: path.to_path_buf(), source: e };
        let conn = open_conn(path).map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(err)?;
        Ok(StoreJournal { conn: Mutex::new(conn) })
    }

    /// Every chunk of `namespace`, open or closed, oldest first (for tests and `show`).
    pub fn chunks(&self, namespace: &str) -> Result<Vec<(BatchChunk, bool)>, String> {
        self.query("SELECT chunk_id, namespace, batch_id, keys, created_ms, closed_ms IS NOT NULL FROM batches WHERE namespace = ?1 ORDER BY created_ms, chunk_id", namespace)
    }

    fn query(&self, sql: &str, namespace: &str) -> Result<Vec<(BatchChunk, bool)>, String> {
        let conn = self.conn.lock().unwrap();
        let mut st = conn.prepare(sql).map_err(|e| e.to_string())?;
        let rows = st
            .query_map([namespace], |r| {
                let keys: String = r.get(3)?;
                Ok((
                    BatchChunk {
                        chunk_id: r.get(0)?,
                        namespace: r.get(1)?,
                        batch_id: r.get(2)?,
                        keys: serde_json::from_str(&keys).unwrap_or_default(),
                        created_ms: r.get::<_, i64>(4)? as u64,
                    },
                    r.get(5)?,
                ))
            })
            .map_err(|e| e.to_string())?;
        rows.collect::<Result<_, _>>().map_err(|e| e.to_string())
    }
}

impl BatchJournal for StoreJournal {
    fn submitting(&self, chunk: &BatchChunk) -> Result<(), String> {
        let keys = serde_json::to_string(&chunk.keys).expect("keys serialise");
        self.conn
            .lock()
            .unwrap()
            .execute(
                "INSERT INTO batches (chunk_id, namespace, batch_id, keys, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![chunk.chunk_id, chunk.namespace, chunk.batch_id, keys, chunk.created_ms as i64],
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn submitted(&self, chunk_id: &str, batch_id: &str) -> Result<(), String> {
        let n = self
            .conn
            .lock()
            .unwrap()
            .execute("UPDATE batches SET batch_id = ?2 WHERE chunk_id = ?1", params![chunk_id, batch_id])
            .map_err(|e| e.to_string())?;
        if n == 0 { Err(format!("no chunk {chunk_id} in the journal")) } else { Ok(()) }
    }

    fn closed(&self, chunk_id: &str) -> Result<(), String> {
        self.conn
            .lock()
            .unwrap()
            .execute(
                "UPDATE batches SET closed_ms = ?2 WHERE chunk_id = ?1 AND closed_ms IS NULL",
                params![chunk_id, now_ms()],
            )
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    fn open(&self, namespace: &str) -> Result<Vec<BatchChunk>, String> {
        let rows = self.query(
            "SELECT chunk_id, namespace, batch_id, keys, created_ms, 0 FROM batches WHERE namespace = ?1 AND closed_ms IS NULL ORDER BY created_ms, chunk_id",
            namespace,
        )?;
        Ok(rows.into_iter().map(|(c, _)| c).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_survive_a_new_connection_until_closed() {
        let dir = std::env::temp_dir().join(format!("pf-journal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.db");
        crate::Store::open(&path).unwrap();
        let j = StoreJournal::open(&path).unwrap();
        let chunk = BatchChunk {
            chunk_id: "pf-1".into(),
            namespace: "openai|http://h/v1|m".into(),
            batch_id: None,
            created_ms: 1_700_000_000_000,
            keys: vec!["a".repeat(64), "b".repeat(64)],
        };
        j.submitting(&chunk).unwrap();
        assert!(j.submitting(&chunk).is_err(), "a chunk id is journalled once");
        // A process killed here leaves the chunk open and without a batch id.
        drop(j);
        let j = StoreJournal::open(&path).unwrap();
        assert_eq!(j.open(&chunk.namespace).unwrap(), vec![chunk.clone()]);
        assert!(j.open("other").unwrap().is_empty());
        j.submitted("pf-1", "batch_abc").unwrap();
        assert!(j.submitted("pf-2", "batch_x").is_err());
        assert_eq!(j.open(&chunk.namespace).unwrap()[0].batch_id.as_deref(), Some("batch_abc"));
        j.closed("pf-1").unwrap();
        assert!(j.open(&chunk.namespace).unwrap().is_empty());
        assert_eq!(j.chunks(&chunk.namespace).unwrap().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
