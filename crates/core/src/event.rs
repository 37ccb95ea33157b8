use serde::{Deserialize, Serialize};

use crate::{FinishReason, Message, Outcome, Sample, Score, TraceStep, Usage};

/// Facts about a run the reporters need up front.
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
    /// Provider attempts made (1 = no retry).
    pub attempts: u32,
    /// The final provider error, when the target could not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub outcome: Outcome,
    /// Why the probe is unassessable (`provider_error:transient`, `empty_reply`,
    /// `content_filtered`, `scorer:strongreject`), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unassessable_reason: Option<String>,
    pub scores: Vec<Score>,
    /// Every step of an adaptive attack (empty for single-turn probes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<TraceStep>,
}

/// What the runner reports while it works. The runner knows nothing of stores or terminals;
/// the binary wires these events to them.
#[derive(Debug, Clone)]
pub enum Event {
    RunStarted(RunInfo),
    /// A provider call failed and will be retried after `delay_ms`.
    Retrying {
        provider: String,
        kind: &'static str,
        attempt: u32,
        delay_ms: u64,
    },
    ProbeFinished(Box<ProbeRecord>),
    /// The run ended: all probes done, or stopped early (interrupt / abort).
    RunFinished {
        completed: bool,
    },
}
