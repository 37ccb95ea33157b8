//! `http/FILE`: an application's own endpoint — its system prompt, retrieval and guardrails
//! included — described by a small TOML target file, so every suite, attack and judge tests the
//! deployed system instead of the bare model. See `docs/targets.md` for the format.
//!
//! The request body is a JSON template whose placeholders are replaced by JSON values (the
//! prompt as a string, the conversation as an array, …), so no model- or user-written text can
//! break out of its string. Header values may name environment variables (`{{env:NAME}}`); the
//! values are secrets, kept out of errors, and the file itself never holds them.
//!
//! Stateful endpoints (a session id in the response, only the newest message in each request)
//! are followed per conversation: the session an answer came with is remembered under the
//! conversation up to that answer, so the next turn of an attack continues the same session.

use std::{collections::HashMap, path::Path, sync::Mutex, time::Duration};

use preflight_core::{
    BoxFuture, ErrorKind, FinishReason, Generate, GenerateRequest, GenerateResponse, Message, ProviderError, Role,
    Usage, sha256_hex,
};
use serde::Deserialize;
use serde_json::Value;

use crate::{
    env_ref::{env_references, resolve_env},
    http::{Http, Network},
};

/// A target file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetFile {
    /// The target's name: the run's model id is `http/NAME`.
    name: String,
    url: String,
    #[serde(default = "post")]
    method: String,
    #[serde(default)]
    headers: HashMap<String, String>,
    /// Seconds; the run's `--timeout` when unset.
    #[serde(default)]
    timeout_secs: Option<f64>,
    request: RequestSpec,
    response: ResponseSpec,
}

fn post() -> String {
    "POST".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestSpec {
    /// JSON with placeholders: `{{prompt}}`, `{{messages}}`, `{{system}}`, `{{session}}`.
    body: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseSpec {
    /// JSON pointer (RFC 6901) to the answer's text, e.g. `/choices/0/message/content`.
    answer: String,
    /// JSON pointer to a session id to send back on the conversation's next turn.
    #[serde(default)]
    session: Option<String>,
    /// Statuses that mean the app's guardrail blocked the request (recorded as content-filtered).
    #[serde(default)]
    blocked_status: Vec<u16>,
    /// JSON pointer to a flag that, when true, means the guardrail blocked the answer.
    #[serde(default)]
    blocked: Option<String>,
}

/// A bad target file: the file, the line and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}: {field}{message}", field = self.field.as_deref().map(|f| format!("`{f}`: ")).unwrap_or_default())]
pub struct TargetError {
    pub path: String,
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

/// A parsed, checked target file.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    spec: TargetFile,
    /// sha256 of the file's text: the response cache's namespace, so an edited file misses it.
    pub fingerprint: String,
    /// The environment variables the headers name: their values are secrets.
    pub secret_variables: Vec<String>,
}

const PLACEHOLDERS: [&str; 4] = ["prompt", "messages", "system", "session"];

fn line_of(src: &str, offset: usize) -> usize {
    src[..offset.min(src.len())].bytes().filter(|&b| b == b'\n').count() + 1
}

impl EndpointConfig {
    /// Reads and checks the target file at `path`.
    pub fn load(path: &Path) -> Result<Self, TargetError> {
        let shown = path.display().to_string();
        let src = std::fs::read_to_string(path).map_err(|e| TargetError {
            path: shown.clone(),
            line: 0,
            field: None,
            message: format!("cannot read: {e}"),
        })?;
        Self::parse(&src, &shown)
    }

    /// Parses and checks target-file text; `path` names it in errors.
    pub fn parse(src: &str, path: &str) -> Result<Self, TargetError> {
        let err = |field: &str, message: String| {
            let line = src.find(&format!("{field} ")).or_else(|| src.find(field)).map(|o| line_of(src, o)).unwrap_or(1);
            TargetError { path: path.to_string(), line, field: Some(field.to_string()), message }
        };
        let spec: TargetFile = toml::from_str(src).map_err(|e| TargetError {
            path: path.to_string(),
            line: e.span().map(|s| line_of(src, s.start)).unwrap_or(1),
            field: None,
            message: e.message().trim().to_string(),
        })?;
        if spec.name.trim().is_empty() || spec.name.contains('/') {
            return Err(err("name", "must be a non-empty name without `/`".into()));
        }
        match reqwest::Url::parse(&spec.url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            Ok(u) => return Err(err("url", format!("scheme `{}` is not http or https", u.scheme()))),
            Err(e) => return Err(err("url", format!("not a URL: {e}"))),
        }
        if reqwest::Method::from_bytes(spec.method.to_ascii_uppercase().as_bytes()).is_err() {
            return Err(err("method", format!("`{}` is not an HTTP method", spec.method)));
        }
        // The body must be JSON once every placeholder is a value, and must use the prompt or
        // the messages, or the endpoint would never see the probe.
        let mut probe = spec.request.body.clone();
        for p in PLACEHOLDERS {
            probe = probe.replace(&format!("{{{{{p}}}}}"), "null");
        }
        if let Some(start) = probe.find("{{") {
            let end = probe[start..].find("}}").map(|e| start + e + 2).unwrap_or(probe.len());
            return Err(err(
                "body",
                format!(
                    "unknown placeholder `{}` (known: {{{{prompt}}}}, {{{{messages}}}}, {{{{system}}}}, {{{{session}}}})",
                    &probe[start..end]
                ),
            ));
        }
        if let Err(e) = serde_json::from_str::<Value>(&probe) {
            return Err(err(
                "body",
                format!(
                    "not JSON once placeholders are values ({e}); write placeholders unquoted, e.g. {{\"input\": {{{{prompt}}}}}}"
                ),
            ));
        }
        if !spec.request.body.contains("{{prompt}}") && !spec.request.body.contains("{{messages}}") {
            return Err(err("body", "uses neither {{prompt}} nor {{messages}}".into()));
        }
        for (field, pointer) in [
            ("answer", Some(&spec.response.answer)),
            ("session", spec.response.session.as_ref()),
            ("blocked", spec.response.blocked.as_ref()),
        ] {
            if let Some(p) = pointer
                && !(p.is_empty() || p.starts_with('/'))
            {
                return Err(err(field, format!("`{p}` is not a JSON pointer (it starts with `/`, e.g. /output/text)")));
            }
        }
        let mut secret_variables = Vec::new();
        for (name, value) in &spec.headers {
            let refs = env_references(value);
            if value.matches("{{env:").count() > refs.len() {
                return Err(err(name, "an unclosed {{env:…}}".into()));
            }
            secret_variables.extend(refs);
        }
        Ok(EndpointConfig { fingerprint: sha256_hex(src.as_bytes()), spec, secret_variables })
    }

    /// `http/NAME`.
    pub fn id(&self) -> String {
        format!("http/{}", self.spec.name)
    }
}

/// A client for one application endpoint.
pub struct Endpoint {
    http: Http,
    spec: TargetFile,
    method: reqwest::Method,
    headers: Vec<(String, String)>,
    /// Session ids by the conversation they continue (hash of the messages up to the answer).
    sessions: Mutex<HashMap<String, String>>,
}

impl Endpoint {
    /// The endpoint of `cfg`; header variables are read now, and a missing one is an error.
    pub fn new(cfg: EndpointConfig, timeout: Duration, network: &Network) -> Result<Self, ProviderError> {
        let id = cfg.id();
        let mut headers = Vec::new();
        let mut secrets = Vec::new();
        for (name, template) in &cfg.spec.headers {
            let value = resolve_env(template, |var| {
                let v = std::env::var(var).ok().filter(|v| !v.is_empty());
                secrets.extend(v.clone());
                v
            })
            .map_err(|var| {
                ProviderError::new(
                    ErrorKind::Auth,
                    &id,
                    None,
                    format!("header `{name}` needs ${var}, which is not set"),
                )
            })?;
            headers.push((name.clone(), value));
        }
        let timeout = cfg.spec.timeout_secs.map(Duration::from_secs_f64).unwrap_or(timeout);
        // The longest secret stands for all of them in redaction; the others are cut by the
        // run's Secrets, which get the same variables.
        let http = Http::new(id, secrets.into_iter().max_by_key(String::len), timeout, network)?;
        let method = reqwest::Method::from_bytes(cfg.spec.method.to_ascii_uppercase().as_bytes()).expect("checked");
        Ok(Endpoint { http, spec: cfg.spec, method, headers, sessions: Mutex::new(HashMap::new()) })
    }

    fn conversation_key(messages: &[Message]) -> String {
        sha256_hex(&serde_json::to_vec(messages).expect("messages serialise"))
    }

    fn body(&self, req: &GenerateRequest, session: Option<&str>) -> Vec<u8> {
        let prompt = req.messages.iter().rev().find(|m| m.role == Role::User).map(|m| m.content.as_str()).unwrap_or("");
        let system: Vec<&str> =
            req.messages.iter().filter(|m| m.role == Role::System).map(|m| m.content.as_str()).collect();
        let messages: Vec<Value> =
            req.messages.iter().map(|m| serde_json::json!({"role": m.role.as_str(), "content": m.content})).collect();
        let values = [
            ("prompt", Value::from(prompt)),
            ("messages", Value::from(messages)),
            ("system", if system.is_empty() { Value::Null } else { Value::from(system.join("\n\n")) }),
            ("session", session.map(Value::from).unwrap_or(Value::Null)),
        ];
        fill(&self.spec.request.body, &values).into_bytes()
    }

    async fn call(&self, req: &GenerateRequest) -> Result<GenerateResponse, ProviderError> {
        // The conversation before the newest user turn: the key its session was stored under.
        let before = req.messages.iter().rposition(|m| m.role == Role::User).unwrap_or(0);
        let session =
            self.spec.response.session.as_ref().and_then(|_| {
                self.sessions.lock().unwrap().get(&Self::conversation_key(&req.messages[..before])).cloned()
            });
        let mut request = self.http.request(self.method.clone(), &self.spec.url, self.body(req, session.as_deref()));
        for (k, v) in &self.headers {
            request = request.header(k.as_str(), v.as_str());
        }
        let got = self.http.send(request).await?;
        let status = got.status;
        if self.spec.response.blocked_status.contains(&status) {
            let text = self.http.quote(&got.body, 200);
            return Err(self.http.err(
                ErrorKind::ContentFiltered,
                Some(status),
                format!("blocked by the app ({status}): {}", text.trim()),
            ));
        }
        if !got.ok() {
            return Err(self.http.status_error(&got));
        }
        let json: Value = serde_json::from_slice(&got.body).map_err(|e| self.http.malformed(status, e, &got.body))?;
        if let Some(p) = &self.spec.response.blocked
            && json.pointer(p).is_some_and(|v| v.as_bool() == Some(true))
        {
            return Err(self.http.err(
                ErrorKind::ContentFiltered,
                Some(status),
                format!("blocked by the app ({p} is true)"),
            ));
        }
        let text = match json.pointer(&self.spec.response.answer) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => {
                let head = self.http.quote(&got.body, 200);
                return Err(self.http.err(
                    ErrorKind::Transient,
                    Some(status),
                    format!("no answer at {} in the response: {head:?}", self.spec.response.answer),
                ));
            }
            Some(other) => other.to_string(),
        };
        if let Some(p) = &self.spec.response.session
            && let Some(id) = json
                .pointer(p)
                .and_then(|v| v.as_str().map(str::to_string).or_else(|| v.as_i64().map(|n| n.to_string())))
        {
            let mut upto = req.messages.clone();
            upto.push(Message::assistant(text.clone()));
            self.sessions.lock().unwrap().insert(Self::conversation_key(&upto), id);
        }
        Ok(GenerateResponse::new(text, FinishReason::Stop, Usage::default()))
    }
}

/// The template with each `{{name}}` replaced by its value as JSON, in one pass over the
/// template: text a value brings in (a prompt that spells `{{session}}`) is never read again.
fn fill(template: &str, values: &[(&str, Value)]) -> String {
    let mut out = String::with_capacity(template.len() + 256);
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 2..];
        match tail
            .find("}}")
            .map(|e| (&tail[..e], e))
            .and_then(|(n, e)| values.iter().find(|(k, _)| *k == n).map(|v| (v, e)))
        {
            Some(((_, v), e)) => {
                out.push_str(&serde_json::to_string(v).expect("JSON serialises"));
                rest = &tail[e + 2..];
            }
            None => {
                out.push_str("{{");
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

impl Generate for Endpoint {
    fn model_id(&self) -> &str {
        self.http.id()
    }

    fn generate<'a>(
        &'a self,
        request: &'a GenerateRequest,
        _epoch: u32,
    ) -> BoxFuture<'a, Result<GenerateResponse, ProviderError>> {
        Box::pin(self.call(request))
    }
}
