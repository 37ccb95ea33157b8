use std::time::{Duration, SystemTime};

use preflight_core::{
    BoxFuture, ErrorKind, FinishReason, Generate, GenerateRequest, GenerateResponse, Message, ProviderError, Usage,
};
use serde::{Deserialize, Serialize};

use crate::parse_retry_after;

/// Settings for an OpenAI-compatible endpoint.
#[derive(Debug, Clone)]
pub struct OpenAiConfig {
    pub model: String,
    /// Up to and including `/v1`, e.g. `http://127.0.0.1:8000/v1`.
    pub base_url: String,
    /// Sent as a bearer token when set. Never logged.
    pub api_key: Option<String>,
    /// Whole-request timeout.
    pub timeout: Duration,
}

impl OpenAiConfig {
    /// OpenAI's public endpoint, no key, 120 s timeout.
    pub fn new(model: &str) -> Self {
        OpenAiConfig {
            model: model.to_string(),
            base_url: "https://api.openai.com/v1".into(),
            api_key: None,
            timeout: Duration::from_secs(120),
        }
    }
}

/// A client for one model behind an OpenAI-compatible chat-completions endpoint.
pub struct OpenAi {
    client: reqwest::Client,
    url: String,
    model: String,
    id: String,
    api_key: Option<String>,
}

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    messages: &'a [Message],
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
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
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u32,
    #[serde(default)]
    completion_tokens: u32,
}

impl OpenAi {
    pub fn new(cfg: OpenAiConfig) -> Result<Self, ProviderError> {
        let id = format!("openai/{}", cfg.model);
        let client = reqwest::Client::builder()
            .timeout(cfg.timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| {
                ProviderError::new(ErrorKind::Permanent, &id, None, format!("cannot build HTTP client: {e}"))
            })?;
        let url = format!("{}/chat/completions", cfg.base_url.trim_end_matches('/'));
        Ok(OpenAi { client, url, model: cfg.model, id, api_key: cfg.api_key.filter(|k| !k.is_empty()) })
    }

    /// The chat-completions URL this client posts to.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn err(&self, kind: ErrorKind, status: Option<u16>, message: String) -> ProviderError {
        ProviderError::new(kind, &self.id, status, self.redact(message))
    }

    /// Servers sometimes echo request headers in error bodies; never let the key through.
    fn redact(&self, mut s: String) -> String {
        if let Some(k) = &self.api_key {
            s = s.replace(k.as_str(), "[REDACTED]");
        }
        s
    }

    async fn call(&self, req: &GenerateRequest) -> Result<GenerateResponse, ProviderError> {
        let body = WireRequest {
            model: &self.model,
            messages: &req.messages,
            temperature: req.temperature,
            max_tokens: req.max_tokens,
            seed: req.seed,
        };
        let json = serde_json::to_vec(&body).expect("request serialises");
        let mut http = self.client.post(&self.url).header(reqwest::header::CONTENT_TYPE, "application/json").body(json);
        if let Some(k) = &self.api_key {
            http = http.bearer_auth(k);
        }
        let resp = http.send().await.map_err(|e| self.transport_error(e))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(|e| self.transport_error(e))?;
        if !(200..300).contains(&status) {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(400)]).into_owned();
            let retry_after = headers
                .get("retry-after-ms")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .map(|ms| Duration::from_secs_f64((ms / 1000.0).clamp(0.0, 3600.0)))
                .or_else(|| {
                    headers
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, SystemTime::now()))
                });
            let kind = classify_status(status, &text, retry_after);
            return Err(self.err(kind, Some(status), text.trim().to_string()));
        }
        let wire: WireResponse = serde_json::from_slice(&bytes).map_err(|e| {
            let head = String::from_utf8_lossy(&bytes[..bytes.len().min(120)]).into_owned();
            self.err(ErrorKind::Transient, Some(status), format!("malformed response body ({e}): {head:?}"))
        })?;
        let choice = wire
            .choices
            .into_iter()
            .next()
            .ok_or_else(|| self.err(ErrorKind::Transient, Some(status), "response has no choices".into()))?;
        let finish_reason = choice.finish_reason.as_deref().map(FinishReason::parse).unwrap_or(FinishReason::Other);
        let text = choice.message.content.or(choice.message.refusal).unwrap_or_default();
        let usage = wire
            .usage
            .map(|u| Usage { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens })
            .unwrap_or_default();
        Ok(GenerateResponse { text, finish_reason, usage, cached: false })
    }

    fn transport_error(&self, e: reqwest::Error) -> ProviderError {
        // reqwest's Display includes the URL but never headers, so the key cannot leak from here.
        // A request that cannot even be built (a bad URL) will not build on a retry either.
        let kind = if e.is_connect() {
            ErrorKind::Unreachable
        } else if e.is_builder() {
            ErrorKind::Permanent
        } else {
            ErrorKind::Transient
        };
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "cannot connect"
        } else {
            "transport error"
        };
        let mut msg = format!("{what}: {e}");
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(&format!(": {s}"));
            src = s.source();
        }
        self.err(kind, None, msg)
    }
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
        &self.id
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
