use std::{collections::BTreeMap, time::Duration};

use preflight_core::{
    BoxFuture, ErrorKind, Features, FinishReason, Generate, GenerateRequest, GenerateResponse, Image, Message,
    ProviderError, Role, ToolCall, Usage,
};
use serde::{Deserialize, Serialize};

use crate::http::{Http, Network, Received, Streamed, retry_after};

/// Settings for Anthropic's Messages API.
#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    pub model: String,
    /// Scheme and host, without `/v1`, e.g. `https://api.anthropic.com`.
    pub base_url: String,
    /// Sent as `x-api-key` when set. Never logged.
    pub api_key: Option<String>,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// The `anthropic-version` header.
    pub version: String,
    /// `max_tokens` for requests that set none: the API requires one.
    pub default_max_tokens: u32,
    /// Ask for the answer as server-sent events (time to first token is then measured).
    pub stream: bool,
    /// Extra headers and CA bundle (corporate networks).
    pub network: Network,
}

impl AnthropicConfig {
    /// Anthropic's public endpoint, no key, 120 s timeout, API version `2023-06-01`, 1024 tokens.
    pub fn new(model: &str) -> Self {
        AnthropicConfig {
            model: model.to_string(),
            base_url: "https://api.anthropic.com".into(),
            api_key: None,
            timeout: Duration::from_secs(120),
            version: "2023-06-01".into(),
            default_max_tokens: 1024,
            stream: false,
            network: Network::default(),
        }
    }
}

/// A client for one model behind Anthropic's `/v1/messages`.
pub struct Anthropic {
    http: Http,
    url: String,
    model: String,
    version: String,
    default_max_tokens: u32,
    stream: bool,
}

// The API has no `seed`, and a grammar cannot be enforced remotely: both are left out.
/// A Messages request body, as [`Anthropic`] posts it and as each request of an
/// [`crate::AnthropicBatch`] carries it in `params`.
#[derive(Serialize)]
pub(crate) struct WireRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    messages: Vec<WireMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
}

#[derive(Serialize)]
struct WireMessage {
    role: &'static str,
    content: WireContent,
}

/// Plain text stays a string; anything else is a list of content blocks.
#[derive(Serialize)]
#[serde(untagged)]
enum WireContent {
    Text(String),
    Blocks(Vec<Block>),
}

impl WireContent {
    fn into_blocks(self) -> Vec<Block> {
        match self {
            // The API rejects empty text blocks.
            WireContent::Text(t) if t.is_empty() => Vec::new(),
            WireContent::Text(text) => vec![Block::Text { text }],
            WireContent::Blocks(b) => b,
        }
    }
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text { text: String },
    Image { source: ImageSource },
    ToolUse { id: String, name: String, input: serde_json::Value },
    ToolResult { tool_use_id: String, content: WireContent, is_error: bool },
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ImageSource {
    Base64 { media_type: String, data: String },
    Url { url: String },
}

#[derive(Serialize)]
struct WireTool<'a> {
    name: &'a str,
    description: &'a str,
    input_schema: &'a serde_json::Value,
}

/// Text then images, as a string when there are no images.
fn text_and_images(m: &Message) -> WireContent {
    if m.images.is_empty() {
        return WireContent::Text(m.content.clone());
    }
    let mut blocks = WireContent::Text(m.content.clone()).into_blocks();
    blocks.extend(m.images.iter().map(|img| Block::Image {
        source: match img {
            Image::Base64 { media_type, data } => {
                ImageSource::Base64 { media_type: media_type.clone(), data: data.clone() }
            }
            Image::Url { url } => ImageSource::Url { url: url.clone() },
        },
    }));
    WireContent::Blocks(blocks)
}

/// The request's messages as the API takes them: system turns joined into `system` (the API has no
/// system role in `messages`), tool results as `user` turns, and consecutive turns of one role
/// merged, since every `tool_use` must be answered by one `user` turn holding all its results.
fn wire_messages(messages: &[Message]) -> Result<(Option<String>, Vec<WireMessage>), String> {
    let mut system = Vec::new();
    let mut out: Vec<WireMessage> = Vec::new();
    for m in messages {
        let (role, content) = match m.role {
            Role::System => {
                system.push(m.content.as_str());
                continue;
            }
            Role::Tool => {
                let id = m.tool_call_id.clone().ok_or("a tool result has no tool_call_id")?;
                let block = Block::ToolResult { tool_use_id: id, content: text_and_images(m), is_error: m.is_error };
                ("user", WireContent::Blocks(vec![block]))
            }
            Role::User | Role::Assistant => {
                let role = if m.role == Role::User { "user" } else { "assistant" };
                if m.tool_calls.is_empty() {
                    (role, text_and_images(m))
                } else {
                    let mut blocks = text_and_images(m).into_blocks();
                    for c in &m.tool_calls {
                        // `input` must be an object; arguments a model garbled (kept as text for
                        // the transcript) go as an empty one, and the tool result says what failed.
                        let input = serde_json::from_str::<serde_json::Value>(&c.arguments)
                            .ok()
                            .filter(|v| v.is_object())
                            .unwrap_or_else(|| serde_json::json!({}));
                        blocks.push(Block::ToolUse { id: c.id.clone(), name: c.name.clone(), input });
                    }
                    (role, WireContent::Blocks(blocks))
                }
            }
        };
        match out.last_mut() {
            Some(last) if last.role == role => {
                let prev = std::mem::replace(&mut last.content, WireContent::Blocks(Vec::new()));
                let mut blocks = prev.into_blocks();
                blocks.extend(content.into_blocks());
                last.content = WireContent::Blocks(blocks);
            }
            _ => out.push(WireMessage { role, content }),
        }
    }
    let system = (!system.is_empty()).then(|| system.join("\n\n"));
    Ok((system, out))
}

#[derive(Deserialize)]
struct WireResponse {
    content: Vec<ResponseBlock>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ResponseBlock {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        input: serde_json::Value,
    },
    /// Thinking, server-tool and other blocks carry nothing the harness records.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u32,
    #[serde(default)]
    output_tokens: u32,
    // The prompt's total is the sum of these and `input_tokens`.
    #[serde(default)]
    cache_creation_input_tokens: Option<u32>,
    #[serde(default)]
    cache_read_input_tokens: Option<u32>,
}

impl WireUsage {
    fn usage(&self) -> Usage {
        Usage {
            prompt_tokens: self.input_tokens
                + self.cache_creation_input_tokens.unwrap_or(0)
                + self.cache_read_input_tokens.unwrap_or(0),
            completion_tokens: self.output_tokens,
        }
    }
}

/// `{"type":"error","error":{"type":…,"message":…,"details":{"error_code":…}}}`.
#[derive(Deserialize)]
pub(crate) struct WireErrorBody {
    pub error: WireError,
}

#[derive(Deserialize)]
pub(crate) struct WireError {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Option<WireErrorDetails>,
}

#[derive(Deserialize)]
struct WireErrorDetails {
    #[serde(default)]
    error_code: Option<String>,
}

/// Anthropic's `stop_reason` as a [`FinishReason`].
fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        // The API's safety classifiers stopped the answer.
        "refusal" => FinishReason::ContentFilter,
        "model_context_window_exceeded" => FinishReason::Length,
        other => FinishReason::parse(other),
    }
}

/// Maps an error status, the error body's `error.type` and `error.details.error_code` to an
/// [`ErrorKind`].
fn classify_error(status: u16, error_type: &str, error_code: Option<&str>, retry_after: Option<Duration>) -> ErrorKind {
    // A retry-after, where the server sent one, is the wait; otherwise the retry loop's backoff.
    let wait = if retry_after.is_some() { ErrorKind::RateLimited { retry_after } } else { ErrorKind::Transient };
    // An exhausted spend limit also comes back as a 429 rate_limit_error, but waiting will not
    // lift it (it resets at the start of the month).
    if error_code.is_some_and(|c| c.ends_with("spend_limit_reached")) {
        return ErrorKind::Permanent;
    }
    match (status, error_type) {
        (_, "overloaded_error") | (529, _) => wait,
        (429, _) | (_, "rate_limit_error") => ErrorKind::RateLimited { retry_after },
        (401 | 403, _) | (_, "authentication_error" | "permission_error") => ErrorKind::Auth,
        (408 | 409 | 500..=599, _) | (_, "api_error" | "timeout_error") => wait,
        // invalid_request_error, not_found_error, request_too_large, billing_error (402), …
        _ => ErrorKind::Permanent,
    }
}

/// The Messages body `model` is sent for `req` (`max_tokens` defaulting to
/// `default_max_tokens`); an error when the conversation cannot be expressed in the API's terms.
pub(crate) fn wire_request<'a>(
    model: &'a str,
    req: &'a GenerateRequest,
    default_max_tokens: u32,
    stream: bool,
) -> Result<WireRequest<'a>, String> {
    let (system, messages) = wire_messages(&req.messages)?;
    Ok(WireRequest {
        model,
        max_tokens: req.max_tokens.unwrap_or(default_max_tokens),
        system,
        messages,
        temperature: req.temperature,
        tools: req
            .tools
            .iter()
            .map(|t| WireTool { name: &t.name, description: &t.description, input_schema: &t.parameters })
            .collect(),
        stream,
    })
}

/// `request` with the API's version header and, when there is a key, its `x-api-key`.
pub(crate) fn with_auth(http: &Http, version: &str, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    let request = request.header("anthropic-version", version);
    match http.api_key() {
        Some(k) => request.header("x-api-key", k),
        None => request,
    }
}

/// A Messages response body (a `message` object) as the answer; `status` is the HTTP status it
/// came with, for the errors. A body that does not parse is transient (garbled on the way).
pub(crate) fn parse_message(http: &Http, status: u16, body: &[u8]) -> Result<GenerateResponse, ProviderError> {
    let wire: WireResponse = serde_json::from_slice(body).map_err(|e| http.malformed(status, e, body))?;
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in wire.content {
        match block {
            ResponseBlock::Text { text: t } => text.push_str(&t),
            ResponseBlock::ToolUse { id, name, input } => tool_calls.push(ToolCall::new(id, name, input.to_string())),
            ResponseBlock::Other => {}
        }
    }
    let finish_reason = wire.stop_reason.as_deref().map(finish_reason).unwrap_or(FinishReason::Other);
    let usage = wire.usage.as_ref().map(WireUsage::usage).unwrap_or_default();
    Ok(GenerateResponse { tool_calls, ..GenerateResponse::new(text, finish_reason, usage) })
}

/// An error status, classified by the JSON error body where there is one.
pub(crate) fn status_error(http: &Http, got: &Received) -> ProviderError {
    let retry_after = retry_after(&got.headers);
    // A 413 comes from the CDN in front of the API and need not be the JSON error shape.
    let (kind, message) = match serde_json::from_slice::<WireErrorBody>(&got.body) {
        Ok(WireErrorBody { error: e }) => classify_body(got.status, &e, retry_after),
        Err(_) => (classify_error(got.status, "", None, retry_after), http.quote(&got.body, 400).trim().to_string()),
    };
    http.err(kind, Some(got.status), message)
}

/// An error object's kind and its `type: message` text; `status` is the HTTP status it came
/// with (200 for one inside a stream or a batch result, where only the type tells).
pub(crate) fn classify_body(status: u16, e: &WireError, retry_after: Option<Duration>) -> (ErrorKind, String) {
    let code = e.details.as_ref().and_then(|d| d.error_code.as_deref());
    (classify_error(status, &e.kind, code, retry_after), format!("{}: {}", e.kind, e.message))
}

impl Anthropic {
    pub fn new(cfg: AnthropicConfig) -> Result<Self, ProviderError> {
        let http = Http::new(format!("anthropic/{}", cfg.model), cfg.api_key, cfg.timeout, &cfg.network)?;
        let url = format!("{}/v1/messages", cfg.base_url.trim_end_matches('/'));
        Ok(Anthropic {
            http,
            url,
            model: cfg.model,
            version: cfg.version,
            default_max_tokens: cfg.default_max_tokens,
            stream: cfg.stream,
        })
    }

    /// The messages URL this client posts to.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn call(&self, req: &GenerateRequest) -> Result<GenerateResponse, ProviderError> {
        let body = wire_request(&self.model, req, self.default_max_tokens, self.stream)
            .map_err(|e| self.http.err(ErrorKind::Permanent, None, e))?;
        let json = serde_json::to_vec(&body).expect("request serialises");
        let request = with_auth(&self.http, &self.version, self.http.post(&self.url, json));
        if self.stream {
            return self.streamed(request).await;
        }
        let got = self.http.send(request).await?;
        if !got.ok() {
            return Err(status_error(&self.http, &got));
        }
        parse_message(&self.http, got.status, &got.body)
    }

    /// The answer as Messages stream events: `message_start`, then per content block a
    /// `content_block_start`, its `content_block_delta`s and a `content_block_stop`, then
    /// `message_delta` (stop reason, cumulative usage) and `message_stop`, with `ping`s anywhere.
    async fn streamed(&self, request: reqwest::RequestBuilder) -> Result<GenerateResponse, ProviderError> {
        let started = std::time::Instant::now();
        let mut first_token_ms = None;
        let mut blocks: BTreeMap<usize, StreamBlock> = BTreeMap::new();
        let mut stop_reason: Option<String> = None;
        let mut usage = WireUsage {
            input_tokens: 0,
            output_tokens: 0,
            cache_creation_input_tokens: None,
            cache_read_input_tokens: None,
        };
        let ended = self
            .http
            .stream(request, |event, data| {
                let bad = |e| self.http.malformed(200, e, data.as_bytes());
                // Every event carries its name in its data too; go by the data's when a proxy
                // dropped the `event:` line (the SSE default name is `message`).
                let name = if event.is_empty() || event == "message" {
                    serde_json::from_str::<EventType>(data).map_err(bad)?.kind
                } else {
                    event.to_string()
                };
                match name.as_str() {
                    "message_start" => {
                        let e: MessageStart = serde_json::from_str(data).map_err(bad)?;
                        if let Some(u) = e.message.usage {
                            usage = u;
                        }
                    }
                    "content_block_start" => {
                        let e: BlockStart = serde_json::from_str(data).map_err(bad)?;
                        let block = match e.content_block {
                            ResponseBlock::Text { text } => StreamBlock::Text(text),
                            ResponseBlock::ToolUse { id, name, input } => {
                                StreamBlock::Tool { id, name, input, json: String::new() }
                            }
                            ResponseBlock::Other => StreamBlock::Other,
                        };
                        let token = match &block {
                            StreamBlock::Text(t) => !t.is_empty(),
                            StreamBlock::Tool { .. } => true,
                            StreamBlock::Other => false,
                        };
                        if token && first_token_ms.is_none() {
                            first_token_ms = Some(started.elapsed().as_millis() as u64);
                        }
                        blocks.insert(e.index, block);
                    }
                    "content_block_delta" => {
                        let e: BlockDelta = serde_json::from_str(data).map_err(bad)?;
                        let block = blocks.get_mut(&e.index).ok_or_else(|| {
                            self.http.err(
                                ErrorKind::Transient,
                                Some(200),
                                format!("a delta for content block {} that never started", e.index),
                            )
                        })?;
                        let token = match (block, e.delta) {
                            (StreamBlock::Text(t), Delta::Text { text }) => {
                                t.push_str(&text);
                                !text.is_empty()
                            }
                            (StreamBlock::Tool { json, .. }, Delta::InputJson { partial_json }) => {
                                json.push_str(&partial_json);
                                !partial_json.is_empty()
                            }
                            // Thinking, signature and citation deltas carry nothing the harness records.
                            _ => false,
                        };
                        if token && first_token_ms.is_none() {
                            first_token_ms = Some(started.elapsed().as_millis() as u64);
                        }
                    }
                    "message_delta" => {
                        let e: MessageDelta = serde_json::from_str(data).map_err(bad)?;
                        if let Some(r) = e.delta.stop_reason {
                            stop_reason = Some(r);
                        }
                        // Counts here are cumulative and override the start's where present.
                        if let Some(u) = e.usage {
                            usage.output_tokens = u.output_tokens.unwrap_or(usage.output_tokens);
                            usage.input_tokens = u.input_tokens.unwrap_or(usage.input_tokens);
                            usage.cache_creation_input_tokens =
                                u.cache_creation_input_tokens.or(usage.cache_creation_input_tokens);
                            usage.cache_read_input_tokens = u.cache_read_input_tokens.or(usage.cache_read_input_tokens);
                        }
                    }
                    "message_stop" => return Ok(true),
                    "error" => return Err(self.stream_error(data)),
                    // `ping`, `content_block_stop`, and event types the API may add later.
                    _ => {}
                }
                Ok(false)
            })
            .await?;
        let last_token_ms = Some(started.elapsed().as_millis() as u64);
        match ended {
            Streamed::Ended => {}
            Streamed::Cut => return Err(self.http.cut()),
            Streamed::Status(got) => return Err(status_error(&self.http, &got)),
        }
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        for block in blocks.into_values() {
            match block {
                StreamBlock::Text(t) => text.push_str(&t),
                StreamBlock::Tool { id, name, input, json } => {
                    // The same text as a whole response gives (`input` re-serialised); arguments
                    // that do not parse are kept as sent, for the transcript.
                    let arguments = if json.trim().is_empty() {
                        input.to_string()
                    } else {
                        serde_json::from_str::<serde_json::Value>(&json).map(|v| v.to_string()).unwrap_or(json)
                    };
                    tool_calls.push(ToolCall::new(id, name, arguments));
                }
                StreamBlock::Other => {}
            }
        }
        let finish_reason = stop_reason.as_deref().map(finish_reason).unwrap_or(FinishReason::Other);
        Ok(GenerateResponse {
            tool_calls,
            first_token_ms,
            last_token_ms,
            ..GenerateResponse::new(text, finish_reason, usage.usage())
        })
    }

    /// An `error` event in the middle of a stream: the error body's shape, sent after the 200.
    fn stream_error(&self, data: &str) -> ProviderError {
        match serde_json::from_str::<WireErrorBody>(data) {
            Ok(WireErrorBody { error: e }) => {
                let (kind, message) = classify_body(200, &e, None);
                self.http.err(kind, Some(200), format!("error in the stream: {message}"))
            }
            Err(_) => {
                let head = self.http.quote(data.as_bytes(), 400);
                self.http.err(ErrorKind::Transient, Some(200), format!("error in the stream: {}", head.trim()))
            }
        }
    }
}

/// A content block as its stream builds it.
enum StreamBlock {
    Text(String),
    /// `input` from the start (`{}`), `json` the `input_json_delta` pieces joined.
    Tool {
        id: String,
        name: String,
        input: serde_json::Value,
        json: String,
    },
    Other,
}

#[derive(Deserialize)]
struct EventType {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct MessageStart {
    message: StartMessage,
}

#[derive(Deserialize)]
struct StartMessage {
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct BlockStart {
    index: usize,
    content_block: ResponseBlock,
}

#[derive(Deserialize)]
struct BlockDelta {
    index: usize,
    delta: Delta,
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum Delta {
    #[serde(rename = "text_delta")]
    Text { text: String },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: String },
    /// `thinking_delta`, `signature_delta`, `citations_delta`, and any added later.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct MessageDelta {
    delta: MessageDeltaBody,
    #[serde(default)]
    usage: Option<DeltaUsage>,
}

#[derive(Deserialize)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
}

/// `message_delta`'s usage: cumulative counts, `input_tokens` and the cache counts only sometimes.
#[derive(Deserialize)]
struct DeltaUsage {
    #[serde(default)]
    output_tokens: Option<u32>,
    #[serde(default)]
    input_tokens: Option<u32>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u32>,
    #[serde(default)]
    cache_read_input_tokens: Option<u32>,
}

impl Generate for Anthropic {
    fn model_id(&self) -> &str {
        self.http.id()
    }

    fn features(&self) -> Features {
        Features::ALL
    }

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
    fn classifies_errors() {
        let ra = Some(Duration::from_secs(3));
        assert_eq!(classify_error(429, "rate_limit_error", None, ra), ErrorKind::RateLimited { retry_after: ra });
        assert_eq!(
            classify_error(429, "rate_limit_error", Some("enforced_spend_limit_reached"), None),
            ErrorKind::Permanent
        );
        assert_eq!(classify_error(529, "overloaded_error", None, None), ErrorKind::Transient);
        assert_eq!(classify_error(529, "overloaded_error", None, ra), ErrorKind::RateLimited { retry_after: ra });
        assert_eq!(classify_error(500, "api_error", None, None), ErrorKind::Transient);
        assert_eq!(classify_error(504, "timeout_error", None, None), ErrorKind::Transient);
        assert_eq!(classify_error(401, "authentication_error", None, None), ErrorKind::Auth);
        assert_eq!(classify_error(403, "permission_error", None, None), ErrorKind::Auth);
        assert_eq!(classify_error(400, "invalid_request_error", None, None), ErrorKind::Permanent);
        assert_eq!(classify_error(402, "billing_error", None, None), ErrorKind::Permanent);
        assert_eq!(classify_error(404, "not_found_error", None, None), ErrorKind::Permanent);
        assert_eq!(classify_error(413, "", None, None), ErrorKind::Permanent);
    }

    #[test]
    fn maps_stop_reasons() {
        assert_eq!(finish_reason("end_turn"), FinishReason::Stop);
        assert_eq!(finish_reason("stop_sequence"), FinishReason::Stop);
        assert_eq!(finish_reason("max_tokens"), FinishReason::Length);
        assert_eq!(finish_reason("model_context_window_exceeded"), FinishReason::Length);
        assert_eq!(finish_reason("tool_use"), FinishReason::ToolCalls);
        assert_eq!(finish_reason("refusal"), FinishReason::ContentFilter);
        assert_eq!(finish_reason("pause_turn"), FinishReason::Other);
    }
}
