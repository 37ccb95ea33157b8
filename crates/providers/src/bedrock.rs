//! Amazon Bedrock's Converse API (`POST /model/{modelId}/converse`): one request shape for every
//! model Bedrock hosts, signed with SigV4 (or sent with a Bedrock API key), its guardrail and
//! content-filter stops reaching the runner as content-filtered finishes.
//!
//! Not here yet: ConverseStream. It answers in AWS's binary event-stream framing (length-prefixed,
//! CRC-checked messages), not server-sent events, so `--stream` is refused up front rather than
//! silently ignored.

use std::{
    fmt,
    time::{Duration, SystemTime},
};

use preflight_core::{
    BoxFuture, ErrorKind, Features, FinishReason, Generate, GenerateRequest, GenerateResponse, Image, Message,
    ProviderError, Role, ToolCall, Usage,
};
use reqwest::header::HeaderValue;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    aws::{self, AwsConfigError, AwsCredentials},
    http::{Http, Network, Received, retry_after},
};

/// How requests are authenticated.
#[derive(Clone, PartialEq, Eq)]
pub enum BedrockAuth {
    /// SigV4 with these credentials (service `bedrock`).
    SigV4(AwsCredentials),
    /// A Bedrock API key (`AWS_BEARER_TOKEN_BEDROCK`), sent as `Authorization: Bearer …`.
    ApiKey(String),
}

// By hand, so printing a config cannot print a key.
impl fmt::Debug for BedrockAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BedrockAuth::SigV4(c) => f.debug_tuple("SigV4").field(c).finish(),
            BedrockAuth::ApiKey(_) => f.write_str("ApiKey([REDACTED])"),
        }
    }
}

/// Settings for Bedrock's Converse API.
#[derive(Debug, Clone)]
pub struct BedrockConfig {
    /// The model id (`anthropic.claude-3-haiku-20240307-v1:0`), an inference profile id
    /// (`us.anthropic.…`) or an ARN; URL-encoded when sent.
    pub model: String,
    /// The region: the signature's scope and the default endpoint's host.
    pub region: String,
    /// Scheme and host, e.g. `https://bedrock-runtime.us-east-1.amazonaws.com`.
    pub endpoint: String,
    pub auth: BedrockAuth,
    /// Where the credentials came from, for messages (`the AWS_* variables`, a profile and file).
    pub credential_source: String,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Streamed answers; refused by [`Bedrock::new`] (see the module docs).
    pub stream: bool,
    /// Extra headers and CA bundle (corporate networks).
    pub network: Network,
}

/// `https://bedrock-runtime.{region}.amazonaws.com`, the runtime endpoint of a commercial region.
pub fn default_bedrock_endpoint(region: &str) -> String {
    format!("https://bedrock-runtime.{region}.amazonaws.com")
}

impl BedrockConfig {
    /// `model` in `region` with `auth`, on the region's public endpoint, 120 s timeout.
    pub fn new(model: &str, region: &str, auth: BedrockAuth) -> Self {
        BedrockConfig {
            model: model.to_string(),
            region: region.to_string(),
            endpoint: default_bedrock_endpoint(region),
            auth,
            credential_source: "the configuration".into(),
            timeout: Duration::from_secs(120),
            stream: false,
            network: Network::default(),
        }
    }

    /// Settings found where the AWS SDKs look: `AWS_BEARER_TOKEN_BEDROCK`, else the credentials
    /// of `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, else of the
    /// `AWS_PROFILE` profile in the shared files (`AWS_SHARED_CREDENTIALS_FILE`,
    /// `AWS_CONFIG_FILE`, by default under `~/.aws/`); the region from `AWS_REGION`,
    /// `AWS_DEFAULT_REGION` or the profile; the endpoint from `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`,
    /// then `AWS_ENDPOINT_URL`, else the region's. `var` reads a variable: `std::env::var` in a
    /// run, a map in tests.
    pub fn from_env(model: &str, var: &dyn Fn(&str) -> Option<String>) -> Result<Self, AwsConfigError> {
        let var = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let api_key = var("AWS_BEARER_TOKEN_BEDROCK");
        let resolved = aws::resolve(&var, api_key.is_some())?;
        let auth = match (api_key, resolved.credentials) {
            (Some(k), _) => BedrockAuth::ApiKey(k.trim().to_string()),
            (None, Some(c)) => BedrockAuth::SigV4(c),
            (None, None) => unreachable!("resolve finds credentials unless a key is used"),
        };
        let endpoint = match ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL"]
            .into_iter()
            .find_map(|n| var(n).map(|v| (n, v)))
        {
            Some((name, url)) => {
                let parsed = reqwest::Url::parse(url.trim())
                    .map_err(|e| AwsConfigError(format!("{name}: `{url}` is not a URL: {e}")))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                    return Err(AwsConfigError(format!("{name}: `{url}` is not an http(s) URL")));
                }
                url.trim().trim_end_matches('/').to_string()
            }
            None => default_bedrock_endpoint(&resolved.region),
        };
        Ok(BedrockConfig {
            endpoint,
            credential_source: resolved.source,
            ..BedrockConfig::new(model, &resolved.region, auth)
        })
    }

    /// The secret values these settings hold (secret key, session token, API key): for the run's
    /// redaction, since those read from a profile file are in no variable it knows of.
    pub fn secrets(&self) -> Vec<String> {
        match &self.auth {
            BedrockAuth::SigV4(c) => c.secrets(),
            BedrockAuth::ApiKey(k) => vec![k.clone()],
        }
    }
}

/// A client for one model behind Bedrock's Converse API.
pub struct Bedrock {
    http: Http,
    url: String,
    region: String,
    auth: Auth,
}

enum Auth {
    SigV4(AwsCredentials),
    Bearer(HeaderValue),
}

/// The SigV4 service name Bedrock's runtime signs with.
const SERVICE: &str = "bedrock";

impl Bedrock {
    /// A client for `cfg`. Fails for `stream` (not supported yet), a key that cannot be a header
    /// value, or an HTTP client that cannot be built.
    pub fn new(cfg: BedrockConfig) -> Result<Self, ProviderError> {
        let id = format!("bedrock/{}", cfg.model);
        if cfg.stream {
            return Err(ProviderError::new(
                ErrorKind::Permanent,
                &id,
                None,
                "streaming is not supported for bedrock/ yet: ConverseStream answers in AWS's binary \
                 event-stream framing, which this build does not decode; run without --stream",
            ));
        }
        let api_key = match &cfg.auth {
            BedrockAuth::ApiKey(k) => Some(k.clone()),
            BedrockAuth::SigV4(_) => None,
        };
        let http = Http::new(id, api_key, cfg.timeout, &cfg.network)?.with_secrets(cfg.secrets());
        let auth = match cfg.auth {
            BedrockAuth::SigV4(c) => Auth::SigV4(c),
            BedrockAuth::ApiKey(k) => {
                let mut v = HeaderValue::from_str(&format!("Bearer {k}")).map_err(|_| {
                    http.err(ErrorKind::Auth, None, "AWS_BEARER_TOKEN_BEDROCK is not a valid HTTP header value".into())
                })?;
                v.set_sensitive(true);
                Auth::Bearer(v)
            }
        };
        let url = format!("{}/model/{}/converse", cfg.endpoint.trim_end_matches('/'), aws::encode_label(&cfg.model));
        Ok(Bedrock { http, url, region: cfg.region, auth })
    }

    /// The Converse URL this client posts to.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn call(&self, req: &GenerateRequest) -> Result<GenerateResponse, ProviderError> {
        let body = wire_request(req).map_err(|e| self.http.err(ErrorKind::Permanent, None, e))?;
        let json = serde_json::to_vec(&body).expect("request serialises");
        let mut request = self.http.post(&self.url, json.clone());
        let mut signature = None;
        match &self.auth {
            Auth::Bearer(v) => request = request.header("authorization", v.clone()),
            Auth::SigV4(creds) => {
                // Signed: host and x-amz-date (added by the signer), content-type (fixed here), and
                // x-amz-security-token for temporary credentials. Headers added later (`--header`,
                // content-length) are sent unsigned, which SigV4 allows.
                let headers = [("content-type", "application/json")];
                let signed = aws::sign_v4(
                    creds,
                    &self.region,
                    SERVICE,
                    ("POST", &self.url, &headers, &json),
                    false,
                    SystemTime::now(),
                )
                .map_err(|e| self.http.err(ErrorKind::Permanent, None, e))?;
                for (name, value) in signed.headers {
                    let mut v = HeaderValue::from_str(&value).map_err(|_| {
                        self.http.err(ErrorKind::Auth, None, format!("the signed {name} header is not a valid value"))
                    })?;
                    v.set_sensitive(name != "x-amz-date");
                    request = request.header(name, v);
                }
                signature = Some(signed.signature);
            }
        }
        let got = self.http.send(request).await?;
        let status = got.status;
        if !got.ok() {
            return Err(self.status_error(&got, signature.as_deref()));
        }
        let wire: WireResponse =
            serde_json::from_slice(&got.body).map_err(|e| self.http.malformed(status, e, &got.body))?;
        let Some(message) = wire.output.and_then(|o| o.message) else {
            return Err(self.http.err(
                ErrorKind::Transient,
                Some(status),
                format!("the response has no output message: {:?}", self.http.quote(&got.body, 200)),
            ));
        };
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        for block in message.content {
            if let Some(t) = block.text {
                text.push_str(&t);
            }
            if let Some(u) = block.tool_use {
                tool_calls.push(ToolCall::new(u.tool_use_id, u.name, u.input.unwrap_or_else(|| json!({})).to_string()));
            }
            // Reasoning, citation and guard-content blocks carry nothing the harness records.
        }
        let finish_reason = wire.stop_reason.as_deref().map(finish_reason).unwrap_or(FinishReason::Other);
        let usage = wire
            .usage
            .map(|u| Usage { prompt_tokens: u.input_tokens, completion_tokens: u.output_tokens })
            .unwrap_or_default();
        Ok(GenerateResponse { tool_calls, ..GenerateResponse::new(text, finish_reason, usage) })
    }

    /// An error status, classified by its `x-amzn-ErrorType` header (or the body's `__type`).
    fn status_error(&self, got: &Received, signature: Option<&str>) -> ProviderError {
        // A signature mismatch's message can quote the request as the service saw it; the
        // signature is no credential, but it authorises this request until it expires.
        let scrub = |s: String| match signature {
            Some(sig) if !sig.is_empty() => s.replace(sig, "[REDACTED]"),
            _ => s,
        };
        let body: Option<WireErrorBody> = serde_json::from_slice(&got.body).ok();
        let error_type = got
            .headers
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| body.as_ref().and_then(|b| b.kind.clone()))
            .map(|t| error_code(&t).to_string())
            .unwrap_or_default();
        let kind = classify(got.status, &error_type, retry_after(&got.headers));
        let detail = match body.as_ref().and_then(|b| b.message.clone().or(b.message_upper.clone())) {
            Some(m) => self.http.quote(scrub(m).as_bytes(), 400),
            None => self.http.quote(scrub(String::from_utf8_lossy(&got.body).into_owned()).as_bytes(), 400),
        };
        let message = match (error_type.is_empty(), detail.trim()) {
            (true, d) => d.to_string(),
            (false, "") => error_type,
            (false, d) => format!("{error_type}: {d}"),
        };
        self.http.err(kind, Some(got.status), message)
    }
}

/// `ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/` or
/// `com.amazon.coral.service#ThrottlingException` → `ThrottlingException`.
fn error_code(t: &str) -> &str {
    let t = t.split(':').next().unwrap_or(t);
    t.rsplit('#').next().unwrap_or(t).trim()
}

/// Maps an error status and the error's type to an [`ErrorKind`].
fn classify(status: u16, error_type: &str, retry_after: Option<Duration>) -> ErrorKind {
    // A retry-after, where the server sent one, is the wait; otherwise the retry loop's backoff.
    let wait = if retry_after.is_some() { ErrorKind::RateLimited { retry_after } } else { ErrorKind::Transient };
    match error_type {
        "ThrottlingException" | "ServiceQuotaExceededException" | "TooManyRequestsException" => {
            ErrorKind::RateLimited { retry_after }
        }
        // The model is still loading (429), timed out (408), failed (424), or the service is busy:
        // a later try can succeed.
        "ModelNotReadyException"
        | "ModelTimeoutException"
        | "ModelErrorException"
        | "ServiceUnavailableException"
        | "InternalServerException"
        | "InternalFailure" => wait,
        // No access to the model, or credentials the service rejects: every later call would fail
        // the same way, so the run stops instead of marking each sample unassessable.
        "AccessDeniedException"
        | "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "MissingAuthenticationTokenException"
        | "InvalidClientTokenId"
        | "ExpiredTokenException" => ErrorKind::Auth,
        "ValidationException" | "ResourceNotFoundException" => ErrorKind::Permanent,
        _ => match status {
            401 | 403 => ErrorKind::Auth,
            429 => ErrorKind::RateLimited { retry_after },
            408 | 500..=599 => wait,
            _ => ErrorKind::Permanent,
        },
    }
}

/// Converse's `stopReason` as a [`FinishReason`]. A guardrail or the model's own content filter
/// stopping the answer is the system's answer, recorded as content-filtered: neither a refusal
/// nor an error.
fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "tool_use" => FinishReason::ToolCalls,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        _ => FinishReason::Other,
    }
}

/// The Converse body for `req`, or why it cannot be sent.
fn wire_request(req: &GenerateRequest) -> Result<Value, String> {
    let mut system = Vec::new();
    let mut messages: Vec<(&str, Vec<Value>)> = Vec::new();
    for m in &req.messages {
        let (role, blocks) = match m.role {
            // Converse has no system role in `messages`: system turns go to `system`, in order.
            Role::System => {
                system.push(json!({ "text": m.content }));
                continue;
            }
            Role::User => ("user", content_blocks(m, &[])?),
            Role::Assistant => ("assistant", content_blocks(m, &tool_uses(m))?),
            Role::Tool => ("user", vec![tool_result(m)?]),
        };
        // Consecutive turns of one role become one message: the results of parallel calls must
        // answer the calls together, in the user turn after them.
        match messages.last_mut() {
            Some((last, b)) if *last == role => b.extend(blocks),
            _ => messages.push((role, blocks)),
        }
    }
    let messages: Vec<Value> =
        messages.into_iter().map(|(role, content)| json!({ "role": role, "content": content })).collect();
    let mut body = json!({ "messages": messages });
    if !system.is_empty() {
        body["system"] = Value::Array(system);
    }
    // No seed (Converse has none) and no grammar: both are left out, as for Anthropic.
    let mut config = serde_json::Map::new();
    if let Some(n) = req.max_tokens {
        config.insert("maxTokens".into(), n.into());
    }
    if let Some(t) = req.temperature {
        config.insert("temperature".into(), t.into());
    }
    if !config.is_empty() {
        body["inferenceConfig"] = Value::Object(config);
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                json!({ "toolSpec": {
                    "name": t.name,
                    "description": t.description,
                    "inputSchema": { "json": t.parameters }
                }})
            })
            .collect();
        body["toolConfig"] = json!({ "tools": tools });
    }
    Ok(body)
}

/// A turn's text, images and then `extra` blocks. Converse rejects blank text blocks, so empty
/// text is left out unless the turn would have no block at all (the API then says what is wrong).
fn content_blocks(m: &Message, extra: &[Value]) -> Result<Vec<Value>, String> {
    let mut blocks = Vec::with_capacity(1 + m.images.len() + extra.len());
    if !m.content.is_empty() || (m.images.is_empty() && extra.is_empty()) {
        blocks.push(json!({ "text": m.content }));
    }
    for img in &m.images {
        blocks.push(image_block(img)?);
    }
    blocks.extend_from_slice(extra);
    Ok(blocks)
}

fn tool_uses(m: &Message) -> Vec<Value> {
    m.tool_calls
        .iter()
        .map(|c| {
            // `input` must be a JSON object; arguments a model garbled (kept as text for the
            // transcript) go as an empty one, and the tool result says what failed.
            let input =
                serde_json::from_str::<Value>(&c.arguments).ok().filter(Value::is_object).unwrap_or_else(|| json!({}));
            json!({ "toolUse": { "toolUseId": c.id, "name": c.name, "input": input } })
        })
        .collect()
}

fn tool_result(m: &Message) -> Result<Value, String> {
    let id = m.tool_call_id.as_deref().ok_or("a tool result has no tool_call_id")?;
    // The tool's output is text to the harness; it goes as a text block even when it is JSON,
    // so the model sees exactly what the tool returned.
    let mut content = vec![json!({ "text": m.content })];
    for img in &m.images {
        content.push(image_block(img)?);
    }
    let status = if m.is_error { "error" } else { "success" };
    Ok(json!({ "toolResult": { "toolUseId": id, "content": content, "status": status } }))
}

/// An image as Converse takes it: its bytes, base64 in JSON, and a format. Converse fetches no
/// URLs (only S3 locations, which the harness has no use for), so a URL image fails here, before
/// anything is sent; a `data:` URL holds the bytes and is sent as them.
fn image_block(img: &Image) -> Result<Value, String> {
    let (media_type, data) = match img {
        Image::Base64 { media_type, data } => (media_type.as_str(), data.as_str()),
        Image::Url { url } => url
            .strip_prefix("data:")
            .and_then(|rest| rest.split_once(','))
            .and_then(|(meta, data)| meta.strip_suffix(";base64").map(|mime| (mime, data)))
            .ok_or_else(|| {
                format!(
                    "Bedrock's Converse API takes images as bytes, not URLs (`{}`): give the image inline \
                     (base64) instead",
                    url.chars().take(80).collect::<String>()
                )
            })?,
    };
    let format = match media_type.to_ascii_lowercase().as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        other => return Err(format!("Bedrock's Converse API takes png, jpeg, gif and webp images, not `{other}`")),
    };
    Ok(json!({ "image": { "format": format, "source": { "bytes": data } } }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireResponse {
    #[serde(default)]
    output: Option<WireOutput>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct WireOutput {
    #[serde(default)]
    message: Option<WireMessage>,
}

#[derive(Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Vec<WireBlock>,
}

/// A content block is a union: one member set, the others absent.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireBlock {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    tool_use: Option<WireToolUse>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireToolUse {
    tool_use_id: String,
    name: String,
    #[serde(default)]
    input: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireUsage {
    #[serde(default)]
    input_tokens: u32,
    #[serde(default)]
    output_tokens: u32,
}

/// `{"message": "..."}`; some front ends spell it `Message`, and the JSON protocols name the type
/// in `__type`.
#[derive(Deserialize)]
struct WireErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "Message")]
    message_upper: Option<String>,
    #[serde(default, rename = "__type")]
    kind: Option<String>,
}

impl Generate for Bedrock {
    fn model_id(&self) -> &str {
        self.http.id()
    }

    /// Converse takes images (as bytes: a URL image is refused before sending) and tool calls.
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
        assert_eq!(classify(429, "ThrottlingException", ra), ErrorKind::RateLimited { retry_after: ra });
        assert_eq!(classify(429, "ThrottlingException", None), ErrorKind::RateLimited { retry_after: None });
        assert_eq!(classify(429, "ModelNotReadyException", None), ErrorKind::Transient);
        assert_eq!(classify(503, "ServiceUnavailableException", None), ErrorKind::Transient);
        assert_eq!(classify(503, "ServiceUnavailableException", ra), ErrorKind::RateLimited { retry_after: ra });
        assert_eq!(classify(500, "InternalServerException", None), ErrorKind::Transient);
        assert_eq!(classify(408, "ModelTimeoutException", None), ErrorKind::Transient);
        assert_eq!(classify(424, "ModelErrorException", None), ErrorKind::Transient);
        assert_eq!(classify(400, "ValidationException", None), ErrorKind::Permanent);
        assert_eq!(classify(404, "ResourceNotFoundException", None), ErrorKind::Permanent);
        assert_eq!(classify(403, "AccessDeniedException", None), ErrorKind::Auth);
        assert_eq!(classify(403, "UnrecognizedClientException", None), ErrorKind::Auth);
        assert_eq!(classify(403, "", None), ErrorKind::Auth);
        assert_eq!(classify(502, "", None), ErrorKind::Transient);
        assert_eq!(classify(413, "", None), ErrorKind::Permanent);
        for kind in [ErrorKind::Auth, ErrorKind::Permanent] {
            assert!(!kind.is_retryable());
        }
    }

    #[test]
    fn reads_error_codes() {
        assert_eq!(
            error_code("ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
            "ThrottlingException"
        );
        assert_eq!(error_code("com.amazon.coral.validate#ValidationException"), "ValidationException");
        assert_eq!(error_code("AccessDeniedException"), "AccessDeniedException");
    }

    #[test]
    fn maps_stop_reasons() {
        assert_eq!(finish_reason("end_turn"), FinishReason::Stop);
        assert_eq!(finish_reason("stop_sequence"), FinishReason::Stop);
        assert_eq!(finish_reason("tool_use"), FinishReason::ToolCalls);
        assert_eq!(finish_reason("max_tokens"), FinishReason::Length);
        assert_eq!(finish_reason("guardrail_intervened"), FinishReason::ContentFilter);
        assert_eq!(finish_reason("content_filtered"), FinishReason::ContentFilter);
        assert_eq!(finish_reason("malformed_model_output"), FinishReason::Other);
    }

    #[test]
    fn images_must_be_bytes_of_a_known_format() {
        let png = Image::Base64 { media_type: "image/png".into(), data: "iVBORw0KGgo=".into() };
        assert_eq!(
            image_block(&png).unwrap(),
            json!({"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}})
        );
        let data_url = Image::Url { url: "data:image/jpeg;base64,/9j/4AAQ".into() };
        assert_eq!(image_block(&data_url).unwrap()["image"]["format"], "jpeg");
        let e = image_block(&Image::Url { url: "https://example.invalid/cat.jpg".into() }).unwrap_err();
        assert!(e.contains("not URLs") && e.contains("https://example.invalid/cat.jpg"), "{e}");
        let bmp = Image::Base64 { media_type: "image/bmp".into(), data: "Qk0=".into() };
        assert!(image_block(&bmp).unwrap_err().contains("image/bmp"));
    }
}
