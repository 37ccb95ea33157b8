//! OpenAI's Responses API (`POST /responses`), chosen for `openai/` models by `--api responses`:
//! the API OpenAI's newer models and tools are built for. System turns go to `instructions`,
//! the conversation to `input` items (messages, `function_call`, `function_call_output`), and
//! the answer comes back as `output` items. Errors are chat completions' (same status codes and
//! body), so they are classified the same way. With `--stream` the answer comes as server-sent
//! events; the last one carries the whole response, read as an unstreamed body is.

use std::collections::BTreeMap;

use preflight_core::{
    BoxFuture, ErrorKind, Features, FinishReason, Generate, GenerateRequest, GenerateResponse, Message, ProviderError,
    Role, ToolCall, Usage,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    OpenAiConfig,
    http::{Http, Streamed},
};

/// A client for one model behind OpenAI's Responses API.
pub struct OpenAiResponses {
    http: Http,
    url: String,
    model: String,
    stream: bool,
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    incomplete_details: Option<Incomplete>,
    #[serde(default)]
    output: Vec<Value>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Incomplete {
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u32,
    #[serde(default)]
    output_tokens: u32,
}

/// One input item per turn: a tool call becomes a `function_call` item, a tool result a
/// `function_call_output`; text and images stay messages.
fn input_items(messages: &[Message]) -> Vec<Value> {
    let mut items = Vec::new();
    for m in messages.iter().filter(|m| m.role != Role::System) {
        match m.role {
            Role::Tool => items.push(json!({
                "type": "function_call_output",
                "call_id": m.tool_call_id.clone().unwrap_or_default(),
                "output": m.content,
            })),
            _ if !m.images.is_empty() => {
                let mut content = vec![json!({"type": "input_text", "text": m.content})];
                content.extend(m.images.iter().map(|img| json!({"type": "input_image", "image_url": img.url()})));
                items.push(json!({"role": m.role.as_str(), "content": content}));
            }
            _ => {
                if !m.content.is_empty() || m.tool_calls.is_empty() {
                    items.push(json!({"role": m.role.as_str(), "content": m.content}));
                }
                items.extend(m.tool_calls.iter().map(
                    |c| json!({"type": "function_call", "call_id": c.id, "name": c.name, "arguments": c.arguments}),
                ));
            }
        }
    }
    items
}

impl OpenAiResponses {
    /// The Responses API at `cfg.base_url` (up to `/v1`).
    pub fn new(cfg: OpenAiConfig) -> Result<Self, ProviderError> {
        let id = format!("openai/{}", cfg.model);
        let http = Http::new(id, cfg.api_key, cfg.timeout, &cfg.network)?;
        let url = format!("{}/responses", cfg.base_url.trim_end_matches('/'));
        Ok(OpenAiResponses { http, url, model: cfg.model, stream: cfg.stream })
    }

    /// The URL this client posts to.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn call(&self, req: &GenerateRequest) -> Result<GenerateResponse, ProviderError> {
        let system: Vec<&str> =
            req.messages.iter().filter(|m| m.role == Role::System).map(|m| m.content.as_str()).collect();
        let mut body = json!({
            "model": self.model,
            "input": input_items(&req.messages),
            // Nothing is kept on OpenAI's side: every request carries its whole conversation.
            "store": false,
        });
        if !system.is_empty() {
            body["instructions"] = Value::from(system.join("\n\n"));
        }
        if let Some(t) = req.temperature {
            body["temperature"] = Value::from(t);
        }
        if let Some(n) = req.max_tokens {
            body["max_output_tokens"] = Value::from(n);
        }
        if !req.tools.is_empty() {
            body["tools"] = req
                .tools
                .iter()
                .map(|t| json!({"type": "function", "name": t.name, "description": t.description, "parameters": t.parameters}))
                .collect();
        }
        if self.stream {
            body["stream"] = Value::from(true);
        }
        let mut request = self.http.post(&self.url, serde_json::to_vec(&body).expect("request serialises"));
        if let Some(k) = self.http.api_key() {
            request = request.bearer_auth(k);
        }
        if self.stream {
            return self.streamed(request).await;
        }
        let got = self.http.send(request).await?;
        let status = got.status;
        if !got.ok() {
            return Err(self.http.status_error(&got));
        }
        let wire: WireResponse =
            serde_json::from_slice(&got.body).map_err(|e| self.http.malformed(status, e, &got.body))?;
        self.answer(wire, status)
    }

    /// A response object as the answer: the whole body unstreamed, the terminal event's
    /// `response` streamed, so both paths give the same answer for the same response.
    fn answer(&self, wire: WireResponse, status: u16) -> Result<GenerateResponse, ProviderError> {
        if wire.status.as_deref() == Some("failed") {
            let why = wire.error.map(|e| e.to_string()).unwrap_or_else(|| "no error given".into());
            return Err(self.http.err(ErrorKind::Transient, Some(status), format!("the response failed: {why}")));
        }
        let (mut text, mut refusal, mut tool_calls) = (String::new(), String::new(), Vec::new());
        for item in &wire.output {
            match item["type"].as_str() {
                Some("message") => {
                    for part in item["content"].as_array().into_iter().flatten() {
                        match part["type"].as_str() {
                            Some("output_text") => text.push_str(part["text"].as_str().unwrap_or("")),
                            Some("refusal") => refusal.push_str(part["refusal"].as_str().unwrap_or("")),
                            _ => {}
                        }
                    }
                }
                Some("function_call") => tool_calls.push(ToolCall::new(
                    item["call_id"].as_str().unwrap_or_default(),
                    item["name"].as_str().unwrap_or_default(),
                    item["arguments"].as_str().unwrap_or("{}"),
                )),
                // Reasoning summaries and built-in tools' items are not the answer.
                _ => {}
            }
        }
        if text.is_empty() {
            text = refusal;
        }
        let finish_reason = match (wire.status.as_deref(), wire.incomplete_details.and_then(|d| d.reason).as_deref()) {
            (Some("incomplete"), Some("max_output_tokens")) => FinishReason::Length,
            (Some("incomplete"), Some("content_filter")) => FinishReason::ContentFilter,
            (Some("incomplete"), _) => FinishReason::Other,
            _ if !tool_calls.is_empty() => FinishReason::ToolCalls,
            (Some("completed"), _) => FinishReason::Stop,
            _ => FinishReason::Other,
        };
        let usage = wire
            .usage
            .map(|u| Usage { prompt_tokens: u.input_tokens, completion_tokens: u.output_tokens })
            .unwrap_or_default();
        Ok(GenerateResponse { tool_calls, ..GenerateResponse::new(text, finish_reason, usage) })
    }

    /// The answer as Responses stream events: `response.created` and `response.in_progress`,
    /// then per output item a `response.output_item.added`, its deltas (`response.output_text`,
    /// `response.refusal`, `response.function_call_arguments`) and a `response.output_item.done`
    /// holding the whole item, and last one of `response.completed`, `response.incomplete` or
    /// `response.failed` holding the whole response. The deltas only time the first token: the
    /// answer is read from that last response by [`Self::answer`], as an unstreamed body is.
    async fn streamed(&self, request: reqwest::RequestBuilder) -> Result<GenerateResponse, ProviderError> {
        let started = std::time::Instant::now();
        let mut first_token_ms = None;
        let mut done_items: BTreeMap<usize, Value> = BTreeMap::new();
        let mut terminal: Option<WireResponse> = None;
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
                let token = match name.as_str() {
                    "response.output_text.delta"
                    | "response.refusal.delta"
                    | "response.function_call_arguments.delta" => {
                        !serde_json::from_str::<Delta>(data).map_err(bad)?.delta.is_empty()
                    }
                    // A call's name is out before its arguments, as a tool block's start is.
                    "response.output_item.added" => {
                        serde_json::from_str::<Item>(data).map_err(bad)?.item["type"] == "function_call"
                    }
                    "response.output_item.done" => {
                        let e: Item = serde_json::from_str(data).map_err(bad)?;
                        done_items.insert(e.output_index, e.item);
                        false
                    }
                    "response.completed" | "response.incomplete" | "response.failed" => {
                        terminal = Some(serde_json::from_str::<Terminal>(data).map_err(bad)?.response);
                        return Ok(true);
                    }
                    "error" => return Err(self.stream_error(data)),
                    // `response.created`, content parts, `.done`s, reasoning, built-in tools' and
                    // event types the API may add later.
                    _ => false,
                };
                if token && first_token_ms.is_none() {
                    first_token_ms = Some(started.elapsed().as_millis() as u64);
                }
                Ok(false)
            })
            .await?;
        let last_token_ms = Some(started.elapsed().as_millis() as u64);
        match ended {
            Streamed::Ended => {}
            Streamed::Cut => return Err(self.http.cut()),
            Streamed::Status(got) => return Err(self.http.status_error(&got)),
        }
        let Some(mut wire) = terminal else { return Err(self.http.cut()) };
        // Gateways (and some OpenAI backends) end with a response whose `output` is empty although
        // every item was streamed whole: those items are the answer then. A response that really
        // has no output streamed no items either, so nothing is invented.
        if wire.output.is_empty() {
            wire.output = done_items.into_values().collect();
        }
        let answer = self.answer(wire, 200)?;
        Ok(GenerateResponse { first_token_ms, last_token_ms, ..answer })
    }

    /// An `error` event in the middle of a stream. The reference puts `code` and `message` at
    /// the top of the event; the API has been seen nesting them (and a `type`) in an `error`
    /// object, as an error body does. Each field is read from either place.
    fn stream_error(&self, data: &str) -> ProviderError {
        let Ok(v) = serde_json::from_str::<Value>(data) else {
            let head = self.http.quote(data.as_bytes(), 400);
            return self.http.err(ErrorKind::Transient, Some(200), format!("error in the stream: {}", head.trim()));
        };
        let field = |name: &str| v[name].as_str().or_else(|| v["error"][name].as_str()).unwrap_or_default();
        let (code, message) = (field("code"), field("message"));
        let error_type = v["error"]["type"].as_str().unwrap_or_default();
        let body = self.http.quote(data.as_bytes(), 400);
        let kind = crate::classify_status(stream_error_status(code, error_type), &body, None);
        let what = if code.is_empty() { String::new() } else { format!("{code}: ") };
        self.http.err(kind, Some(200), format!("error in the stream: {what}{message}"))
    }
}

/// The status an `error` event's failure would have come with had it happened before the
/// stream: classified then like any error body ([`crate::classify_status`]: an exhausted quota
/// permanent, a rate limit waited out by everyone, a content filter recorded as one). What
/// names no known failure (`server_error`, nothing) is a server's and retried.
fn stream_error_status(code: &str, error_type: &str) -> u16 {
    let names = |words: &[&str]| words.iter().any(|w| code.contains(w) || error_type.contains(w));
    if names(&["rate_limit", "too_many_requests", "quota"]) {
        429
    } else if names(&["invalid_api_key", "authentication", "permission", "unauthorized"]) {
        401
    } else if names(&["invalid_request", "invalid_prompt", "context_length", "content_filter", "content_policy"]) {
        400
    } else {
        500
    }
}

#[derive(Deserialize)]
struct EventType {
    #[serde(rename = "type")]
    kind: String,
}

/// A text, refusal or arguments delta.
#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    delta: String,
}

/// `response.output_item.added` and `.done`.
#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    output_index: usize,
    #[serde(default)]
    item: Value,
}

/// `response.completed`, `.incomplete` and `.failed`.
#[derive(Deserialize)]
struct Terminal {
    response: WireResponse,
}

impl Generate for OpenAiResponses {
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
