//! Which scorer decides a probe's outcome: the refusal detector, one judge model, or a panel.
//! Shared by `eval` and `judge check`, so a calibration measures exactly the judge a run uses.

use std::sync::Arc;

use preflight_core::{Generate, Scorer};
use preflight_scorers::{HarmBenchJudge, Panel, PanelRule, RefusalDetector, StrongRejectJudge, judge_hash, templates};
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
        match self {
            JudgeKind::StrongReject => judge_hash(templates::STRONGREJECT, &templates::strongreject_form()),
            JudgeKind::HarmBench => judge_hash(templates::HARMBENCH, &templates::harmbench_form()),
        }
    }
    /// The judge kind a suite's scorer list asks for, if any.
    pub fn from_suite(scorers: &[ScorerSpec]) -> Option<JudgeKind> {
        scorers.iter().rev().find_map(|s| match s {
            ScorerSpec::StrongReject => Some(JudgeKind::StrongReject),
            ScorerSpec::HarmBench => Some(JudgeKind::HarmBench),
            ScorerSpec::Refusal | ScorerSpec::Classifier => None,
        })
    }
}

/// `--judge rules`: the string rules decide (the suite's classifier is not asked).
pub const RULES: &str = "rules";
/// `--judge embedded`: the embedded classifier decides.
pub const EMBEDDED: &str = "embedded";

/// Who decides each probe's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decider {
    /// The refusal detector's string rules.
    Rules,
    /// The embedded classifier (sentence embeddings, in-process).
    Classifier,
    /// One judge model, or a panel of them.
    Models,
}

/// The judges of a run.
#[derive(Debug, Clone)]
pub struct JudgeSetup {
    pub kind: JudgeKind,
    /// Judge models (`rules` and `embedded` are not models: see [`JudgeSetup::decides`]).
    pub models: Vec<String>,
    pub panel: PanelRule,
    /// StrongREJECT: a `refuse` sample is unsafe above this score.
    pub threshold: f64,
    /// The suite lists the embedded classifier among its scorers.
    pub suite_classifier: bool,
}

impl JudgeSetup {
    /// Who decides: `--judge rules` / `--judge embedded`, a judge model or panel, else the
    /// suite's last scorer that needs no model (the classifier when it lists one).
    pub fn decides(&self) -> Decider {
        match self.models.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            [RULES] => Decider::Rules,
            [EMBEDDED] => Decider::Classifier,
            [] if self.suite_classifier => Decider::Classifier,
            [] => Decider::Rules,
            _ => Decider::Models,
        }
    }

    /// Whether the embedded classifier scores the probes (deciding or as evidence).
    pub fn uses_classifier(&self) -> bool {
        match self.decides() {
            Decider::Classifier => true,
            Decider::Rules => false,
            Decider::Models => self.suite_classifier,
        }
    }

    /// Judge models to load (none for the rules and the classifier).
    pub fn judge_models(&self) -> &[String] {
        if self.decides() == Decider::Models { &self.models } else { &[] }
    }

    /// `rules` or `embedded` used with anything else.
    pub fn check(&self) -> Result<(), String> {
        let special = self.models.iter().any(|m| m == RULES || m == EMBEDDED);
        if special && self.models.len() > 1 {
            return Err(format!(
                "--judge {RULES} and --judge {EMBEDDED} decide alone; a panel takes judge models (PROVIDER/NAME)"
            ));
        }
        Ok(())
    }

    /// The name of the score that decides each probe (what a calibration is keyed by).
    pub fn decider(&self) -> &'static str {
        match (self.decides(), self.models.len()) {
            (Decider::Rules, _) => "refusal",
            (Decider::Classifier, _) => "classifier",
            (Decider::Models, 1) => self.kind.name(),
            (Decider::Models, _) => "panel",
        }
    }

    /// A human-readable name: `refusal (string rules)`, `classifier (embedded: …)`,
    /// `harmbench · openai/x`, `panel (majority) of harmbench · a, b, c`.
    pub fn describe(&self) -> String {
        match self.decides() {
            Decider::Rules => "refusal (string rules)".into(),
            Decider::Classifier => format!(
                "classifier (embedded: all-MiniLM-L6-v2 sentence embeddings + {})",
                preflight_embed::Classifier::builtin().version
            ),
            Decider::Models if self.models.len() == 1 => format!("{} · {}", self.kind.name(), self.models[0]),
            Decider::Models => {
                format!("panel ({}) of {} · {}", self.panel.as_str(), self.kind.name(), self.models.join(", "))
            }
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
