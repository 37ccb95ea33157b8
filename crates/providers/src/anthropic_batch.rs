//! Anthropic's Message Batches API: the chunk's requests in one `POST /v1/messages/batches`, its
//! status (`GET /v1/messages/batches/{id}`), and its results (`GET` the batch's `results_url`),
//! one JSONL line per request. Each request's `params` is exactly the body [`crate::Anthropic`]
//! sends, and each result is read and classified exactly as [`crate::Anthropic`] reads and
//! classifies the same message or error from the synchronous endpoint.

use preflight_core::{
    BatchApi, BatchItem, BatchResult, BatchStatus, BoxFuture, ErrorKind, GenerateResponse, ProviderError,
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::{
    AnthropicConfig,
    anthropic::{WireErrorBody, WireRequest, classify_body, parse_message, status_error, wire_request, with_auth},
    http::{Http, Received},
    retry_after::rfc3339_ms,
};

/// A client for Anthropic's Message Batches API, for one model. Built from the same
/// [`AnthropicConfig`] as [`crate::Anthropic`] (its `stream` is ignored: batch requests never
/// stream).
///
/// The API keeps no metadata on a batch, so [`BatchApi::submit`] cannot tag it with the chunk id,
/// and [`BatchApi::find`] recognises a crashed process's batch only by its time and size: the
/// batch created at or after `since_ms` whose request counts add up to the chunk's. Another batch
/// of the same size created in the same window (another run on the same workspace) can be taken
/// for it; see `find` below for why that is never worse than a delay.
pub struct AnthropicBatch {
    http: Http,
    /// Scheme and host, without `/v1`.
    base: String,
    model: String,
    version: String,
    default_max_tokens: u32,
}

#[derive(Serialize)]
struct CreateBody<'a> {
    requests: Vec<CreateRequest<'a>>,
}

#[derive(Serialize)]
struct CreateRequest<'a> {
    custom_id: &'a str,
    params: WireRequest<'a>,
}

#[derive(Deserialize)]
struct WireBatch {
    id: String,
    processing_status: String,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    request_counts: Option<RequestCounts>,
    #[serde(default)]
    results_url: Option<String>,
}

#[derive(Deserialize)]
struct RequestCounts {
    #[serde(default)]
    processing: u64,
    #[serde(default)]
    succeeded: u64,
    #[serde(default)]
    errored: u64,
    #[serde(default)]
    canceled: u64,
    #[serde(default)]
    expired: u64,
}

impl RequestCounts {
    /// The batch's size: the API keeps the sum equal to its number of requests at all times.
    fn total(&self) -> u64 {
        self.processing + self.succeeded + self.errored + self.canceled + self.expired
    }
}

#[derive(Deserialize)]
struct WireList {
    data: Vec<WireBatch>,
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    last_id: Option<String>,
}

/// One line of the results file. `result` stays a value so a result type added later is one
/// request's error, not a file that cannot be read.
#[derive(Deserialize)]
struct ResultLine {
    custom_id: String,
    result: Value,
}

impl AnthropicBatch {
    pub fn new(cfg: AnthropicConfig) -> Result<Self, ProviderError> {
        let http = Http::new(format!("anthropic/{}", cfg.model), cfg.api_key, cfg.timeout, &cfg.network)?;
        Ok(AnthropicBatch {
            http,
            base: cfg.base_url.trim_end_matches('/').to_string(),
            model: cfg.model,
            version: cfg.version,
            default_max_tokens: cfg.default_max_tokens,
        })
    }

    fn batches_url(&self) -> String {
        format!("{}/v1/messages/batches", self.base)
    }

    /// Sends `request` with the API's headers and reads the whole reply, an error status
    /// classified as the Messages API's errors are.
    async fn fetch(&self, request: reqwest::RequestBuilder) -> Result<Received, ProviderError> {
        let got = self.http.send(with_auth(&self.http, &self.version, request)).await?;
        if !got.ok() {
            return Err(status_error(&self.http, &got));
        }
        Ok(got)
    }

    /// A JSON object from the API; a body that does not parse is transient, as for a message.
    async fn fetch_json<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T, ProviderError> {
        let got = self.fetch(request).await?;
        serde_json::from_slice(&got.body).map_err(|e| self.http.malformed(got.status, e, &got.body))
    }

    async fn submit_chunk(&self, items: &[BatchItem]) -> Result<String, ProviderError> {
        if items.is_empty() {
            return Err(self.http.err(ErrorKind::Permanent, None, "a batch needs at least one request".into()));
        }
        let mut requests = Vec::with_capacity(items.len());
        for item in items {
            // A conversation the API cannot take (a tool result without its call's id) would
            // fail the same way synchronously; the chunk cannot be sent as it is.
            let params = wire_request(&self.model, &item.request, self.default_max_tokens, false)
                .map_err(|e| self.http.err(ErrorKind::Permanent, None, format!("request {}: {e}", item.custom_id)))?;
            requests.push(CreateRequest { custom_id: &item.custom_id, params });
        }
        let body = serde_json::to_vec(&CreateBody { requests }).expect("request serialises");
        let batch: WireBatch = self.fetch_json(self.http.post(&self.batches_url(), body)).await?;
        Ok(batch.id)
    }

    async fn batch(&self, batch_id: &str) -> Result<WireBatch, ProviderError> {
        self.fetch_json(self.http.get(&format!("{}/{batch_id}", self.batches_url()))).await
    }

    async fn status(&self, batch_id: &str) -> Result<BatchStatus, ProviderError> {
        let batch = self.batch(batch_id).await?;
        match batch.processing_status.as_str() {
            "in_progress" | "canceling" => Ok(BatchStatus::Running),
            "ended" => Ok(BatchStatus::Ended),
            // Loud rather than polled for ever or taken as ended.
            other => Err(self.http.err(
                ErrorKind::Permanent,
                None,
                format!("batch {} has an unknown processing status `{other}`", batch.id),
            )),
        }
    }

    /// Where to read a batch's results with this client's key: the batch's `results_url` when it
    /// is on the configured host (it is, for the API itself), else the documented results path on
    /// that host, so the key never goes to a host the configuration did not name (a gateway
    /// passing the API's own URL through).
    fn results_location(&self, batch_id: &str, results_url: &str) -> String {
        let same_origin = match (reqwest::Url::parse(results_url), reqwest::Url::parse(&self.base)) {
            (Ok(a), Ok(b)) => a.origin() == b.origin(),
            _ => false,
        };
        if same_origin { results_url.to_string() } else { format!("{}/{batch_id}/results", self.batches_url()) }
    }

    async fn read_results(&self, batch_id: &str) -> Result<Vec<BatchResult>, ProviderError> {
        let batch = self.batch(batch_id).await?;
        let url = match (&batch.results_url, batch.processing_status.as_str()) {
            (Some(url), "ended") => self.results_location(&batch.id, url),
            _ => {
                return Err(self.http.err(
                    ErrorKind::Transient,
                    None,
                    format!("batch {} is still {}: its results are not ready", batch.id, batch.processing_status),
                ));
            }
        };
        let got = self.fetch(self.http.get(&url)).await?;
        let mut results = Vec::new();
        for line in got.body.split(|b| *b == b'\n').filter(|l| !l.trim_ascii().is_empty()) {
            // One garbled line means a garbled download: reading the file again is cheaper than
            // sending its requests again, so the whole answer is transient.
            let line: ResultLine =
                serde_json::from_slice(line).map_err(|e| self.http.malformed(got.status, e, line))?;
            let result = self.line_result(&line.result);
            results.push((line.custom_id, result));
        }
        Ok(results)
    }

    /// One request's outcome: its message read as a synchronous one, or its error.
    fn line_result(&self, result: &Value) -> Result<GenerateResponse, ProviderError> {
        match result.get("type").and_then(Value::as_str) {
            Some("succeeded") => {
                let message = serde_json::to_vec(&result["message"]).expect("a JSON value serialises");
                parse_message(&self.http, 200, &message)
            }
            // The error response the synchronous endpoint would have sent, without its HTTP
            // status: its type alone classifies it (invalid_request_error permanent,
            // overloaded_error and api_error transient, …).
            Some("errored") => match serde_json::from_value::<WireErrorBody>(result["error"].clone()) {
                Ok(WireErrorBody { error }) => {
                    let (kind, message) = classify_body(200, &error, None);
                    Err(self.http.err(kind, None, message))
                }
                Err(_) => {
                    let text = self.http.quote(result["error"].to_string().as_bytes(), 400);
                    Err(self.http.err(ErrorKind::Transient, None, format!("errored: {text}")))
                }
            },
            // The request never ran (the batch was cancelled, or its 24 hours ran out): a later
            // batch can answer it.
            Some("canceled") => Err(self.http.err(ErrorKind::Transient, None, "canceled before it ran".into())),
            Some("expired") => {
                Err(self.http.err(ErrorKind::Transient, None, "expired before it ran (the batch's 24 hours)".into()))
            }
            other => {
                let what = other.unwrap_or("none");
                Err(self.http.err(ErrorKind::Transient, None, format!("a result of unknown type `{what}`")))
            }
        }
    }

    async fn find_batch(&self, requests: usize, since_ms: u64) -> Result<Option<String>, ProviderError> {
        let mut best: Option<(u64, String)> = None;
        let mut after: Option<String> = None;
        loop {
            let mut url = format!("{}?limit=100", self.batches_url());
            if let Some(a) = &after {
                url.push_str(&format!("&after_id={a}"));
            }
            let page: WireList = self.fetch_json(self.http.get(&url)).await?;
            let mut older = false;
            for b in &page.data {
                // A creation time that does not parse cannot be placed in the window.
                let Some(created) = b.created_at.as_deref().and_then(rfc3339_ms) else { continue };
                if created < since_ms {
                    older = true;
                    continue;
                }
                let size = b.request_counts.as_ref().map(RequestCounts::total);
                if size == Some(requests as u64) && best.as_ref().is_none_or(|(t, _)| created < *t) {
                    best = Some((created, b.id.clone()));
                }
            }
            // Most recently created first: once a page reaches batches older than `since_ms`,
            // every later page is older still. Stop too when the cursor would not move.
            if !page.has_more || older || page.last_id.is_none() || page.last_id == after {
                return Ok(best.map(|(_, id)| id));
            }
            after = page.last_id;
        }
    }
}

impl BatchApi for AnthropicBatch {
    fn model_id(&self) -> &str {
        self.http.id()
    }

    /// `chunk_id` is not sent: the API has nowhere to keep it.
    fn submit<'a>(
        &'a self,
        _chunk_id: &'a str,
        items: &'a [BatchItem],
    ) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(self.submit_chunk(items))
    }

    fn poll<'a>(&'a self, batch_id: &'a str) -> BoxFuture<'a, Result<BatchStatus, ProviderError>> {
        Box::pin(self.status(batch_id))
    }

    fn results<'a>(&'a self, batch_id: &'a str) -> BoxFuture<'a, Result<Vec<BatchResult>, ProviderError>> {
        Box::pin(self.read_results(batch_id))
    }

    /// The batch a crashed process submitted for a chunk of `requests` requests at or after
    /// `since_ms`, recognised by its creation time and its size alone (the API keeps no metadata).
    ///
    /// When several batches fit, the earliest is taken. The crashed process journalled
    /// `since_ms` just before it sent the chunk and died before recording the batch, so its batch
    /// was created a request's latency after `since_ms` and before anything a restarted process
    /// sends; later batches of the same size are other chunks (of this run after the restart, or
    /// of other runs on the workspace), created later still. A wrong pick cannot put a wrong
    /// answer on a request either: results are matched to requests by custom id (the request's
    /// cache key), so another chunk's results match none of this chunk's requests, which come
    /// back missing and are sent again, and another run's identical requests have the same
    /// answers. The cost of a wrong pick is waiting for that batch; the cost of a miss, paying
    /// for the chunk twice.
    fn find<'a>(
        &'a self,
        _chunk_id: &'a str,
        requests: usize,
        since_ms: u64,
    ) -> BoxFuture<'a, Result<Option<String>, ProviderError>> {
        Box::pin(self.find_batch(requests, since_ms))
    }
}
