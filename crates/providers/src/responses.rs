//! OpenAI's Responses API (`POST /responses`), chosen for `openai/` models by `--api responses`:
//! the API OpenAI's newer models and tools are built for. System turns go to `instructions`,
//! the conversation to `input` items (messages, `function_call`, `function_call_output`), and
//! the answer comes back as `output` items. Errors are chat completions' (same status codes and
//! body), so they are classified the same way.

use preflight_core::{
    BoxFuture, ErrorKind, Features, FinishReason, Generate, GenerateRequest, GenerateResponse, Message, ProviderError,
    Role, ToolCall, Usage,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{OpenAiConfig, http::Http};

/// A client for one model behind OpenAI's Responses API.
pub struct OpenAiResponses {
    http: Http,
    url: String,
    model: String,
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
    /// The Responses API at `cfg.base_url` (up to `/v1`); streaming is not offered here yet.
    pub fn new(cfg: OpenAiConfig) -> Result<Self, ProviderError> {
        let id = format!("openai/{}", cfg.model);
        let http = Http::new(id, cfg.api_key, cfg.timeout, &cfg.network)?;
        if cfg.stream {
            return Err(http.err(
                ErrorKind::Permanent,
                None,
                "--stream is not available with --api responses yet".into(),
            ));
        }
        let url = format!("{}/responses", cfg.base_url.trim_end_matches('/'));
        Ok(OpenAiResponses { http, url, model: cfg.model })
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
        let mut request = self.http.post(&self.url, serde_json::to_vec(&body).expect("request serialises"));
        if let Some(k) = self.http.api_key() {
            request = request.bearer_auth(k);
        }
        let got = self.http.send(request).await?;
        let status = got.status;
        if !got.ok() {
            return Err(self.http.status_error(&got));
        }
        let wire: WireResponse =
            serde_json::from_slice(&got.body).map_err(|e| self.http.malformed(status, e, &got.body))?;
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
                Some("function_call") => tool_calls.push(ToolCall {
                    id: item["call_id"].as_str().unwrap_or_default().to_string(),
                    name: item["name"].as_str().unwrap_or_default().to_string(),
                    arguments: item["arguments"].as_str().unwrap_or("{}").to_string(),
                }),
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
