//! What a run is: the configuration stored with it (as JSON, never secrets — only the *names* of
//! the variables holding keys), and the ranges every number in it must lie in. The command line
//! and library callers build a [`RunConfig`]; a resume reads it back from the store.

use std::{path::PathBuf, time::Duration};

use anyhow::{Result, bail};
use preflight_scorers::PanelRule;
use preflight_stats::plan::Settle;
use serde::{Deserialize, Serialize};

use crate::judges::JudgeKind;

/// Requests in flight per provider, at most.
pub const MAX_CONCURRENCY: usize = 4096;
/// Longest per-request timeout: a day.
pub const MAX_TIMEOUT_SECS: f64 = 86_400.0;
/// Most retries per request.
pub const MAX_RETRIES: u32 = 100;
/// Longest first backoff delay: an hour.
pub const MAX_BACKOFF_MS: u64 = 3_600_000;
/// Longest deadline: a year.
pub const MAX_DEADLINE_SECS: f64 = 365.0 * 86_400.0;

/// `pre` / `post` mitigation: a pre-mitigation run is gated on the policy's development level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Stage {
    Pre,
    Post,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Pre => "pre",
            Stage::Post => "post",
        }
    }
}

/// Per-provider limits and retry policy, stored so a resume keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Requests in flight at once, per provider.
    pub concurrency: usize,
    /// Requests started per minute, per provider (`None`: unlimited).
    pub rpm: Option<u32>,
    /// Tokens per minute, per provider (`None`: unlimited).
    pub tpm: Option<u32>,
    pub timeout_secs: f64,
    /// Retries of rate-limited and transient errors.
    pub max_retries: u32,
    /// First backoff delay; doubles per retry, with jitter.
    pub backoff_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { concurrency: 16, rpm: None, tpm: None, timeout_secs: 120.0, max_retries: 6, backoff_ms: 500 }
    }
}

impl Limits {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_secs)
    }

    /// The runner's limits.
    pub fn runner(&self) -> preflight_runner::Limits {
        preflight_runner::Limits {
            concurrency: self.concurrency,
            rpm: self.rpm,
            tpm: self.tpm,
            max_retries: self.max_retries,
            base_backoff: Duration::from_millis(self.backoff_ms),
            ..preflight_runner::Limits::default()
        }
    }

    pub fn validate(&self) -> Result<()> {
        named("--concurrency", check_concurrency(self.concurrency))?;
        if let Some(r) = self.rpm {
            named("--rpm", check_rpm(r))?;
        }
        if let Some(t) = self.tpm {
            named("--tpm", check_tpm(t))?;
        }
        named("--timeout", check_timeout(self.timeout_secs))?;
        named("--max-retries", check_retries(self.max_retries))?;
        named("--backoff-ms", check_backoff(self.backoff_ms))?;
        Ok(())
    }
}

/// Local (in-process) models: threads and sequences decoded together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LocalLimits {
    /// llama.cpp threads per model (`None`: the cores, split between the run's local models).
    pub threads: Option<usize>,
    /// Conversations decoded together in one batch.
    pub parallel: usize,
}

impl Default for LocalLimits {
    fn default() -> Self {
        LocalLimits { threads: None, parallel: 8 }
    }
}

/// US dollars per million (prompt, completion) tokens.
pub type Price = (f64, f64);

/// A sequential run: draw in rounds and stop each category once settled, by a deadline or
/// within a budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeqConfig {
    pub deadline_secs: Option<f64>,
    pub budget_requests: Option<u64>,
    pub budget_tokens: Option<u64>,
    pub budget_usd: Option<f64>,
    /// One price for every model (runs made before `RunConfig::price_per_mtok`; new runs keep
    /// it there).
    #[serde(default)]
    pub price_per_mtok: Option<[f64; 2]>,
    #[serde(default)]
    pub settle: Settle,
    #[serde(default = "default_warmup")]
    pub warmup: u64,
}

/// Probes per category before a sequential category may stop.
pub const DEFAULT_WARMUP: u64 = 20;

fn default_warmup() -> u64 {
    DEFAULT_WARMUP
}

impl Default for SeqConfig {
    fn default() -> Self {
        SeqConfig {
            deadline_secs: None,
            budget_requests: None,
            budget_tokens: None,
            budget_usd: None,
            price_per_mtok: None,
            settle: Settle::default(),
            warmup: default_warmup(),
        }
    }
}

impl SeqConfig {
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline_secs.map(Duration::from_secs_f64)
    }

    pub fn validate(&self) -> Result<()> {
        if let Some(d) = self.deadline_secs {
            named("--deadline", check_deadline(d))?;
        }
        if self.budget_requests == Some(0) {
            bail!("--budget-requests: must be at least 1");
        }
        if self.budget_tokens == Some(0) {
            bail!("--budget-tokens: must be at least 1");
        }
        if let Some(u) = self.budget_usd {
            named("--budget-usd", check_positive_f64(u))?;
        }
        if self.warmup == 0 {
            bail!("--warmup: must be at least 1");
        }
        Ok(())
    }
}

/// Everything a run needs to be carried out again on resume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// A suite file (absolute), or `builtin:NAME`.
    pub suite: PathBuf,
    /// The target, `PROVIDER/NAME`.
    pub model: String,
    pub base_url: String,
    /// The environment variable holding the target's key (never the key).
    pub api_key_env: String,
    /// Judge models (several = a panel; none = the refusal detector decides).
    #[serde(default)]
    pub judges: Vec<String>,
    /// What the judges are asked (default: the judge scorer the suite names, else StrongREJECT).
    #[serde(default)]
    pub judge_kind: Option<JudgeKind>,
    #[serde(default)]
    pub panel: PanelRule,
    #[serde(default)]
    pub judge_base_url: Option<String>,
    pub judge_api_key_env: String,
    /// StrongREJECT: a `refuse` sample is unsafe above this score.
    #[serde(default)]
    pub judge_threshold: f64,
    #[serde(default = "one")]
    pub epochs: u32,
    #[serde(default)]
    pub policy: Option<PathBuf>,
    /// Read and write the response cache.
    #[serde(default = "yes")]
    pub cache: bool,
    /// Ask HTTP providers that can stream (OpenAI, Anthropic, Gemini) for server-sent events, so
    /// each probe's time to first token is measured.
    #[serde(default)]
    pub stream: bool,
    /// `openai/` models speak OpenAI's Responses API instead of chat completions.
    #[serde(default)]
    pub responses_api: bool,
    /// `--header "Name: value"` sent with every HTTP request; values hold no secrets, only
    /// `{{env:NAME}}` references (checked), so the stored configuration holds none either.
    #[serde(default)]
    pub headers: Vec<String>,
    /// PEM certificates trusted besides the system's (a TLS-inspecting corporate proxy).
    #[serde(default)]
    pub ca_bundle: Option<PathBuf>,
    /// Only these categories (empty = all).
    #[serde(default)]
    pub only: Vec<String>,
    /// Overrides the suite's answer length.
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// The model behind model-driven attacks.
    #[serde(default)]
    pub attacker: Option<String>,
    #[serde(default)]
    pub attacker_base_url: Option<String>,
    /// The counterpart in persuasion games (default: the target).
    #[serde(default)]
    pub persuadee: Option<String>,
    #[serde(default)]
    pub sequential: Option<SeqConfig>,
    #[serde(default)]
    pub stage: Option<Stage>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub local: LocalLimits,
    /// One price for every model of the run: dollars per million (prompt, completion) tokens.
    #[serde(default)]
    pub price_per_mtok: Option<[f64; 2]>,
    /// A price file over the built-in table (docs/prices.md).
    #[serde(default)]
    pub prices: Option<PathBuf>,
    /// Send the target's and the judges' requests through their providers' batch APIs.
    #[serde(default)]
    pub batch: Option<BatchSettings>,
}

/// `--batch`: requests gathered into chunks for a provider's batch API (OpenAI Batch,
/// Anthropic Message Batches), half the price, results within the API's window (24 hours).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BatchSettings {
    /// Requests per chunk (one provider batch).
    pub size: usize,
    /// Seconds between two status checks of a batch.
    pub poll_secs: f64,
}

impl Default for BatchSettings {
    fn default() -> Self {
        BatchSettings { size: 1000, poll_secs: 30.0 }
    }
}

/// The most requests in one chunk: OpenAI takes 50,000 per batch, Anthropic 100,000.
pub const MAX_BATCH_SIZE: usize = 50_000;

/// Chunks a run keeps open at once; requests in flight are this many chunks' worth, so the
/// next chunk fills while earlier ones run.
pub const OPEN_CHUNKS: usize = 4;

impl BatchSettings {
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_BATCH_SIZE).contains(&self.size) {
            bail!("--batch-size: {} is not in 1..={MAX_BATCH_SIZE}", self.size);
        }
        if !(self.poll_secs.is_finite() && self.poll_secs > 0.0 && self.poll_secs <= 3600.0) {
            bail!("--batch-poll: {} is not a number of seconds in (0, 3600]", self.poll_secs);
        }
        Ok(())
    }

    /// Requests in flight at once per batched handle: [`OPEN_CHUNKS`] chunks' worth.
    pub fn in_flight(&self) -> usize {
        self.size * OPEN_CHUNKS
    }

    /// The batcher's settings: a partly filled chunk waits at most a few seconds for more.
    pub fn batcher(&self) -> preflight_runner::BatchConfig {
        preflight_runner::BatchConfig {
            chunk_size: self.size,
            linger: std::time::Duration::from_secs_f64(self.poll_secs.min(2.0)),
            poll: std::time::Duration::from_secs_f64(self.poll_secs),
        }
    }
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

impl RunConfig {
    /// A run of `suite` on `model` with every default: the built-in policy, the refusal detector,
    /// one epoch, the cache on, the default limits.
    pub fn new(suite: impl Into<PathBuf>, model: &str, base_url: &str) -> RunConfig {
        RunConfig {
            suite: suite.into(),
            model: model.into(),
            base_url: base_url.into(),
            api_key_env: "OPENAI_API_KEY".into(),
            judges: Vec::new(),
            judge_kind: None,
            panel: PanelRule::default(),
            judge_base_url: None,
            judge_api_key_env: "OPENAI_API_KEY".into(),
            judge_threshold: 0.0,
            epochs: 1,
            policy: None,
            cache: true,
            stream: false,
            responses_api: false,
            headers: Vec::new(),
            ca_bundle: None,
            price_per_mtok: None,
            prices: None,
            batch: None,
            only: Vec::new(),
            max_tokens: None,
            attacker: None,
            attacker_base_url: None,
            persuadee: None,
            sequential: None,
            stage: None,
            limits: Limits::default(),
            local: LocalLimits::default(),
        }
    }

    /// Every number in range, every URL a URL.
    pub fn validate(&self) -> Result<()> {
        self.limits.validate()?;
        if let Some(t) = self.local.threads {
            named("--threads", check_positive(t))?;
        }
        named("--parallel", check_positive(self.local.parallel))?;
        named("--judge-threshold", check_threshold(self.judge_threshold))?;
        if self.epochs == 0 {
            bail!("--epochs: must be at least 1");
        }
        if self.max_tokens == Some(0) {
            bail!("--max-tokens: must be at least 1");
        }
        if let Some(s) = &self.sequential {
            s.validate()?;
        }
        if let Some(b) = &self.batch {
            b.validate()?;
            if self.stream {
                bail!("--batch and --stream: a batch API answers whole; choose one");
            }
        }
        for h in &self.headers {
            named("--header", check_header(h).map(|_| ()))?;
        }
        named("--base-url", check_url(&self.base_url))?;
        if let Some(u) = &self.judge_base_url {
            named("--judge-base-url", check_url(u))?;
        }
        if let Some(u) = &self.attacker_base_url {
            named("--attacker-base-url", check_url(u))?;
        }
        Ok(())
    }

    /// The environment variables holding keys this run reads: the flags' and the native
    /// providers' conventional ones, so any of them is cut out of answers and errors.
    pub fn key_variables(&self) -> Vec<String> {
        let mut v = vec![self.api_key_env.clone(), self.judge_api_key_env.clone()];
        v.extend(crate::wiring::NATIVE_KEY_VARIABLES.map(String::from));
        // An application endpoint's target file names the variables its headers read.
        let models = std::iter::once(&self.model)
            .chain(&self.judges)
            .chain(self.attacker.as_ref())
            .chain(self.persuadee.as_ref());
        v.extend(models.flat_map(|m| crate::wiring::endpoint_secret_variables(m)));
        v.extend(self.headers.iter().flat_map(|h| env_references(h)));
        v.sort_unstable();
        v.dedup();
        v
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a run config serialises")
    }

    /// A stored configuration. Older stores spelled a single judge as `judge`.
    pub fn from_json(v: &serde_json::Value) -> Result<RunConfig> {
        let mut cfg: RunConfig = serde_json::from_value(v.clone())
            .map_err(|e| anyhow::anyhow!("the stored run configuration cannot be read: {e}"))?;
        if cfg.judges.is_empty()
            && let Some(j) = v.get("judge").and_then(|j| j.as_str())
        {
            cfg.judges.push(j.to_string());
        }
        Ok(cfg)
    }
}

/// What may change when a run is resumed; everything else comes from the stored run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub no_cache: bool,
    pub policy: Option<PathBuf>,
    pub concurrency: Option<usize>,
    pub rpm: Option<u32>,
    pub tpm: Option<u32>,
    pub timeout_secs: Option<f64>,
    pub max_retries: Option<u32>,
    pub backoff_ms: Option<u64>,
    pub threads: Option<usize>,
    pub parallel: Option<usize>,
}

impl Overrides {
    pub fn apply(&self, cfg: &mut RunConfig) {
        if self.no_cache {
            cfg.cache = false;
        }
        if self.policy.is_some() {
            cfg.policy = self.policy.clone();
        }
        let l = &mut cfg.limits;
        l.concurrency = self.concurrency.unwrap_or(l.concurrency);
        l.rpm = self.rpm.or(l.rpm);
        l.tpm = self.tpm.or(l.tpm);
        l.timeout_secs = self.timeout_secs.unwrap_or(l.timeout_secs);
        l.max_retries = self.max_retries.unwrap_or(l.max_retries);
        l.backoff_ms = self.backoff_ms.unwrap_or(l.backoff_ms);
        cfg.local.threads = self.threads.or(cfg.local.threads);
        cfg.local.parallel = self.parallel.unwrap_or(cfg.local.parallel);
    }
}

// The checks, one per kind of number. Each returns the value or what is wrong with it, without
// the flag's name: the command line's parsers call the same ones (clap names the flag), and
// `validate` names it for library callers.

/// At least 1.
use preflight_providers::env_references;

/// Header names that carry credentials: their values must come from the environment.
const CREDENTIAL_HEADERS: [&str; 6] = ["authorization", "proxy-authorization", "cookie", "key", "token", "secret"];

/// `Name: value` split and checked; a credential header's value must be an `{{env:NAME}}`
/// reference, so a key typed on the command line never reaches the stored configuration.
pub fn check_header(h: &str) -> Result<(String, String), String> {
    let (name, value) = h.split_once(':').ok_or_else(|| format!("`{h}`: expected `Name: value`"))?;
    let (name, value) = (name.trim(), value.trim());
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)) {
        return Err(format!("`{name}` is not a header name"));
    }
    let lower = name.to_ascii_lowercase();
    if CREDENTIAL_HEADERS.iter().any(|c| lower.contains(c)) && env_references(value).is_empty() {
        return Err(format!(
            "{name} carries a credential: give it as {{{{env:VARIABLE}}}} (e.g. \"{name}: Bearer {{{{env:MY_TOKEN}}}}\"), never the value itself"
        ));
    }
    Ok((name.to_string(), value.to_string()))
}

pub fn check_positive(n: usize) -> Result<usize, String> {
    if n == 0 { Err("must be at least 1".into()) } else { Ok(n) }
}

pub fn check_concurrency(n: usize) -> Result<usize, String> {
    if (1..=MAX_CONCURRENCY).contains(&n) { Ok(n) } else { Err(format!("{n} is not in 1..={MAX_CONCURRENCY}")) }
}

pub fn check_rpm(n: u32) -> Result<u32, String> {
    if n == 0 { Err("must be at least 1 request per minute (leave the flag out for no limit)".into()) } else { Ok(n) }
}

pub fn check_tpm(n: u32) -> Result<u32, String> {
    if n < 100 { Err("must be at least 100 tokens per minute (leave the flag out for no limit)".into()) } else { Ok(n) }
}

pub fn check_timeout(secs: f64) -> Result<f64, String> {
    if secs.is_finite() && secs > 0.0 && secs <= MAX_TIMEOUT_SECS {
        Ok(secs)
    } else {
        Err(format!("{secs} is not a number of seconds in (0, {MAX_TIMEOUT_SECS}]"))
    }
}

pub fn check_retries(n: u32) -> Result<u32, String> {
    if n > MAX_RETRIES { Err(format!("{n} is more than {MAX_RETRIES}")) } else { Ok(n) }
}

pub fn check_backoff(ms: u64) -> Result<u64, String> {
    if ms > MAX_BACKOFF_MS { Err(format!("{ms} ms is more than {MAX_BACKOFF_MS} (an hour)")) } else { Ok(ms) }
}

/// A StrongREJECT score threshold.
pub fn check_threshold(x: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&x) { Ok(x) } else { Err(format!("{x} is not a StrongREJECT score in [0, 1]")) }
}

pub fn check_deadline(secs: f64) -> Result<f64, String> {
    if secs.is_finite() && secs > 0.0 && secs <= MAX_DEADLINE_SECS {
        Ok(secs)
    } else {
        Err(format!("{secs} s is not a duration between 0 and a year"))
    }
}

/// A share or probability in (0, 1).
pub fn check_open_unit(x: f64) -> Result<f64, String> {
    if x > 0.0 && x < 1.0 { Ok(x) } else { Err(format!("{x} is not in (0, 1)")) }
}

/// A share in [0, 1].
pub fn check_unit(x: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&x) { Ok(x) } else { Err(format!("{x} is not in [0, 1]")) }
}

/// A positive, finite number (dollars, probes per second).
pub fn check_positive_f64(x: f64) -> Result<f64, String> {
    if x.is_finite() && x > 0.0 { Ok(x) } else { Err(format!("{x} is not a positive number")) }
}

/// An `http://` or `https://` URL.
pub fn check_url(url: &str) -> Result<(), String> {
    match preflight_providers::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        Ok(u) => Err(format!("{url}: expected an http:// or https:// URL, not {}:", u.scheme())),
        Err(e) => Err(format!("{url}: not a URL ({e}); expected e.g. http://127.0.0.1:8000/v1")),
    }
}

/// `flag: what is wrong`, for library callers.
fn named<T>(flag: &str, r: Result<T, String>) -> Result<T> {
    r.map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}

/// `IN,OUT` dollars per million tokens.
pub fn parse_price(s: &str) -> Result<Price> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let num = |x: &str| x.parse::<f64>().ok().filter(|v| *v >= 0.0 && v.is_finite());
    match parts.as_slice() {
        [a, b] => match (num(a), num(b)) {
            (Some(a), Some(b)) if a + b > 0.0 => Ok((a, b)),
            _ => bail!("--price {s}: expected two non-negative prices per million tokens, e.g. 0.15,0.60"),
        },
        _ => bail!("--price {s}: expected IN,OUT dollars per million tokens, e.g. 0.15,0.60"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_round_trips_through_json_and_reads_older_spellings() {
        let mut cfg = RunConfig::new("builtin:battery", "openai/x", "http://127.0.0.1:9/v1");
        cfg.sequential =
            Some(SeqConfig { budget_usd: Some(2.0), price_per_mtok: Some([0.1, 0.4]), ..Default::default() });
        cfg.stage = Some(Stage::Pre);
        cfg.limits.rpm = Some(600);
        let back = RunConfig::from_json(&cfg.to_json()).unwrap();
        assert_eq!(back, cfg);
        assert_eq!(back.sequential.unwrap().settle, Settle::Level, "the one default");
        // A run stored before limits were kept, with one `judge`.
        let old = serde_json::json!({
            "suite": "/s.toml", "model": "openai/x", "base_url": "http://h/v1", "api_key_env": "K",
            "judge": "openai/j", "judge_api_key_env": "K", "judge_kind": "harmbench", "panel": "unanimous",
            "sequential": { "deadline_secs": 60.0, "settle": "gate", "warmup": 5 }, "stage": "post"
        });
        let cfg = RunConfig::from_json(&old).unwrap();
        assert_eq!(cfg.judges, vec!["openai/j".to_string()]);
        assert_eq!(
            (cfg.judge_kind, cfg.panel, cfg.stage),
            (Some(JudgeKind::HarmBench), PanelRule::Unanimous, Some(Stage::Post))
        );
        assert_eq!(cfg.limits, Limits::default());
        assert_eq!(cfg.sequential.unwrap().deadline(), Some(Duration::from_secs(60)));
        assert!(RunConfig::from_json(&serde_json::json!({ "model": 3 })).is_err());
    }

    #[test]
    fn resume_keeps_the_stored_limits_unless_overridden() {
        let mut cfg = RunConfig::new("s", "openai/x", "http://h/v1");
        cfg.limits =
            Limits { concurrency: 2, rpm: Some(1200), tpm: None, timeout_secs: 7.0, max_retries: 3, backoff_ms: 10 };
        let mut kept = cfg.clone();
        Overrides::default().apply(&mut kept);
        assert_eq!(kept.limits, cfg.limits);
        Overrides { rpm: Some(60), no_cache: true, ..Default::default() }.apply(&mut kept);
        assert_eq!((kept.limits.rpm, kept.limits.concurrency, kept.cache), (Some(60), 2, false));
    }

    #[test]
    fn numbers_out_of_range_are_named() {
        for (secs, ok) in [(f64::INFINITY, false), (1e20, false), (0.0, false), (f64::NAN, false), (30.0, true)] {
            assert_eq!(check_timeout(secs).is_ok(), ok, "{secs}");
        }
        assert!(check_threshold(f64::NAN).is_err());
        assert!(check_url("not-a-url").unwrap_err().contains("not a URL"));
        assert!(check_url("ftp://h/v1").is_err());
        assert!(check_url("http://127.0.0.1:8000/v1").is_ok());
        let mut cfg = RunConfig::new("s", "openai/x", "not-a-url");
        assert!(cfg.validate().unwrap_err().to_string().starts_with("--base-url"));
        cfg.base_url = "http://h/v1".into();
        cfg.limits.timeout_secs = f64::INFINITY;
        assert!(cfg.validate().unwrap_err().to_string().starts_with("--timeout"));
        assert!(parse_price("0.15,0.60").is_ok() && parse_price("x").is_err());
    }
}
