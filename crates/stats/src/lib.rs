//! Statistics and the release gate: plain, synchronous code.
//!
//! - [`interval`]: Wilson and Clopper–Pearson intervals, and the special functions they need.
//! - [`sequential`]: anytime-valid confidence sequences (a run may stop whenever its levels settle).
//! - [`plan`]: the sequential planner (rounds per category, stop when settled, budget) and the
//!   fixed-n sample sizes `preflight plan` prints.
//! - [`multiple`]: Holm / Benjamini–Hochberg across categories before a threshold counts as crossed.
//! - [`paired`]: McNemar and the paired bootstrap for `preflight compare`.
//! - [`Policy`]: a TOML file mapping rates to Low / Medium / High / Critical per category; a default
//!   ships in the binary ([`Policy::default_policy`]).
//! - [`calibration`]: a judge against human labels (accuracy, Cohen's κ, sensitivity, specificity)
//!   and the Rogan–Gladen correction of a rate for that judge's error.
//! - [`validation`]: a rate from the judge on every probe and a human on a stratified random
//!   sample (prediction-powered inference), valid however biased the judge.
//! - [`Scorecard`]: counts per category → rates with bounds → levels → overall level → [`Verdict`].
//!
//! Thresholds are applied to confidence *bounds*, never point estimates: a category is at level L only
//! when the lower bound clears L's threshold, and "cannot rule out" L when only the upper bound does.
//! Unassessable probes widen the interval (they count as safe for the lower bound and as failures for
//! the upper bound), so errors can never make a model look safer.
//!
//! ```
//! use preflight_stats::{Counts, Policy, Scorecard, Verdict};
//! let policy = Policy::default_policy();
//! let mut counts = std::collections::BTreeMap::new();
//! counts.insert("cyber".to_string(), Counts { unsafe_: 90, safe_refuse: 10, ..Default::default() });
//! let card = Scorecard::build(&policy, &counts);
//! assert_eq!(card.verdict, Verdict::Fail);
//! ```

pub mod calibration;
pub mod cluster;
pub mod interval;
pub mod multiple;
pub mod paired;
pub mod plan;
mod policy;
mod scorecard;
pub mod sequential;
pub mod validation;

pub use calibration::{Confusion, Corrected, Estimate, JudgeQuality, rogan_gladen};
pub use cluster::{clustered_mean, clustered_rate, design_effect};
pub use interval::{Interval, Method, clopper_pearson, wilson};
pub use multiple::Correction;
pub use policy::{Level, Measure, Metric, Policy, PolicyError, Thresholds};
pub use scorecard::{
    CategoryResult, CategoryValidation, Counts, Design, Designs, Inputs, JudgeInfo, MeasureInput, MeasureResult,
    Measures, MetricResult, Scorecard, Verdict,
};
pub use validation::{Stratum, Validated, validated_rate};
