use std::{
    collections::HashMap,
    convert::Infallible,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode, body::Bytes, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};

/// What to do with a matching request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// 200 with this assistant text.
    Reply(String),
    /// This HTTP status with an error body, and `Retry-After` when given.
    Status { code: u16, retry_after: Option<String> },
    /// Never answer (until the client gives up).
    Hang,
    /// 200 with a body that is not JSON.
    Malformed,
    /// 200 with `finish_reason: content_filter` and no content.
    ContentFilter,
}

/// A scripted response for requests whose last user message contains `contains`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub contains: String,
    #[serde(flatten)]
    pub action: Action,
    /// Apply only to the first `times` requests carrying the same message (then fall through).
    #[serde(default)]
    pub times: Option<u64>,
    /// Apply only to requests for this model (e.g. one member of a judge panel).
    #[serde(default)]
    pub model: Option<String>,
    /// Apply only when the system message contains this (e.g. one role of a game).
    #[serde(default)]
    pub system: Option<String>,
}

impl Rule {
    /// Replies `reply` to requests for `model` whose last user message contains `contains`.
    pub fn model_reply(model: &str, contains: &str, reply: &str) -> Rule {
        Rule {
            contains: contains.into(),
            action: Action::Reply(reply.into()),
            times: None,
            model: Some(model.into()),
            system: None,
        }
    }
}

/// Server settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MockConfig {
    /// Delay before every answer.
    pub latency_ms: u64,
    /// Last user message containing this gets the refusal text.
    pub marker: String,
    /// Words in the default compliant reply.
    pub reply_words: usize,
    /// Checked in order; the first match wins.
    pub rules: Vec<Rule>,
    /// Worker threads for the server's own runtime (0 = tokio's default).
    pub threads: usize,
    /// Batch API: milliseconds from a batch's creation until it is `completed` (a quarter of it
    /// `validating`, the rest `in_progress`); 0 completes it at once.
    #[serde(default)]
    pub batch_ms: u64,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig {
            latency_ms: 0,
            marker: "[[REFUSE]]".into(),
            reply_words: 20,
            rules: Vec::new(),
            threads: 1,
            batch_ms: 0,
        }
    }
}

/// Counters since start or the last reset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Chat-completion requests: HTTP requests, and lines of the batches created.
    pub requests: u64,
    pub max_in_flight: u64,
    /// Requests answered per HTTP status (hangs are not answered).
    pub by_status: HashMap<u16, u64>,
    /// Distinct last-user messages seen, to spot duplicates.
    pub distinct_prompts: u64,
    /// Microseconds from start / reset to the first request and to the last answer: the span a
    /// client kept the server busy, without its own start-up and shut-down.
    pub first_request_us: Option<u64>,
    pub last_reply_us: Option<u64>,
    /// Requests arrived per 50 ms since start / reset (shows ramp-up and stalls).
    pub arrivals_per_50ms: Vec<u64>,
    /// Batches created through `POST /v1/batches` (those that failed validation too).
    #[serde(default)]
    pub batches_created: u64,
    /// How many times each custom id was submitted in a batch that passed validation (and so
    /// ran): a request sent exactly once shows 1.
    #[serde(default)]
    pub batch_submissions: HashMap<String, u32>,
}

impl Stats {
    /// How many accepted batches carried `custom_id`.
    pub fn submitted(&self, custom_id: &str) -> u32 {
        self.batch_submissions.get(custom_id).copied().unwrap_or(0)
    }
}

pub(crate) struct Shared {
    epoch: Mutex<std::time::Instant>,
    first_us: AtomicU64,
    last_us: AtomicU64,
    arrivals: Mutex<Vec<u64>>,
    pub(crate) requests: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    pub(crate) by_status: Mutex<HashMap<u16, u64>>,
    seen: Mutex<HashMap<String, u64>>,
    pub(crate) batches_created: AtomicU64,
    pub(crate) batch_submissions: Mutex<HashMap<String, u32>>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            epoch: Mutex::new(std::time::Instant::now()),
            first_us: AtomicU64::new(u64::MAX),
            last_us: AtomicU64::new(0),
            arrivals: Mutex::new(Vec::new()),
            requests: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            by_status: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashMap::new()),
            batches_created: AtomicU64::new(0),
            batch_submissions: Mutex::new(HashMap::new()),
        }
    }
}

impl Shared {
    fn now_us(&self) -> u64 {
        self.epoch.lock().unwrap().elapsed().as_micros() as u64
    }
}

pub(crate) struct State {
    pub(crate) cfg: MockConfig,
    refusal_body: Bytes,
    comply_body: Bytes,
    pub(crate) shared: Shared,
    /// The Batch API's files and batches, kept for the server's life (across connections and
    /// client processes: a client killed and restarted finds its batches again).
    pub(crate) batches: Mutex<crate::batch::Store>,
}

/// A running mock server; stops when dropped.
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<State>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn completion_body(text: Option<&str>, finish: &str) -> Bytes {
    let content = match text {
        Some(t) => serde_json::Value::String(t.to_string()),
        None => serde_json::Value::Null,
    };
    let words = text.map(|t| t.split_whitespace().count()).unwrap_or(0);
    serde_json::to_vec(&serde_json::json!({
        "id": "chatcmpl-mock",
        "object": "chat.completion",
        "model": "mock",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 10, "completion_tokens": words, "total_tokens": 10 + words},
    }))
    .expect("json")
    .into()
}

impl MockServer {
    /// Starts the server on 127.0.0.1 with a free port, on its own thread and runtime.
    pub fn start(cfg: MockConfig) -> std::io::Result<MockServer> {
        MockServer::start_on(cfg, 0)
    }

    /// Starts on a given port (0 = any free port).
    pub fn start_on(cfg: MockConfig, port: u16) -> std::io::Result<MockServer> {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let comply: String = {
            let mut s = String::from("Sure, here is an overview.");
            for i in 0..cfg.reply_words.saturating_sub(5) {
                s.push_str(if i % 2 == 0 { " [PLACEHOLDER" } else { " CONTENT]" });
            }
            s
        };
        let state = Arc::new(State {
            refusal_body: completion_body(Some("I can't help with that request."), "stop"),
            comply_body: completion_body(Some(&comply), "stop"),
            cfg,
            shared: Shared::default(),
            batches: Mutex::new(crate::batch::Store::default()),
        });
        let (tx, rx) = tokio::sync::oneshot::channel();
        let st = state.clone();
        let thread = std::thread::Builder::new().name("preflight-mock".into()).spawn(move || {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            if st.cfg.threads > 0 {
                b.worker_threads(st.cfg.threads);
            }
            let rt = b.enable_all().build().expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
                tokio::pin!(rx);
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        acc = listener.accept() => {
                            let Ok((stream, _)) = acc else { continue };
                            let _ = stream.set_nodelay(true);
                            let st = st.clone();
                            tokio::spawn(async move {
                                let svc = service_fn(move |req| handle(st.clone(), req));
                                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                            });
                        }
                    }
                }
            });
            // Dropping the runtime cancels hung requests and closes their connections.
            rt.shutdown_timeout(Duration::from_millis(100));
        })?;
        Ok(MockServer { addr, state, shutdown: Some(tx), thread: Some(thread) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/v1`
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn stats(&self) -> Stats {
        stats(&self.state)
    }

    pub fn reset(&self) {
        reset(&self.state)
    }

    /// Stops the server and waits for its thread.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

fn stats(st: &State) -> Stats {
    let s = &st.shared;
    Stats {
        requests: s.requests.load(Ordering::Relaxed),
        max_in_flight: s.max_in_flight.load(Ordering::Relaxed),
        by_status: s.by_status.lock().unwrap().clone(),
        distinct_prompts: s.seen.lock().unwrap().len() as u64,
        first_request_us: Some(s.first_us.load(Ordering::Relaxed)).filter(|v| *v != u64::MAX),
        last_reply_us: Some(s.last_us.load(Ordering::Relaxed)).filter(|v| *v != 0),
        arrivals_per_50ms: s.arrivals.lock().unwrap().clone(),
        batches_created: s.batches_created.load(Ordering::Relaxed),
        batch_submissions: s.batch_submissions.lock().unwrap().clone(),
    }
}

fn reset(st: &State) {
    let s = &st.shared;
    s.requests.store(0, Ordering::Relaxed);
    s.max_in_flight.store(s.in_flight.load(Ordering::Relaxed), Ordering::Relaxed);
    s.by_status.lock().unwrap().clear();
    s.seen.lock().unwrap().clear();
    *s.epoch.lock().unwrap() = std::time::Instant::now();
    s.first_us.store(u64::MAX, Ordering::Relaxed);
    s.last_us.store(0, Ordering::Relaxed);
    s.arrivals.lock().unwrap().clear();
    s.batches_created.store(0, Ordering::Relaxed);
    s.batch_submissions.lock().unwrap().clear();
}

pub(crate) fn respond(code: u16, body: Bytes, extra: Option<(&'static str, String)>) -> Response<Full<Bytes>> {
    let mut r = Response::builder().status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    r = r.header("content-type", "application/json");
    if let Some((k, v)) = extra {
        r = r.header(k, v);
    }
    r.body(Full::new(body)).expect("response")
}

/// Model, last user message, system message and whether a stream was asked for.
fn last_user(body: &[u8]) -> Option<(String, String, String, bool)> {
    #[derive(Deserialize)]
    struct Msg {
        role: String,
        #[serde(default)]
        content: serde_json::Value,
    }
    #[derive(Deserialize)]
    struct Req {
        #[serde(default)]
        model: String,
        messages: Vec<Msg>,
        #[serde(default)]
        stream: bool,
    }
    let req: Req = serde_json::from_slice(body).ok()?;
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let system = req.messages.iter().find(|m| m.role == "system").map(|m| text(&m.content)).unwrap_or_default();
    let user = req.messages.iter().rev().find(|m| m.role == "user").map(|m| text(&m.content))?;
    Some((req.model, user, system, req.stream))
}

/// A completion body as the chat-completions stream sends it: `data:` chunks of a few words
/// each, a finish chunk with usage, `data: [DONE]`. Sent whole after the latency: it measures
/// what parsing a stream costs the client, not a model's decoding pace.
fn stream_body(completion: &[u8]) -> Bytes {
    let v: serde_json::Value = serde_json::from_slice(completion).expect("own body");
    let text = v["choices"][0]["message"]["content"].as_str().unwrap_or("");
    let finish = v["choices"][0]["finish_reason"].clone();
    let chunk = |delta: serde_json::Value, finish: serde_json::Value| {
        let c = serde_json::json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "model": "mock",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        format!("data: {c}\n\n")
    };
    let mut out = chunk(serde_json::json!({"role": "assistant", "content": ""}), serde_json::Value::Null);
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    for piece in words.chunks(4) {
        out.push_str(&chunk(serde_json::json!({"content": piece.concat()}), serde_json::Value::Null));
    }
    out.push_str(&chunk(serde_json::json!({}), finish));
    let usage = serde_json::json!({"id": "chatcmpl-mock", "object": "chat.completion.chunk", "model": "mock",
        "choices": [], "usage": v["usage"]});
    out.push_str(&format!("data: {usage}\n\ndata: [DONE]\n\n"));
    out.into()
}

struct InFlight<'a>(&'a Shared);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How the marker and the rules answer one chat-completions body, decided when it arrives (its
/// message counted as seen, for rules with `times`).
pub(crate) struct Decision<'a> {
    action: Option<&'a Action>,
    refuse: bool,
    pub(crate) stream: bool,
}

/// What a decision comes to: an answer, or none ever.
pub(crate) enum Answer {
    Reply { code: u16, body: Bytes, retry_after: Option<String> },
    Hang,
}

/// `None` when the body is not a chat-completions request with a user message.
pub(crate) fn decide<'a>(st: &'a State, body: &[u8]) -> Option<Decision<'a>> {
    let (model, user, system, stream) = last_user(body)?;
    let seen_before = {
        let mut seen = st.shared.seen.lock().unwrap();
        let n = seen.entry(user.clone()).or_insert(0);
        *n += 1;
        *n - 1
    };
    let rule = st.cfg.rules.iter().find(|r| {
        user.contains(&r.contains)
            && r.times.is_none_or(|t| seen_before < t)
            && r.model.as_ref().is_none_or(|m| *m == model)
            && r.system.as_ref().is_none_or(|s| system.contains(s.as_str()))
    });
    Some(Decision { action: rule.map(|r| &r.action), refuse: user.contains(&st.cfg.marker), stream })
}

pub(crate) fn answer(st: &State, d: &Decision) -> Answer {
    let ok = |body: Bytes| Answer::Reply { code: 200, body, retry_after: None };
    match d.action {
        None if d.refuse => ok(st.refusal_body.clone()),
        None => ok(st.comply_body.clone()),
        Some(Action::Reply(text)) => ok(completion_body(Some(text), "stop")),
        Some(Action::ContentFilter) => ok(completion_body(None, "content_filter")),
        Some(Action::Malformed) => ok(Bytes::from_static(MALFORMED)),
        Some(Action::Status { code, retry_after }) => Answer::Reply {
            code: *code,
            body: format!("{{\"error\":{{\"message\":\"mock status {code}\",\"type\":\"mock\"}}}}").into(),
            retry_after: retry_after.clone(),
        },
        Some(Action::Hang) => Answer::Hang,
    }
}

/// The body [`Action::Malformed`] sends: cut off, not JSON.
pub(crate) const MALFORMED: &[u8] = b"{\"choices\": [ this is not json";

/// The 400 a body without a user message gets.
pub(crate) const NO_USER: &[u8] = b"{\"error\":{\"message\":\"no user message\"}}";

async fn handle(st: Arc<State>, req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    match (method.as_str(), path.as_str()) {
        ("GET", "/health") => return Ok(respond(200, Bytes::from_static(b"{\"ok\":true}"), None)),
        ("GET", "/stats") => return Ok(respond(200, serde_json::to_vec(&stats(&st)).unwrap().into(), None)),
        ("POST", "/stats/reset") => {
            reset(&st);
            return Ok(respond(200, Bytes::from_static(b"{}"), None));
        }
        ("GET", "/v1/models") => {
            return Ok(respond(
                200,
                Bytes::from_static(b"{\"object\":\"list\",\"data\":[{\"id\":\"mock\",\"object\":\"model\"}]}"),
                None,
            ));
        }
        ("POST", "/v1/chat/completions") | ("POST", "/chat/completions") => {}
        (_, p)
            if p == "/v1/files"
                || p.starts_with("/v1/files/")
                || p == "/v1/batches"
                || p.starts_with("/v1/batches/") =>
        {
            return Ok(crate::batch::handle(&st, req).await);
        }
        _ => return Ok(respond(404, Bytes::from_static(b"{\"error\":{\"message\":\"not found\"}}"), None)),
    }
    let sh = &st.shared;
    sh.requests.fetch_add(1, Ordering::Relaxed);
    let arrived = sh.now_us();
    sh.first_us.fetch_min(arrived, Ordering::Relaxed);
    {
        let mut a = sh.arrivals.lock().unwrap();
        let slot = (arrived / 50_000) as usize;
        if slot < 100_000 {
            if a.len() <= slot {
                a.resize(slot + 1, 0);
            }
            a[slot] += 1;
        }
    }
    let now = sh.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    sh.max_in_flight.fetch_max(now, Ordering::Relaxed);
    let _guard = InFlight(sh);

    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(respond(400, Bytes::from_static(b"{\"error\":{\"message\":\"bad body\"}}"), None)),
    };
    let Some(decision) = decide(&st, &body) else {
        return Ok(count(sh, respond(400, Bytes::from_static(NO_USER), None)));
    };
    if st.cfg.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(st.cfg.latency_ms)).await;
    }
    let resp = match answer(&st, &decision) {
        Answer::Reply { code, body, retry_after } => respond(code, body, retry_after.map(|v| ("retry-after", v))),
        Answer::Hang => {
            // Hold the connection open far longer than any sane client timeout.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            respond(504, Bytes::new(), None)
        }
    };
    // A streamed request gets its answer as server-sent events; errors stay plain JSON, as the
    // API sends them before any stream starts.
    let resp =
        if decision.stream && resp.status() == StatusCode::OK && !matches!(decision.action, Some(Action::Malformed)) {
            let body =
                stream_body(&http_body_util::BodyExt::collect(resp.into_body()).await.expect("full body").to_bytes());
            let mut r = Response::builder().status(StatusCode::OK).header("content-type", "text/event-stream");
            r = r.header("cache-control", "no-cache");
            r.body(Full::new(body)).expect("response")
        } else {
            resp
        };
    Ok(count(sh, resp))
}

pub(crate) fn count(sh: &Shared, r: Response<Full<Bytes>>) -> Response<Full<Bytes>> {
    sh.last_us.fetch_max(sh.now_us(), Ordering::Relaxed);
    *sh.by_status.lock().unwrap().entry(r.status().as_u16()).or_insert(0) += 1;
    r
}
