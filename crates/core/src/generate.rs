use std::{fmt, future::Future, pin::Pin, time::Duration};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A boxed, sendable future; the seams are object-safe so the binary can mix providers at run time.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Chat roles as the OpenAI wire format spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    /// A tool's result, answering the assistant's call `tool_call_id`.
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// One chat turn. `content` is its text; the other fields are empty for a plain text turn and
/// then left out of the serialised form, so text-only transcripts and cache keys are what they
/// were before messages carried more.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
    /// Images sent with the text (user turns), in order after it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Image>,
    /// The tools the assistant called in this turn.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// On a [`Role::Tool`] turn: the id of the call this is the result of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// On a [`Role::Tool`] turn: the tool's name (Gemini keys results by name, not id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// On a [`Role::Tool`] turn: the tool failed (Anthropic's `is_error`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_error: bool,
}

impl Message {
    fn text(role: Role, content: String) -> Self {
        Message {
            role,
            content,
            images: Vec::new(),
            tool_calls: Vec::new(),
            tool_call_id: None,
            tool_name: None,
            is_error: false,
        }
    }
    pub fn system(content: impl Into<String>) -> Self {
        Message::text(Role::System, content.into())
    }
    pub fn user(content: impl Into<String>) -> Self {
        Message::text(Role::User, content.into())
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Message::text(Role::Assistant, content.into())
    }
    /// The assistant turn of a response: its text and its tool calls.
    pub fn from_response(response: &GenerateResponse) -> Self {
        Message { tool_calls: response.tool_calls.clone(), ..Message::assistant(response.text.clone()) }
    }
    /// The result of the tool call `call`.
    pub fn tool_result(call: &ToolCall, output: impl Into<String>, is_error: bool) -> Self {
        Message {
            tool_call_id: Some(call.id.clone()),
            tool_name: Some(call.name.clone()),
            is_error,
            ..Message::text(Role::Tool, output.into())
        }
    }
    /// This turn with an image after its text.
    pub fn with_image(mut self, image: Image) -> Self {
        self.images.push(image);
        self
    }
}

/// An image part: a URL the provider fetches, or the bytes inline as base64.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Image {
    Url { url: String },
    Base64 { media_type: String, data: String },
}

impl Image {
    /// The image as a URL: its own, or a `data:` URL holding the bytes (what OpenAI's APIs take).
    pub fn url(&self) -> String {
        match self {
            Image::Url { url } => url.clone(),
            Image::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        }
    }
}

/// A tool the model may call: its name, what it does, and its parameters as a JSON Schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDef {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

/// One call the model made. `arguments` is the JSON object as text, as OpenAI sends it: kept as
/// text so a model's malformed arguments survive to the transcript instead of failing the parse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's call id (Gemini has none; the provider makes one up from the position).
    pub id: String,
    pub name: String,
    pub arguments: String,
    /// Opaque data the provider issued with the call and wants back when the conversation is
    /// replayed (Gemini's thought signature). Left out of the serialised form when absent, so
    /// requests without it keep their cache keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl ToolCall {
    /// A call without provider data.
    pub fn new(id: impl Into<String>, name: impl Into<String>, arguments: impl Into<String>) -> ToolCall {
        ToolCall { id: id.into(), name: name.into(), arguments: arguments.into(), signature: None }
    }
}

/// What a request needs of a provider beyond text. A provider declares what it supports
/// ([`Generate::features`]); the generator refuses a request that needs more before sending it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Features {
    pub images: bool,
    pub tools: bool,
}

impl Features {
    /// Text only: what every provider supports.
    pub const TEXT: Features = Features { images: false, tools: false };
    /// Text, images and tool calls.
    pub const ALL: Features = Features { images: true, tools: true };

    /// The features `needed` asks for that `self` lacks, named for an error message.
    pub fn missing(self, needed: Features) -> Vec<&'static str> {
        let mut out = Vec::new();
        if needed.images && !self.images {
            out.push("images");
        }
        if needed.tools && !self.tools {
            out.push("tool calls");
        }
        out
    }
}

/// Generation settings; part of the cache key, so two runs with equal settings share answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GenSettings {
    /// Prepended as a system turn when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// A request to a model: the full conversation plus settings. The system prompt, if any, is already
/// a message here; providers send exactly these messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    pub messages: Vec<Message>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub seed: Option<u64>,
    /// The form the answer must take, where the provider can enforce it (local models decode
    /// under it; remote ones are asked in words by the prompt and parsed as before). Left out of
    /// the cache key when unset, so requests without one keep their cached answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<Constraint>,
    /// Tools the model may call; empty (and then left out of the cache key) for plain chat.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolDef>,
}

/// The form an answer must take: what lets a small local model give a judge's verdict or a
/// rating at all, instead of prose no parser can read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Constraint {
    /// Exactly one of these strings.
    OneOf(Vec<String>),
    /// A GBNF grammar (llama.cpp's format) whose start rule is `root`.
    Grammar(String),
}

impl Constraint {
    /// The constraint as a GBNF grammar.
    pub fn to_grammar(&self) -> String {
        match self {
            Constraint::OneOf(choices) => {
                let alts: Vec<String> = choices.iter().map(|c| gbnf_literal(c)).collect();
                format!("root ::= {}", alts.join(" | "))
            }
            Constraint::Grammar(g) => g.clone(),
        }
    }
}

/// `text` as a GBNF string literal.
pub fn gbnf_literal(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl GenerateRequest {
    /// Builds the conversation for a single user turn under `settings`.
    pub fn single_turn(prompt: &str, settings: &GenSettings) -> Self {
        let mut messages = Vec::with_capacity(2);
        if let Some(sys) = &settings.system_prompt {
            messages.push(Message::system(sys.clone()));
        }
        messages.push(Message::user(prompt));
        GenerateRequest {
            messages,
            temperature: settings.temperature,
            max_tokens: settings.max_tokens,
            seed: settings.seed,
            constraint: None,
            tools: Vec::new(),
        }
    }

    /// What this request needs of a provider beyond text.
    pub fn features(&self) -> Features {
        Features {
            images: self.messages.iter().any(|m| !m.images.is_empty()),
            tools: !self.tools.is_empty()
                || self.messages.iter().any(|m| !m.tool_calls.is_empty() || m.role == Role::Tool),
        }
    }

    /// The same request with its answer constrained.
    pub fn constrained(mut self, constraint: Constraint) -> Self {
        self.constraint = Some(constraint);
        self
    }
}

/// Why generation stopped, normalised across providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    ContentFilter,
    /// The model stopped to call tools.
    ToolCalls,
    Other,
}

impl FinishReason {
    pub fn parse(s: &str) -> Self {
        match s {
            "stop" | "eos" | "end_turn" | "stop_sequence" => FinishReason::Stop,
            "length" | "max_tokens" => FinishReason::Length,
            "content_filter" => FinishReason::ContentFilter,
            "tool_calls" | "tool_use" | "function_call" => FinishReason::ToolCalls,
            _ => FinishReason::Other,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::Other => "other",
        }
    }
}

/// Token counts as the provider reported them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

/// A model's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateResponse {
    pub text: String,
    pub finish_reason: FinishReason,
    #[serde(default)]
    pub usage: Usage,
    /// The tools the model called, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Streamed answers: milliseconds from sending the request to the first token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_token_ms: Option<u64>,
    /// Streamed answers: milliseconds from sending the request to the stream's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_token_ms: Option<u64>,
    /// True when the answer came from the response cache, not the provider.
    #[serde(default, skip_serializing)]
    pub cached: bool,
}

impl GenerateResponse {
    /// A text answer: no tool calls, not streamed, not cached.
    pub fn new(text: String, finish_reason: FinishReason, usage: Usage) -> Self {
        GenerateResponse {
            text,
            finish_reason,
            usage,
            tool_calls: Vec::new(),
            first_token_ms: None,
            last_token_ms: None,
            cached: false,
        }
    }
}

/// How a failed call should be treated by the retry loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 429 and friends; retry after the given delay if the server said one.
    RateLimited { retry_after: Option<Duration> },
    /// 5xx, timeouts, dropped connections, garbled bodies: worth retrying.
    Transient,
    /// The server could not be reached at all (connection refused, DNS): retried, and if it never
    /// answers the run stops as a harness error rather than scoring every sample unassessable.
    Unreachable,
    /// 4xx that retrying cannot fix (bad request, unknown model).
    Permanent,
    /// Authentication or authorisation failed: every later call would fail the same way.
    Auth,
    /// The provider's safety filter blocked the request or the answer.
    ContentFiltered,
}

impl ErrorKind {
    /// Whether the retry loop should try again.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::RateLimited { .. } | ErrorKind::Transient | ErrorKind::Unreachable)
    }
    /// Short stable label used in the store and reports.
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::RateLimited { .. } => "rate_limited",
            ErrorKind::Transient => "transient",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::Permanent => "permanent",
            ErrorKind::Auth => "auth",
            ErrorKind::ContentFiltered => "content_filtered",
        }
    }
}

/// A classified provider failure. The message never contains credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind_label} error from {provider}{status}: {message}", kind_label = self.kind.label(), status = self.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
pub struct ProviderError {
    pub kind: ErrorKind,
    /// Provider id, e.g. `openai/gpt-4o-mini`.
    pub provider: String,
    pub status: Option<u16>,
    pub message: String,
}

impl ProviderError {
    pub fn new(kind: ErrorKind, provider: &str, status: Option<u16>, message: impl Into<String>) -> Self {
        ProviderError { kind, provider: provider.to_string(), status, message: message.into() }
    }
}

/// A handle that generates a reply. The runner hands scorers and procedures one of these, never a
/// client, so judge calls get the same cache, retries and rate limits as target calls.
pub trait Generate: Send + Sync {
    /// Stable id of the model behind the handle, e.g. `openai/gpt-4o-mini`.
    fn model_id(&self) -> &str;
    /// What the provider can take beyond text; text only unless it says more.
    fn features(&self) -> Features {
        Features::TEXT
    }
    /// Generates one reply; `epoch` separates repeated samples in the cache.
    fn generate<'a>(
        &'a self,
        request: &'a GenerateRequest,
        epoch: u32,
    ) -> BoxFuture<'a, Result<GenerateResponse, ProviderError>>;
}

/// A response cache. Implementations must be cheap to call from async code.
pub trait Cache: Send + Sync {
    fn get(&self, key: &str) -> Option<GenerateResponse>;
    fn put(&self, key: &str, response: &GenerateResponse);
}

/// Lower-case hex sha256, used for cache keys, prompt hashes and suite fingerprints.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex_lower(&Sha256::digest(bytes))
}

/// Lower-case hex of a digest (or any bytes).
pub fn hex_lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        use fmt::Write;
        let _ = write!(out, "{b:02x}");
    }
    out
}
