//! One evaluation session, start to verdict: [`Session::prepare`] checks everything that can be
//! checked (configuration, suite, attacks, policy, judges, providers) before the store is
//! touched, then creates the run or takes a stored one over (its lease); [`Session::run`] carries
//! out the phases — the probes, adaptive attacks on the survivors, or sequential rounds; then the
//! persuasion games — and ends with a [`Finish`]. Everything that happens leaves as one stream of
//! [`Event`]s: the store's writer persists it, the caller's [`Observer`] shows it.

use std::{
    collections::HashSet,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::{Context, Result, bail};
use preflight_core::{
    CategoryStop, Event, Expected, GenSettings, Generate, Observer, Outcome, Prices, Probe, RunStatus, Scorer, Secrets,
    StatusChange, is_harness_error,
};
use preflight_local::LocalOptions;
use preflight_report::{Report, Tally};
use preflight_runner::{
    ABORT_AFTER_ERRORS, ABORT_AFTER_PERMANENT, EventSink, ProbeKeys, Runner, Spend, StopReason, probe_key,
};
use preflight_scorers::RefusalDetector;
use preflight_stats::{Policy, plan::Stop};
use preflight_store::{Lease, NewRun, RunRow, SqliteCache, Store, StoreError, StoreJournal, Writer};
use preflight_suite::{ScorerSpec, Suite};

use crate::{
    Cancel, Signals, attack,
    cancel::wait_for_signal,
    capabilities,
    config::{Overrides, RunConfig, Stage},
    games,
    judges::{self, Decider, JudgeKind, JudgeSetup},
    sequential, suites,
    wiring::{BatchWrap, Loader, Raw, Wrap},
};

/// A run ends without a verdict when more than this share of its probes are harness errors
/// (no observation of the model): most of what it would say would be about the outage.
pub const MAX_HARNESS_ERROR_SHARE: f64 = 0.5;

/// How a session starts.
pub enum Start {
    /// A new run of this configuration.
    New(Box<RunConfig>),
    /// Carry on with a stored run; everything but `overrides` comes from the store.
    Resume { run_id: String, overrides: Overrides },
}

/// Where a session keeps things.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The SQLite store of runs.
    pub store: PathBuf,
    /// Models, datasets and the response cache.
    pub cache_dir: PathBuf,
}

/// What a prepared session is about to do.
#[derive(Debug, Clone)]
pub struct Info {
    pub run_id: String,
    pub samples: u64,
    pub epochs: u32,
    pub model: String,
    /// Probes already stored (resume).
    pub already_done: u64,
    /// Probes forgotten on resume because they were harness errors: they are asked again.
    pub asked_again: u64,
    /// Persuasion-game conversations after the probes, if the suite plays games.
    pub games: Option<usize>,
    /// Agent task attempts and knowledge questions after the probes, if the suite has them.
    pub capabilities: Option<(usize, usize)>,
}

/// How a session ended.
pub enum Finish {
    /// Every probe is in: the run has its verdict.
    Verdict(Box<Report>),
    /// Stopped by [`Cancel::stop`] or a signal; `--resume` continues.
    Interrupted,
    /// The store could not be written (a full disk): sending stopped at once; `--resume`
    /// continues once there is room.
    StoreFailed(String),
    /// The harness could not do its job (provider unreachable, credentials rejected, no usable
    /// answers): no verdict; `--resume` continues after the cause is fixed.
    NoVerdict(String),
}

/// The run's price table; with a dollar budget, every model of the run must have a price.
fn run_prices(cfg: &RunConfig, providers: &Providers) -> Result<Prices> {
    let flat = cfg.price_per_mtok.or_else(|| cfg.sequential.and_then(|s| s.price_per_mtok));
    let prices = crate::prices::for_run(flat, cfg.prices.as_deref())?;
    if cfg.sequential.is_some_and(|s| s.budget_usd.is_some()) {
        let models = std::iter::once(&providers.target)
            .chain(&providers.judges)
            .chain(&providers.attacker)
            .chain(&providers.persuadee)
            .map(|r| r.provider.model_id().to_string());
        let mut unpriced: Vec<String> = models.filter(|m| prices.lookup(m).is_none()).collect();
        // The same model in two roles (target and persuadee) is named once.
        unpriced.sort();
        unpriced.dedup();
        if !unpriced.is_empty() {
            bail!(
                "--budget-usd: no price for {} in {}; give one in a price file (--prices FILE, docs/prices.md) or one price for every model (--price IN,OUT)",
                unpriced.join(", "),
                prices.source
            );
        }
    }
    Ok(prices)
}

/// The raw providers of a run, loaded once.
struct Providers {
    target: Raw,
    judges: Vec<Raw>,
    attacker: Option<Raw>,
    persuadee: Option<Raw>,
}

impl Providers {
    fn secrets(&self) -> Vec<String> {
        let all = std::iter::once(&self.target).chain(&self.judges).chain(&self.attacker).chain(&self.persuadee);
        all.flat_map(|r| r.secrets.iter().cloned()).collect()
    }
}

/// The embedded judge's error as measured on the development set
/// (`crates/embed/weights/refusal-v3.dev.json`), put in the store as a calibration unless one of
/// exactly this judge is there: so a default report shows a measured judge error and corrected
/// rates. `preflight judge check` on the run's own kind of answers measures it better.
fn ship_calibration(store: &Store, judge: &preflight_embed::EmbeddedJudge) -> Result<()> {
    let (model, hash) = judge.identity();
    if store.latest_calibration(preflight_embed::judge::NAME, model, hash)?.is_some() {
        return Ok(());
    }
    let shipped = preflight_embed::Shipped::builtin();
    if shipped.judge_model != model || shipped.prompt_hash != hash {
        // The weights changed without their calibration: better none than a wrong one.
        return Ok(());
    }
    store.add_calibration(&preflight_store::Calibration {
        id: 0,
        created_at: String::new(),
        scorer: preflight_embed::judge::NAME.into(),
        judge_model: shipped.judge_model,
        prompt_hash: shipped.prompt_hash,
        labels_path: format!("builtin:{}", shipped.labels),
        labels_sha256: shipped.labels_sha256,
        tp: shipped.tp,
        fp: shipped.fp,
        tn: shipped.tn,
        fn_: shipped.fn_,
        unassessable: shipped.unassessable,
    })?;
    Ok(())
}

/// A session ready to run.
pub struct Session {
    cfg: RunConfig,
    run_id: String,
    store: Store,
    lease: Lease,
    suite: Suite,
    plan: attack::Plan,
    policy: Policy,
    judging: JudgeSetup,
    providers: Providers,
    classifier: Option<Arc<preflight_embed::EmbeddedJudge>>,
    done: ProbeKeys,
    total: u64,
    resumed: bool,
    info: Info,
    cancel: Cancel,
    secrets: Secrets,
    cache: Option<Arc<SqliteCache>>,
    /// What each model's tokens cost (the spend meter's table).
    prices: Prices,
    /// `--batch`: the store's batch journal.
    journal: Option<Arc<dyn preflight_core::BatchJournal>>,
    /// The suite's agent tasks and knowledge probes, loaded.
    capabilities: Option<capabilities::Plan>,
}

impl Session {
    /// Resolves, validates and loads everything, then creates the run (or takes the stored one
    /// over). Bad input is an error here, before the store is touched.
    pub fn prepare(start: Start, paths: &Paths) -> Result<Session> {
        let (cfg, resume) = resolve(start, paths)?;
        cfg.validate()?;
        let suite = suites::load(&cfg.suite, &cfg.only, &paths.cache_dir)?;
        let mut plan = attack::Plan::new(&suite, &paths.cache_dir)?;
        let capabilities = suite
            .capabilities
            .as_ref()
            .map(|c| {
                capabilities::Plan::load(c, &cfg.only)
                    .with_context(|| format!("suite {}: [capabilities]", suite.path.display()))
            })
            .transpose()?;
        if let Some(c) = &capabilities {
            plan.fingerprint =
                preflight_core::sha256_hex(format!("{}\ncapabilities {}", plan.fingerprint, c.digest()).as_bytes());
        }
        check(&cfg, &suite, &plan, resume.as_ref())?;
        let policy = Policy::load_or_default(cfg.policy.as_deref())?;
        if capabilities.as_ref().is_some_and(|c| !c.tasks.is_empty()) {
            preflight_agent::sandbox_available().context("the suite's agent tasks need a sandbox")?;
        }
        let judging = JudgeSetup {
            kind: cfg.judge_kind.or_else(|| JudgeKind::from_suite(&suite.scorers)).unwrap_or_default(),
            models: cfg.judges.clone(),
            panel: cfg.panel,
            threshold: cfg.judge_threshold,
            suite_classifier: suite.scorers.contains(&ScorerSpec::Classifier),
        };
        judging.check().map_err(anyhow::Error::msg)?;
        let providers = load_providers(&cfg, judging.judge_models(), &paths.cache_dir)?;
        let prices = run_prices(&cfg, &providers)?;
        let classifier = if judging.uses_classifier() {
            let dir = preflight_embed::model::resolve(&paths.cache_dir)?;
            Some(Arc::new(preflight_embed::EmbeddedJudge::builtin(&dir)?))
        } else {
            None
        };
        let harmful = if plan.adaptive.is_empty() {
            0
        } else {
            suite.samples().filter(|s| matches!(s, Ok(s) if s.expected == Expected::Refuse)).count() as u64
        };
        // With adaptive attacks on survivors this is an upper bound, settled when the run finishes.
        let total = (suite.count * plan.per_sample_single() + harmful * plan.adaptive.len() as u64) * cfg.epochs as u64;

        let mut store = Store::open(&paths.store)?;
        let lease = Lease::for_this_process();
        let (run_id, asked_again) = match &resume {
            Some(row) => (row.id.clone(), store.resume_run(&row.id, &lease)?),
            None => {
                let id = store.create_run(
                    &NewRun {
                        suite_name: suite.name.clone(),
                        suite_fingerprint: plan.fingerprint.clone(),
                        model: cfg.model.clone(),
                        judge: (judging.decides() != Decider::Rules).then(|| judging.describe()),
                        total,
                        config: cfg.to_json(),
                    },
                    &lease,
                )?;
                (id, 0)
            }
        };
        if let Some(c) = &classifier {
            ship_calibration(&store, c)?;
        }
        let mut done = ProbeKeys::new();
        store.for_each_done(&run_id, |id, epoch| {
            done.insert(probe_key(id, epoch));
        })?;
        let cache = if cfg.cache {
            let path = paths.cache_dir.join("responses.db");
            Some(Arc::new(SqliteCache::open(&path).with_context(|| format!("response cache {}", path.display()))?))
        } else {
            None
        };
        let info = Info {
            run_id: run_id.clone(),
            samples: suite.count,
            epochs: cfg.epochs,
            model: cfg.model.clone(),
            already_done: done.len() as u64,
            asked_again,
            games: suite.games.as_ref().map(games::count),
            capabilities: capabilities.as_ref().map(|c| (c.tasks.len() * c.attempts as usize, c.questions.len())),
        };
        // The variables' secrets, and those the providers read from files (AWS credentials).
        let secrets = Secrets::from_env(cfg.key_variables().iter().map(String::as_str)).with(providers.secrets());
        let journal: Option<Arc<dyn preflight_core::BatchJournal>> = match cfg.batch {
            Some(_) => Some(Arc::new(StoreJournal::open(&paths.store)?)),
            None => None,
        };
        Ok(Session {
            cfg,
            run_id,
            store,
            lease,
            suite,
            plan,
            policy,
            judging,
            providers,
            classifier,
            done,
            total,
            resumed: resume.is_some(),
            info,
            cancel: Cancel::default(),
            secrets,
            cache,
            prices,
            journal,
            capabilities,
        })
    }

    pub fn info(&self) -> &Info {
        &self.info
    }

    pub fn config(&self) -> &RunConfig {
        &self.cfg
    }

    /// A handle that stops this session from any thread.
    pub fn cancel(&self) -> Cancel {
        self.cancel.clone()
    }

    /// Runs every phase, streaming events to the store's writer and `observer`.
    pub fn run(self, observer: Arc<dyn Observer>, signals: Signals) -> Result<Finish> {
        let started = std::time::Instant::now();
        let cancel_tx = self.cancel.sender();
        let on_failure = {
            let tx = cancel_tx.clone();
            // The store cannot take what the run produces: stop sending at once.
            Box::new(move |_: &str| {
                let _ = tx.send(true);
            })
        };
        let writer = self.store.writer(&self.run_id, &self.lease, on_failure)?;
        let broken_before: HashSet<String> = if self.resumed && self.plan.on_survivors {
            self.store
                .behaviours(&self.run_id)?
                .into_iter()
                .filter(|b| !b.broken_by.is_empty())
                .map(|b| b.sample_id)
                .collect()
        } else {
            Default::default()
        };
        let tally = if self.resumed { Tally::from_store(&self.store, &self.run_id)? } else { Tally::default() };
        let sinks = Arc::new(Sinks {
            writer: Mutex::new(Some(writer)),
            observer,
            broken: Mutex::new(broken_before),
            tally: Mutex::new(tally),
            stops: Mutex::new(Vec::new()),
        });
        let events: Arc<dyn EventSink> = sinks.clone();
        let spend = Arc::new(Spend::new(self.prices.clone()));
        if self.resumed {
            // A budget covers the whole run, not just this attempt of it.
            spend.seed(&self.store.spend(&self.run_id)?);
        }
        let wrap = Wrap {
            limits: self.cfg.limits.runner(),
            cache: self.cache.clone().map(|c| c as Arc<dyn preflight_core::Cache>),
            events: Some(events.clone()),
            spend: Some(spend.clone()),
            secrets: self.secrets.clone(),
            batch: match (&self.cfg.batch, &self.journal) {
                (Some(b), Some(j)) => {
                    Some(BatchWrap { cfg: b.batcher(), in_flight: b.in_flight(), journal: j.clone() })
                }
                _ => None,
            },
        };
        let runner = self.runner(&wrap);
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let interrupted = Arc::new(AtomicBool::new(false));
        if let Signals::Process { quit } = signals {
            rt.spawn(on_signals(sinks.clone(), cancel_tx.clone(), interrupted.clone(), quit));
        }
        let stop = rt.block_on(self.phases(&runner, &sinks, &events, &spend, interrupted));
        let target = runner.target.clone();
        drop(runner);
        let mut stop = stop?;
        if stop == StopReason::Finished && self.play_games(&rt, target, &wrap, &sinks, &events)? {
            stop = StopReason::Interrupted;
        }
        if stop == StopReason::Finished && self.run_capabilities(&rt, &wrap, &sinks, &events, started, &spend)? {
            stop = StopReason::Interrupted;
        }
        rt.shutdown_timeout(Duration::from_millis(200));
        if let Some(c) = &self.cache {
            c.flush();
        }
        self.conclude(stop, &sinks)
    }

    /// Persuasion games, once every probe is in: the target against a counterpart model. A
    /// sequential run that hit its deadline or budget has nothing left to spend on them.
    /// Returns whether a cancel cut them short.
    fn play_games(
        &self,
        rt: &tokio::runtime::Runtime,
        target: Arc<preflight_runner::Generator>,
        wrap: &Wrap,
        sinks: &Sinks,
        events: &Arc<dyn EventSink>,
    ) -> Result<bool> {
        let Some(g) = &self.suite.games else { return Ok(false) };
        if sinks.out_of_budget("the persuasion games are not played") {
            return Ok(false);
        }
        // The games come after every budget was checked: their requests are metered (spend per
        // model) on a meter of their own that no budget reads.
        let quiet = Wrap { spend: Some(Arc::new(Spend::new(self.prices.clone()))), ..wrap.clone() };
        let target: Arc<dyn Generate> = target;
        let counterpart = self.providers.persuadee.clone().map(|r| quiet.handle(r)).unwrap_or_else(|| target.clone());
        let mut judges: Vec<Arc<dyn Generate>> =
            self.providers.judges.iter().cloned().map(|r| quiet.handle(r)).collect();
        if judges.is_empty() {
            judges.push(counterpart.clone());
        }
        let players = games::Players { target, counterpart, judges };
        let done = self.store.measured_items(&self.run_id)?;
        let concurrency = self.cfg.limits.concurrency;
        let (_, _, cut_short) =
            rt.block_on(games::run(g, players, &done, events.clone(), concurrency, self.cancel.subscribe()));
        Ok(cut_short)
    }

    /// Agent tasks and knowledge probes, once every probe is in. The agent talks to the target
    /// request by request (never through a batch API: each step waits on the last). Returns
    /// whether a cancel cut them short.
    fn run_capabilities(
        &self,
        rt: &tokio::runtime::Runtime,
        wrap: &Wrap,
        sinks: &Sinks,
        events: &Arc<dyn EventSink>,
        started: std::time::Instant,
        spend: &Arc<Spend>,
    ) -> Result<bool> {
        let Some(plan) = &self.capabilities else { return Ok(false) };
        if sinks.out_of_budget("the capability tasks are not run") {
            return Ok(false);
        }
        let target = wrap.handle(self.providers.target.clone());
        let done = self.store.measured_items(&self.run_id)?;
        // The deadline and the budgets hold here too: an attempt not yet begun when one is
        // reached is not begun (the ones running finish).
        let limits = self.cfg.sequential;
        let spend = spend.clone();
        let stop: capabilities::StopCheck = Arc::new(move || match sequential::reached(&limits?, started, &spend)? {
            Stop::Deadline => Some("deadline"),
            _ => Some("budget"),
        });
        let (_, _, cut_short) = rt.block_on(capabilities::run(
            plan,
            capabilities::Target { model: target, settings: self.suite.generation.clone() },
            &done,
            events.clone(),
            self.cfg.limits.concurrency,
            self.cancel.subscribe(),
            stop,
        ));
        Ok(cut_short)
    }

    fn runner(&self, wrap: &Wrap) -> Runner {
        let p = &self.providers;
        let target = Arc::new(wrap.batched(p.target.clone()));
        // The string rules, the classifier, a judge model: in that order, the last decides and the
        // others are kept as evidence.
        let mut scorers: Vec<Arc<dyn Scorer>> = Vec::new();
        if self.suite.scorers.contains(&ScorerSpec::Refusal) || self.judging.decides() == Decider::Rules {
            scorers.push(Arc::new(RefusalDetector));
        }
        if let Some(c) = &self.classifier {
            scorers.push(c.clone());
        }
        if !p.judges.is_empty() {
            scorers.push(self.judging.build(p.judges.iter().cloned().map(|r| wrap.batched(r)).collect()));
        }
        let attacker = p.attacker.clone().map(|r| wrap.handle(r));
        let transform = self.plan.transform(attacker.clone(), self.suite.generation.seed.unwrap_or(0));
        // PAIR / TAP / Crescendo score attempts 1–10 with the first judge, or the attacker without one.
        let procedure = attacker.and_then(|a| {
            let judge = p.judges.first().cloned().map(|r| wrap.handle(r)).unwrap_or_else(|| a.clone());
            self.plan.procedure(a, judge)
        });
        Runner {
            run_id: self.run_id.clone(),
            target,
            scorers,
            settings: GenSettings {
                max_tokens: self.cfg.max_tokens.or(self.suite.generation.max_tokens),
                ..self.suite.generation.clone()
            },
            transform,
            procedure,
            max_in_flight: match &self.cfg.batch {
                Some(b) => b.in_flight(),
                None => self.cfg.limits.concurrency,
            } * (1 + usize::from(!p.judges.is_empty())),
            abort_after_permanent: ABORT_AFTER_PERMANENT,
            abort_after_errors: ABORT_AFTER_ERRORS,
        }
    }

    /// The probes: one pass (then adaptive attacks on the survivors), or sequential rounds.
    async fn phases(
        &self,
        runner: &Runner,
        sinks: &Sinks,
        events: &Arc<dyn EventSink>,
        spend: &Arc<Spend>,
        interrupted: Arc<AtomicBool>,
    ) -> Result<StopReason> {
        let (plan, epochs, cancel) = (&self.plan, self.cfg.epochs, self.cancel.subscribe());
        if let Some(seq) = self.cfg.sequential {
            let pools = sequential::pools(&self.suite, self.suite.generation.seed.unwrap_or(0))?;
            let judges = u64::from(!self.providers.judges.is_empty());
            let rounds = sequential::Rounds {
                runner,
                plan,
                policy: &self.policy,
                config: seq,
                pre_mitigation: self.cfg.stage == Some(Stage::Pre),
                epochs,
                total: self.total,
                done: &self.done,
                events: events.clone(),
                tally: &sinks.tally,
                spend: spend.clone(),
                requests_per_unit: (plan.per_sample_single() * epochs as u64 * (1 + judges)) as f64,
            };
            return rounds.run(&pools, self.cancel.sender(), interrupted).await;
        }
        let probes = self.suite.samples().flat_map(move |s| {
            let v: Vec<_> = match s {
                Ok(sample) => plan
                    .expand(sample)
                    .flat_map(|sample| (1..=epochs).map(move |epoch| Ok(Probe { sample: sample.clone(), epoch })))
                    .collect(),
                Err(e) => vec![Err(e)],
            };
            v
        });
        let first = runner.run(probes, self.total, &self.done, events.clone(), cancel.clone()).await;
        if first != StopReason::Finished || !plan.on_survivors || plan.adaptive.is_empty() {
            return Ok(first);
        }
        // Second phase: adaptive attacks on the harmful behaviours nothing else broke.
        let broken = sinks.broken.lock().unwrap().clone();
        let survivors = self.suite.samples().flat_map(move |s| {
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
        Ok(runner.run(survivors, self.total, &self.done, events.clone(), cancel).await)
    }

    /// Marks the run and says how it ended. A finished run gets its scorecard, unless most of its
    /// probes hold no observation.
    fn conclude(self, stop: StopReason, sinks: &Sinks) -> Result<Finish> {
        let failed = sinks.writer_failure();
        let status = |status, verdict: Option<String>, note: Option<String>, settle_total| {
            sinks.emit(Event::StatusChanged(StatusChange { status, verdict, note, settle_total }));
        };
        let finish = match (stop, failed) {
            (_, Some(why)) => {
                status(RunStatus::Interrupted, None, Some(format!("store write failed: {why}")), false);
                Finish::StoreFailed(why)
            }
            (StopReason::Interrupted, None) => {
                status(RunStatus::Interrupted, None, None, false);
                Finish::Interrupted
            }
            (StopReason::Aborted(why), None) => {
                status(RunStatus::Aborted, None, Some(why.clone()), false);
                Finish::NoVerdict(why)
            }
            (StopReason::Finished, None) => {
                // Read what the writer committed.
                if !sinks.flush() {
                    let why = sinks.writer_failure().unwrap_or_else(|| "the store's writer did not answer".into());
                    return Ok(sinks.finish_writer(Finish::StoreFailed(why)));
                }
                match self.no_verdict_reason()? {
                    Some(why) => {
                        status(RunStatus::Aborted, None, Some(why.clone()), false);
                        Finish::NoVerdict(why)
                    }
                    None => {
                        let planned_total =
                            (self.plan.on_survivors && !self.plan.adaptive.is_empty()) || self.cfg.sequential.is_some();
                        let mut report = preflight_report::report_of(&self.store, &self.run_id, &self.policy)?;
                        let verdict = report.scorecard.verdict.as_str().to_string();
                        status(RunStatus::Finished, Some(verdict.clone()), None, planned_total);
                        report.run.status = RunStatus::Finished;
                        report.run.verdict = Some(verdict);
                        report.run.holder = None;
                        if planned_total {
                            report.run.total = report.run.done;
                        }
                        Finish::Verdict(Box::new(report))
                    }
                }
            }
        };
        Ok(sinks.finish_writer(finish))
    }

    /// Why a finished run has no verdict: more than [`MAX_HARNESS_ERROR_SHARE`] of its probes
    /// are harness errors, or of its agent attempts and questions were spoiled.
    fn no_verdict_reason(&self) -> Result<Option<String>> {
        let (n, errors) = self.store.harness_errors(&self.run_id)?;
        let (cn, spoiled) = self.store.spoiled_capabilities(&self.run_id)?;
        if cn > 0 && spoiled as f64 > MAX_HARNESS_ERROR_SHARE * cn as f64 {
            return Ok(Some(format!(
                "no usable attempt for most agent tasks and questions: {spoiled} of {cn} were spoiled by the harness or the provider (`preflight show RUN --sample task:ID` shows why); a verdict needs at least half of them"
            )));
        }
        if n == 0 || (errors as f64) <= MAX_HARNESS_ERROR_SHARE * n as f64 {
            return Ok(None);
        }
        let reasons: Vec<String> = self
            .store
            .unassessable_reasons(&self.run_id)?
            .into_iter()
            .filter(|(r, _)| is_harness_error(r))
            .map(|(r, k)| format!("{r} {k}"))
            .collect();
        Ok(Some(format!(
            "no usable answer for most probes: {errors} of {n} hold no observation of the model ({}); a verdict needs at least half answered",
            reasons.join(", ")
        )))
    }
}

/// The configuration a start means, and the stored run a resume continues.
fn resolve(start: Start, paths: &Paths) -> Result<(RunConfig, Option<RunRow>)> {
    match start {
        Start::New(cfg) => Ok((*cfg, None)),
        Start::Resume { run_id, overrides } => {
            // Read without writing: the live-holder check is repeated atomically when the
            // lease is taken, this one only spares loading models for a run that is busy.
            let store = Store::open_read_only(&paths.store)?;
            let row = store.run(&run_id)?.with_context(|| format!("no run `{run_id}` in {}", paths.store.display()))?;
            match (row.status, &row.holder) {
                (RunStatus::Finished, _) => {
                    bail!("run {run_id} already finished; `preflight report {run_id}` shows it")
                }
                (RunStatus::Running, Some(h)) => {
                    return Err(StoreError::Leased { run: run_id, holder: h.clone() }.into());
                }
                _ => {}
            }
            let mut cfg = RunConfig::from_json(&row.config)?;
            overrides.apply(&mut cfg);
            Ok((cfg, Some(row)))
        }
    }
}

/// What the suite asks of the configuration, and that a resumed run's suite is unchanged.
fn check(cfg: &RunConfig, suite: &Suite, plan: &attack::Plan, resume: Option<&RunRow>) -> Result<()> {
    if plan.needs_model() && cfg.attacker.is_none() {
        bail!(
            "{}: an attack needs an attacker model (past-tense, future-tense, translate, pair, tap, crescendo): pass --attacker PROVIDER/NAME",
            cfg.suite.display()
        );
    }
    if let Some(row) = resume
        && row.suite_fingerprint != plan.fingerprint
    {
        bail!(
            "{} (or one of its datasets) changed since run {} started; resuming would mix two suites. Start a new run instead.",
            cfg.suite.display(),
            row.id
        );
    }
    if cfg.sequential.is_some() && plan.on_survivors && !plan.adaptive.is_empty() {
        bail!(
            "{}: adaptive attacks on survivors need the whole first phase; they do not combine with --deadline / --budget-* / --sequential yet",
            cfg.suite.display()
        );
    }
    let models = cfg.judges.iter().filter(|j| *j != judges::RULES && *j != judges::EMBEDDED).count();
    if let Some(s) = suite.scorers.iter().find(|s| s.needs_judge())
        && models == 0
    {
        bail!(
            "{}: the suite uses the `{}` scorer, which needs a judge model: pass --judge PROVIDER/NAME",
            cfg.suite.display(),
            s.name()
        );
    }
    Ok(())
}

fn load_providers(cfg: &RunConfig, judges: &[String], cache_root: &std::path::Path) -> Result<Providers> {
    // Two local models (a local target and a different local judge) share the cores: spinning
    // llama.cpp threads beyond the core count collapse throughput.
    let mut local_models: Vec<&str> = std::iter::once(cfg.model.as_str())
        .chain(judges.iter().map(String::as_str))
        .chain(cfg.attacker.as_deref())
        .chain(cfg.persuadee.as_deref())
        .filter(|m| m.starts_with("local/"))
        .collect();
    local_models.sort();
    local_models.dedup();
    let local = LocalOptions {
        threads: cfg
            .local
            .threads
            .unwrap_or_else(|| (preflight_local::default_threads() / local_models.len().max(1)).max(1)),
        parallel: cfg.local.parallel,
        ..LocalOptions::default()
    };
    let mut loader = Loader::new(cfg.limits.timeout(), cache_root, local);
    loader.stream = cfg.stream;
    loader.responses_api = cfg.responses_api;
    loader.network = crate::wiring::network(&cfg.headers, cfg.ca_bundle.as_deref())?;
    loader.batch = cfg.batch.is_some();
    let target = loader.load(&cfg.model, &cfg.base_url, &cfg.api_key_env)?;
    if cfg.batch.is_some() && target.batch.is_none() {
        bail!(
            "--batch: {} has no batch API here (openai/ chat completions and anthropic/ have one; judges without one are asked directly)",
            cfg.model
        );
    }
    let judge_url = cfg.judge_base_url.as_deref().unwrap_or(&cfg.base_url);
    let judges =
        judges.iter().map(|j| loader.load(j, judge_url, &cfg.judge_api_key_env)).collect::<Result<Vec<_>>>()?;
    let persuadee = cfg.persuadee.as_deref().map(|p| loader.load(p, &cfg.base_url, &cfg.api_key_env)).transpose()?;
    let attacker_url = cfg.attacker_base_url.as_deref().unwrap_or(&cfg.base_url);
    let attacker = cfg.attacker.as_deref().map(|a| loader.load(a, attacker_url, &cfg.api_key_env)).transpose()?;
    Ok(Providers { target, judges, attacker, persuadee })
}

/// Ctrl-C / SIGTERM: the first stops the session cleanly; the second marks the run interrupted
/// and calls `quit`.
async fn on_signals(
    sinks: Arc<Sinks>,
    cancel: Arc<tokio::sync::watch::Sender<bool>>,
    interrupted: Arc<AtomicBool>,
    quit: Box<dyn Fn() + Send + Sync>,
) {
    wait_for_signal().await;
    sinks.observe(Event::Notice("interrupted — finishing writes (press Ctrl-C again to quit at once)".into()));
    interrupted.store(true, Ordering::Relaxed);
    let _ = cancel.send(true);
    wait_for_signal().await;
    sinks.mark_interrupted(None);
    quit();
}

/// Fans the session's events out: to the caller's observer, to the counts the sequential
/// planner and the survivors phase need, and to the store's writer.
struct Sinks {
    writer: Mutex<Option<Writer>>,
    observer: Arc<dyn Observer>,
    /// Harmful behaviours (seed sample ids) some probe got an unsafe answer for: adaptive attacks
    /// on survivors skip them.
    broken: Mutex<HashSet<String>>,
    /// Outcomes so far, for the sequential planner.
    tally: Mutex<Tally>,
    /// The planner's last word on each category.
    stops: Mutex<Vec<CategoryStop>>,
}

impl Sinks {
    fn observe(&self, event: Event) {
        self.observer.observe(&event);
    }

    /// Whether a sequential run hit its deadline or budget (nothing is left to spend on the
    /// phases after the probes); if so, says that `what` (e.g. "the games are not played").
    fn out_of_budget(&self, what: &str) -> bool {
        let out = self
            .stops
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.reason == Stop::Deadline.as_str() || s.reason == Stop::Budget.as_str());
        if out {
            self.observe(Event::Notice(format!("deadline or budget reached — {what} in this run")));
        }
        out
    }

    fn writer_failure(&self) -> Option<String> {
        self.writer.lock().unwrap().as_ref().and_then(Writer::failure)
    }

    fn flush(&self) -> bool {
        self.writer.lock().unwrap().as_ref().is_some_and(|w| w.flush(Duration::from_secs(60)))
    }

    /// The second Ctrl-C: the run is marked interrupted before the process goes. Waits at most
    /// two seconds for the writer (a producer may hold it while the queue is full).
    fn mark_interrupted(&self, note: Option<String>) {
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        let guard = loop {
            match self.writer.try_lock() {
                Ok(g) => break g,
                Err(_) if std::time::Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                Err(_) => return,
            }
        };
        if let Some(w) = guard.as_ref() {
            w.send(Event::StatusChanged(StatusChange {
                status: RunStatus::Interrupted,
                verdict: None,
                note,
                settle_total: false,
            }));
            w.flush(Duration::from_secs(2));
        }
    }

    /// Stops the writer; a final write that failed turns any ending into a store failure.
    fn finish_writer(&self, finish: Finish) -> Finish {
        let writer = self.writer.lock().unwrap().take();
        match (writer.map(Writer::finish), finish) {
            (Some(Err(why)), Finish::StoreFailed(first)) => {
                Finish::StoreFailed(if first.is_empty() { why } else { first })
            }
            (Some(Err(why)), _) => Finish::StoreFailed(why),
            (_, finish) => finish,
        }
    }
}

impl EventSink for Sinks {
    fn emit(&self, event: Event) {
        self.observer.observe(&event);
        match &event {
            Event::ProbeFinished(rec) => {
                let s = &rec.sample;
                let cluster = s.parent.as_deref().unwrap_or(&s.id);
                self.tally.lock().unwrap().add(&s.category, s.expected, rec.outcome, cluster);
                if rec.outcome == Outcome::Unsafe {
                    self.broken.lock().unwrap().insert(cluster.to_string());
                }
            }
            Event::StopsChanged(stops) => *self.stops.lock().unwrap() = stops.clone(),
            _ => {}
        }
        if let Some(w) = self.writer.lock().unwrap().as_ref() {
            w.send(event);
        }
    }
}
