//! Google's Gemini API, spoken natively (`models/{model}:generateContent`), so its safety filter
//! verdicts (`promptFeedback.blockReason`, `finishReason: SAFETY`) reach the runner as what they
//! are instead of being flattened by a compatibility layer.

use std::{collections::HashMap, fmt, time::Duration};

use preflight_core::{
    BoxFuture, ErrorKind, Features, FinishReason, Generate, GenerateRequest, GenerateResponse, Image, Message,
    ProviderError, Role, ToolCall, Usage,
};
use reqwest::header::HeaderValue;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::{Http, Network, Received, Streamed, retry_after};

/// Settings for the Gemini API.
#[derive(Clone)]
pub struct GoogleConfig {
    /// The model name, e.g. `gemini-2.5-flash`.
    pub model: String,
    /// Scheme and host, without `/v1beta`, e.g. `https://generativelanguage.googleapis.com`.
    pub base_url: String,
    /// Sent in the `x-goog-api-key` header when set (never in the URL, which errors quote). Never logged.
    pub api_key: Option<String>,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Ask for the answer as server-sent events (`streamGenerateContent?alt=sse`; time to first
    /// token is then measured).
    pub stream: bool,
    /// Extra headers and CA bundle (corporate networks).
    pub network: Network,
}

impl GoogleConfig {
    /// Google's public endpoint, no key, 120 s timeout.
    pub fn new(model: &str) -> Self {
        GoogleConfig {
            model: model.to_string(),
            base_url: "https://generativelanguage.googleapis.com".into(),
            api_key: None,
            timeout: Duration::from_secs(120),
            stream: false,
            network: Network::default(),
        }
    }
}

// By hand, so printing a config for diagnostics cannot print the key.
impl fmt::Debug for GoogleConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GoogleConfig")
            .field("model", &self.model)
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("timeout", &self.timeout)
            .field("stream", &self.stream)
            .field("network", &self.network)
            .finish()
    }
}

/// A client for one Gemini model.
pub struct Google {
    http: Http,
    url: String,
    key_header: Option<HeaderValue>,
    stream: bool,
}

/// Gemini 3 rejects (400) a model turn whose first function call lacks the thought signature it
/// issued with it. A call Gemini signed carries its signature back ([`ToolCall::signature`]); a
/// turn whose first call has none (history from other models, hand-built transcripts) carries
/// the value Google documents for calls it did not sign; older models ignore both.
const UNSIGNED_CALL: &str = "skip_thought_signature_validator";

/// Finish reasons meaning a filter withheld (part of) the answer.
const FILTERED: &[&str] = &[
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
];

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireResponse {
    #[serde(default)]
    candidates: Option<Vec<WireCandidate>>,
    #[serde(default)]
    prompt_feedback: Option<WirePromptFeedback>,
    #[serde(default)]
    usage_metadata: Option<WireUsage>,
    /// A `google.rpc.Status` sent in place of a chunk when a stream fails after its 200.
    #[serde(default)]
    error: Option<WireError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireCandidate {
    #[serde(default)]
    content: Option<WireContent>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireContent {
    #[serde(default)]
    parts: Option<Vec<WirePart>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePart {
    #[serde(default)]
    text: Option<String>,
    /// A thought summary (only sent when asked for): the model's reasoning, not its answer.
    #[serde(default)]
    thought: Option<bool>,
    #[serde(default)]
    function_call: Option<WireFunctionCall>,
    /// Gemini 3's signature of the reasoning behind a function call: sent back with the call.
    #[serde(default)]
    thought_signature: Option<String>,
}

#[derive(Deserialize)]
struct WireFunctionCall {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default)]
    args: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePromptFeedback {
    #[serde(default)]
    block_reason: Option<String>,
    #[serde(default)]
    block_reason_message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireUsage {
    #[serde(default)]
    prompt_token_count: u32,
    #[serde(default)]
    candidates_token_count: u32,
    /// Thinking tokens, billed as output but not counted in `candidatesTokenCount`.
    #[serde(default)]
    thoughts_token_count: u32,
}

/// `{"error": {...}}`, a `google.rpc.Status`.
#[derive(Deserialize)]
struct WireErrorBody {
    error: WireError,
}

#[derive(Deserialize)]
struct WireError {
    /// The HTTP status code.
    #[serde(default)]
    code: Option<u16>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<Value>,
}

impl WireError {
    fn detail(&self, type_suffix: &str, field: &str) -> Option<&str> {
        self.details
            .iter()
            .find(|d| d.get("@type").and_then(Value::as_str).is_some_and(|t| t.ends_with(type_suffix)))
            .and_then(|d| d.get(field))
            .and_then(Value::as_str)
    }
}

impl Google {
    /// A client for `cfg`; fails only if the HTTP client cannot be built or the key cannot be a header.
    pub fn new(cfg: GoogleConfig) -> Result<Self, ProviderError> {
        let http = Http::new(format!("google/{}", cfg.model), cfg.api_key, cfg.timeout, &cfg.network)?;
        let key_header = match http.api_key() {
            Some(k) => {
                let mut v = HeaderValue::from_str(k).map_err(|_| {
                    http.err(ErrorKind::Auth, None, "the API key is not a valid HTTP header value".into())
                })?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        // Accept `models/gemini-…` too, the form the API itself lists models in.
        let model = cfg.model.trim_start_matches("models/");
        let base = cfg.base_url.trim_end_matches('/');
        let url = if cfg.stream {
            format!("{base}/v1beta/models/{model}:streamGenerateContent?alt=sse")
        } else {
            format!("{base}/v1beta/models/{model}:generateContent")
        };
        Ok(Google { http, url, key_header, stream: cfg.stream })
    }

    /// The URL this client posts to: `generateContent`, or `streamGenerateContent?alt=sse` when
    /// streaming.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn call(&self, req: &GenerateRequest) -> Result<GenerateResponse, ProviderError> {
        let json = serde_json::to_vec(&wire_request(req)).expect("request serialises");
        let mut request = self.http.post(&self.url, json);
        if let Some(k) = &self.key_header {
            request = request.header("x-goog-api-key", k.clone());
        }
        if self.stream {
            return self.streamed(request).await;
        }
        let got = self.http.send(request).await?;
        let (status, bytes) = (got.status, &got.body);
        if !got.ok() {
            return Err(self.status_error(&got));
        }
        let wire: WireResponse = serde_json::from_slice(bytes).map_err(|e| self.http.malformed(status, e, bytes))?;
        if let Some(e) = self.blocked(&wire, status) {
            return Err(e);
        }
        let candidate = wire.candidates.and_then(|c| c.into_iter().next()).ok_or_else(|| {
            self.http.err(ErrorKind::Transient, Some(status), "response has no candidates and no block reason".into())
        })?;
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        for part in candidate.content.and_then(|c| c.parts).unwrap_or_default() {
            if part.thought == Some(true) {
                continue;
            }
            if let Some(t) = part.text {
                text.push_str(&t);
            }
            if let Some(call) = part.function_call {
                tool_calls.push(tool_call(call, part.thought_signature, tool_calls.len()));
            }
        }
        let finish_reason = finish_reason(candidate.finish_reason.as_deref(), !tool_calls.is_empty());
        let usage = wire.usage_metadata.as_ref().map(WireUsage::usage).unwrap_or_default();
        Ok(GenerateResponse { tool_calls, ..GenerateResponse::new(text, finish_reason, usage) })
    }

    /// An error status, classified by its `google.rpc.Status` body where there is one.
    fn status_error(&self, got: &Received) -> ProviderError {
        let header_delay = retry_after(&got.headers);
        match serde_json::from_slice::<WireErrorBody>(&got.body) {
            Ok(WireErrorBody { error }) => self.rpc_error(got.status, &error, header_delay),
            Err(_) => {
                let kind = classify(got.status, "", "", header_delay);
                self.http.err(kind, Some(got.status), self.http.quote(&got.body, 400).trim().to_string())
            }
        }
    }

    /// A `google.rpc.Status` as an error, its `RetryInfo` the wait unless a header gave one.
    fn rpc_error(&self, status: u16, error: &WireError, header_delay: Option<Duration>) -> ProviderError {
        let reason = error.detail("google.rpc.ErrorInfo", "reason").unwrap_or_default();
        let delay = error.detail("google.rpc.RetryInfo", "retryDelay").and_then(parse_duration);
        let kind = classify(status, &error.status, reason, header_delay.or(delay));
        let mut message = format!("{}: {}", error.status, error.message.trim());
        if !reason.is_empty() {
            message.push_str(&format!(" ({reason})"));
        }
        self.http.err(kind, Some(status), self.http.quote(message.as_bytes(), 600))
    }

    /// The error for a blocked prompt: there is no answer to score, and no retry will give one.
    fn blocked(&self, wire: &WireResponse, status: u16) -> Option<ProviderError> {
        let feedback = wire.prompt_feedback.as_ref()?;
        let reason = feedback.block_reason.as_deref()?;
        let mut message = format!("prompt blocked: {reason}");
        if let Some(m) = feedback.block_reason_message.as_deref() {
            message.push_str(&format!(" ({m})"));
        }
        Some(self.http.err(ErrorKind::ContentFiltered, Some(status), message))
    }

    /// The answer as `data:` events, each a whole `GenerateContentResponse` holding the next
    /// parts. There is no end event: the chunk whose candidate has a `finishReason` is the last.
    async fn streamed(&self, request: reqwest::RequestBuilder) -> Result<GenerateResponse, ProviderError> {
        let started = std::time::Instant::now();
        let mut answer = GenerateResponse::new(String::new(), FinishReason::Other, Usage::default());
        let ended = self
            .http
            .stream(request, |_event, data| {
                let chunk: WireResponse =
                    serde_json::from_str(data).map_err(|e| self.http.malformed(200, e, data.as_bytes()))?;
                if let Some(error) = &chunk.error {
                    // The server gave up after the 200: the status it would have sent is in the body.
                    return Err(self.rpc_error(error.code.unwrap_or(500), error, None));
                }
                if let Some(e) = self.blocked(&chunk, 200) {
                    return Err(e);
                }
                if let Some(u) = &chunk.usage_metadata {
                    answer.usage = u.usage();
                }
                let Some(candidate) = chunk.candidates.and_then(|c| c.into_iter().next()) else {
                    return Ok(false);
                };
                for part in candidate.content.and_then(|c| c.parts).unwrap_or_default() {
                    if part.thought == Some(true) {
                        continue;
                    }
                    let got_token = part.text.as_ref().is_some_and(|t| !t.is_empty()) || part.function_call.is_some();
                    if got_token && answer.first_token_ms.is_none() {
                        answer.first_token_ms = Some(started.elapsed().as_millis() as u64);
                    }
                    if let Some(t) = part.text {
                        answer.text.push_str(&t);
                    }
                    if let Some(call) = part.function_call {
                        let n = answer.tool_calls.len();
                        answer.tool_calls.push(tool_call(call, part.thought_signature, n));
                    }
                }
                match candidate.finish_reason {
                    Some(r) => {
                        answer.finish_reason = finish_reason(Some(&r), !answer.tool_calls.is_empty());
                        Ok(true)
                    }
                    None => Ok(false),
                }
            })
            .await?;
        match ended {
            Streamed::Ended => {
                answer.last_token_ms = Some(started.elapsed().as_millis() as u64);
                Ok(answer)
            }
            Streamed::Cut => Err(self.http.cut()),
            Streamed::Status(got) => Err(self.status_error(&got)),
        }
    }
}

/// A `functionCall` part as a [`ToolCall`]; Gemini's id when it sent one, else `call_{n}`; the
/// part's thought signature kept to be sent back.
fn tool_call(call: WireFunctionCall, signature: Option<String>, n: usize) -> ToolCall {
    let args = call.args.unwrap_or_else(|| json!({}));
    ToolCall {
        id: call.id.filter(|id| !id.is_empty()).unwrap_or_else(|| format!("call_{n}")),
        name: call.name,
        arguments: serde_json::to_string(&args).expect("JSON value serialises"),
        signature: signature.filter(|s| !s.is_empty()),
    }
}

impl WireUsage {
    fn usage(&self) -> Usage {
        Usage {
            prompt_tokens: self.prompt_token_count,
            completion_tokens: self.candidates_token_count.saturating_add(self.thoughts_token_count),
        }
    }
}

/// Maps an error (HTTP status, `google.rpc` status, `ErrorInfo` reason) to an [`ErrorKind`].
fn classify(status: u16, rpc_status: &str, reason: &str, retry_after: Option<Duration>) -> ErrorKind {
    // A bad key comes back as 400 INVALID_ARGUMENT with reason API_KEY_INVALID: an auth failure
    // every later call would repeat, not a bad request.
    if reason.starts_with("API_KEY_") || matches!(rpc_status, "UNAUTHENTICATED" | "PERMISSION_DENIED") {
        return ErrorKind::Auth;
    }
    match status {
        401 | 403 => ErrorKind::Auth,
        429 => ErrorKind::RateLimited { retry_after },
        // 503 UNAVAILABLE is Gemini's "model overloaded"; 499 is a cancelled request.
        408 | 409 | 425 | 499 | 500..=599 => match retry_after {
            Some(_) => ErrorKind::RateLimited { retry_after },
            None => ErrorKind::Transient,
        },
        _ => ErrorKind::Permanent,
    }
}

/// A protobuf JSON duration (`"30s"`, `"1.5s"`), capped at an hour like `Retry-After`.
fn parse_duration(s: &str) -> Option<Duration> {
    let secs: f64 = s.trim().strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

fn finish_reason(reason: Option<&str>, has_calls: bool) -> FinishReason {
    match reason {
        // Gemini says STOP when it stops to call functions.
        Some("STOP") | None if has_calls => FinishReason::ToolCalls,
        Some("STOP") => FinishReason::Stop,
        Some("MAX_TOKENS") => FinishReason::Length,
        Some(r) if FILTERED.contains(&r) => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

/// The `generateContent` body for `req`.
fn wire_request(req: &GenerateRequest) -> Value {
    // Gemini keys tool results by function name; find it from the call when a turn lacks it.
    let names: HashMap<&str, &str> =
        req.messages.iter().flat_map(|m| &m.tool_calls).map(|c| (c.id.as_str(), c.name.as_str())).collect();
    let mut system = Vec::new();
    let mut contents: Vec<(&str, Vec<Value>)> = Vec::new();
    for m in &req.messages {
        let (role, parts) = match m.role {
            // Gemini has no system turns; every system message joins the system instruction.
            Role::System => {
                system.push(json!({ "text": m.content }));
                continue;
            }
            Role::User => ("user", user_parts(m)),
            Role::Assistant => ("model", model_parts(m)),
            Role::Tool => ("user", vec![function_response(m, &names)]),
        };
        // Adjacent turns of one role become one content: the results of parallel calls belong
        // together in the turn after the calls.
        match contents.last_mut() {
            Some((last, p)) if *last == role => p.extend(parts),
            _ => contents.push((role, parts)),
        }
    }
    let contents: Vec<Value> = contents
        .into_iter()
        .map(|(role, mut parts)| {
            // The turn's first call must be signed: its own signature when the model gave one,
            // else the value for calls the model did not sign.
            if role == "model"
                && let Some(first) = parts.iter_mut().find(|p| p.get("functionCall").is_some())
                && first.get("thoughtSignature").is_none()
            {
                first["thoughtSignature"] = UNSIGNED_CALL.into();
            }
            json!({ "role": role, "parts": parts })
        })
        .collect();
    let mut body = json!({ "contents": contents });
    if !system.is_empty() {
        body["systemInstruction"] = json!({ "parts": system });
    }
    let mut config = serde_json::Map::new();
    if let Some(t) = req.temperature {
        config.insert("temperature".into(), t.into());
    }
    if let Some(n) = req.max_tokens {
        config.insert("maxOutputTokens".into(), n.into());
    }
    if let Some(s) = req.seed {
        // Gemini's seed is an int32; keep the low 31 bits so any u64 seed is accepted, still fixed.
        config.insert("seed".into(), (s & 0x7fff_ffff).into());
    }
    if !config.is_empty() {
        body["generationConfig"] = Value::Object(config);
    }
    if !req.tools.is_empty() {
        let decls: Vec<Value> = req
            .tools
            .iter()
            // `parametersJsonSchema` takes JSON Schema as is; `parameters` only an OpenAPI subset
            // that rejects common keywords such as `additionalProperties`.
            .map(|t| json!({ "name": t.name, "description": t.description, "parametersJsonSchema": t.parameters }))
            .collect();
        body["tools"] = json!([{ "functionDeclarations": decls }]);
    }
    body
}

fn user_parts(m: &Message) -> Vec<Value> {
    let mut parts = Vec::with_capacity(1 + m.images.len());
    if !m.content.is_empty() || m.images.is_empty() {
        parts.push(json!({ "text": m.content }));
    }
    parts.extend(m.images.iter().map(image_part));
    parts
}

fn model_parts(m: &Message) -> Vec<Value> {
    let mut parts = user_parts(m);
    if m.content.is_empty() && !m.tool_calls.is_empty() && m.images.is_empty() {
        parts.clear(); // a turn that only called tools has no text part
    }
    parts.extend(m.tool_calls.iter().map(|c| {
        // `args` must be an object; a malformed call from another model's transcript is kept as text.
        let args = match serde_json::from_str::<Value>(&c.arguments) {
            Ok(v @ Value::Object(_)) => v,
            _ if c.arguments.trim().is_empty() => json!({}),
            _ => json!({ "arguments": c.arguments }),
        };
        let mut call = json!({ "name": c.name, "args": args });
        if let Some(id) = echoed_id(&c.id) {
            call["id"] = id.into();
        }
        match &c.signature {
            Some(sig) => json!({ "functionCall": call, "thoughtSignature": sig }),
            None => json!({ "functionCall": call }),
        }
    }));
    parts
}

fn function_response(m: &Message, names: &HashMap<&str, &str>) -> Value {
    let id = m.tool_call_id.as_deref();
    let name = m.tool_name.as_deref().or_else(|| id.and_then(|id| names.get(id).copied())).unwrap_or_default();
    // The reference's convention: `output` for a result, `error` for a failure.
    let key = if m.is_error { "error" } else { "output" };
    let mut response = json!({ "name": name, "response": { key: m.content } });
    if let Some(id) = id.and_then(echoed_id) {
        response["id"] = id.into();
    }
    json!({ "functionResponse": response })
}

/// The call id to send back: Gemini's own, not the `call_N` this client made up when it sent none.
fn echoed_id(id: &str) -> Option<&str> {
    let made_up = id.strip_prefix("call_").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    (!id.is_empty() && !made_up).then_some(id)
}

fn image_part(img: &Image) -> Value {
    match img {
        Image::Base64 { media_type, data } => json!({ "inlineData": { "mimeType": media_type, "data": data } }),
        Image::Url { url } => {
            if let Some((mime, data)) = url
                .strip_prefix("data:")
                .and_then(|rest| rest.split_once(','))
                .and_then(|(meta, data)| meta.strip_suffix(";base64").map(|mime| (mime, data)))
            {
                return json!({ "inlineData": { "mimeType": mime, "data": data } });
            }
            // The API fetches public and signed HTTPS URLs as well as Files API URIs, but wants the
            // MIME type; guess it from the extension as Google's SDKs do, and leave it to the API
            // when there is none.
            let mut file = json!({ "fileUri": url });
            if let Some(mime) = guess_image_mime(url) {
                file["mimeType"] = mime.into();
            }
            json!({ "fileData": file })
        }
    }
}

fn guess_image_mime(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let file = path.rsplit('/').next().unwrap_or(path);
    let ext = file.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        _ => return None,
    })
}

impl Generate for Google {
    fn model_id(&self) -> &str {
        self.http.id()
    }

    /// Gemini takes images and function calls.
    fn features(&self) -> Features {
        Features::ALL
    }

    /// The request's `constraint` is not sent: the prompt asks for the form and the answer is
    /// parsed, as for every remote provider.
    fn generate<'a>(
        &'a self,
        request: &'a GenerateRequest,
        _epoch: u32,
    ) -> BoxFuture<'a, Result<GenerateResponse, ProviderError>> {
        Box::pin(self.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_protobuf_durations() {
        assert_eq!(parse_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0s"), Some(Duration::ZERO));
        assert_eq!(parse_duration("99999s"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("30"), None);
        assert_eq!(parse_duration("-1s"), None);
    }

    #[test]
    fn classifies_errors() {
        let ra = Some(Duration::from_secs(2));
        assert_eq!(classify(429, "RESOURCE_EXHAUSTED", "", ra), ErrorKind::RateLimited { retry_after: ra });
        assert_eq!(classify(503, "UNAVAILABLE", "", None), ErrorKind::Transient);
        assert_eq!(classify(503, "UNAVAILABLE", "", ra), ErrorKind::RateLimited { retry_after: ra });
        assert_eq!(classify(500, "INTERNAL", "", None), ErrorKind::Transient);
        assert_eq!(classify(504, "DEADLINE_EXCEEDED", "", None), ErrorKind::Transient);
        assert_eq!(classify(400, "INVALID_ARGUMENT", "", None), ErrorKind::Permanent);
        assert_eq!(classify(400, "FAILED_PRECONDITION", "", None), ErrorKind::Permanent);
        assert_eq!(classify(404, "NOT_FOUND", "", None), ErrorKind::Permanent);
        assert_eq!(classify(400, "INVALID_ARGUMENT", "API_KEY_INVALID", None), ErrorKind::Auth);
        assert_eq!(classify(403, "PERMISSION_DENIED", "", None), ErrorKind::Auth);
        assert_eq!(classify(401, "UNAUTHENTICATED", "", None), ErrorKind::Auth);
    }

    #[test]
    fn maps_finish_reasons() {
        assert_eq!(finish_reason(Some("STOP"), false), FinishReason::Stop);
        assert_eq!(finish_reason(Some("STOP"), true), FinishReason::ToolCalls);
        assert_eq!(finish_reason(Some("MAX_TOKENS"), false), FinishReason::Length);
        for r in FILTERED {
            assert_eq!(finish_reason(Some(r), false), FinishReason::ContentFilter);
        }
        assert_eq!(finish_reason(Some("MALFORMED_FUNCTION_CALL"), false), FinishReason::Other);
        assert_eq!(finish_reason(None, false), FinishReason::Other);
    }

    #[test]
    fn guesses_image_types_from_the_path() {
        assert_eq!(guess_image_mime("https://x.test/a/b.PNG?sig=1.jpg"), Some("image/png"));
        assert_eq!(guess_image_mime("https://x.test/cat.jpeg"), Some("image/jpeg"));
        assert_eq!(guess_image_mime("https://generativelanguage.googleapis.com/v1beta/files/abc"), None);
    }
}
