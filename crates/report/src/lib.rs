//! Reporters: they read finished data and render it; they never decide anything.
//!
//! - [`report_of`]: a stored run → its [`Report`] (the scorecard is computed here, from the store
//!   alone, for `eval`, `report`, `review` and the viewer); [`with_pre`] adds the pre-mitigation
//!   column.
//! - [`compare::compare`]: two runs paired probe by probe (McNemar, cluster bootstrap, Holm).
//! - [`export`]: a run in preflight's versioned result format (JSON Lines, [`format`]).
//! - [`safe`]: untrusted text made safe for terminals, Markdown and printed JSON.
//! - [`Report`]: a run's scorecard, unassessable breakdown and evidence, rendered as a terminal
//!   table ([`Report::to_table`]), JSON ([`Report::to_json`]) or Markdown ([`Report::to_markdown`]).
//! - [`Tally`]: probe outcomes → the per-category [`preflight_stats::Counts`] and design effects
//!   (clustered probes).
//! - [`validation`]: a run's validation sample as strata per category and rate.
//! - [`Progress`]: a live progress line (rate, ETA) on a terminal, plain periodic lines otherwise.
//!
//! ```
//! use preflight_report::Tally;
//! assert!(Tally::default().counts().is_empty());
//! ```

mod build;
pub mod compare;
pub mod format;
mod html;
mod progress;
mod render;
pub mod safe;
mod tally;
pub mod validation;

pub use build::{
    BuildError, DECIDERS, decider_of, deciding_judge, policy_path_of, report_of, run_of, scorecard_of, stage_of,
    with_pre,
};
pub use format::{Exported, Record, SCHEMA_VERSION, export};
pub use html::{steps_html, trace_html};
pub use progress::Progress;
pub use render::{AttackResult, ControlCheck, PreMitigation, Report, level_range, transcript_text};
pub use tally::Tally;
