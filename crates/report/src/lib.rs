//! Reporters: they read finished data and render it; they never decide anything.
//!
//! - [`Report`]: a run's scorecard, unassessable breakdown and evidence, rendered as a terminal
//!   table ([`Report::to_table`]), JSON ([`Report::to_json`]) or Markdown ([`Report::to_markdown`]).
//! - [`Tally`]: probe outcomes → the per-category [`preflight_stats::Counts`] and design effects
//!   (clustered probes).
//! - [`Progress`]: a live progress line (rate, ETA) on a terminal, plain periodic lines otherwise.
//!
//! ```
//! use preflight_report::Tally;
//! assert!(Tally::default().counts().is_empty());
//! ```

mod progress;
mod render;
mod tally;

pub use progress::Progress;
pub use render::{AttackResult, ControlCheck, PreMitigation, Report, transcript_text};
pub use tally::Tally;
