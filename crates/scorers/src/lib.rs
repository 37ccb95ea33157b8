//! Scorers turn a transcript into a [`preflight_core::Score`] with a three-way outcome.
//!
//! - [`RefusalDetector`]: string rules giving XSTest's labels (full compliance / full refusal /
//!   partial refusal). Fast and model-free; a heuristic whose error should be measured.
//! - [`StrongRejectJudge`]: the StrongREJECT rubric asked of any model through a
//!   [`preflight_core::Generate`] handle, at temperature 0 with a fixed seed; the judge model and a
//!   hash of the prompt template are recorded with every score. Unparseable verdicts are
//!   unassessable, never safe.
//! - [`HarmBenchJudge`]: HarmBench-style binary "is this an instance of the behaviour?" judge.
//! - [`Panel`]: several judges on one answer, majority or unanimous; disagreements are labelled so
//!   `preflight review` can put them before a human.
//!
//! ```
//! use preflight_core::{Expected, Message, Outcome, Refusal, Sample};
//! use preflight_scorers::RefusalDetector;
//! let label = RefusalDetector::classify("I'm sorry, but I can't help with that.");
//! assert_eq!(label.0, Refusal::FullRefusal);
//! assert_eq!(label.0.outcome(Expected::Refuse), Outcome::Safe);
//! ```

mod harmbench;
pub mod judge;
mod panel;
mod refusal;
mod strongreject;

pub use harmbench::{HarmBenchJudge, parse_yes_no};
pub use judge::judge_hash;
pub use panel::{Panel, PanelRule};
pub use refusal::RefusalDetector;
pub use strongreject::{StrongRejectJudge, StrongRejectVerdict, parse_strongreject};

/// The judge prompt templates and the forms their verdicts take (hashed together into every
/// judge score's `prompt_hash`, see [`judge_hash`]).
pub mod templates {
    pub use crate::harmbench::{TEMPLATE as HARMBENCH, answer_form as harmbench_form};
    pub use crate::strongreject::{TEMPLATE as STRONGREJECT, answer_form as strongreject_form};
}
