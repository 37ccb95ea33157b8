//! The seams attacks plug into: a [`Transform`] rewrites a probe's prompt before it is sent; a
//! [`Procedure`] runs a whole adaptive attack (many target queries) and hands back the final
//! conversation with every step it took.

use serde::{Deserialize, Serialize};

use crate::{BoxFuture, GenSettings, Generate, Message, ProviderError, Sample};

/// Turns an attacked sample into the user turn actually sent (its attack chain applied, which may
/// ask an attacker model). Unattacked samples are sent as they are.
pub trait Transform: Send + Sync {
    fn prompt<'a>(&'a self, sample: &'a Sample, epoch: u32) -> BoxFuture<'a, Result<String, ProviderError>>;
}

/// One step of an adaptive attack, stored with its probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceStep {
    /// Step number (PAIR iteration, TAP node, Crescendo turn).
    pub step: u32,
    /// What was sent to the target (or would have been, for a pruned branch).
    pub prompt: String,
    /// The target's answer; `None` when the step never reached the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
    /// The judge's 1–10 score of the answer, when asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// `refused → backtrack`, `pruned: off-topic`, `success`, …
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

/// What an adaptive attack ends with.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// The conversation to score: the best attempt, ending with the target's answer.
    pub transcript: Vec<Message>,
    pub trace: Vec<TraceStep>,
    /// Queries made to the target (within the budget).
    pub target_queries: u32,
}

/// An adaptive attack run against `target` for one sample (goal).
pub trait Procedure: Send + Sync {
    /// Whether this procedure runs samples attacked with `attack` (e.g. `pair`).
    fn handles(&self, attack: &str) -> bool;
    fn run<'a>(
        &'a self,
        sample: &'a Sample,
        target: &'a dyn Generate,
        settings: &'a GenSettings,
        epoch: u32,
    ) -> BoxFuture<'a, Result<Conversation, ProviderError>>;
}
