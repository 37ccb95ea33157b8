use std::{
    path::{Path, PathBuf},
    sync::{
        Mutex,
        mpsc::{Receiver, SyncSender, sync_channel},
    },
    thread::JoinHandle,
    time::Duration,
};

use preflight_core::{Cache, GenerateResponse};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{store::open_conn, writer::for_each_batch};

/// The response cache: `key → response JSON` in its own SQLite file. Reads are direct; writes go
/// to a background thread that commits in batches, so a cache write never stalls a request.
pub struct SqliteCache {
    path: PathBuf,
    read: Mutex<Connection>,
    tx: Mutex<Option<SyncSender<(String, String)>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl SqliteCache {
    pub fn open(path: &Path) -> Result<SqliteCache, rusqlite::Error> {
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let conn = open_conn(path)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL, created_at TEXT NOT NULL)",
        )?;
        let writer = open_conn(path)?;
        let (tx, rx) = sync_channel(2048);
        let thread = std::thread::Builder::new()
            .name("preflight-cache".into())
            .spawn(move || write_loop(writer, rx))
            .expect("spawn cache writer");
        Ok(SqliteCache {
            path: path.to_path_buf(),
            read: Mutex::new(conn),
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Commits queued writes and stops the writer thread. Later `put`s are dropped.
    pub fn flush(&self) {
        self.tx.lock().unwrap().take();
        if let Some(t) = self.thread.lock().unwrap().take() {
            let _ = t.join();
        }
    }
}

impl Drop for SqliteCache {
    fn drop(&mut self) {
        self.flush();
    }
}

fn write_loop(mut conn: Connection, rx: Receiver<(String, String)>) {
    let now = crate::now_rfc3339();
    let _ = for_each_batch(&rx, 512, Duration::from_millis(100), |batch| -> Result<(), ()> {
        // A cache that cannot be written is only a slower run, never a wrong one.
        let _ = (|| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT OR REPLACE INTO responses (key, response, created_at) VALUES (?1, ?2, ?3)",
                )?;
                for (k, v) in batch {
                    st.execute(params![k, v, now])?;
                }
            }
            tx.commit()
        })();
        Ok(())
    });
}

impl Cache for SqliteCache {
    fn get(&self, key: &str) -> Option<GenerateResponse> {
        let conn = self.read.lock().unwrap();
        let text: Option<String> = conn
            .prepare_cached("SELECT response FROM responses WHERE key = ?1")
            .and_then(|mut st| st.query_row([key], |r| r.get(0)).optional())
            .ok()
            .flatten();
        text.and_then(|t| serde_json::from_str(&t).ok())
    }

    fn put(&self, key: &str, response: &GenerateResponse) {
        let Ok(json) = serde_json::to_string(response) else { return };
        if let Some(tx) = self.tx.lock().unwrap().as_ref() {
            let _ = tx.send((key.to_string(), json));
        }
    }
}
