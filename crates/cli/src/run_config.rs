//! What a run is: the configuration stored with it (as JSON, never secrets), resolved from the
//! flags or, on `--resume`, from the store.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use preflight_store::{RunRow, Store};
use preflight_suite::Suite;
use serde_json::json;

use crate::{
    args::EvalArgs,
    builtin,
    eval::default_base_url,
    judges::{self, JudgeKind, JudgeSetup},
    sequential::{self, Budget, SeqConfig},
};

/// What a run needs to be carried out again on resume. Stored as JSON; holds the *name* of the
/// key's environment variable, never the key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunConfig {
    pub(crate) suite: PathBuf,
    pub(crate) model: String,
    pub(crate) base_url: String,
    pub(crate) api_key_env: String,
    /// Judge models (several = a panel).
    pub(crate) judges: Vec<String>,
    pub(crate) judge_kind: Option<String>,
    pub(crate) panel: String,
    pub(crate) judge_base_url: Option<String>,
    pub(crate) judge_api_key_env: String,
    pub(crate) judge_threshold: f64,
    pub(crate) epochs: u32,
    pub(crate) policy: Option<PathBuf>,
    pub(crate) cache: bool,
    /// `--only`: the categories to run (empty = all).
    pub(crate) only: Vec<String>,
    /// `--max-tokens`: overrides the suite's answer length.
    pub(crate) max_tokens: Option<u32>,
    /// `--attacker`: the model behind model-driven attacks (tense rewrites, translation).
    pub(crate) attacker: Option<String>,
    pub(crate) attacker_base_url: Option<String>,
    /// The counterpart in persuasion games (persuadee, mark, other party); default: the target.
    pub(crate) persuadee: Option<String>,
    /// Draw in rounds and stop categories once settled (deadline / budget).
    pub(crate) sequential: Option<SeqConfig>,
    /// `pre` / `post` mitigation.
    pub(crate) stage: Option<String>,
}

impl RunConfig {
    /// From the flags, or from the stored run when resuming (`--resume`): flags that may change
    /// on resume (`--no-cache`, `--policy`) override the stored ones.
    pub fn resolve(args: &EvalArgs) -> Result<(RunConfig, Option<RunRow>)> {
        let resolved = match &args.resume {
            Some(id) => {
                let store = Store::open(&args.store.store)?;
                let row = store.run(id)?.with_context(|| format!("no run `{id}` in {}", args.store.store.display()))?;
                if row.status == "finished" {
                    bail!("run {id} already finished; `preflight report {id}` shows it");
                }
                let mut cfg = RunConfig::from_json(&row.config)?;
                if args.no_cache {
                    cfg.cache = false;
                }
                if args.policy.is_some() {
                    cfg.policy = args.policy.clone();
                }
                (cfg, Some(row))
            }
            None => {
                let suite = args.suite.clone().unwrap_or_else(|| PathBuf::from("battery"));
                let suite = if suite.is_file() {
                    std::fs::canonicalize(&suite).unwrap_or(suite)
                } else if let Some((name, _)) = builtin::lookup(&suite.to_string_lossy()) {
                    PathBuf::from(format!("builtin:{name}"))
                } else {
                    bail!(
                        "{}: no such suite file, nor a built-in suite ({})",
                        suite.display(),
                        builtin::names().join(", ")
                    );
                };
                let base_url = args.base_url.clone().unwrap_or_else(default_base_url);
                if args.epochs == 0 {
                    bail!("--epochs must be at least 1");
                }
                let cfg = RunConfig {
                    suite,
                    model: args.model.clone().unwrap_or_else(|| "local/default".into()),
                    judge_base_url: args
                        .judge_base_url
                        .clone()
                        .or_else(|| (!args.judge.is_empty()).then(|| base_url.clone())),
                    base_url,
                    judge_api_key_env: args.judge_api_key_env.clone().unwrap_or_else(|| args.api_key_env.clone()),
                    api_key_env: args.api_key_env.clone(),
                    judges: args.judge.clone(),
                    judge_kind: args.judge_kind.clone(),
                    panel: args.panel.clone(),
                    judge_threshold: args.judge_threshold,
                    epochs: args.epochs,
                    policy: args.policy.clone().map(|p| std::fs::canonicalize(&p).unwrap_or(p)),
                    cache: !args.no_cache,
                    only: args.only.clone(),
                    max_tokens: args.max_tokens,
                    attacker: args.attacker.clone(),
                    attacker_base_url: args.attacker_base_url.clone(),
                    persuadee: args.persuadee.clone(),
                    sequential: (args.sequential
                        || args.deadline.is_some()
                        || args.budget_requests.is_some()
                        || args.budget_tokens.is_some()
                        || args.budget_usd.is_some())
                    .then(|| -> Result<SeqConfig> {
                        Ok(SeqConfig {
                            budget: Budget {
                                deadline: args.deadline,
                                requests: args.budget_requests,
                                tokens: args.budget_tokens,
                                usd: match (args.budget_usd, &args.price) {
                                    (Some(usd), Some(price)) => Some((usd, sequential::parse_price(price)?)),
                                    _ => None,
                                },
                            },
                            settle: sequential::parse_settle(&args.settle)?,
                            warmup: args.warmup.max(1),
                        })
                    })
                    .transpose()?,
                    stage: match args.stage.as_deref() {
                        None => None,
                        Some(s @ ("pre" | "post")) => Some(s.to_string()),
                        Some(other) => bail!("--stage {other}: expected `pre` or `post`"),
                    },
                };
                (cfg, None)
            }
        };
        Ok(resolved)
    }

    /// Who decides outcomes in this run.
    pub(crate) fn judge_setup(&self, suite: &Suite) -> Result<JudgeSetup> {
        let kind = match &self.judge_kind {
            Some(k) => JudgeKind::parse(k)?,
            None => JudgeKind::from_suite(&suite.scorers).unwrap_or(JudgeKind::StrongReject),
        };
        Ok(JudgeSetup {
            kind,
            models: self.judges.clone(),
            panel: judges::parse_panel(&self.panel)?,
            threshold: self.judge_threshold,
        })
    }

    pub(crate) fn to_json(&self) -> serde_json::Value {
        json!({
            "suite": self.suite, "model": self.model, "base_url": self.base_url, "api_key_env": self.api_key_env,
            "judges": self.judges, "judge_kind": self.judge_kind, "panel": self.panel,
            "judge_base_url": self.judge_base_url, "judge_api_key_env": self.judge_api_key_env,
            "judge_threshold": self.judge_threshold, "epochs": self.epochs, "policy": self.policy, "cache": self.cache,
            "only": self.only, "max_tokens": self.max_tokens,
            "attacker": self.attacker, "attacker_base_url": self.attacker_base_url,
            "persuadee": self.persuadee,
            "sequential": self.sequential.map(|s| s.to_json()), "stage": self.stage,
        })
    }

    pub(crate) fn from_json(v: &serde_json::Value) -> Result<RunConfig> {
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let need = |k: &str| s(k).with_context(|| format!("stored run config lacks `{k}`"));
        Ok(RunConfig {
            suite: PathBuf::from(need("suite")?),
            model: need("model")?,
            base_url: need("base_url")?,
            api_key_env: need("api_key_env")?,
            judges: match v.get("judges").and_then(|x| x.as_array()) {
                Some(a) => a.iter().filter_map(|j| j.as_str().map(str::to_string)).collect(),
                None => s("judge").into_iter().collect(),
            },
            judge_kind: s("judge_kind"),
            panel: s("panel").unwrap_or_else(|| "majority".into()),
            judge_base_url: s("judge_base_url"),
            judge_api_key_env: need("judge_api_key_env")?,
            judge_threshold: v.get("judge_threshold").and_then(|x| x.as_f64()).unwrap_or(0.0),
            epochs: v.get("epochs").and_then(|x| x.as_u64()).unwrap_or(1) as u32,
            policy: s("policy").map(PathBuf::from),
            cache: v.get("cache").and_then(|x| x.as_bool()).unwrap_or(true),
            only: v
                .get("only")
                .and_then(|x| x.as_array())
                .map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            max_tokens: v.get("max_tokens").and_then(|x| x.as_u64()).map(|n| n as u32),
            attacker: s("attacker"),
            attacker_base_url: s("attacker_base_url"),
            persuadee: s("persuadee"),
            sequential: v.get("sequential").and_then(SeqConfig::from_json),
            stage: s("stage"),
        })
    }
}
