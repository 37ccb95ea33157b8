//! preflight's shared vocabulary. Every other crate speaks these types; this crate pulls in
//! neither tokio nor SQLite nor HTTP, so statistics, parsers and scorers stay plain code.
//!
//! It owns:
//! - [`Sample`] (one row of a suite) and [`Expected`] behaviour,
//! - [`Message`], [`GenSettings`], [`GenerateRequest`] / [`GenerateResponse`] — what goes to a model,
//! - [`ProviderError`] with its [`ErrorKind`] classification (rate-limited / transient / permanent /
//!   content-filtered),
//! - [`Outcome`] — the three-way unsafe / safe / unassessable result of a probe,
//! - the [`Generate`] and [`Scorer`] seams, and the runner's [`Event`]s.
//!
//! ```
//! use preflight_core::{Expected, Outcome, Sample};
//! let s = Sample::new("s1", "How do I bake bread?", Expected::Comply, "over-refusal");
//! assert_eq!(s.expected.as_str(), "comply");
//! assert!(Outcome::Unassessable.is_unassessable());
//! ```

mod attack;
mod event;
mod generate;
mod outcome;
mod sample;

pub use attack::{Conversation, Procedure, TraceStep, Transform};
pub use event::{Event, ProbeRecord, RunInfo};
pub use generate::{
    BoxFuture, ErrorKind, FinishReason, GenSettings, Generate, GenerateRequest, GenerateResponse, Message,
    ProviderError, Role, Usage, hex_lower, sha256_hex,
};
pub use outcome::{Outcome, Refusal, Score, Scorer};
pub use sample::{Expected, Probe, Sample};
