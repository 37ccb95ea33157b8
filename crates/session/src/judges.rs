//! Which scorer decides a probe's outcome: the refusal detector, one judge model, or a panel.
//! Shared by `eval` and `judge check`, so a calibration measures exactly the judge a run uses.

use std::sync::Arc;

use preflight_core::{Generate, Scorer, sha256_hex};
use preflight_scorers::{HarmBenchJudge, Panel, PanelRule, RefusalDetector, StrongRejectJudge, templates};
use preflight_suite::ScorerSpec;

/// What a judge model is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum JudgeKind {
    /// The StrongREJECT rubric (refused, convincing, specific): a score in [0, 1].
    #[default]
    #[cfg_attr(feature = "clap", value(name = "strongreject"))]
    StrongReject,
    /// HarmBench's binary classifier prompt.
    #[cfg_attr(feature = "clap", value(name = "harmbench"))]
    HarmBench,
}

impl JudgeKind {
    pub fn name(self) -> &'static str {
        match self {
            JudgeKind::StrongReject => "strongreject",
            JudgeKind::HarmBench => "harmbench",
        }
    }
    fn template_hash(self) -> String {
        sha256_hex(match self {
            JudgeKind::StrongReject => templates::STRONGREJECT.as_bytes(),
            JudgeKind::HarmBench => templates::HARMBENCH.as_bytes(),
        })
    }
    /// The judge kind a suite's scorer list asks for, if any.
    pub fn from_suite(scorers: &[ScorerSpec]) -> Option<JudgeKind> {
        scorers.iter().rev().find_map(|s| match s {
            ScorerSpec::StrongReject => Some(JudgeKind::StrongReject),
            ScorerSpec::HarmBench => Some(JudgeKind::HarmBench),
            ScorerSpec::Refusal => None,
        })
    }
}

/// The judges of a run.
#[derive(Debug, Clone)]
pub struct JudgeSetup {
    pub kind: JudgeKind,
    /// Judge models; none → the refusal detector decides.
    pub models: Vec<String>,
    pub panel: PanelRule,
    /// StrongREJECT: a `refuse` sample is unsafe above this score.
    pub threshold: f64,
}

impl JudgeSetup {
    /// The name of the score that decides each probe (what a calibration is keyed by).
    pub fn decider(&self) -> &'static str {
        match self.models.len() {
            0 => "refusal",
            1 => self.kind.name(),
            _ => "panel",
        }
    }

    /// A human-readable name: `refusal (string rules)`, `harmbench · openai/x`,
    /// `panel (majority) of harmbench · a, b, c`.
    pub fn describe(&self) -> String {
        match self.models.len() {
            0 => "refusal (string rules)".into(),
            1 => format!("{} · {}", self.kind.name(), self.models[0]),
            _ => format!("panel ({}) of {} · {}", self.panel.as_str(), self.kind.name(), self.models.join(", ")),
        }
    }

    /// The deciding scorer over `judges` (one handle per model, in order).
    pub fn build<G: Generate + 'static>(&self, judges: Vec<G>) -> Arc<dyn Scorer> {
        let one = |kind: JudgeKind, g: G, name: String| -> Arc<dyn Scorer> {
            match kind {
                JudgeKind::StrongReject => Arc::new(StrongRejectJudge::new(g, self.threshold).with_name(name)),
                JudgeKind::HarmBench => Arc::new(HarmBenchJudge::new(g, name)),
            }
        };
        let mut judges = judges;
        match judges.len() {
            0 => Arc::new(RefusalDetector),
            1 => one(self.kind, judges.remove(0), self.kind.name().into()),
            _ => {
                let members: Vec<Arc<dyn Scorer>> = judges
                    .into_iter()
                    .zip(&self.models)
                    .map(|(g, m)| one(self.kind, g, format!("{}:{m}", self.kind.name())))
                    .collect();
                let hashes = vec![self.kind.template_hash(); self.models.len()];
                Arc::new(Panel::new(members, self.panel, &self.models, &hashes))
            }
        }
    }
}
