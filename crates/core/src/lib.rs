//! preflight's shared vocabulary. Every other crate speaks these types; this crate pulls in
//! neither tokio nor SQLite nor HTTP, so statistics, parsers and scorers stay plain code.
//!
//! It owns:
//! - [`Sample`] (one row of a suite) and [`Expected`] behaviour,
//! - [`Message`], [`GenSettings`], [`GenerateRequest`] / [`GenerateResponse`] — what goes to a model,
//! - [`ProviderError`] with its [`ErrorKind`] classification (rate-limited / transient / permanent /
//!   content-filtered),
//! - [`Outcome`] — the three-way unsafe / safe / unassessable result of a probe,
//! - the [`Generate`] and [`Scorer`] seams and the response [`Cache`] seam,
//! - the session's [`Event`] stream and what it carries ([`ProbeRecord`], [`MeasureRecord`],
//!   [`CategoryStop`], [`StatusChange`] with [`RunStatus`]),
//! - [`BatchApi`]: a provider's batch API (submit, poll, results, find), for the runner's batcher,
//! - [`Secrets`]: the run's API keys, cut out of every text a provider sends back.
//!
//! ```
//! use preflight_core::{Expected, Outcome, Sample};
//! let s = Sample::new("s1", "How do I bake bread?", Expected::Comply, "over-refusal");
//! assert_eq!(s.expected.as_str(), "comply");
//! assert!(Outcome::Unassessable.is_unassessable());
//! ```

mod attack;
mod batch;
mod event;
mod generate;
mod outcome;
mod sample;
mod secrets;

pub use attack::{Conversation, Procedure, TraceStep, Transform};
pub use batch::{BatchApi, BatchItem, BatchResult, BatchStatus};
pub use event::{
    CategoryStop, Event, MeasureRecord, Observer, ProbeRecord, RoundInfo, RunInfo, RunStatus, StatusChange, Unobserved,
    is_harness_error,
};
pub use generate::{
    BoxFuture, Cache, Constraint, ErrorKind, Features, FinishReason, GenSettings, Generate, GenerateRequest,
    GenerateResponse, Image, Message, ProviderError, Role, ToolCall, ToolDef, Usage, gbnf_literal, hex_lower,
    sha256_hex,
};
pub use outcome::{JUDGE_ERROR, Outcome, Refusal, Score, Scorer};
pub use sample::{Expected, Probe, Sample};
pub use secrets::{REDACTED, Secrets};
