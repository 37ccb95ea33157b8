//! Model providers. Each implements [`preflight_core::Generate`] for one raw call and classifies its
//! failures ([`preflight_core::ErrorKind`]); retries, caching and rate limits live in the runner.
//!
//! - [`OpenAi`]: any OpenAI-compatible `/chat/completions` endpoint (OpenAI, vLLM, llama.cpp server,
//!   Ollama, …). The API key is read from an environment variable and is never logged, stored or
//!   echoed in errors.
//! - [`Anthropic`]: Anthropic's native Messages API (`/v1/messages`), with images and tool calls.
//! - [`OpenAiBatch`], [`AnthropicBatch`]: the same requests through OpenAI's Batch API and
//!   Anthropic's Message Batches ([`preflight_core::BatchApi`], for `--batch`).
//! - [`OpenAiResponses`]: OpenAI's Responses API (`/responses`), for `openai/` with `--api responses`.
//! - [`Endpoint`]: an application's own HTTP endpoint, described by a TOML target file (`http/FILE`).
//! - [`Google`]: Google's native Gemini API (`generateContent`), with images and function calls; its
//!   safety blocks surface as content-filtered errors and finishes.
//! - [`Bedrock`]: Amazon Bedrock's Converse API (`/model/{id}/converse`), SigV4-signed (or with a
//!   Bedrock API key), with images and tool calls; guardrail stops are content-filtered finishes.
//!
//! ```no_run
//! use preflight_providers::{ModelSpec, OpenAi, OpenAiConfig};
//! let spec = ModelSpec::parse("openai/gpt-4o-mini").unwrap();
//! let provider = OpenAi::new(OpenAiConfig::new(&spec.name)).unwrap();
//! ```

mod anthropic;
mod anthropic_batch;
mod aws;
mod bedrock;
mod endpoint;
mod env_ref;
mod google;
mod http;
mod openai;
mod openai_batch;
mod responses;
mod retry_after;

pub use anthropic::{Anthropic, AnthropicConfig};
pub use anthropic_batch::AnthropicBatch;
pub use aws::{AwsConfigError, AwsCredentials};
pub use bedrock::{Bedrock, BedrockAuth, BedrockConfig, default_bedrock_endpoint};
pub use endpoint::{Endpoint, EndpointConfig, TargetError};
pub use env_ref::{env_references, resolve_env};
pub use google::{Google, GoogleConfig};
pub use http::Network;
pub use openai::{AZURE_API_VERSION, AzureConfig, OpenAi, OpenAiConfig, classify_status};
pub use openai_batch::OpenAiBatch;
/// The URL type base URLs are checked with.
pub use reqwest::Url;
pub use responses::OpenAiResponses;
pub use retry_after::parse_retry_after;

/// `PROVIDER/NAME` as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelSpec {
    pub provider: String,
    pub name: String,
}

/// A model string that names no known provider.
#[derive(Debug, thiserror::Error)]
#[error("model `{spec}`: {reason}")]
pub struct SpecError {
    pub spec: String,
    pub reason: String,
}

/// Providers this build knows: `openai`, `anthropic`, `google`, `azure`, `bedrock`, `http` (an
/// application endpoint described by a target file) and `local` (in-process GGUF, wired by the
/// session).
pub const PROVIDERS: &[&str] = &["openai", "anthropic", "google", "azure", "bedrock", "http", "local"];

impl ModelSpec {
    pub fn parse(s: &str) -> Result<ModelSpec, SpecError> {
        let err = |reason: &str| SpecError { spec: s.to_string(), reason: reason.to_string() };
        let (provider, name) =
            s.split_once('/').ok_or_else(|| err("expected PROVIDER/NAME, e.g. openai/gpt-4o-mini"))?;
        if name.is_empty() {
            return Err(err("the model name after `/` is empty"));
        }
        if !PROVIDERS.contains(&provider) {
            return Err(err(&format!("unknown provider `{provider}` (known: {})", PROVIDERS.join(", "))));
        }
        Ok(ModelSpec { provider: provider.to_string(), name: name.to_string() })
    }
}
