use std::time::Duration;

use preflight_core::{
    BoxFuture, ErrorKind, Features, FinishReason, Generate, GenerateRequest, GenerateResponse, Message, ProviderError,
    ToolCall, Usage,
};
use serde::{Deserialize, Serialize};

use crate::http::{Http, Network, Streamed};

/// Settings for an OpenAI-compatible endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    pub model: String,
    /// Up to and including `/v1`, e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    /// Sent as a bearer token when set (Azure: as the `api-key` header). Never logged.
    pub api_key: Option<String>,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Azure OpenAI: the deployment URL scheme and `api-key` header instead of OpenAI's.
    pub azure: Option<AzureConfig>,
    /// Ask for the answer as server-sent events (time to first token is then measured).
    pub stream: bool,
    /// Extra headers and CA bundle (corporate networks).
    pub network: Network,
}

/// Azure OpenAI's differences from OpenAI: the model is a deployment in the URL, the version is
/// a query parameter, and the key travels in an `api-key` header.
#[derive(Debug, Clone)]
pub struct AzureConfig {
    /// `api-version`, e.g. `2024-10-21`.
    pub api_version: String,
}

/// The newest generally available Azure OpenAI data-plane version when this was written.
pub const AZURE_API_VERSION: &str = "2024-10-21";

impl OpenAiConfig {
    /// OpenAI's public endpoint, no key, 120 s timeout.
    pub fn new(model: &str) -> Self {
        OpenAiConfig {
            model: model.to_string(),
            base_url: "https://api.openai.com/v1".into(),
            api_key: None,
            timeout: Duration::from_secs(120),
            azure: None,
            stream: false,
            network: Network::default(),
        }
    }

    /// Azure OpenAI deployment `deployment` on `endpoint` (`https://RESOURCE.openai.azure.com`).
    pub fn azure(deployment: &str, endpoint: &str, api_version: &str) -> Self {
        OpenAiConfig {
            base_url: endpoint.trim_end_matches('/').to_string(),
            azure: Some(AzureConfig { api_version: api_version.to_string() }),
            ..OpenAiConfig::new(deployment)
        }
    }
}

/// A client for one model behind an OpenAI-compatible chat-completions endpoint.
pub struct OpenAi {
    http: Http,
    url: String,
    model: String,
    azure: bool,
    stream: bool,
}

/// A chat-completions request body, as [`OpenAi`] posts it and as each line of an
/// [`crate::OpenAiBatch`] input file carries it.
#[derive(Serialize)]
pub(crate) struct WireRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessageOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    /// Streams carry usage only when asked, in a last chunk with no choices.
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// A message as chat completions takes it: plain text stays a string (what every
/// OpenAI-compatible server accepts); images make the content an array of parts.
#[derive(Serialize)]
struct WireMessageOut<'a> {
    role: &'static str,
    content: WireContent<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<WireToolCallOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum WireContent<'a> {
    Text(&'a str),
    /// An assistant turn that only called tools.
    Null(()),
    Parts(Vec<WirePart<'a>>),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WirePart<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: WireImageUrl },
}

#[derive(Serialize)]
struct WireImageUrl {
    url: String,
}

#[derive(Serialize)]
struct WireToolCallOut<'a> {
    id: &'a str,
    r#type: &'static str,
    function: WireFunctionOut<'a>,
}

#[derive(Serialize)]
struct WireFunctionOut<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Serialize)]
struct WireTool<'a> {
    r#type: &'static str,
    function: WireToolFunction<'a>,
}

#[derive(Serialize)]
struct WireToolFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a serde_json::Value,
}

fn wire_message(m: &Message) -> WireMessageOut<'_> {
    let content = if !m.images.is_empty() {
        let mut parts = vec![WirePart::Text { text: &m.content }];
        parts.extend(m.images.iter().map(|img| WirePart::ImageUrl { image_url: WireImageUrl { url: img.url() } }));
        WireContent::Parts(parts)
    } else if m.content.is_empty() && !m.tool_calls.is_empty() {
        WireContent::Null(())
    } else {
        WireContent::Text(&m.content)
    };
    WireMessageOut {
        role: m.role.as_str(),
        content,
        tool_calls: m
            .tool_calls
            .iter()
            .map(|c| WireToolCallOut {
                id: &c.id,
                r#type: "function",
                function: WireFunctionOut { name: &c.name, arguments: &c.arguments },
            })
            .collect(),
        tool_call_id: m.tool_call_id.as_deref(),
    }
}

#[derive(Deserialize)]
struct WireResponse {
    choices: Vec<WireChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireChoice {
    message: WireMessage,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Option<String>,
    /// OpenAI's structured refusal: the text of the refusal when `content` is null.
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Vec<WireToolCall>,
}

#[derive(Deserialize)]
struct WireToolCall {
    id: String,
    function: WireFunction,
}

#[derive(Deserialize)]
struct WireFunction {
    name: String,
    #[serde(default)]
    arguments: String,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

/// The body `model` is sent for `req`: messages, sampling settings and tools, and the stream
/// options when `stream`.
pub(crate) fn wire_request<'a>(model: &'a str, req: &'a GenerateRequest, stream: bool) -> WireRequest<'a> {
    WireRequest {
        model,
        messages: req.messages.iter().map(wire_message).collect(),
        temperature: req.temperature,
        max_tokens: req.max_tokens,
        seed: req.seed,
        tools: req
            .tools
            .iter()
            .map(|t| WireTool {
                r#type: "function",
                function: WireToolFunction { name: &t.name, description: &t.description, parameters: &t.parameters },
            })
            .collect(),
        stream,
        stream_options: stream.then_some(StreamOptions { include_usage: true }),
    }
}

/// A chat-completions response body (a `chat.completion` object) as the answer; `status` is the
/// HTTP status it came with, for the errors. A body that does not parse, or has no choices, is
/// transient: a proxy or a cut connection garbled it.
pub(crate) fn parse_completion(http: &Http, status: u16, body: &[u8]) -> Result<GenerateResponse, ProviderError> {
    let wire: WireResponse = serde_json::from_slice(body).map_err(|e| http.malformed(status, e, body))?;
    let choice = wire
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| http.err(ErrorKind::Transient, Some(status), "response has no choices".into()))?;
    let finish_reason = choice.finish_reason.as_deref().map(FinishReason::parse).unwrap_or(FinishReason::Other);
    let WireMessage { content, refusal, tool_calls } = choice.message;
    let text = content.or(refusal).unwrap_or_default();
    let usage = wire
        .usage
        .map(|u| Usage { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens })
        .unwrap_or_default();
    let tool_calls =
        tool_calls.into_iter().map(|c| ToolCall::new(c.id, c.function.name, c.function.arguments)).collect();
    Ok(GenerateResponse { tool_calls, ..GenerateResponse::new(text, finish_reason, usage) })
}

impl OpenAi {
    pub fn new(cfg: OpenAiConfig) -> Result<Self, ProviderError> {
        let id = format!("{}/{}", if cfg.azure.is_some() { "azure" } else { "openai" }, cfg.model);
        let http = Http::new(id, cfg.api_key, cfg.timeout, &cfg.network)?;
        let base = cfg.base_url.trim_end_matches('/');
        let url = match &cfg.azure {
            Some(az) => {
                format!("{base}/openai/deployments/{}/chat/completions?api-version={}", cfg.model, az.api_version)
            }
            None => format!("{base}/chat/completions"),
        };
        Ok(OpenAi { http, url, model: cfg.model, azure: cfg.azure.is_some(), stream: cfg.stream })
    }

    /// The chat-completions URL this client posts to.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn call(&self, req: &GenerateRequest) -> Result<GenerateResponse, ProviderError> {
        let json = serde_json::to_vec(&wire_request(&self.model, req, self.stream)).expect("request serialises");
        let mut request = self.http.post(&self.url, json);
        match (self.http.api_key(), self.azure) {
            (Some(k), false) => request = request.bearer_auth(k),
            (Some(k), true) => request = request.header("api-key", k),
            (None, _) => {}
        }
        if self.stream {
            return self.streamed(request).await;
        }
        let got = self.http.send(request).await?;
        if !got.ok() {
            return Err(self.http.status_error(&got));
        }
        parse_completion(&self.http, got.status, &got.body)
    }

    /// The answer as `data:` chunks of `chat.completion.chunk` objects, ended by `data: [DONE]`.
    async fn streamed(&self, request: reqwest::RequestBuilder) -> Result<GenerateResponse, ProviderError> {
        let started = std::time::Instant::now();
        let mut answer = GenerateResponse::new(String::new(), FinishReason::Other, Usage::default());
        let mut refusal = String::new();
        // Tool calls arrive in pieces keyed by index: the id and name first, the arguments in parts.
        let mut calls: Vec<ToolCall> = Vec::new();
        let ended = self
            .http
            .stream(request, |_event, data| {
                if data.trim() == "[DONE]" {
                    return Ok(true);
                }
                let chunk: WireChunk =
                    serde_json::from_str(data).map_err(|e| self.http.malformed(200, e, data.as_bytes()))?;
                if let Some(err) = chunk.error {
                    // An error in the middle of a stream: the server gave up on this answer.
                    return Err(self.http.err(ErrorKind::Transient, Some(200), format!("error in the stream: {err}")));
                }
                for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
                    let d = choice.delta;
                    let got_token = d.content.as_ref().is_some_and(|t| !t.is_empty()) || !d.tool_calls.is_empty();
                    if got_token && answer.first_token_ms.is_none() {
                        answer.first_token_ms = Some(started.elapsed().as_millis() as u64);
                    }
                    answer.text.push_str(d.content.as_deref().unwrap_or(""));
                    refusal.push_str(d.refusal.as_deref().unwrap_or(""));
                    for part in d.tool_calls {
                        while calls.len() <= part.index {
                            calls.push(ToolCall::new("", "", ""));
                        }
                        let call = &mut calls[part.index];
                        call.id.push_str(part.id.as_deref().unwrap_or(""));
                        if let Some(f) = part.function {
                            call.name.push_str(f.name.as_deref().unwrap_or(""));
                            call.arguments.push_str(f.arguments.as_deref().unwrap_or(""));
                        }
                    }
                    if let Some(f) = choice.finish_reason {
                        answer.finish_reason = FinishReason::parse(&f);
                    }
                }
                if let Some(u) = chunk.usage {
                    answer.usage = Usage { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens };
                }
                Ok(false)
            })
            .await?;
        match ended {
            Streamed::Ended => answer.last_token_ms = Some(started.elapsed().as_millis() as u64),
            Streamed::Cut => return Err(self.http.cut()),
            Streamed::Status(got) => return Err(self.http.status_error(&got)),
        }
        if answer.text.is_empty() {
            answer.text = refusal;
        }
        answer.tool_calls = calls;
        Ok(answer)
    }
}

#[derive(Deserialize)]
struct WireChunk {
    #[serde(default)]
    choices: Vec<WireChunkChoice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct WireChunkChoice {
    #[serde(default)]
    index: usize,
    #[serde(default)]
    delta: WireDelta,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct WireDelta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    refusal: Option<String>,
    #[serde(default)]
    tool_calls: Vec<WireDeltaCall>,
}

#[derive(Deserialize)]
struct WireDeltaCall {
    #[serde(default)]
    index: usize,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<WireDeltaFunction>,
}

#[derive(Deserialize)]
struct WireDeltaFunction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

/// Maps an HTTP error status (and body) to an [`ErrorKind`].
pub fn classify_status(status: u16, body: &str, retry_after: Option<Duration>) -> ErrorKind {
    let lower = body.to_ascii_lowercase();
    match status {
        // An exhausted quota also comes back as 429, but waiting will not refill it.
        429 if lower.contains("insufficient_quota") => ErrorKind::Permanent,
        429 => ErrorKind::RateLimited { retry_after },
        401 | 403 => ErrorKind::Auth,
        400 | 422
            if lower.contains("content_filter")
                || lower.contains("content_policy")
                || lower.contains("safety system") =>
        {
            ErrorKind::ContentFiltered
        }
        408 | 409 | 425 | 500..=599 => match retry_after {
            Some(_) => ErrorKind::RateLimited { retry_after },
            None => ErrorKind::Transient,
        },
        _ => ErrorKind::Permanent,
    }
}

impl Generate for OpenAi {
    fn model_id(&self) -> &str {
        self.http.id()
    }

    /// Chat completions takes image parts and tools; a compatible server that does not will
    /// answer 400, which is a permanent error naming what it rejected.
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
    fn classifies_statuses() {
        let ra = Some(Duration::from_secs(1));
        assert_eq!(classify_status(429, "slow down", ra), ErrorKind::RateLimited { retry_after: ra });
        assert_eq!(classify_status(429, r#"{"error":{"code":"insufficient_quota"}}"#, None), ErrorKind::Permanent);
        assert_eq!(classify_status(503, "", None), ErrorKind::Transient);
        assert_eq!(classify_status(503, "", ra), ErrorKind::RateLimited { retry_after: ra });
        assert_eq!(classify_status(401, "", None), ErrorKind::Auth);
        assert_eq!(classify_status(400, r#"{"error":{"code":"content_filter"}}"#, None), ErrorKind::ContentFiltered);
        assert_eq!(classify_status(400, "context too long", None), ErrorKind::Permanent);
        assert_eq!(classify_status(404, "no such model", None), ErrorKind::Permanent);
    }
}
