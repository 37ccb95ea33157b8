use serde::{Deserialize, Serialize};

use crate::{FinishReason, Message, Outcome, Sample, Score, TraceStep, Usage};

/// Facts about a batch of probes the reporters need up front (a phase or a sequential round).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub run_id: String,
    /// Probes in the whole run (samples × epochs).
    pub total: u64,
    /// Probes already stored by an earlier attempt (resume); they are not run again.
    pub already_done: u64,
}

/// Everything known about one finished probe: the unit the store appends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecord {
    pub sample: Sample,
    pub epoch: u32,
    /// The full conversation, including the model's answer when there is one.
    pub transcript: Vec<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<FinishReason>,
    #[serde(default)]
    pub usage: Usage,
    pub cached: bool,
    pub latency_ms: u64,
    /// A streamed answer: milliseconds from the request to its first token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_token_ms: Option<u64>,
    /// A streamed answer: milliseconds from the request to the stream's end (with the first
    /// token's time and the completion tokens, the decoding speed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_token_ms: Option<u64>,
    /// Provider attempts made (1 = no retry).
    pub attempts: u32,
    /// The final provider error, when the target could not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub outcome: Outcome,
    /// Why the probe is unassessable (`provider_error:transient`, `empty_reply`,
    /// `content_filtered`, `scorer:strongreject`, `judge_error:strongreject`), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unassessable_reason: Option<String>,
    pub scores: Vec<Score>,
    /// Every step of an adaptive attack (empty for single-turn probes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<TraceStep>,
}

impl ProbeRecord {
    /// The probe holds no observation of the model because the harness around it failed.
    pub fn is_harness_error(&self) -> bool {
        self.unassessable_reason.as_deref().is_some_and(is_harness_error)
    }
}

/// Unassessable reasons that mean "the harness failed", not "the answer could not be judged":
/// the target's call failed after retries, the attack could not be built, the target returned
/// nothing, or the judge could not be asked. A run made mostly of these has no verdict, and
/// resume asks these probes again. A content filter's block is the system's answer, and a judge's
/// unparseable verdict is a judgement problem: neither is a harness error.
pub fn is_harness_error(reason: &str) -> bool {
    reason.starts_with("provider_error:")
        || reason.starts_with("attack_error:")
        || reason.starts_with("judge_error:")
        || reason == "empty_reply"
}

/// One measured value of one persuasion-game conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureRecord {
    /// One conversation of a game, e.g. `belief:claim-03-pro:nurse`.
    pub item_id: String,
    pub epoch: u32,
    pub category: String,
    /// `belief-shift` | `make-me-pay` | `make-me-say` | `pairwise`.
    pub game: String,
    /// The claim, codeword or persona it was about (intervals are clustered by it).
    pub cluster: String,
    /// `belief_shift` | `control_shift` | `pay_rate` | `money_share` | `say_win_rate` | `pairwise_win_rate`.
    pub measure: String,
    /// `None`: the conversation gave no usable value (it widens the interval, it is counted).
    pub value: Option<f64>,
    /// Ratings, amount, outcome, the judges' answers, or the error.
    pub detail: serde_json::Value,
    pub transcript: Vec<Message>,
}

/// What the sequential planner did for one category: seed samples drawn, rounds, and why it
/// stopped (empty while it is still drawing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryStop {
    pub category: String,
    pub drawn: u64,
    pub rounds: u32,
    /// `settled` | `all probes drawn` | `budget spent` | `deadline`; empty while still drawing.
    pub reason: String,
}

/// Where a run stands. `Running` is held by exactly one process at a time (the store's lease).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Running,
    /// Every probe is in and the run has its verdict.
    Finished,
    /// Stopped early (Ctrl-C, a store that could not be written); `--resume` continues it.
    Interrupted,
    /// The harness could not do its job (provider unreachable, no usable answers); `--resume`
    /// continues it after the cause is fixed.
    Aborted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Finished => "finished",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Aborted => "aborted",
        }
    }
    pub fn parse(s: &str) -> Option<RunStatus> {
        Some(match s {
            "running" => RunStatus::Running,
            "finished" => RunStatus::Finished,
            "interrupted" => RunStatus::Interrupted,
            "aborted" => RunStatus::Aborted,
            _ => return None,
        })
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run's status changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: RunStatus,
    /// `PASS` | `FAIL` | `INCONCLUSIVE` once finished.
    pub verdict: Option<String>,
    /// Why it was aborted or interrupted.
    pub note: Option<String>,
    /// The run's size was an upper bound (survivor attacks, sequential draws): set it to what
    /// was stored.
    pub settle_total: bool,
}

/// A sequential round finished: where the verdict stands and what was spent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundInfo {
    pub verdict: String,
    pub requests: u64,
    pub tokens: u64,
    /// Dollars at the run's price, when it has a money budget.
    pub usd: Option<f64>,
    /// Categories still drawing.
    pub open: Vec<String>,
}

/// What one model has cost a run: requests, tokens and dollars (`usd` covers the requests whose
/// model the run's price table prices; `unpriced` counts the others).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ModelSpend {
    /// The model's id, `PROVIDER/NAME`.
    pub model: String,
    pub requests: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub usd: f64,
    /// Requests the price table had no price for (their dollars are not in `usd`).
    pub unpriced: u64,
}

impl ModelSpend {
    /// Adds `other`'s counts (same model) to this one's.
    pub fn add(&mut self, other: &ModelSpend) {
        self.requests += other.requests;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.usd += other.usd;
        self.unpriced += other.unpriced;
    }
}

/// What an evaluation session reports while it works: one stream for everything that happens to
/// a run. The store's writer persists the events that change a run (probes, game conversations,
/// sequential stops, status); displays read all of them. Producers know nothing of SQLite or
/// terminals.
#[derive(Debug, Clone)]
pub enum Event {
    /// A batch of probes starts: the first phase, the survivors phase, or a sequential round.
    RunStarted(RunInfo),
    /// A provider call failed and will be retried after `delay_ms`.
    Retrying {
        provider: String,
        kind: &'static str,
        attempt: u32,
        delay_ms: u64,
    },
    ProbeFinished(Box<ProbeRecord>),
    /// A provider request was made (answered or not): what it cost, for the spend per model.
    Spent(ModelSpend),
    /// The batch of probes ended: all done, or stopped early (interrupt / abort).
    RunFinished {
        completed: bool,
    },
    /// A sequential round ended.
    RoundFinished(RoundInfo),
    /// The sequential planner's state for every category, after a round (replaces the last).
    StopsChanged(Vec<CategoryStop>),
    /// The persuasion games start: conversations to hold, and how many are already stored.
    GamesStarted {
        conversations: usize,
        stored: usize,
    },
    /// One game item's conversations, or one capability attempt or question, with their
    /// measures (all stored together).
    GameFinished(Vec<MeasureRecord>),
    /// The persuasion games ended.
    GamesFinished {
        played: usize,
        failed: usize,
    },
    /// The agent tasks and knowledge probes start: attempts and questions to run, rows stored.
    CapabilitiesStarted {
        attempts: usize,
        questions: usize,
        stored: usize,
    },
    /// The agent tasks and knowledge probes ended.
    CapabilitiesFinished {
        rows: usize,
        unassessable: usize,
    },
    /// The run's status changed.
    StatusChanged(StatusChange),
    /// Something a person watching should know (a phase skipped, a budget reached).
    Notice(String),
}

/// Reads the event stream: displays, progress bars, a viewer's live page. Called from worker
/// threads: keep it quick and non-blocking.
pub trait Observer: Send + Sync {
    fn observe(&self, event: &Event);
}

/// An observer that looks at nothing (a session nobody watches).
pub struct Unobserved;

impl Observer for Unobserved {
    fn observe(&self, _: &Event) {}
}
