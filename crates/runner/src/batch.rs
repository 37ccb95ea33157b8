//! The batcher: a provider's batch API behind the ordinary [`Generate`] handle. Requests wait in
//! a queue until a chunk is full (or has lingered), the chunk is journalled, submitted, its
//! batch id journalled, and the batch polled until it ends; each result goes to the request
//! that waits for it. A [`crate::Generator`] wraps a `Batcher` as it wraps any provider, so
//! the cache, retries, spend and secrets work unchanged: a request whose batch result is an
//! error is retried by the generator and goes into a later chunk.
//!
//! Never twice: a request's custom id is its cache key, and a key inside an open chunk (one
//! the journal holds, of this process or of one killed earlier) waits for that chunk's result
//! instead of being submitted again. A chunk journalled as submitting but without a batch id
//! (the process died during the submission) is looked for with [`BatchApi::find`] first.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use preflight_core::{
    BatchApi, BatchChunk, BatchItem, BatchJournal, BatchStatus, BoxFuture, Cache, ErrorKind, Features, Generate,
    GenerateRequest, GenerateResponse, ProviderError, Secrets, sha256_hex,
};
use tokio::sync::oneshot;

use crate::cache_key;

/// How requests are gathered and batches polled.
#[derive(Debug, Clone, Copy)]
pub struct BatchConfig {
    /// Requests per chunk (one provider batch).
    pub chunk_size: usize,
    /// How long a partly filled chunk waits for more requests before it is sent.
    pub linger: Duration,
    /// Time between two status checks of a submitted batch.
    pub poll: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig { chunk_size: 1000, linger: Duration::from_secs(2), poll: Duration::from_secs(30) }
    }
}

type Answer = Result<GenerateResponse, ProviderError>;

/// A provider's batch API as a [`Generate`] handle.
pub struct Batcher {
    shared: Arc<Shared>,
}

struct Shared {
    api: Arc<dyn BatchApi>,
    features: Features,
    namespace: String,
    journal: Arc<dyn BatchJournal>,
    cfg: BatchConfig,
    /// Results are cached the moment they arrive, before the chunk is closed: a process killed
    /// between the two finds them in the cache and sends nothing again.
    cache: Option<Arc<dyn Cache>>,
    secrets: Secrets,
    state: Mutex<State>,
    seq: AtomicU64,
}

#[derive(Default)]
struct State {
    /// The journal's open chunks have been taken up (done once, on the first request).
    recovered: bool,
    /// Keys waiting for a chunk, in arrival order.
    pending: Vec<String>,
    /// Who waits for each key, with the request to send.
    waiting: HashMap<String, Waiting>,
    /// Keys inside an open chunk: their result comes from that chunk.
    in_chunk: HashSet<String>,
    /// Results of recovered chunks that nobody asked for yet.
    arrived: HashMap<String, Answer>,
    /// A linger timer is running.
    lingering: bool,
}

struct Waiting {
    request: GenerateRequest,
    senders: Vec<oneshot::Sender<Answer>>,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Batcher {
    /// `features` is what the synchronous API of the same provider takes (a batch line is its
    /// request body); `namespace` is the generator's, so custom ids equal cache keys.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        api: Arc<dyn BatchApi>,
        features: Features,
        namespace: String,
        journal: Arc<dyn BatchJournal>,
        cfg: BatchConfig,
        cache: Option<Arc<dyn Cache>>,
        secrets: Secrets,
    ) -> Batcher {
        let cfg = BatchConfig { chunk_size: cfg.chunk_size.max(1), ..cfg };
        Batcher {
            shared: Arc::new(Shared {
                api,
                features,
                namespace,
                journal,
                cfg,
                cache,
                secrets,
                state: Mutex::new(State::default()),
                seq: AtomicU64::new(0),
            }),
        }
    }

    async fn ask(&self, request: &GenerateRequest, epoch: u32) -> Answer {
        let s = &self.shared;
        let key = cache_key(&s.namespace, request, epoch);
        let rx = {
            let mut st = s.state.lock().unwrap();
            if !st.recovered {
                st.recovered = true;
                if let Err(e) = s.recover(&mut st) {
                    st.recovered = false;
                    return Err(s.error(ErrorKind::Permanent, format!("the batch journal could not be read: {e}")));
                }
            }
            if let Some(answer) = st.arrived.remove(&key) {
                return answer;
            }
            let (tx, rx) = oneshot::channel();
            let fresh = !st.waiting.contains_key(&key);
            st.waiting
                .entry(key.clone())
                .or_insert_with(|| Waiting { request: request.clone(), senders: Vec::new() })
                .senders
                .push(tx);
            if fresh && !st.in_chunk.contains(&key) {
                st.pending.push(key);
                s.schedule(&mut st);
            }
            rx
        };
        rx.await
            .unwrap_or_else(|_| Err(s.error(ErrorKind::Transient, "the batcher stopped before the result came".into())))
    }
}

impl Shared {
    fn error(&self, kind: ErrorKind, message: String) -> ProviderError {
        ProviderError::new(kind, self.api.model_id(), None, message)
    }

    /// Sends full chunks now and arms the linger timer for the rest.
    fn schedule(self: &Arc<Self>, st: &mut State) {
        while st.pending.len() >= self.cfg.chunk_size {
            let keys: Vec<String> = st.pending.drain(..self.cfg.chunk_size).collect();
            self.start_chunk(st, keys);
        }
        if !st.pending.is_empty() && !st.lingering {
            st.lingering = true;
            let me = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(me.cfg.linger).await;
                let mut st = me.state.lock().unwrap();
                st.lingering = false;
                let keys: Vec<String> = std::mem::take(&mut st.pending);
                for chunk in keys.chunks(me.cfg.chunk_size) {
                    me.start_chunk(&mut st, chunk.to_vec());
                }
            });
        }
    }

    /// Takes `keys` into a new chunk and submits it in the background.
    fn start_chunk(self: &Arc<Self>, st: &mut State, keys: Vec<String>) {
        // A key whose every waiter went away (a cancelled probe) is not sent.
        let items: Vec<BatchItem> = keys
            .iter()
            .filter_map(|k| {
                let w = st.waiting.get(k)?;
                (!w.senders.iter().all(|t| t.is_closed()))
                    .then(|| BatchItem { custom_id: k.clone(), request: w.request.clone() })
            })
            .collect();
        if items.is_empty() {
            return;
        }
        st.in_chunk.extend(items.iter().map(|i| i.custom_id.clone()));
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let created_ms = now_ms();
        // Unique across processes and runs: the namespace, the time, this process and its count.
        let chunk_id = format!(
            "pf-{}",
            &sha256_hex(
                format!("{}|{created_ms}|{}|{seq}|{}", self.namespace, std::process::id(), items[0].custom_id)
                    .as_bytes()
            )[..24]
        );
        let chunk = BatchChunk {
            chunk_id,
            namespace: self.namespace.clone(),
            batch_id: None,
            created_ms,
            keys: items.iter().map(|i| i.custom_id.clone()).collect(),
        };
        let me = self.clone();
        tokio::spawn(async move { me.submit(chunk, items).await });
    }

    async fn submit(self: Arc<Self>, chunk: BatchChunk, items: Vec<BatchItem>) {
        // Journalled before it is sent: a process killed during the submission leaves a chunk
        // that the next one looks for rather than sends again.
        if let Err(e) = self.journal.submitting(&chunk) {
            let e = self.error(ErrorKind::Permanent, format!("the batch journal could not be written: {e}"));
            self.fail(&chunk.keys, &e);
            return;
        }
        let batch_id = match self.api.submit(&chunk.chunk_id, &items).await {
            Ok(id) => id,
            // An error without a status may have come after the server took the batch (a cut
            // connection): look before giving the chunk up.
            Err(e) if e.status.is_none() => match self.api.find(&chunk.chunk_id, items.len(), chunk.created_ms).await {
                Ok(Some(id)) => id,
                _ => return self.give_up(&chunk, &e),
            },
            Err(e) => return self.give_up(&chunk, &e),
        };
        // If this write fails the batch still runs; a later process finds it by `find`.
        let _ = self.journal.submitted(&chunk.chunk_id, &batch_id);
        self.collect(chunk, batch_id).await;
    }

    /// The chunk was not taken: its requests fail with `e` (the generator retries what can be
    /// retried, in a new chunk).
    fn give_up(&self, chunk: &BatchChunk, e: &ProviderError) {
        let _ = self.journal.closed(&chunk.chunk_id);
        self.fail(&chunk.keys, e);
    }

    /// Polls batch `batch_id` until it ends, then hands out its results.
    async fn collect(self: Arc<Self>, chunk: BatchChunk, batch_id: String) {
        let mut errors = 0u32;
        loop {
            tokio::time::sleep(self.cfg.poll).await;
            let status = match self.api.poll(&batch_id).await {
                Ok(s) => s,
                // A batch runs for hours: a network blip is waited out, however long.
                Err(e) if e.kind.is_retryable() => {
                    errors += 1;
                    tokio::time::sleep(self.cfg.poll * errors.min(10)).await;
                    continue;
                }
                Err(e) => return self.give_up(&chunk, &e),
            };
            match status {
                BatchStatus::Running => errors = 0,
                BatchStatus::Failed(e) => return self.give_up(&chunk, &e),
                BatchStatus::Ended => match self.api.results(&batch_id).await {
                    Ok(results) => {
                        let mut missing: HashSet<&String> = chunk.keys.iter().collect();
                        for (key, answer) in results {
                            if missing.remove(&key) {
                                self.deliver(key, self.secrets.redact_result(answer));
                            }
                        }
                        let lost = self.error(
                            ErrorKind::Transient,
                            format!("batch {batch_id} ended without this request's result"),
                        );
                        let missing: Vec<String> = missing.into_iter().cloned().collect();
                        self.fail(&missing, &lost);
                        let _ = self.journal.closed(&chunk.chunk_id);
                        return;
                    }
                    Err(e) if e.kind.is_retryable() => errors += 1,
                    Err(e) => return self.give_up(&chunk, &e),
                },
            }
        }
    }

    fn fail(&self, keys: &[String], e: &ProviderError) {
        for k in keys {
            self.deliver(k.clone(), Err(self.secrets.redact_result(Err(e.clone())).unwrap_err()));
        }
    }

    fn deliver(&self, key: String, answer: Answer) {
        if let (Ok(resp), Some(cache)) = (&answer, &self.cache) {
            cache.put(&key, resp);
        }
        let mut st = self.state.lock().unwrap();
        st.in_chunk.remove(&key);
        match st.waiting.remove(&key) {
            Some(w) => {
                for tx in w.senders {
                    let _ = tx.send(answer.clone());
                }
            }
            // A recovered chunk's result, asked for later (or by nobody: an error is not kept).
            None if answer.is_ok() => {
                st.arrived.insert(key, answer);
            }
            None => {}
        }
    }

    /// Takes up the journal's open chunks of this namespace: each submitted one is polled, each
    /// one cut off during its submission is looked for.
    fn recover(self: &Arc<Self>, st: &mut State) -> Result<(), String> {
        for chunk in self.journal.open(&self.namespace)? {
            st.in_chunk.extend(chunk.keys.iter().cloned());
            let me = self.clone();
            match chunk.batch_id.clone() {
                Some(id) => {
                    tokio::spawn(async move { me.collect(chunk, id).await });
                }
                None => {
                    tokio::spawn(async move { me.look_for(chunk).await });
                }
            }
        }
        Ok(())
    }

    /// A chunk journalled as submitting by a process that died before it learnt the batch id.
    async fn look_for(self: Arc<Self>, chunk: BatchChunk) {
        let found = loop {
            match self.api.find(&chunk.chunk_id, chunk.keys.len(), chunk.created_ms).await {
                Ok(found) => break found,
                Err(e) if e.kind.is_retryable() => tokio::time::sleep(self.cfg.poll).await,
                Err(e) => return self.give_up(&chunk, &e),
            }
        };
        match found {
            Some(id) => {
                let _ = self.journal.submitted(&chunk.chunk_id, &id);
                self.collect(chunk, id).await;
            }
            None => {
                // It never arrived: its requests go into a new chunk when asked for.
                let _ = self.journal.closed(&chunk.chunk_id);
                let mut st = self.state.lock().unwrap();
                for k in &chunk.keys {
                    st.in_chunk.remove(k);
                    if st.waiting.contains_key(k) {
                        st.pending.push(k.clone());
                    }
                }
                self.schedule(&mut st);
            }
        }
    }
}

impl Generate for Batcher {
    fn model_id(&self) -> &str {
        self.shared.api.model_id()
    }

    fn features(&self) -> Features {
        self.shared.features
    }

    fn generate<'a>(&'a self, request: &'a GenerateRequest, epoch: u32) -> BoxFuture<'a, Answer> {
        Box::pin(self.ask(request, epoch))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use preflight_core::{BatchResult, FinishReason, GenSettings, Usage};

    use super::*;
    use crate::{Generator, Limits};

    /// A batch API in memory: answers each request with its prompt reversed, after `polls`
    /// status checks; counts how often each custom id was submitted.
    #[derive(Default)]
    struct FakeApi {
        polls: u32,
        /// Custom ids whose first result is an error (a retry then succeeds).
        flaky: Mutex<HashSet<String>>,
        state: Mutex<FakeState>,
    }

    #[derive(Default)]
    struct FakeState {
        batches: BTreeMap<String, (String, Vec<BatchItem>, u32)>,
        submitted: HashMap<String, u32>,
        submits: u32,
    }

    impl FakeApi {
        fn submitted(&self, key: &str) -> u32 {
            self.state.lock().unwrap().submitted.get(key).copied().unwrap_or(0)
        }
        fn submits(&self) -> u32 {
            self.state.lock().unwrap().submits
        }
    }

    fn answer(req: &GenerateRequest) -> GenerateResponse {
        let text: String = req.messages[0].content.chars().rev().collect();
        GenerateResponse::new(text, FinishReason::Stop, Usage { prompt_tokens: 3, completion_tokens: 2 })
    }

    impl BatchApi for FakeApi {
        fn model_id(&self) -> &str {
            "fake/batch"
        }
        fn submit<'a>(
            &'a self,
            chunk_id: &'a str,
            items: &'a [BatchItem],
        ) -> BoxFuture<'a, Result<String, ProviderError>> {
            Box::pin(async move {
                let mut st = self.state.lock().unwrap();
                st.submits += 1;
                for i in items {
                    *st.submitted.entry(i.custom_id.clone()).or_default() += 1;
                }
                let id = format!("batch_{}", st.submits);
                st.batches.insert(id.clone(), (chunk_id.to_string(), items.to_vec(), 0));
                Ok(id)
            })
        }
        fn poll<'a>(&'a self, batch_id: &'a str) -> BoxFuture<'a, Result<BatchStatus, ProviderError>> {
            Box::pin(async move {
                let mut st = self.state.lock().unwrap();
                let b = st.batches.get_mut(batch_id).expect("known batch");
                b.2 = b.2.saturating_add(1);
                Ok(if b.2 > self.polls { BatchStatus::Ended } else { BatchStatus::Running })
            })
        }
        fn results<'a>(&'a self, batch_id: &'a str) -> BoxFuture<'a, Result<Vec<BatchResult>, ProviderError>> {
            Box::pin(async move {
                let st = self.state.lock().unwrap();
                let mut flaky = self.flaky.lock().unwrap();
                Ok(st.batches[batch_id]
                    .1
                    .iter()
                    .map(|i| {
                        let r = if flaky.remove(&i.custom_id) {
                            Err(ProviderError::new(ErrorKind::Transient, "fake/batch", None, "expired"))
                        } else {
                            Ok(answer(&i.request))
                        };
                        (i.custom_id.clone(), r)
                    })
                    .collect())
            })
        }
        fn find<'a>(
            &'a self,
            chunk_id: &'a str,
            _: usize,
            _: u64,
        ) -> BoxFuture<'a, Result<Option<String>, ProviderError>> {
            Box::pin(async move {
                let st = self.state.lock().unwrap();
                Ok(st.batches.iter().find(|(_, b)| b.0 == chunk_id).map(|(id, _)| id.clone()))
            })
        }
    }

    /// A journal in memory, shared between "processes" (batchers) of one test.
    #[derive(Default)]
    struct MemJournal {
        chunks: Mutex<Vec<(BatchChunk, bool)>>,
    }

    impl BatchJournal for MemJournal {
        fn submitting(&self, chunk: &BatchChunk) -> Result<(), String> {
            self.chunks.lock().unwrap().push((chunk.clone(), false));
            Ok(())
        }
        fn submitted(&self, chunk_id: &str, batch_id: &str) -> Result<(), String> {
            let mut c = self.chunks.lock().unwrap();
            let e = c.iter_mut().find(|(c, _)| c.chunk_id == chunk_id).ok_or("no such chunk")?;
            e.0.batch_id = Some(batch_id.to_string());
            Ok(())
        }
        fn closed(&self, chunk_id: &str) -> Result<(), String> {
            let mut c = self.chunks.lock().unwrap();
            c.iter_mut().filter(|(c, _)| c.chunk_id == chunk_id).for_each(|e| e.1 = true);
            Ok(())
        }
        fn open(&self, namespace: &str) -> Result<Vec<BatchChunk>, String> {
            let c = self.chunks.lock().unwrap();
            Ok(c.iter().filter(|(c, closed)| !closed && c.namespace == namespace).map(|(c, _)| c.clone()).collect())
        }
    }

    fn fast(chunk_size: usize) -> BatchConfig {
        BatchConfig { chunk_size, linger: Duration::from_millis(20), poll: Duration::from_millis(5) }
    }

    fn batcher(api: &Arc<FakeApi>, journal: &Arc<MemJournal>, chunk_size: usize) -> Arc<Batcher> {
        Arc::new(Batcher::new(
            api.clone(),
            Features::TEXT,
            "ns".into(),
            journal.clone(),
            fast(chunk_size),
            None,
            Secrets::default(),
        ))
    }

    fn req(i: usize) -> GenerateRequest {
        GenerateRequest::single_turn(&format!("prompt {i}"), &GenSettings::default())
    }

    async fn ask_all(b: &Arc<Batcher>, n: usize) -> Vec<Answer> {
        let tasks: Vec<_> = (0..n)
            .map(|i| {
                let b = b.clone();
                tokio::spawn(async move { b.generate(&req(i), 1).await })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn requests_go_out_in_chunks_and_each_gets_its_own_answer() {
        let (api, journal) = (Arc::new(FakeApi { polls: 2, ..Default::default() }), Arc::new(MemJournal::default()));
        let b = batcher(&api, &journal, 4);
        let answers = ask_all(&b, 10).await;
        for (i, a) in answers.iter().enumerate() {
            assert_eq!(a.as_ref().unwrap().text, format!("prompt {i}").chars().rev().collect::<String>());
        }
        // Two full chunks at once, the last two after the linger.
        assert_eq!(api.submits(), 3);
        assert!((0..10).all(|i| api.submitted(&cache_key("ns", &req(i), 1)) == 1));
        assert!(journal.open("ns").unwrap().is_empty(), "every chunk closed");
    }

    #[tokio::test]
    async fn the_same_request_asked_twice_is_sent_once() {
        let (api, journal) = (Arc::new(FakeApi::default()), Arc::new(MemJournal::default()));
        let b = batcher(&api, &journal, 100);
        let (r1, r2) = (req(7), req(7));
        let (x, y) = tokio::join!(b.generate(&r1, 1), b.generate(&r2, 1));
        assert_eq!(x.unwrap().text, y.unwrap().text);
        assert_eq!(api.submitted(&cache_key("ns", &req(7), 1)), 1);
    }

    #[tokio::test]
    async fn a_new_process_polls_the_chunks_an_old_one_submitted_instead_of_sending_them_again() {
        let api = Arc::new(FakeApi { polls: 1_000_000, ..Default::default() });
        let journal = Arc::new(MemJournal::default());
        // The first process submits and dies while the batch runs.
        let first = batcher(&api, &journal, 3);
        let asked = {
            let first = first.clone();
            tokio::spawn(async move { ask_all(&first, 3).await })
        };
        while journal.open("ns").unwrap().iter().all(|c| c.batch_id.is_none()) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        asked.abort();
        drop(first);
        // It ends; the second process asks the same requests.
        api.state.lock().unwrap().batches.values_mut().for_each(|b| b.2 = u32::MAX - 1);
        let second = batcher(&api, &journal, 3);
        let answers = ask_all(&second, 3).await;
        assert!(answers.iter().all(|a| a.is_ok()), "{answers:?}");
        assert_eq!(api.submits(), 1, "nothing sent again");
        assert!((0..3).all(|i| api.submitted(&cache_key("ns", &req(i), 1)) == 1));
    }

    #[tokio::test]
    async fn a_chunk_cut_off_during_submission_is_found_or_else_sent() {
        let api = Arc::new(FakeApi::default());
        let journal = Arc::new(MemJournal::default());
        let keys: Vec<String> = (0..2).map(|i| cache_key("ns", &req(i), 1)).collect();
        let items: Vec<BatchItem> = (0..2).map(|i| BatchItem { custom_id: keys[i].clone(), request: req(i) }).collect();
        // The provider took chunk A but its id was never journalled; chunk B never arrived.
        let a = BatchChunk {
            chunk_id: "A".into(),
            namespace: "ns".into(),
            batch_id: None,
            created_ms: 0,
            keys: keys[..1].to_vec(),
        };
        let b = BatchChunk {
            chunk_id: "B".into(),
            namespace: "ns".into(),
            batch_id: None,
            created_ms: 0,
            keys: keys[1..].to_vec(),
        };
        api.submit("A", &items[..1]).await.unwrap();
        journal.submitting(&a).unwrap();
        journal.submitting(&b).unwrap();
        let second = batcher(&api, &journal, 10);
        let answers = ask_all(&second, 2).await;
        assert!(answers.iter().all(|a| a.is_ok()), "{answers:?}");
        assert_eq!(api.submitted(&keys[0]), 1, "found, not sent again");
        assert_eq!(api.submitted(&keys[1]), 1, "never arrived, so sent once");
    }

    #[tokio::test]
    async fn a_request_whose_result_is_an_error_is_retried_in_a_later_chunk() {
        let api = Arc::new(FakeApi::default());
        let key = cache_key("ns", &req(1), 1);
        api.flaky.lock().unwrap().insert(key.clone());
        let journal = Arc::new(MemJournal::default());
        let limits = Limits {
            base_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            ..Limits::default()
        };
        let g = Generator::new(batcher(&api, &journal, 10), "ns".into(), limits, None, None);
        let (answer, attempts) = g.generate_counted(&req(1), 1).await;
        assert!(answer.is_ok(), "{answer:?}");
        assert_eq!((attempts, api.submitted(&key)), (2, 2));
    }
}
