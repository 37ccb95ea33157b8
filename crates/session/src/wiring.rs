//! From model strings to handles: `openai/NAME`, `anthropic/NAME`, `google/NAME`,
//! `azure/DEPLOYMENT`, `bedrock/MODEL` (Amazon Bedrock's Converse API), `http/FILE` (an
//! application endpoint's target file) and `local/NAME` become providers, each wrapped in a
//! [`Generator`] with the
//! run's limits, cache, secrets and spend meter. A local model named twice (target and judge on
//! one GGUF) is loaded once.
//!
//! With `--batch` the OpenAI and Anthropic providers also get their batch API clients; the
//! target and the judges then go through a [`Batcher`] ([`Wrap::batched`]).
//!
//! `--base-url` and `--api-key-env` configure the OpenAI-compatible provider; the native ones read
//! their providers' conventional variables (the table in the README). `bedrock/` also reads the
//! AWS shared credentials and config files, as the AWS SDKs do; the secrets found there are in
//! no variable, so they travel with the provider ([`Raw::secrets`]) into the run's redaction. `bedrock/` also reads the
//! AWS shared credentials and config files, as the AWS SDKs do; the secrets found there are in
//! no variable, so they travel with the provider ([`Raw::secrets`]) into the run's redaction.

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::{Context, Result, bail};
use preflight_core::{BatchApi, BatchJournal, Cache, Generate, Secrets};
use preflight_local::{LocalModel, LocalOptions, models};
use preflight_providers::{
    AZURE_API_VERSION, Anthropic, AnthropicBatch, AnthropicConfig, Bedrock, BedrockConfig, Endpoint, EndpointConfig,
    Google, GoogleConfig, ModelSpec, Network, OpenAi, OpenAiBatch, OpenAiConfig, OpenAiResponses, resolve_env,
};
use preflight_runner::{BatchConfig, Batcher, EventSink, Generator, Limits, Spend};

/// `$OPENAI_BASE_URL`, else OpenAI's public endpoint.
pub fn default_base_url() -> String {
    std::env::var("OPENAI_BASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "https://api.openai.com/v1".into())
}

/// The key variables of the native providers, redacted from every run's answers and errors.
/// (`AWS_ACCESS_KEY_ID` is not among them: it is no secret, and sent in every signed request.)
pub const NATIVE_KEY_VARIABLES: [&str; 7] = [
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_BEARER_TOKEN_BEDROCK",
];

/// The target file of `http/FILE`: FILE as given, else with `.toml` added.
fn target_file(name: &str) -> std::path::PathBuf {
    let p = std::path::PathBuf::from(name);
    if p.extension().is_none() && !p.exists() { p.with_extension("toml") } else { p }
}

/// The variables an `http/FILE` target's headers read (none for other models, or a file that
/// cannot be read: loading it reports that).
pub fn endpoint_secret_variables(model: &str) -> Vec<String> {
    model
        .strip_prefix("http/")
        .and_then(|f| EndpointConfig::load(&target_file(f)).ok())
        .map(|c| c.secret_variables)
        .unwrap_or_default()
}

/// `--header` and `--ca-bundle` as the providers take them: each `{{env:NAME}}` replaced by the
/// variable's value (a missing one is an error naming it), the bundle checked readable.
pub fn network(headers: &[String], ca_bundle: Option<&Path>) -> Result<Network> {
    let mut out = Network { headers: Vec::new(), ca_bundle: ca_bundle.map(Path::to_path_buf) };
    for h in headers {
        let (name, value) = crate::config::check_header(h).map_err(|e| anyhow::anyhow!("--header: {e}"))?;
        let value = resolve_env(&value, var).map_err(|v| anyhow::anyhow!("--header {name}: ${v} is not set"))?;
        out.headers.push((name, value));
    }
    out.check().map_err(anyhow::Error::msg)?;
    Ok(out)
}

/// The secrets of a command outside a run (`judge check`, `generate`): the key variable's, the
/// native providers' and those the `--header` values read.
pub fn secrets(key_env: &str, headers: &[String]) -> Secrets {
    let refs: Vec<String> = headers.iter().flat_map(|h| preflight_providers::env_references(h)).collect();
    Secrets::from_env(std::iter::once(key_env).chain(NATIVE_KEY_VARIABLES).chain(refs.iter().map(String::as_str)))
}

/// A variable's value, unset when empty.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The folder for models, datasets and the response cache: the flag, else the default
/// (`$PREFLIGHT_CACHE_DIR`, `$XDG_CACHE_HOME/preflight`, `~/.cache/preflight`).
pub fn cache_dir(flag: Option<&Path>) -> std::path::PathBuf {
    flag.map(Path::to_path_buf).unwrap_or_else(models::default_cache_dir)
}

/// A raw provider and the namespace that keys its answers in the response cache.
#[derive(Clone)]
pub struct Raw {
    pub provider: Arc<dyn Generate>,
    pub namespace: String,
    /// The same model's batch API, when the loader was asked for one and the provider has one.
    pub batch: Option<Arc<dyn BatchApi>>,
    /// Secrets the provider read from somewhere other than a variable the run redacts (the AWS
    /// shared credentials file): added to the redaction of every handle built from it, and of
    /// the run.
    pub secrets: Vec<String>,
}

impl Raw {
    fn new(provider: Arc<dyn Generate>, namespace: String) -> Raw {
        Raw { provider, namespace, batch: None, secrets: Vec::new() }
    }
}

/// Loads providers, sharing local models between roles.
pub struct Loader<'a> {
    pub timeout: Duration,
    pub cache_root: &'a Path,
    pub local: LocalOptions,
    /// Ask the HTTP providers that can for streamed answers.
    pub stream: bool,
    /// `openai/` speaks the Responses API.
    pub responses_api: bool,
    /// Extra headers and CA bundle for every HTTP provider.
    pub network: Network,
    /// Build each provider's batch API client too, where it has one (`--batch`).
    pub batch: bool,
    loaded: Vec<(String, Raw)>,
}

impl<'a> Loader<'a> {
    pub fn new(timeout: Duration, cache_root: &'a Path, local: LocalOptions) -> Self {
        Loader {
            timeout,
            cache_root,
            local,
            stream: false,
            responses_api: false,
            network: Network::default(),
            batch: false,
            loaded: Vec::new(),
        }
    }

    /// The provider behind `spec` at `base_url` (OpenAI-compatible), key from `$key_env`.
    pub fn load(&mut self, spec_text: &str, base_url: &str, key_env: &str) -> Result<Raw> {
        if let Some((_, p)) = self.loaded.iter().find(|(s, _)| s == spec_text) {
            return Ok(p.clone());
        }
        let raw = self.build(spec_text, base_url, key_env)?;
        self.loaded.push((spec_text.to_string(), raw.clone()));
        Ok(raw)
    }

    fn build(&self, spec_text: &str, base_url: &str, key_env: &str) -> Result<Raw> {
        let spec = ModelSpec::parse(spec_text)?;
        match spec.provider.as_str() {
            "local" => {
                let path = models::resolve(&spec.name, self.cache_root)?;
                let meta = std::fs::metadata(&path).with_context(|| format!("{}: cannot read", path.display()))?;
                let model = LocalModel::load(&path, self.local.clone())?;
                // Weights identify a local model: its file name, size and modification time.
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                Ok(Raw {
                    provider: Arc::new(model),
                    namespace: format!("local|{name}|{}|{mtime}", meta.len()),
                    batch: None,
                    secrets: Vec::new(),
                })
            }
            "openai" => {
                let cfg = OpenAiConfig {
                    base_url: base_url.to_string(),
                    api_key: std::env::var(key_env).ok(),
                    timeout: self.timeout,
                    stream: self.stream,
                    network: self.network.clone(),
                    ..OpenAiConfig::new(&spec.name)
                };
                let base = base_url.trim_end_matches('/');
                // The Responses API has its own namespace: the same request answered by the other
                // API is another answer.
                if self.responses_api {
                    let namespace = format!("openai-responses|{base}|{}", spec.name);
                    Ok(Raw {
                        provider: Arc::new(OpenAiResponses::new(cfg)?),
                        namespace,
                        batch: None,
                        secrets: Vec::new(),
                    })
                } else {
                    let batch: Option<Arc<dyn BatchApi>> =
                        if self.batch { Some(Arc::new(OpenAiBatch::new(cfg.clone())?)) } else { None };
                    let namespace = format!("openai|{base}|{}", spec.name);
                    Ok(Raw { provider: Arc::new(OpenAi::new(cfg)?), namespace, batch, secrets: Vec::new() })
                }
            }
            "anthropic" => {
                let base = var("ANTHROPIC_BASE_URL").unwrap_or_else(|| "https://api.anthropic.com".into());
                let cfg = AnthropicConfig {
                    base_url: base.clone(),
                    api_key: var("ANTHROPIC_API_KEY"),
                    timeout: self.timeout,
                    stream: self.stream,
                    network: self.network.clone(),
                    ..AnthropicConfig::new(&spec.name)
                };
                let batch: Option<Arc<dyn BatchApi>> =
                    if self.batch { Some(Arc::new(AnthropicBatch::new(cfg.clone())?)) } else { None };
                Ok(Raw {
                    provider: Arc::new(Anthropic::new(cfg)?),
                    namespace: format!("anthropic|{}|{}", base.trim_end_matches('/'), spec.name),
                    batch,
                    secrets: Vec::new(),
                })
            }
            "google" => {
                let base = var("GEMINI_BASE_URL").unwrap_or_else(|| "https://generativelanguage.googleapis.com".into());
                let client = Google::new(GoogleConfig {
                    base_url: base.clone(),
                    // google-genai reads GOOGLE_API_KEY first when both are set.
                    api_key: var("GOOGLE_API_KEY").or_else(|| var("GEMINI_API_KEY")),
                    timeout: self.timeout,
                    stream: self.stream,
                    network: self.network.clone(),
                    ..GoogleConfig::new(&spec.name)
                })?;
                Ok(Raw {
                    provider: Arc::new(client),
                    namespace: format!("google|{}|{}", base.trim_end_matches('/'), spec.name),
                    batch: None,
                    secrets: Vec::new(),
                })
            }
            "http" => {
                let cfg = EndpointConfig::load(&target_file(&spec.name))?;
                let namespace = format!("http|{}", cfg.fingerprint);
                Ok(Raw {
                    provider: Arc::new(Endpoint::new(cfg, self.timeout, &self.network)?),
                    namespace,
                    batch: None,
                    secrets: Vec::new(),
                })
            }
            "bedrock" => {
                let cfg = BedrockConfig {
                    timeout: self.timeout,
                    stream: self.stream,
                    network: self.network.clone(),
                    ..BedrockConfig::from_env(&spec.name, &var).with_context(|| format!("model `{spec_text}`"))?
                };
                let namespace = format!("bedrock|{}|{}", cfg.endpoint, spec.name);
                let secrets = cfg.secrets();
                Ok(Raw { secrets, ..Raw::new(Arc::new(Bedrock::new(cfg)?), namespace) })
            }
            "azure" => {
                let endpoint = var("AZURE_OPENAI_ENDPOINT").with_context(|| {
                    format!("model `{spec_text}`: set AZURE_OPENAI_ENDPOINT to the resource's endpoint (https://RESOURCE.openai.azure.com)")
                })?;
                let version = var("OPENAI_API_VERSION").unwrap_or_else(|| AZURE_API_VERSION.into());
                let client = OpenAi::new(OpenAiConfig {
                    api_key: var("AZURE_OPENAI_API_KEY"),
                    timeout: self.timeout,
                    stream: self.stream,
                    network: self.network.clone(),
                    ..OpenAiConfig::azure(&spec.name, &endpoint, &version)
                })?;
                let namespace = format!("azure|{}|{}|{version}", endpoint.trim_end_matches('/'), spec.name);
                Ok(Raw { provider: Arc::new(client), namespace, batch: None, secrets: Vec::new() })
            }
            other => bail!("provider `{other}` is not available in this build"),
        }
    }
}

/// What every handle of a run shares: limits, the response cache, the event stream (retries),
/// the spend meter and the secrets to redact.
#[derive(Clone)]
pub struct Wrap {
    pub limits: Limits,
    pub cache: Option<Arc<dyn Cache>>,
    pub events: Option<Arc<dyn EventSink>>,
    pub spend: Option<Arc<Spend>>,
    pub secrets: Secrets,
    /// `--batch`: how chunks are gathered and polled, and the journal they are written to.
    pub batch: Option<BatchWrap>,
}

#[derive(Clone)]
pub struct BatchWrap {
    pub cfg: BatchConfig,
    /// Requests in flight at once per batched handle (`BatchSettings::in_flight`).
    pub in_flight: usize,
    pub journal: Arc<dyn BatchJournal>,
}

impl Wrap {
    /// The run's secrets and those the provider brought (read from files).
    fn secrets_of(&self, raw: &Raw) -> Secrets {
        if raw.secrets.is_empty() { self.secrets.clone() } else { self.secrets.with(raw.secrets.clone()) }
    }

    pub fn generator(&self, raw: Raw) -> Generator {
        let secrets = self.secrets_of(&raw);
        Generator::new(raw.provider, raw.namespace, self.limits.clone(), self.cache.clone(), self.events.clone())
            .with_spend(self.spend.clone())
            .with_secrets(secrets)
    }

    /// A handle through the provider's batch API when the run batches and the provider has
    /// one, else [`Wrap::generator`]'s. The batcher keys requests as the cache does, so a
    /// batched answer is cached like any other; both APIs charge half the standard price.
    pub fn batched(&self, raw: Raw) -> Generator {
        let (Some(b), Some(api)) = (&self.batch, raw.batch.clone()) else { return self.generator(raw) };
        let secrets = self.secrets_of(&raw);
        let batcher = Batcher::new(
            api,
            raw.provider.features(),
            raw.namespace.clone(),
            b.journal.clone(),
            b.cfg,
            self.cache.clone(),
            secrets.clone(),
        );
        // Requests wait in chunks, not on a connection: many in flight, and the synchronous
        // API's rate limits do not apply (a batch API queues them itself).
        let limits = Limits { concurrency: b.in_flight, rpm: None, tpm: None, ..self.limits.clone() };
        Generator::new(Arc::new(batcher), raw.namespace, limits, self.cache.clone(), self.events.clone())
            .with_spend(self.spend.clone())
            .with_secrets(secrets)
            .with_price_scale(0.5)
    }

    pub fn handle(&self, raw: Raw) -> Arc<dyn Generate> {
        Arc::new(self.generator(raw))
    }
}
