//! The one writer of a run: it persists the session's events (probes, game conversations,
//! sequential stops, status changes) in batched transactions on its own thread, and renews the
//! run's lease while it lives. A failed write (a full disk) is reported at once through the
//! failure callback, so the session stops sending instead of finding out at the end.

use std::{
    path::Path,
    sync::{
        Arc, Mutex,
        mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError, channel, sync_channel},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use preflight_core::{CategoryStop, Event, MeasureRecord, ModelSpend, ProbeRecord, RunStatus, StatusChange};
use rusqlite::{Connection, Transaction, params};

use crate::{
    lease::{HEARTBEAT, Lease, now_ms},
    now_rfc3339,
    store::open_conn,
};

/// Most events per transaction, and the longest a finished probe waits before it is committed.
const BATCH_ROWS: usize = 512;
const BATCH_WAIT: Duration = Duration::from_millis(100);
/// Events waiting for the writer; bounded so a slow disk slows producers instead of growing memory.
const QUEUE: usize = 2048;

enum Msg {
    Event(Event),
    /// Answered once everything sent before it is committed (or could not be).
    Flush(Sender<()>),
}

/// Appends one run's events from any thread; a background thread commits them in batches.
pub struct Writer {
    tx: Option<SyncSender<Msg>>,
    thread: Option<JoinHandle<Result<u64, String>>>,
    failed: Arc<Mutex<Option<String>>>,
}

impl Writer {
    pub(crate) fn start(
        path: &Path,
        run_id: &str,
        lease: Lease,
        on_failure: Box<dyn Fn(&str) + Send>,
    ) -> Result<Writer, rusqlite::Error> {
        let conn = open_conn(path)?;
        let (tx, rx) = sync_channel::<Msg>(QUEUE);
        let failed = Arc::new(Mutex::new(None));
        let state = Loop { conn, run_id: run_id.to_string(), lease, failed: failed.clone(), on_failure, leased: true };
        let thread = std::thread::Builder::new()
            .name("preflight-store".into())
            .spawn(move || state.run(rx))
            .expect("spawn store writer");
        Ok(Writer { tx: Some(tx), thread: Some(thread), failed })
    }

    /// Queues an event the store keeps (others are ignored). Blocks only when the queue is full.
    pub fn send(&self, event: Event) {
        if !stored(&event) {
            return;
        }
        if let Some(tx) = &self.tx {
            match tx.try_send(Msg::Event(event)) {
                Ok(()) => {}
                Err(TrySendError::Full(m)) => {
                    let _ = tx.send(m);
                }
                Err(TrySendError::Disconnected(_)) => {}
            }
        }
    }

    /// Waits until everything sent so far is committed, at most `timeout`; false if it was not.
    pub fn flush(&self, timeout: Duration) -> bool {
        let Some(tx) = &self.tx else { return false };
        let (ack, done) = channel();
        if tx.send(Msg::Flush(ack)).is_err() {
            return false;
        }
        done.recv_timeout(timeout).is_ok() && self.failure().is_none()
    }

    /// Why writing failed, once it has.
    pub fn failure(&self) -> Option<String> {
        self.failed.lock().unwrap().clone()
    }

    /// Commits everything queued and stops the thread; returns the probes written, or why
    /// writing failed.
    pub fn finish(mut self) -> Result<u64, String> {
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

/// Whether the store keeps this event.
fn stored(e: &Event) -> bool {
    matches!(
        e,
        Event::ProbeFinished(_)
            | Event::GameFinished(_)
            | Event::StopsChanged(_)
            | Event::StatusChanged(_)
            | Event::Spent(_)
    )
}

struct Loop {
    conn: Connection,
    run_id: String,
    lease: Lease,
    failed: Arc<Mutex<Option<String>>>,
    on_failure: Box<dyn Fn(&str) + Send>,
    /// Still holding the lease (a final status gives it up).
    leased: bool,
}

impl Loop {
    fn run(mut self, rx: Receiver<Msg>) -> Result<u64, String> {
        let mut written = 0u64;
        let mut last_beat = Instant::now();
        let mut batch: Vec<Event> = Vec::with_capacity(BATCH_ROWS);
        let mut acks: Vec<Sender<()>> = Vec::new();
        let mut closed = false;
        while !closed {
            // Wait for the first event of a batch, beating while idle.
            match rx.recv_timeout(HEARTBEAT.saturating_sub(last_beat.elapsed())) {
                Ok(Msg::Event(e)) => batch.push(e),
                Ok(Msg::Flush(a)) => acks.push(a),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => closed = true,
            }
            if !batch.is_empty() {
                let deadline = Instant::now() + BATCH_WAIT;
                while batch.len() < BATCH_ROWS && acks.is_empty() && !closed {
                    match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                        Ok(Msg::Event(e)) => batch.push(e),
                        Ok(Msg::Flush(a)) => acks.push(a),
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => closed = true,
                    }
                }
            }
            let beat = last_beat.elapsed() >= HEARTBEAT;
            let failed = self.failed.lock().unwrap().is_some();
            if failed {
                // Nothing more is stored, but a status change may still get through: the run
                // then reads as interrupted at once instead of when its lease goes stale.
                batch.retain(|e| matches!(e, Event::StatusChanged(_)));
                if !batch.is_empty() {
                    let _ = self.commit(&batch, false);
                }
            } else if !batch.is_empty() || beat {
                match self.commit(&batch, beat) {
                    Ok(n) => written += n,
                    Err(e) => self.fail(&e),
                }
            }
            if beat {
                last_beat = Instant::now();
            }
            batch.clear();
            for a in acks.drain(..) {
                let _ = a.send(());
            }
        }
        match self.failed.lock().unwrap().clone() {
            Some(why) => Err(why),
            None => Ok(written),
        }
    }

    fn fail(&self, e: &rusqlite::Error) {
        let msg = e.to_string();
        *self.failed.lock().unwrap() = Some(msg.clone());
        (self.on_failure)(&msg);
    }

    /// One transaction: every event of the batch in order, plus the heartbeat.
    fn commit(&mut self, batch: &[Event], beat: bool) -> Result<u64, rusqlite::Error> {
        let tx = self.conn.transaction()?;
        let now = now_rfc3339();
        let mut probes = 0;
        let mut leased = self.leased;
        // Requests are many and small: summed per model, one row update per model per batch.
        let mut spent: std::collections::BTreeMap<&str, ModelSpend> = Default::default();
        for e in batch {
            match e {
                Event::Spent(m) => spent.entry(&m.model).or_default().add(m),
                Event::ProbeFinished(rec) => probes += insert_probe(&tx, &self.run_id, rec, &now)?,
                Event::GameFinished(rows) => insert_measures(&tx, &self.run_id, rows, &now)?,
                Event::StopsChanged(stops) => replace_stops(&tx, &self.run_id, stops)?,
                Event::StatusChanged(change) => {
                    set_status(&tx, &self.run_id, change, &now)?;
                    leased = change.status == RunStatus::Running;
                }
                _ => {}
            }
        }
        for (model, m) in spent {
            add_spend(&tx, &self.run_id, model, &m)?;
        }
        if leased && (beat || !batch.is_empty()) {
            let held = tx.execute(
                "UPDATE runs SET lease_heartbeat_ms = ?3 WHERE id = ?1 AND lease_owner = ?2",
                params![self.run_id, self.lease.owner(), now_ms()],
            )?;
            if held == 0 {
                // Another process took the run over (this one stalled past the stale limit):
                // two processes must not run one run, so this one stops.
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                    Some("the run's lease was taken over by another process".into()),
                ));
            }
        } else if self.leased && !leased {
            // A final status gives the lease up.
            tx.execute(
                "UPDATE runs SET lease_owner = NULL, lease_heartbeat_ms = NULL WHERE id = ?1 AND lease_owner = ?2",
                params![self.run_id, self.lease.owner()],
            )?;
        }
        tx.commit()?;
        self.leased = leased;
        Ok(probes)
    }
}

fn add_spend(tx: &Transaction<'_>, run_id: &str, model: &str, m: &ModelSpend) -> Result<(), rusqlite::Error> {
    tx.prepare_cached(
        "INSERT INTO spend (run_id, model, requests, prompt_tokens, completion_tokens, usd, unpriced)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (run_id, model) DO UPDATE SET requests = requests + ?3, prompt_tokens = prompt_tokens + ?4,
            completion_tokens = completion_tokens + ?5, usd = usd + ?6, unpriced = unpriced + ?7",
    )?
    .execute(params![
        run_id,
        model,
        m.requests as i64,
        m.prompt_tokens as i64,
        m.completion_tokens as i64,
        m.usd,
        m.unpriced as i64
    ])?;
    Ok(())
}

fn insert_probe(tx: &Transaction<'_>, run_id: &str, rec: &ProbeRecord, now: &str) -> Result<u64, rusqlite::Error> {
    let mut probe = tx.prepare_cached(
        "INSERT OR IGNORE INTO probes (run_id, sample_id, epoch, category, expected, prompt, provenance, transcript,
            finish_reason, prompt_tokens, completion_tokens, cached, latency_ms, attempts, error, outcome,
            unassessable_reason, created_at, attack, parent, trace, first_token_ms, last_token_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
    )?;
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
        rec.first_token_ms.map(|v| v as i64),
        rec.last_token_ms.map(|v| v as i64),
    ])?;
    // A duplicate (same run, sample, epoch) is ignored whole, scores included.
    if inserted == 0 {
        return Ok(0);
    }
    let mut score = tx.prepare_cached(
        "INSERT OR IGNORE INTO scores (run_id, sample_id, epoch, scorer, outcome, label, value, explanation,
            judge_model, prompt_hash, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
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
    Ok(1)
}

/// A conversation's measures at once (a duplicate is ignored).
fn insert_measures(tx: &Transaction<'_>, run_id: &str, rows: &[MeasureRecord], now: &str) -> rusqlite::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT OR IGNORE INTO measures (run_id, item_id, epoch, category, game, cluster, measure, value,
             detail, transcript, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for r in rows {
        st.execute(params![
            run_id,
            r.item_id,
            r.epoch as i64,
            r.category,
            r.game,
            r.cluster,
            r.measure,
            r.value,
            r.detail.to_string(),
            serde_json::to_string(&r.transcript).expect("messages serialise"),
            now
        ])?;
    }
    Ok(())
}

/// Replaces a run's per-category planner state.
fn replace_stops(tx: &Transaction<'_>, run_id: &str, rows: &[CategoryStop]) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM stops WHERE run_id = ?1", [run_id])?;
    let mut st =
        tx.prepare_cached("INSERT INTO stops (run_id, category, drawn, rounds, reason) VALUES (?1, ?2, ?3, ?4, ?5)")?;
    for r in rows {
        st.execute(params![run_id, r.category, r.drawn as i64, r.rounds as i64, r.reason])?;
    }
    Ok(())
}

fn set_status(tx: &Transaction<'_>, run_id: &str, c: &StatusChange, now: &str) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE runs SET status = ?2, updated_at = ?3, verdict = COALESCE(?4, verdict), note = ?5 WHERE id = ?1",
        params![run_id, c.status.as_str(), now, c.verdict, c.note],
    )?;
    if c.settle_total {
        // The run's size was an upper bound (survivor attacks, sequential draws).
        tx.execute("UPDATE runs SET total = (SELECT COUNT(*) FROM probes WHERE run_id = ?1) WHERE id = ?1", [run_id])?;
    }
    Ok(())
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
