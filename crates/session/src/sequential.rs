//! `eval --deadline / --budget-* / --sequential`: the planner's rounds carried out by the runner.
//!
//! The planner ([`preflight_stats::plan::Planner`]) decides how many seed prompts each category
//! draws per round; this module draws them (per category, in a seeded random order, so a resumed
//! run draws the same ones), runs them, feeds the outcomes back, and stops at a verdict, at the
//! deadline or when the budget is spent. Deadline and budget cancel the round in flight: probes
//! already stored stay, the ones in flight are dropped (their cost is spent, their result unknown).

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Result;
use preflight_core::{CategoryStop, Event, Generate, Probe, RoundInfo, Sample};
use preflight_report::Tally;
use preflight_runner::{EventSink, ProbeKeys, Runner, Spend, StopReason};
use preflight_stats::{
    Inputs, Policy,
    plan::{Planner, Rng, Settings, Stop},
};
use preflight_suite::Suite;
use tokio::sync::watch;

use crate::{attack, config::SeqConfig};

/// Per category, the suite's seed samples in a random order fixed by the suite's seed.
pub fn pools(suite: &Suite, seed: u64) -> Result<BTreeMap<String, Vec<Sample>>> {
    let mut out: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
    for s in suite.samples() {
        let s = s?;
        out.entry(s.category.clone()).or_default().push(s);
    }
    for (cat, v) in out.iter_mut() {
        Rng::new(preflight_attacks::probe_seed(seed, cat, "sequential-draw")).shuffle(v);
    }
    Ok(out)
}

/// Everything a sequential run needs from the session.
pub struct Rounds<'a> {
    pub runner: &'a Runner,
    pub plan: &'a attack::Plan,
    pub policy: &'a Policy,
    pub config: SeqConfig,
    pub pre_mitigation: bool,
    pub epochs: u32,
    pub total: u64,
    pub done: &'a ProbeKeys,
    pub events: Arc<dyn EventSink>,
    pub tally: &'a Mutex<Tally>,
    pub spend: Arc<Spend>,
    /// Model calls one seed prompt costs before anything is measured.
    pub requests_per_unit: f64,
}

impl Rounds<'_> {
    /// Runs rounds until every category stops. Returns how the last round ended (`Finished`
    /// also when the deadline or budget ended the run: that is a planned stop, not an interrupt).
    pub async fn run(
        &self,
        pools: &BTreeMap<String, Vec<Sample>>,
        cancel_tx: Arc<watch::Sender<bool>>,
        interrupted: Arc<AtomicBool>,
    ) -> Result<StopReason> {
        let settings = Settings {
            warmup: self.config.warmup,
            settle: self.config.settle,
            pre_mitigation: self.pre_mitigation,
            ..Settings::default()
        };
        let mut planner =
            Planner::new(self.policy.clone(), settings, pools.iter().map(|(c, v)| (c.clone(), v.len() as u64)));
        let started = Instant::now();
        let planned_stop = Arc::new(Mutex::new(None::<Stop>));
        let watcher = self.watch(started, cancel_tx.clone(), planned_stop.clone(), interrupted.clone());
        let (mut units_run, mut result) = (0u64, StopReason::Finished);
        loop {
            // The deadline or budget may have run out between rounds.
            if let Some(why) = *planned_stop.lock().unwrap() {
                planner.stop_open(why);
                break;
            }
            let budget = self.units_left(units_run);
            let round = planner.next_round(budget);
            if round.is_empty() {
                break;
            }
            let mut probes = Vec::new();
            for (cat, n) in &round {
                let track = planner.tracks().iter().find(|t| &t.category == cat).expect("planned category");
                let from = (track.drawn - n) as usize;
                for s in &pools[cat][from..track.drawn as usize] {
                    for sample in self.plan.expand(s.clone()) {
                        probes.extend(
                            (1..=self.epochs).map(|epoch| Ok::<_, String>(Probe { sample: sample.clone(), epoch })),
                        );
                    }
                }
                units_run += n;
            }
            let stop = self
                .runner
                .run(probes.into_iter(), self.total, self.done, self.events.clone(), cancel_tx.subscribe())
                .await;
            let (counts, designs) = {
                let tally = self.tally.lock().unwrap();
                (tally.counts().clone(), tally.designs())
            };
            let card = planner.update(&Inputs { counts, designs, ..Default::default() });
            let why = *planned_stop.lock().unwrap();
            if let Some(why) = why {
                planner.stop_open(why);
            }
            self.save(&planner);
            self.events.emit(Event::RoundFinished(RoundInfo {
                verdict: card.verdict.as_str().to_string(),
                requests: self.spend.requests(),
                tokens: self.spend.tokens(),
                usd: self.config.budget_usd.map(|_| self.spend.usd()),
                open: planner.tracks().iter().filter(|t| t.is_open()).map(|t| t.category.clone()).collect(),
            }));
            match stop {
                StopReason::Finished => {}
                StopReason::Interrupted if why.is_some() => break,
                other => {
                    result = other;
                    break;
                }
            }
        }
        watcher.abort();
        // A budget found spent between rounds stops the open categories without another round.
        self.save(&planner);
        Ok(result)
    }

    fn save(&self, planner: &Planner) {
        self.events.emit(Event::StopsChanged(stops_of(planner)));
    }

    /// Seed prompts the remaining request / token / money budget still pays for (`None`: no
    /// budget). Before anything is measured, a model call is assumed to cost 500 tokens.
    fn units_left(&self, units_run: u64) -> Option<u64> {
        let spend = &self.spend;
        let per_call = 500.0;
        let left = |cap: Option<f64>, spent: f64, fallback: f64| {
            cap.map(|c| {
                let per_unit = if units_run > 0 && spent > 0.0 { spent / units_run as f64 } else { fallback };
                ((c - spent).max(0.0) / per_unit.max(1e-12)).floor() as u64
            })
        };
        let budget = self.config;
        let calls = self.requests_per_unit;
        [
            left(budget.budget_requests.map(|r| r as f64), spend.requests() as f64, calls),
            left(budget.budget_tokens.map(|t| t as f64), spend.tokens() as f64, per_call * calls),
            budget.budget_usd.and_then(|usd| {
                // Before anything is spent, a call is priced at the target's rate.
                let price = spend.prices().lookup(self.runner.target.model_id())?;
                left(Some(usd), spend.usd(), per_call * calls * (price.input + price.output) / 2.0 / 1e6)
            }),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Cancels the round in flight at the deadline or when the budget is spent.
    fn watch(
        &self,
        started: Instant,
        cancel: Arc<watch::Sender<bool>>,
        planned: Arc<Mutex<Option<Stop>>>,
        interrupted: Arc<AtomicBool>,
    ) -> tokio::task::JoinHandle<()> {
        let (budget, spend) = (self.config, self.spend.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if interrupted.load(Ordering::Relaxed) {
                    return;
                }
                if let Some(why) = reached(&budget, started, &spend) {
                    *planned.lock().unwrap() = Some(why);
                    let _ = cancel.send(true);
                    return;
                }
            }
        })
    }
}

/// Whether the run's deadline (counted from `started`) has passed or one of its request, token
/// or dollar budgets is spent: the one rule every phase stops by.
pub(crate) fn reached(budget: &SeqConfig, started: Instant, spend: &Spend) -> Option<Stop> {
    if budget.deadline().is_some_and(|d| started.elapsed() >= d) {
        Some(Stop::Deadline)
    } else if budget.budget_requests.is_some_and(|r| spend.requests() >= r)
        || budget.budget_tokens.is_some_and(|t| spend.tokens() >= t)
        || budget.budget_usd.is_some_and(|usd| spend.usd() >= usd)
    {
        Some(Stop::Budget)
    } else {
        None
    }
}

/// The planner's per-category state, as the store keeps it.
fn stops_of(planner: &Planner) -> Vec<CategoryStop> {
    planner
        .tracks()
        .iter()
        .map(|t| CategoryStop {
            category: t.category.clone(),
            drawn: t.drawn,
            rounds: t.rounds,
            reason: t.stop.map(|s| s.as_str().to_string()).unwrap_or_default(),
        })
        .collect()
}
