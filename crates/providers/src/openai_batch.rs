//! OpenAI's Batch API for chat completions: the chunk's requests as a JSONL file uploaded with
//! `purpose=batch` (`POST /files`), a batch over it (`POST /batches`) tagged with the chunk id in
//! its metadata, its status (`GET /batches/{id}`), and its output and error files
//! (`GET /files/{id}/content`), one line per request. Each line's request body is exactly what
//! [`crate::OpenAi`] sends, and each line's response is read and classified exactly as
//! [`crate::OpenAi`] reads and classifies the same response from the synchronous endpoint.

use std::collections::HashSet;

use preflight_core::{BatchApi, BatchItem, BatchResult, BatchStatus, BoxFuture, ErrorKind, ProviderError};
use reqwest::header::HeaderMap;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

use crate::{
    OpenAiConfig,
    http::{Http, Received},
    openai::{WireRequest, parse_completion, wire_request},
};

/// The endpoint every line goes to, as the Batch API names it (with its `/v1`, whatever the base
/// URL's path).
const ENDPOINT: &str = "/v1/chat/completions";

/// The metadata key that carries the chunk id, so [`BatchApi::find`] can recognise a batch.
const CHUNK_KEY: &str = "preflight_chunk";

/// How far before `since_ms` [`BatchApi::find`] still looks. The chunk id in the metadata is what
/// identifies a batch, so looking further back costs a page at most; a client clock running ahead
/// of OpenAI's would otherwise hide the batch and the chunk would be paid for twice.
const CLOCK_SKEW_S: u64 = 600;

/// A client for OpenAI's Batch API, for one model's chat completions. Built from the same
/// [`OpenAiConfig`] as [`crate::OpenAi`] (its `stream` is ignored: batch requests never stream).
/// OpenAI only: Azure OpenAI's batch API takes other URLs and needs a global-batch deployment, so
/// an Azure configuration is refused.
pub struct OpenAiBatch {
    http: Http,
    /// Up to and including `/v1`.
    base: String,
    model: String,
}

/// One line of the input file.
#[derive(Serialize)]
struct InputLine<'a> {
    custom_id: &'a str,
    method: &'static str,
    url: &'static str,
    body: WireRequest<'a>,
}

#[derive(Deserialize)]
struct WireFile {
    id: String,
}

#[derive(Deserialize)]
struct WireBatch {
    id: String,
    status: String,
    #[serde(default)]
    created_at: u64,
    #[serde(default)]
    output_file_id: Option<String>,
    #[serde(default)]
    error_file_id: Option<String>,
    #[serde(default)]
    errors: Option<WireErrors>,
    #[serde(default)]
    metadata: Option<serde_json::Map<String, Value>>,
}

#[derive(Deserialize)]
struct WireErrors {
    #[serde(default)]
    data: Vec<WireBatchError>,
}

#[derive(Deserialize)]
struct WireBatchError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    line: Option<u64>,
}

#[derive(Deserialize)]
struct WireList {
    data: Vec<WireBatch>,
    #[serde(default)]
    has_more: bool,
}

/// One line of an output or error file.
#[derive(Deserialize)]
struct OutputLine {
    custom_id: String,
    #[serde(default)]
    response: Option<LineResponse>,
    #[serde(default)]
    error: Option<LineError>,
}

#[derive(Deserialize)]
struct LineResponse {
    status_code: u16,
    #[serde(default)]
    body: Value,
}

#[derive(Deserialize)]
struct LineError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// What a batch's `status` means for the runner. `failed` is not here: it carries errors.
fn is_running(status: &str) -> Option<bool> {
    match status {
        "validating" | "in_progress" | "finalizing" | "cancelling" => Some(true),
        "completed" | "expired" | "cancelled" => Some(false),
        _ => None,
    }
}

impl OpenAiBatch {
    pub fn new(cfg: OpenAiConfig) -> Result<Self, ProviderError> {
        if cfg.azure.is_some() {
            return Err(ProviderError::new(
                ErrorKind::Permanent,
                &format!("azure/{}", cfg.model),
                None,
                "--batch is not supported for Azure OpenAI (its batch API differs from OpenAI's); run without --batch",
            ));
        }
        let http = Http::new(format!("openai/{}", cfg.model), cfg.api_key, cfg.timeout, &cfg.network)?;
        Ok(OpenAiBatch { http, base: cfg.base_url.trim_end_matches('/').to_string(), model: cfg.model })
    }

    fn auth(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.http.api_key() {
            Some(k) => request.bearer_auth(k),
            None => request,
        }
    }

    /// Sends `request` and reads the whole reply, an error status classified as chat
    /// completions classifies it.
    async fn fetch(&self, request: reqwest::RequestBuilder) -> Result<Received, ProviderError> {
        let got = self.http.send(self.auth(request)).await?;
        if !got.ok() {
            return Err(self.http.status_error(&got));
        }
        Ok(got)
    }

    /// A JSON object from the API; a body that does not parse is transient, as for a completion.
    async fn fetch_json<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T, ProviderError> {
        let got = self.fetch(request).await?;
        serde_json::from_slice(&got.body).map_err(|e| self.http.malformed(got.status, e, &got.body))
    }

    /// The input file: one request per line, each body as [`crate::OpenAi`] posts it.
    fn input_file(&self, items: &[BatchItem]) -> Result<Vec<u8>, ProviderError> {
        // The API fails a whole batch for a repeated custom id, after the upload; say so first.
        let mut ids = HashSet::new();
        if let Some(dup) = items.iter().find(|i| !ids.insert(i.custom_id.as_str())) {
            return Err(self.http.err(
                ErrorKind::Permanent,
                None,
                format!("custom id {} appears twice in one batch", dup.custom_id),
            ));
        }
        let mut out = Vec::new();
        for item in items {
            let line = InputLine {
                custom_id: &item.custom_id,
                method: "POST",
                url: ENDPOINT,
                body: wire_request(&self.model, &item.request, false),
            };
            // JSON escapes every newline inside strings, so each request stays on its line.
            serde_json::to_writer(&mut out, &line).expect("request serialises");
            out.push(b'\n');
        }
        Ok(out)
    }

    async fn submit_chunk(&self, chunk_id: &str, items: &[BatchItem]) -> Result<String, ProviderError> {
        if items.is_empty() {
            return Err(self.http.err(ErrorKind::Permanent, None, "a batch needs at least one request".into()));
        }
        let jsonl = self.input_file(items)?;
        // The file name only labels the upload on OpenAI's dashboard; keep it to characters no
        // multipart header needs to escape.
        let label: String =
            chunk_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
        let part = reqwest::multipart::Part::bytes(jsonl)
            .file_name(format!("preflight-{label}.jsonl"))
            .mime_str("application/jsonl")
            .expect("a valid MIME type");
        let form = reqwest::multipart::Form::new().text("purpose", "batch").part("file", part);
        let file: WireFile = self.fetch_json(self.http.post_multipart(&format!("{}/files", self.base), form)).await?;
        // A crash between the upload and this call leaves an unused file, which OpenAI deletes
        // after 30 days (the default for `purpose=batch`); `find` then sees no batch and the
        // chunk is uploaded again.
        let body = json!({
            "input_file_id": file.id,
            "endpoint": ENDPOINT,
            "completion_window": "24h",
            "metadata": {CHUNK_KEY: chunk_id},
        });
        let url = format!("{}/batches", self.base);
        let batch: WireBatch = self.fetch_json(self.http.post(&url, body.to_string().into_bytes())).await?;
        Ok(batch.id)
    }

    async fn batch(&self, batch_id: &str) -> Result<WireBatch, ProviderError> {
        self.fetch_json(self.http.get(&format!("{}/batches/{batch_id}", self.base))).await
    }

    async fn status(&self, batch_id: &str) -> Result<BatchStatus, ProviderError> {
        let batch = self.batch(batch_id).await?;
        if batch.status == "failed" {
            return Ok(BatchStatus::Failed(self.failure(&batch)));
        }
        match is_running(&batch.status) {
            Some(true) => Ok(BatchStatus::Running),
            Some(false) => Ok(BatchStatus::Ended),
            None => Err(self.unknown_status(&batch)),
        }
    }

    /// A status this client does not know: loud rather than polled for ever or taken as ended.
    fn unknown_status(&self, batch: &WireBatch) -> ProviderError {
        self.http.err(
            ErrorKind::Permanent,
            None,
            format!("batch {} has an unknown status `{}`", batch.id, batch.status),
        )
    }

    /// Why a batch failed, from its `errors` (validation errors name the input file's line). Its
    /// requests never ran; only an exhausted queue of enqueued tokens clears by waiting.
    fn failure(&self, batch: &WireBatch) -> ProviderError {
        let errors = batch.errors.as_ref().map(|e| e.data.as_slice()).unwrap_or_default();
        let mut parts = Vec::new();
        for e in errors {
            let mut s = String::new();
            if let Some(line) = e.line {
                s.push_str(&format!("line {line}: "));
            }
            s.push_str(e.message.as_deref().unwrap_or("no message"));
            if let Some(code) = &e.code {
                s.push_str(&format!(" ({code})"));
            }
            parts.push(s);
        }
        if parts.is_empty() {
            parts.push("no reason given".into());
        }
        // `token_limit_exceeded`: the organisation's enqueued-token limit for the model is
        // reached; the API asks to try again once the current batches have finished.
        let kind = if errors.iter().any(|e| e.code.as_deref() == Some("token_limit_exceeded")) {
            ErrorKind::RateLimited { retry_after: None }
        } else {
            ErrorKind::Permanent
        };
        self.http.err(kind, None, format!("batch {} failed: {}", batch.id, parts.join("; ")))
    }

    async fn read_results(&self, batch_id: &str) -> Result<Vec<BatchResult>, ProviderError> {
        let batch = self.batch(batch_id).await?;
        match (batch.status.as_str(), is_running(&batch.status)) {
            ("failed", _) | (_, Some(false)) => {}
            (_, Some(true)) => {
                return Err(self.http.err(
                    ErrorKind::Transient,
                    None,
                    format!("batch {} is still {}: its results are not ready", batch.id, batch.status),
                ));
            }
            (_, None) => return Err(self.unknown_status(&batch)),
        }
        // Successful requests are in the output file, the others (error statuses, expired and
        // cancelled requests) in the error file; either is absent when it would be empty.
        let mut results = Vec::new();
        for file_id in [&batch.output_file_id, &batch.error_file_id].into_iter().flatten() {
            let got = self.fetch(self.http.get(&format!("{}/files/{file_id}/content", self.base))).await?;
            for line in got.body.split(|b| *b == b'\n').filter(|l| !l.trim_ascii().is_empty()) {
                // One garbled line means a garbled download: reading the file again is cheaper
                // than sending its requests again, so the whole answer is transient.
                let line: OutputLine =
                    serde_json::from_slice(line).map_err(|e| self.http.malformed(got.status, e, line))?;
                let result = self.line_result(&line);
                results.push((line.custom_id, result));
            }
        }
        Ok(results)
    }

    /// One request's outcome: its response read as a synchronous one, or its error.
    fn line_result(&self, line: &OutputLine) -> Result<preflight_core::GenerateResponse, ProviderError> {
        if let Some(e) = &line.error {
            // Not an HTTP error: `batch_expired` and `batch_cancelled` (the request never ran
            // before the window closed or the batch was cancelled), or a failure on OpenAI's side.
            // Sending the request again in a later batch can answer it.
            let code = e.code.as_deref().unwrap_or("error");
            let message = e.message.as_deref().unwrap_or("no message");
            return Err(self.http.err(ErrorKind::Transient, None, format!("{code}: {message}")));
        }
        let Some(r) = &line.response else {
            return Err(self.http.err(
                ErrorKind::Transient,
                None,
                "a result line with neither response nor error".into(),
            ));
        };
        let body = serde_json::to_vec(&r.body).expect("a JSON value serialises");
        if (200..300).contains(&r.status_code) {
            parse_completion(&self.http, r.status_code, &body)
        } else {
            // The same status and body from the synchronous endpoint, without its headers (a
            // result line has none, so no retry-after).
            Err(self.http.status_error(&Received { status: r.status_code, headers: HeaderMap::new(), body }))
        }
    }

    async fn find_chunk(&self, chunk_id: &str, since_ms: u64) -> Result<Option<String>, ProviderError> {
        let cutoff = (since_ms / 1000).saturating_sub(CLOCK_SKEW_S);
        let mut after: Option<String> = None;
        loop {
            let mut url = format!("{}/batches?limit=100", self.base);
            if let Some(a) = &after {
                url.push_str(&format!("&after={a}"));
            }
            let page: WireList = self.fetch_json(self.http.get(&url)).await?;
            // Newest first: the newest batch tagged with the chunk is the last submission of it,
            // the one a crashed process did not live to record.
            if let Some(b) = page.data.iter().find(|b| {
                b.created_at >= cutoff
                    && b.metadata.as_ref().and_then(|m| m.get(CHUNK_KEY)).and_then(Value::as_str) == Some(chunk_id)
            }) {
                return Ok(Some(b.id.clone()));
            }
            // The API's cursor is the last batch's id. Stop once a page reaches batches older than
            // the cutoff (every later page is older still), or when the cursor would not move.
            let last = page.data.last().map(|b| b.id.clone());
            let older = page.data.iter().any(|b| b.created_at < cutoff);
            if !page.has_more || older || last.is_none() || last == after {
                return Ok(None);
            }
            after = last;
        }
    }
}

impl BatchApi for OpenAiBatch {
    fn model_id(&self) -> &str {
        self.http.id()
    }

    fn submit<'a>(&'a self, chunk_id: &'a str, items: &'a [BatchItem]) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(self.submit_chunk(chunk_id, items))
    }

    fn poll<'a>(&'a self, batch_id: &'a str) -> BoxFuture<'a, Result<BatchStatus, ProviderError>> {
        Box::pin(self.status(batch_id))
    }

    fn results<'a>(&'a self, batch_id: &'a str) -> BoxFuture<'a, Result<Vec<BatchResult>, ProviderError>> {
        Box::pin(self.read_results(batch_id))
    }

    fn find<'a>(
        &'a self,
        chunk_id: &'a str,
        _requests: usize,
        since_ms: u64,
    ) -> BoxFuture<'a, Result<Option<String>, ProviderError>> {
        // The metadata names the chunk; the request count adds nothing (and reads 0 while the
        // batch validates).
        Box::pin(self.find_chunk(chunk_id, since_ms))
    }
}
