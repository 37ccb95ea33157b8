use std::{
    path::Path,
    sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use preflight_core::ProbeRecord;
use rusqlite::{Connection, params};

use crate::{now_rfc3339, store::open_conn};

/// Most rows per transaction, and the longest a finished probe waits before it is committed.
const BATCH_ROWS: usize = 512;
const BATCH_WAIT: Duration = Duration::from_millis(100);
/// Records waiting for the writer; bounded so a slow disk slows producers instead of growing memory.
const QUEUE: usize = 2048;

/// Appends one run's probe records from any thread; a background thread commits them in batches.
pub struct Writer {
    tx: Option<SyncSender<Box<ProbeRecord>>>,
    thread: Option<JoinHandle<Result<u64, rusqlite::Error>>>,
}

impl Writer {
    pub(crate) fn start(path: &Path, run_id: &str) -> Result<Writer, rusqlite::Error> {
        let run_id = run_id.to_string();
        let conn = open_conn(path)?;
        let (tx, rx) = sync_channel::<Box<ProbeRecord>>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("preflight-store".into())
            .spawn(move || write_loop(conn, &run_id, rx))
            .expect("spawn store writer");
        Ok(Writer { tx: Some(tx), thread: Some(thread) })
    }

    /// Queues a record. Blocks only when the queue is full.
    pub fn append(&self, record: Box<ProbeRecord>) {
        if let Some(tx) = &self.tx {
            match tx.try_send(record) {
                Ok(()) => {}
                Err(TrySendError::Full(r)) => {
                    let _ = tx.send(r);
                }
                Err(TrySendError::Disconnected(_)) => {}
            }
        }
    }

    /// Commits everything queued and stops the thread; returns rows written.
    pub fn finish(mut self) -> Result<u64, rusqlite::Error> {
        self.tx.take();
        self.thread.take().map(|t| t.join().expect("store writer panicked")).unwrap_or(Ok(0))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn write_loop(mut conn: Connection, run_id: &str, rx: Receiver<Box<ProbeRecord>>) -> Result<u64, rusqlite::Error> {
    let mut written = 0u64;
    for_each_batch(&rx, BATCH_ROWS, BATCH_WAIT, |batch| -> Result<(), rusqlite::Error> {
        written += commit(&mut conn, run_id, batch)?;
        Ok(())
    })?;
    Ok(written)
}

/// Hands `f` batches of what arrives on `rx`: a batch closes at `max` items or `wait` after its
/// first item, so a trickle is committed promptly and a flood in large transactions. Returns
/// when every sender is gone and the last batch is handed over, or at `f`'s first error.
pub(crate) fn for_each_batch<T, E>(
    rx: &Receiver<T>,
    max: usize,
    wait: Duration,
    mut f: impl FnMut(&[T]) -> Result<(), E>,
) -> Result<(), E> {
    let mut batch: Vec<T> = Vec::with_capacity(max);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        let deadline = Instant::now() + wait;
        let mut closed = false;
        while batch.len() < max {
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(r) => batch.push(r),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        f(&batch)?;
        batch.clear();
        if closed {
            break;
        }
    }
    Ok(())
}

fn commit(conn: &mut Connection, run_id: &str, batch: &[Box<ProbeRecord>]) -> Result<u64, rusqlite::Error> {
    let tx = conn.transaction()?;
    let now = now_rfc3339();
    let mut n = 0;
    {
        let mut probe = tx.prepare_cached(
            "INSERT OR IGNORE INTO probes (run_id, sample_id, epoch, category, expected, prompt, provenance, transcript,
                finish_reason, prompt_tokens, completion_tokens, cached, latency_ms, attempts, error, outcome,
                unassessable_reason, created_at, attack, parent, trace)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
        )?;
        let mut score = tx.prepare_cached(
            "INSERT OR IGNORE INTO scores (run_id, sample_id, epoch, scorer, outcome, label, value, explanation,
                judge_model, prompt_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for rec in batch {
            let s = &rec.sample;
            let transcript = serde_json::to_string(&rec.transcript).expect("messages serialise");
            let inserted = probe.execute(params![
                run_id,
                s.id,
                rec.epoch,
                s.category,
                s.expected.as_str(),
                s.prompt,
                s.provenance,
                transcript,
                rec.finish_reason.map(|f| f.as_str()),
                rec.usage.prompt_tokens,
                rec.usage.completion_tokens,
                rec.cached as i64,
                rec.latency_ms as i64,
                rec.attempts,
                rec.error,
                rec.outcome.as_str(),
                rec.unassessable_reason,
                now,
                s.attack,
                s.parent,
                (!rec.trace.is_empty()).then(|| serde_json::to_string(&rec.trace).expect("trace serialises")),
            ])?;
            // A duplicate (same run, sample, epoch) is ignored whole, scores included.
            if inserted == 0 {
                continue;
            }
            n += 1;
            for sc in &rec.scores {
                score.execute(params![
                    run_id,
                    s.id,
                    rec.epoch,
                    sc.scorer,
                    sc.outcome.as_str(),
                    sc.label,
                    sc.value,
                    sc.explanation,
                    sc.judge_model,
                    sc.prompt_hash,
                    now,
                ])?;
            }
        }
    }
    tx.commit()?;
    Ok(n)
}
