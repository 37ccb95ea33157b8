use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use preflight_core::{
    BoxFuture, Cache, Event, Generate, GenerateRequest, GenerateResponse, ProviderError, Secrets, sha256_hex,
};
use tokio::sync::Semaphore;

use crate::{EventSink, Spend};

/// Per-provider limits and retry policy.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests started per minute (None = unlimited).
    pub rpm: Option<u32>,
    /// Tokens per minute (None = unlimited), counted as providers count them against the
    /// limit: the prompt (about four characters a token) plus the answer's `max_tokens`.
    pub tpm: Option<u32>,
    /// Retries after the first attempt for retryable errors.
    pub max_retries: u32,
    /// First backoff delay; doubles per retry, with jitter, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            concurrency: 16,
            rpm: None,
            tpm: None,
            max_retries: 6,
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// The cache key: provider namespace, the full request (messages and settings) and the epoch.
pub fn cache_key(namespace: &str, request: &GenerateRequest, epoch: u32) -> String {
    let body = serde_json::to_vec(&(namespace, request, epoch)).expect("request serialises");
    sha256_hex(&body)
}

/// A provider wrapped with limits, retries and the cache. Implements [`Generate`].
pub struct Generator {
    inner: Arc<dyn Generate>,
    /// Identifies the endpoint in cache keys (provider, base URL, model).
    namespace: String,
    limits: Limits,
    permits: Semaphore,
    /// Next free start slot under the rpm limit.
    next_slot: Mutex<Option<Instant>>,
    /// When the next request may start under the tokens-per-minute limit.
    next_token_slot: Mutex<Option<Instant>>,
    /// Set by a rate-limit answer: nobody starts a request before this.
    paused_until: Mutex<Option<Instant>>,
    cache: Option<Arc<dyn Cache>>,
    events: Option<Arc<dyn EventSink>>,
    jitter: Mutex<u64>,
    spend: Option<Arc<Spend>>,
    /// What its requests cost relative to the price table (0.5 through a batch API).
    price_scale: f64,
    secrets: Secrets,
}

impl Generator {
    pub fn new(
        inner: Arc<dyn Generate>,
        namespace: String,
        limits: Limits,
        cache: Option<Arc<dyn Cache>>,
        events: Option<Arc<dyn EventSink>>,
    ) -> Self {
        let seed =
            namespace.bytes().fold(0x9E37_79B9_7F4A_7C15u64, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01B3));
        Generator {
            permits: Semaphore::new(limits.concurrency.max(1)),
            inner,
            namespace,
            limits,
            next_slot: Mutex::new(None),
            next_token_slot: Mutex::new(None),
            paused_until: Mutex::new(None),
            cache,
            events,
            jitter: Mutex::new(seed | 1),
            spend: None,
            price_scale: 1.0,
            secrets: Secrets::default(),
        }
    }

    /// Cuts these secrets out of every answer and error before anyone (cache, judges, store,
    /// terminal) sees it.
    pub fn with_secrets(mut self, secrets: Secrets) -> Self {
        self.secrets = secrets;
        self
    }

    fn redacted(&self, result: Result<GenerateResponse, ProviderError>) -> Result<GenerateResponse, ProviderError> {
        self.secrets.redact_result(result)
    }

    /// Counts this generator's requests and tokens into `spend`.
    pub fn with_spend(mut self, spend: Option<Arc<Spend>>) -> Self {
        self.spend = spend;
        self
    }

    /// Prices its requests at `scale` times the price table: OpenAI's and Anthropic's batch
    /// APIs charge half the standard price.
    pub fn with_price_scale(mut self, scale: f64) -> Self {
        self.price_scale = scale;
        self
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Uniform in [0, 1): xorshift, so backoff jitter needs no RNG crate.
    fn unit(&self) -> f64 {
        let mut s = self.jitter.lock().unwrap();
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        (*s >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Delay before retry number `retry` (1-based): exponential with jitter in [½, 1] of the step,
    /// or the server's `Retry-After` (plus up to 10% so a crowd does not return at once).
    fn backoff(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra.mul_f64(1.0 + 0.1 * self.unit());
        }
        let step = self.limits.base_backoff.saturating_mul(1u32 << (retry - 1).min(16)).min(self.limits.max_backoff);
        step.mul_f64(0.5 + 0.5 * self.unit())
    }

    /// The tokens a request counts against a tokens-per-minute limit: its prompt (≈ 4
    /// characters a token) and the answer it may take (`max_tokens`, 1,024 when unset).
    pub fn tokens_counted(request: &GenerateRequest) -> u64 {
        let chars: usize = request.messages.iter().map(|m| m.content.len()).sum();
        chars.div_ceil(4) as u64 + request.max_tokens.unwrap_or(1024) as u64
    }

    async fn wait_turn(&self, request: &GenerateRequest) {
        loop {
            let pause = *self.paused_until.lock().unwrap();
            match pause {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t.into()).await,
                _ => break,
            }
        }
        if let Some(rpm) = self.limits.rpm.filter(|r| *r > 0) {
            let gap = Duration::from_secs_f64(60.0 / rpm as f64);
            let slot = {
                let mut next = self.next_slot.lock().unwrap();
                let now = Instant::now();
                let slot = next.map_or(now, |n| n.max(now));
                *next = Some(slot + gap);
                slot
            };
            tokio::time::sleep_until(slot.into()).await;
        }
        if let Some(tpm) = self.limits.tpm.filter(|t| *t > 0) {
            // The same spacing as rpm, in tokens: each request pushes the next start back by the
            // time its tokens take at the allowed rate.
            let gap = Duration::from_secs_f64(60.0 * Self::tokens_counted(request) as f64 / tpm as f64);
            let slot = {
                let mut next = self.next_token_slot.lock().unwrap();
                let now = Instant::now();
                let slot = next.map_or(now, |n| n.max(now));
                *next = Some(slot + gap);
                slot
            };
            tokio::time::sleep_until(slot.into()).await;
        }
    }

    /// Generates with cache, limits and retries; returns the result and the attempts made
    /// (0 when served from the cache).
    pub async fn generate_counted(
        &self,
        request: &GenerateRequest,
        epoch: u32,
    ) -> (Result<GenerateResponse, ProviderError>, u32) {
        // A request the provider cannot take fails here, unsent and unretried: a text-only API
        // would otherwise drop the images or tools and answer a different question.
        let missing = self.inner.features().missing(request.features());
        if !missing.is_empty() {
            let msg = format!("the request needs {} but this provider does not support it", missing.join(" and "));
            return (Err(ProviderError::new(preflight_core::ErrorKind::Permanent, self.model_id(), None, msg)), 0);
        }
        let key = self.cache.as_ref().map(|_| cache_key(&self.namespace, request, epoch));
        if let (Some(cache), Some(key)) = (&self.cache, &key)
            && let Some(mut hit) = cache.get(key)
        {
            hit.cached = true;
            return (self.redacted(Ok(hit)), 0);
        }
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.wait_turn(request).await;
            let result = {
                let _permit = self.permits.acquire().await.expect("semaphore never closed");
                self.redacted(self.inner.generate(request, epoch).await)
            };
            if let Some(spend) = &self.spend {
                let cost =
                    spend.record_at(self.inner.model_id(), result.as_ref().ok().map(|r| &r.usage), self.price_scale);
                if let Some(ev) = &self.events {
                    ev.emit(Event::Spent(cost));
                }
            }
            match result {
                Ok(resp) => {
                    if let (Some(cache), Some(key)) = (&self.cache, &key) {
                        cache.put(key, &resp);
                    }
                    return (Ok(resp), attempt);
                }
                Err(e) if e.kind.is_retryable() && attempt <= self.limits.max_retries => {
                    let retry_after = match e.kind {
                        preflight_core::ErrorKind::RateLimited { retry_after } => retry_after,
                        _ => None,
                    };
                    let delay = self.backoff(attempt, retry_after);
                    if matches!(e.kind, preflight_core::ErrorKind::RateLimited { .. }) {
                        // The server asked everyone to slow down, not just this request.
                        let until = Instant::now() + delay;
                        let mut p = self.paused_until.lock().unwrap();
                        if p.is_none_or(|t| t < until) {
                            *p = Some(until);
                        }
                    }
                    if let Some(ev) = &self.events {
                        ev.emit(Event::Retrying {
                            provider: self.inner.model_id().to_string(),
                            kind: e.kind.label(),
                            attempt,
                            delay_ms: delay.as_millis() as u64,
                        });
                    }
                    tokio::time::sleep(delay).await;
                }
                Err(e) => return (Err(e), attempt),
            }
        }
    }
}

impl Generate for Generator {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    fn features(&self) -> preflight_core::Features {
        self.inner.features()
    }

    fn generate<'a>(
        &'a self,
        request: &'a GenerateRequest,
        epoch: u32,
    ) -> BoxFuture<'a, Result<GenerateResponse, ProviderError>> {
        Box::pin(async move { self.generate_counted(request, epoch).await.0 })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use preflight_core::{ErrorKind, FinishReason, GenSettings};

    use super::*;

    /// Fails `fail` times with `kind`, then answers.
    struct Flaky {
        fail: u32,
        kind: ErrorKind,
        calls: AtomicU32,
    }

    impl Generate for Flaky {
        fn model_id(&self) -> &str {
            "flaky"
        }
        fn generate<'a>(
            &'a self,
            _: &'a GenerateRequest,
            _: u32,
        ) -> BoxFuture<'a, Result<GenerateResponse, ProviderError>> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                if n < self.fail {
                    Err(ProviderError::new(self.kind, "flaky", Some(503), "boom"))
                } else {
                    Ok(GenerateResponse::new("ok".into(), FinishReason::Stop, Default::default()))
                }
            })
        }
    }

    fn fast() -> Limits {
        Limits { base_backoff: Duration::from_millis(1), max_backoff: Duration::from_millis(4), ..Limits::default() }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap()
    }

    #[test]
    fn retries_transient_errors_then_succeeds() {
        let flaky = Arc::new(Flaky { fail: 3, kind: ErrorKind::Transient, calls: AtomicU32::new(0) });
        let g = Generator::new(flaky.clone(), "t".into(), fast(), None, None);
        let req = GenerateRequest::single_turn("hi", &GenSettings::default());
        let (res, attempts) = rt().block_on(g.generate_counted(&req, 1));
        assert_eq!(res.unwrap().text, "ok");
        assert_eq!(attempts, 4);
    }

    #[test]
    fn gives_up_after_max_retries_and_never_retries_permanent() {
        let flaky = Arc::new(Flaky { fail: 100, kind: ErrorKind::Transient, calls: AtomicU32::new(0) });
        let g = Generator::new(flaky.clone(), "t".into(), Limits { max_retries: 2, ..fast() }, None, None);
        let req = GenerateRequest::single_turn("hi", &GenSettings::default());
        let (res, attempts) = rt().block_on(g.generate_counted(&req, 1));
        assert!(res.is_err());
        assert_eq!(attempts, 3);
        let perm = Arc::new(Flaky { fail: 100, kind: ErrorKind::Permanent, calls: AtomicU32::new(0) });
        let g = Generator::new(perm.clone(), "t".into(), fast(), None, None);
        let (_, attempts) = rt().block_on(g.generate_counted(&req, 1));
        assert_eq!(attempts, 1);
    }

    #[test]
    fn a_request_the_provider_cannot_take_is_never_sent() {
        // Flaky declares no features (text only): a request with a tool fails before any call.
        let flaky = Arc::new(Flaky { fail: 0, kind: ErrorKind::Transient, calls: AtomicU32::new(0) });
        let g = Generator::new(flaky.clone(), "t".into(), fast(), None, None);
        let mut req = GenerateRequest::single_turn("hi", &GenSettings::default());
        req.tools.push(preflight_core::ToolDef {
            name: "bash".into(),
            description: "run a command".into(),
            parameters: serde_json::json!({"type": "object"}),
        });
        let (res, attempts) = rt().block_on(g.generate_counted(&req, 1));
        let err = res.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Permanent);
        assert!(err.message.contains("tool calls"), "{}", err.message);
        assert_eq!((attempts, flaky.calls.load(Ordering::SeqCst)), (0, 0));
        let img = GenerateRequest {
            messages: vec![
                preflight_core::Message::user("what is this?")
                    .with_image(preflight_core::Image::Url { url: "https://example.invalid/a.png".into() }),
            ],
            ..GenerateRequest::single_turn("", &GenSettings::default())
        };
        assert!(rt().block_on(g.generate_counted(&img, 1)).0.unwrap_err().message.contains("images"));
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn retry_after_sets_the_delay() {
        let g = Generator::new(
            Arc::new(Flaky { fail: 0, kind: ErrorKind::Transient, calls: AtomicU32::new(0) }),
            "t".into(),
            Limits::default(),
            None,
            None,
        );
        let d = g.backoff(1, Some(Duration::from_secs(2)));
        assert!(d >= Duration::from_secs(2) && d <= Duration::from_millis(2200), "{d:?}");
        for retry in 1..8 {
            let d = g.backoff(retry, None);
            let step = Duration::from_millis(500).saturating_mul(1 << (retry - 1)).min(Duration::from_secs(30));
            assert!(d >= step / 2 && d <= step, "retry {retry}: {d:?}");
        }
    }

    #[test]
    fn tokens_per_minute_space_requests_by_their_size() {
        let ok = Arc::new(Flaky { fail: 0, kind: ErrorKind::Transient, calls: AtomicU32::new(0) });
        // "hi" counts 1 prompt token + max_tokens 8 = 9; at 10,800 a minute each request takes
        // 50 ms of the budget: five calls take at least 200 ms.
        let req = GenerateRequest::single_turn("hi", &GenSettings { max_tokens: Some(8), ..Default::default() });
        assert_eq!(Generator::tokens_counted(&req), 9);
        let g = Arc::new(Generator::new(ok, "t".into(), Limits { tpm: Some(10_800), ..fast() }, None, None));
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
        let started = std::time::Instant::now();
        rt.block_on(async {
            let hs: Vec<_> = (0..5)
                .map(|_| {
                    let (g, req) = (g.clone(), req.clone());
                    tokio::spawn(async move { g.generate_counted(&req, 1).await.0.unwrap() })
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
        });
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(195), "{took:?}");
        assert!(took < Duration::from_millis(2000), "{took:?}");
    }

    #[test]
    fn requests_per_minute_are_spaced() {
        let ok = Arc::new(Flaky { fail: 0, kind: ErrorKind::Transient, calls: AtomicU32::new(0) });
        // 1,200 per minute = one start every 50 ms: five calls take at least 200 ms.
        let g = Arc::new(Generator::new(ok, "t".into(), Limits { rpm: Some(1200), ..fast() }, None, None));
        let req = GenerateRequest::single_turn("hi", &GenSettings::default());
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build().unwrap();
        let started = std::time::Instant::now();
        rt.block_on(async {
            let mut hs = Vec::new();
            for _ in 0..5 {
                let (g, req) = (g.clone(), req.clone());
                hs.push(tokio::spawn(async move { g.generate_counted(&req, 1).await.0.unwrap() }));
            }
            for h in hs {
                h.await.unwrap();
            }
        });
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(195), "{took:?}");
        assert!(took < Duration::from_millis(2000), "{took:?}");
    }

    #[test]
    fn cache_keys_separate_epochs_and_settings() {
        let a = GenerateRequest::single_turn("hi", &GenSettings::default());
        let b = GenerateRequest::single_turn("hi", &GenSettings { temperature: Some(0.0), ..Default::default() });
        assert_ne!(cache_key("ns", &a, 1), cache_key("ns", &a, 2));
        assert_ne!(cache_key("ns", &a, 1), cache_key("ns", &b, 1));
        assert_ne!(cache_key("ns", &a, 1), cache_key("other", &a, 1));
        assert_eq!(cache_key("ns", &a, 1), cache_key("ns", &a.clone(), 1));
    }

    #[test]
    fn text_only_requests_keep_their_cache_keys() {
        // Messages grew images and tool calls; a text-only request must serialise as it did
        // before, or every cached answer of earlier runs would be missed.
        let mut a = GenerateRequest::single_turn("hi", &GenSettings { max_tokens: Some(8), ..Default::default() });
        a.messages.push(preflight_core::Message::assistant("hello"));
        let json = serde_json::to_string(&("ns", &a, 1)).unwrap();
        assert_eq!(
            json,
            r#"["ns",{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}],"temperature":null,"max_tokens":8,"seed":null},1]"#
        );
        assert_eq!(cache_key("ns", &a, 1), "e23739cb5ff162eba9ae2bec7c370ee6e743e1f24b884ddfbbabb22a0674b785");
    }
}
