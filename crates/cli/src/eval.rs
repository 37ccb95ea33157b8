//! `preflight eval`: flags → a [`RunConfig`] (or a resume), the session run with a progress
//! display, the scorecard printed, the ending mapped to an exit code. The evaluation itself is
//! `preflight_session`.

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Result;
use preflight_core::{Event, Observer};
use preflight_report::Progress;
use preflight_session::{
    Finish, Overrides, Paths, RunConfig, Session, Signals, Start,
    config::{BatchSettings, SeqConfig, parse_price},
    default_base_url, suites,
};

use crate::{args::EvalArgs, exit, out::errln};

/// The run the flags describe.
fn config(args: &EvalArgs) -> Result<RunConfig> {
    let suite = suites::resolve(args.suite.as_deref().unwrap_or(std::path::Path::new("battery")))?;
    let base_url = args.base_url.clone().unwrap_or_else(default_base_url);
    let model = args.model.clone().unwrap_or_else(|| "local/default".into());
    let mut cfg = RunConfig::new(suite, &model, &base_url);
    cfg.api_key_env = args.api_key_env.clone();
    cfg.judge_api_key_env = args.judge_api_key_env.clone().unwrap_or_else(|| args.api_key_env.clone());
    cfg.judges = args.judge.clone();
    cfg.judge_kind = args.judge_kind;
    cfg.panel = args.panel;
    cfg.judge_base_url = args.judge_base_url.clone().or_else(|| (!args.judge.is_empty()).then(|| base_url.clone()));
    cfg.judge_threshold = args.judge_threshold;
    cfg.epochs = args.epochs;
    cfg.policy = args.policy.clone().map(|p| std::fs::canonicalize(&p).unwrap_or(p));
    cfg.cache = !args.no_cache;
    cfg.stream = args.stream;
    cfg.batch = args.batch.then(|| BatchSettings {
        size: args.batch_size,
        poll_secs: args.batch_poll.map_or(BatchSettings::default().poll_secs, |d| d.as_secs_f64()),
    });
    cfg.responses_api = args.api.as_deref() == Some("responses");
    cfg.headers = args.net.headers.clone();
    cfg.ca_bundle = args.net.ca_bundle.clone().map(|p| std::fs::canonicalize(&p).unwrap_or(p));
    cfg.only = args.only.clone();
    cfg.max_tokens = args.max_tokens;
    cfg.attacker = args.attacker.clone();
    cfg.attacker_base_url = args.attacker_base_url.clone();
    cfg.persuadee = args.persuadee.clone();
    cfg.stage = args.stage;
    cfg.price_per_mtok = args.price.as_deref().map(parse_price).transpose()?.map(|(a, b)| [a, b]);
    cfg.prices = args.prices.clone().map(|p| std::fs::canonicalize(&p).unwrap_or(p));
    let sequential = args.sequential
        || args.deadline.is_some()
        || args.budget_requests.is_some()
        || args.budget_tokens.is_some()
        || args.budget_usd.is_some();
    if sequential {
        cfg.sequential = Some(SeqConfig {
            deadline_secs: args.deadline.map(|d| d.as_secs_f64()),
            budget_requests: args.budget_requests,
            budget_tokens: args.budget_tokens,
            budget_usd: args.budget_usd,
            price_per_mtok: None,
            settle: args.settle,
            warmup: args.warmup,
        });
    }
    overrides(args).apply(&mut cfg);
    Ok(cfg)
}

/// The flags a resume may change.
fn overrides(args: &EvalArgs) -> Overrides {
    Overrides {
        no_cache: args.no_cache,
        policy: args.policy.clone().map(|p| std::fs::canonicalize(&p).unwrap_or(p)),
        concurrency: args.concurrency,
        rpm: args.rpm,
        tpm: args.tpm,
        timeout_secs: args.timeout,
        max_retries: args.max_retries,
        backoff_ms: args.backoff_ms,
        threads: args.threads,
        parallel: args.parallel,
    }
}

pub fn run(args: EvalArgs) -> Result<i32> {
    let start = match &args.resume {
        Some(id) => Start::Resume { run_id: id.clone(), overrides: overrides(&args) },
        None => Start::New(Box::new(config(&args)?)),
    };
    let paths =
        Paths { store: args.store.store.clone(), cache_dir: preflight_session::cache_dir(args.cache_dir.as_deref()) };
    let session = Session::prepare(start, &paths)?;
    let info = session.info().clone();
    if !args.quiet {
        let mut line = format!(
            "preflight: run {} · {} samples × {} epoch(s) · {} · store {}",
            info.run_id,
            info.samples,
            info.epochs,
            info.model,
            paths.store.display()
        );
        if info.already_done > 0 {
            line += &format!(" · resuming, {} probes already stored", info.already_done);
        }
        if info.asked_again > 0 {
            line += &format!(" · {} that failed are asked again", info.asked_again);
        }
        if let Some(n) = info.games {
            line += &format!(" · then {n} persuasion-game conversations");
        }
        match info.capabilities {
            Some((0, q)) => line += &format!(" · then {q} knowledge questions"),
            Some((a, 0)) => line += &format!(" · then {a} agent task attempts in sandboxes"),
            Some((a, q)) => {
                line += &format!(" · then {a} agent task attempts in sandboxes and {q} knowledge questions")
            }
            None => {}
        }
        errln!("{line}");
    }
    let resume = resume_hint(&info.run_id, &paths.store);
    let console =
        Arc::new(Console { progress: Progress::start(!args.quiet, Duration::from_secs(5)), quiet: args.quiet });
    let quit = {
        let (resume, console) = (resume.clone(), console.clone());
        Box::new(move || {
            console.progress.finish();
            errln!("preflight: quit at once; the run is marked interrupted; continue with: {resume}");
            std::process::exit(exit::INTERRUPTED);
        })
    };
    let finish = session.run(console.clone(), Signals::Process { quit });
    console.progress.finish();
    match finish? {
        Finish::Verdict(report) => {
            crate::inspect::print_report(&report, args.format);
            Ok(exit::verdict_code(report.scorecard.verdict))
        }
        Finish::Interrupted => {
            errln!("preflight: run {} interrupted; continue with: {resume}", info.run_id);
            Ok(exit::INTERRUPTED)
        }
        Finish::StoreFailed(why) => {
            errln!("error: run {} stopped: the store could not be written ({why}); nothing more was sent", info.run_id);
            errln!("preflight: what was committed is kept; after freeing space: {resume}");
            Ok(exit::HARNESS_ERROR)
        }
        Finish::NoVerdict(why) => {
            errln!("error: run {} has no verdict: {why}", info.run_id);
            errln!("preflight: finished probes are stored; after fixing the cause: {resume}");
            Ok(exit::HARNESS_ERROR)
        }
    }
}

fn resume_hint(run_id: &str, store: &std::path::Path) -> String {
    let store: PathBuf = store.to_path_buf();
    format!("preflight eval --resume {run_id} --store {}", store.display())
}

/// The terminal's view of a session: the progress line, and a line for each thing worth saying.
struct Console {
    progress: Progress,
    quiet: bool,
}

impl Observer for Console {
    fn observe(&self, event: &Event) {
        self.progress.observe(event);
        if self.quiet {
            return;
        }
        match event {
            Event::RoundFinished(r) => errln!(
                "preflight: round done — {} · {} requests, {} tokens{} spent · still drawing: {}",
                r.verdict,
                r.requests,
                r.tokens,
                r.usd.map(|d| format!(", ${d:.4}")).unwrap_or_default(),
                if r.open.is_empty() { "none".to_string() } else { r.open.join(", ") }
            ),
            Event::GamesStarted { conversations, stored } => {
                // The probes are done: their progress line ends before the games' lines begin.
                self.progress.finish();
                errln!("preflight: persuasion games — {conversations} conversations ({stored} already stored)")
            }
            Event::GamesFinished { played, failed } => {
                errln!("preflight: persuasion games — {played} conversations held, {failed} could not be held")
            }
            Event::CapabilitiesStarted { attempts, questions, stored } => {
                self.progress.finish();
                errln!(
                    "preflight: capabilities — {attempts} agent task attempts in sandboxes, {questions} knowledge questions ({stored} already stored)"
                )
            }
            Event::GameFinished(rows) => {
                for r in rows.iter().filter(|r| r.game == "agent") {
                    let d = &r.detail;
                    let outcome = match r.value {
                        Some(v) if v > 0.5 => "solved".to_string(),
                        Some(_) => "not solved".to_string(),
                        None => format!("unassessable ({})", d["unassessable_reason"].as_str().unwrap_or("?")),
                    };
                    let steps = d["steps"].as_array().map_or(0, Vec::len);
                    errln!(
                        "preflight: {} attempt {} — {outcome} · {} after {steps} steps, {:.1} s",
                        r.item_id,
                        r.epoch,
                        d["ended"].as_str().unwrap_or("?"),
                        d["elapsed_ms"].as_u64().unwrap_or(0) as f64 / 1000.0
                    );
                }
            }
            Event::CapabilitiesFinished { rows, unassessable } => {
                errln!("preflight: capabilities — {rows} attempts and answers stored, {unassessable} unassessable")
            }
            Event::Notice(text) => errln!("\npreflight: {text}"),
            _ => {}
        }
    }
}
