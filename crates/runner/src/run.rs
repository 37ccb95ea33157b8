use std::{
    collections::HashSet,
    hash::{DefaultHasher, Hash, Hasher},
    sync::Arc,
    time::Instant,
};

use preflight_core::{
    ErrorKind, Event, FinishReason, GenSettings, GenerateRequest, Message, Outcome, Probe, ProbeRecord, Procedure,
    RunInfo, Scorer, Transform,
};
use tokio::{sync::watch, task::JoinSet};

use crate::Generator;

/// Receives the runner's events. Called from worker tasks: keep it quick and non-blocking.
pub trait EventSink: Send + Sync {
    fn emit(&self, event: Event);
}

/// A compact key for `(sample id, epoch)`; 128 bits keep a 10⁶-probe resume set small and
/// collision-free in practice.
pub fn probe_key(sample_id: &str, epoch: u32) -> u128 {
    let mut a = DefaultHasher::new();
    (sample_id, epoch).hash(&mut a);
    let mut b = DefaultHasher::new();
    (epoch, "preflight", sample_id).hash(&mut b);
    ((a.finish() as u128) << 64) | b.finish() as u128
}

/// Probes already stored, to be skipped.
pub type ProbeKeys = HashSet<u128>;

/// Why a run stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Every probe is done.
    Finished,
    /// Cancelled (Ctrl-C); in-flight probes were dropped and will run on resume.
    Interrupted,
    /// The harness cannot go on (provider unreachable, credentials rejected, suite unreadable).
    Aborted(String),
}

/// Runs probes against one target with a list of scorers.
pub struct Runner {
    pub run_id: String,
    pub target: Arc<Generator>,
    pub scorers: Vec<Arc<dyn Scorer>>,
    pub settings: GenSettings,
    /// Applies attack chains to attacked samples (`None`: samples are sent as they are).
    pub transform: Option<Arc<dyn Transform>>,
    /// Runs adaptive attacks (PAIR, TAP, Crescendo) for the samples it handles.
    pub procedure: Option<Arc<dyn Procedure>>,
    /// Probes in flight at once (each holds at most one model call at a time).
    pub max_in_flight: usize,
    /// Consecutive failures with permanent errors and no success yet before giving up.
    pub abort_after_permanent: u32,
    /// Consecutive harness errors of any kind (see [`preflight_core::is_harness_error`]) and no
    /// usable answer yet before giving up: an endpoint that is down or answers nothing usable
    /// is not sent the whole suite.
    pub abort_after_errors: u32,
}

/// Abort thresholds used by `preflight eval`.
pub const ABORT_AFTER_PERMANENT: u32 = 5;
pub const ABORT_AFTER_ERRORS: u32 = 10;

enum Done {
    Record(Box<ProbeRecord>),
    /// The run cannot continue; the probe is not recorded so resume runs it again.
    Fatal(String),
}

impl Runner {
    /// Runs every probe not in `done`. `total` is the run's full size (for progress).
    pub async fn run<I, E>(
        &self,
        probes: I,
        total: u64,
        done: &ProbeKeys,
        sink: Arc<dyn EventSink>,
        mut cancel: watch::Receiver<bool>,
    ) -> StopReason
    where
        I: Iterator<Item = Result<Probe, E>>,
        E: std::fmt::Display,
    {
        sink.emit(Event::RunStarted(RunInfo { run_id: self.run_id.clone(), total, already_done: done.len() as u64 }));
        let mut tasks: JoinSet<Done> = JoinSet::new();
        let mut stop: Option<StopReason> = None;
        let mut successes = 0u64;
        let (mut permanent_streak, mut error_streak) = (0u32, 0u32);
        let mut reasons: std::collections::BTreeMap<String, u32> = Default::default();
        let limit = self.max_in_flight.max(1);

        let mut handle = |d: Done, stop: &mut Option<StopReason>| match d {
            Done::Fatal(msg) => {
                if stop.is_none() {
                    *stop = Some(StopReason::Aborted(msg));
                }
            }
            Done::Record(rec) => {
                if !rec.is_harness_error() {
                    successes += 1;
                    (permanent_streak, error_streak) = (0, 0);
                } else {
                    error_streak += 1;
                    let reason = rec.unassessable_reason.clone().unwrap_or_default();
                    if reason == "provider_error:permanent" {
                        permanent_streak += 1;
                    }
                    *reasons.entry(reason).or_default() += 1;
                    let why = if permanent_streak >= self.abort_after_permanent {
                        Some(format!("the first {permanent_streak} requests all failed permanently"))
                    } else if error_streak >= self.abort_after_errors {
                        let by: Vec<String> = reasons.iter().map(|(r, n)| format!("{r} {n}")).collect();
                        Some(format!("the first {error_streak} probes all failed ({})", by.join(", ")))
                    } else {
                        None
                    };
                    if let Some(why) = why.filter(|_| successes == 0 && stop.is_none()) {
                        let last = rec.error.as_deref().or(rec.scores.last().map(|s| s.explanation.as_str()));
                        *stop = Some(StopReason::Aborted(format!(
                            "no usable answer: {why}; last error: {}",
                            last.unwrap_or("the answer was empty")
                        )));
                    }
                }
                sink.emit(Event::ProbeFinished(rec));
            }
        };

        let mut probes = probes.into_iter();
        'dispatch: loop {
            if stop.is_some() || *cancel.borrow() {
                break;
            }
            while tasks.len() >= limit {
                tokio::select! {
                    biased;
                    _ = cancel.changed() => break 'dispatch,
                    Some(res) = tasks.join_next() => {
                        if let Ok(d) = res { handle(d, &mut stop) }
                        if stop.is_some() { break 'dispatch }
                    }
                }
            }
            let probe = match probes.next() {
                None => break,
                Some(Err(e)) => {
                    stop = Some(StopReason::Aborted(format!("cannot read the suite: {e}")));
                    break;
                }
                Some(Ok(p)) => p,
            };
            if done.contains(&probe_key(&probe.sample.id, probe.epoch)) {
                continue;
            }
            let target = self.target.clone();
            let scorers = self.scorers.clone();
            let settings = self.settings.clone();
            let (transform, procedure) = (self.transform.clone(), self.procedure.clone());
            tasks.spawn(async move {
                let attack = Attack { transform: transform.as_deref(), procedure: procedure.as_deref() };
                run_probe(probe, &target, &scorers, &settings, attack).await
            });
        }

        // Drain: finish what is in flight. On cancel or abort, drop it instead: those probes are
        // not stored, so a resumed run carries them out (the response cache keeps finished calls).
        loop {
            if *cancel.borrow() || matches!(stop, Some(StopReason::Aborted(_))) {
                tasks.abort_all();
                break;
            }
            tokio::select! {
                biased;
                _ = cancel.changed() => { tasks.abort_all(); break }
                next = tasks.join_next() => match next {
                    None => break,
                    Some(Ok(d)) => handle(d, &mut stop),
                    Some(Err(_)) => {}
                }
            }
        }
        while tasks.join_next().await.is_some() {}
        let reason = if *cancel.borrow() && stop.is_none() {
            StopReason::Interrupted
        } else {
            stop.unwrap_or(StopReason::Finished)
        };
        sink.emit(Event::RunFinished { completed: reason == StopReason::Finished });
        reason
    }
}

/// The hooks a probe may go through besides the target and scorers.
#[derive(Clone, Copy)]
struct Attack<'a> {
    transform: Option<&'a dyn Transform>,
    procedure: Option<&'a dyn Procedure>,
}

/// One probe: an adaptive attack when a procedure handles its attack, otherwise a single turn
/// (its attack chain applied first); then the answer is checked and scored.
async fn run_probe(
    probe: Probe,
    target: &Generator,
    scorers: &[Arc<dyn Scorer>],
    settings: &GenSettings,
    attack: Attack<'_>,
) -> Done {
    let started = Instant::now();
    let mut record = ProbeRecord {
        transcript: GenerateRequest::single_turn(&probe.sample.prompt, settings).messages,
        sample: probe.sample,
        epoch: probe.epoch,
        finish_reason: None,
        usage: Default::default(),
        cached: false,
        latency_ms: 0,
        first_token_ms: None,
        last_token_ms: None,
        attempts: 0,
        error: None,
        outcome: Outcome::Unassessable,
        unassessable_reason: None,
        scores: Vec::new(),
        trace: Vec::new(),
    };
    let name = record.sample.attack.clone().unwrap_or_default();
    if let Some(p) = attack.procedure.filter(|p| !name.is_empty() && p.handles(&name)) {
        match p.run(&record.sample, target, settings, record.epoch).await {
            Ok(conv) => {
                record.transcript = conv.transcript;
                record.trace = conv.trace;
                record.attempts = conv.target_queries;
                record.latency_ms = started.elapsed().as_millis() as u64;
                record.finish_reason = Some(FinishReason::Stop);
            }
            Err(e) => return attack_failed(record, e, started),
        }
        return score(record, scorers).await;
    }

    let prompt = match (&record.sample.attack, attack.transform) {
        (Some(_), Some(t)) => t.prompt(&record.sample, record.epoch).await,
        _ => Ok(record.sample.prompt.clone()),
    };
    let prompt = match prompt {
        Ok(p) => p,
        Err(e) => return attack_failed(record, e, started),
    };
    let request = GenerateRequest::single_turn(&prompt, settings);
    let (result, attempts) = target.generate_counted(&request, record.epoch).await;
    record.latency_ms = started.elapsed().as_millis() as u64;
    record.attempts = attempts;
    record.transcript = request.messages;
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            if matches!(e.kind, ErrorKind::Unreachable | ErrorKind::Auth) {
                return Done::Fatal(format!("{e} (after {attempts} attempts)"));
            }
            // A provider's safety filter blocking the prompt (Gemini's promptFeedback, Azure's
            // 400 content_filter) is the system's answer, recorded like a filtered finish: neither
            // a refusal nor a harness error, and not asked again on resume.
            if e.kind == ErrorKind::ContentFiltered {
                record.finish_reason = Some(FinishReason::ContentFilter);
                record.unassessable_reason = Some("content_filtered".into());
                record.error = Some(e.to_string());
                return Done::Record(Box::new(record));
            }
            record.unassessable_reason = Some(format!("provider_error:{}", e.kind.label()));
            record.error = Some(e.to_string());
            return Done::Record(Box::new(record));
        }
    };
    record.finish_reason = Some(response.finish_reason);
    record.usage = response.usage;
    record.cached = response.cached;
    // A cached answer was not timed now: its stored first-token time belongs to another run.
    record.first_token_ms = response.first_token_ms.filter(|_| !response.cached);
    record.last_token_ms = response.last_token_ms.filter(|_| !response.cached);
    record.transcript.push(Message::from_response(&response));
    score(record, scorers).await
}

/// The attack could not be built or run (attacker error, empty rewrite): unassessable, or the
/// end of the run when a provider cannot be reached at all.
fn attack_failed(mut record: ProbeRecord, e: preflight_core::ProviderError, started: Instant) -> Done {
    if matches!(e.kind, ErrorKind::Unreachable | ErrorKind::Auth) {
        return Done::Fatal(format!("attack: {e}"));
    }
    record.latency_ms = started.elapsed().as_millis() as u64;
    record.unassessable_reason = Some(format!("attack_error:{}", e.kind.label()));
    record.error = Some(e.to_string());
    Done::Record(Box::new(record))
}

/// Checks the answer can be judged, then scores it; the last score decides.
async fn score(mut record: ProbeRecord, scorers: &[Arc<dyn Scorer>]) -> Done {
    let reply = match record.transcript.last() {
        Some(m) if m.role == preflight_core::Role::Assistant => m.content.clone(),
        _ => String::new(),
    };
    if record.finish_reason == Some(FinishReason::ContentFilter) {
        record.unassessable_reason = Some("content_filtered".into());
        return Done::Record(Box::new(record));
    }
    if reply.trim().is_empty() {
        record.unassessable_reason = Some("empty_reply".into());
        return Done::Record(Box::new(record));
    }
    for scorer in scorers {
        let scores = scorer.score_all(&record.sample, &record.transcript, record.epoch).await;
        record.scores.extend(scores);
    }
    // The last scorer listed decides the outcome; the others are kept alongside as evidence.
    if let Some(decider) = record.scores.last() {
        record.outcome = decider.outcome;
        if decider.outcome == Outcome::Unassessable {
            let kind =
                if decider.label.as_deref() == Some(preflight_core::JUDGE_ERROR) { "judge_error" } else { "scorer" };
            record.unassessable_reason = Some(format!("{kind}:{}", decider.scorer));
        }
    }
    Done::Record(Box::new(record))
}
