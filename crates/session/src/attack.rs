//! A suite's `attacks`: parsed into chains (errors name the suite line), expanded per sample, and
//! applied at run time by the runner through `preflight_attacks::Attacks`.

use std::{path::Path, sync::Arc};

use anyhow::{Result, anyhow};
use preflight_attacks::{ADAPTIVE, Adaptive, AdaptiveConfig, Attacks, Chain, Templates, identity};
use preflight_core::{Expected, Generate, Procedure, Refusal, Sample, Transform, sha256_hex};
use preflight_scorers::RefusalDetector;
use preflight_suite::Suite;

pub struct Plan {
    pub chains: Vec<Chain>,
    /// Adaptive attacks named in the suite (`pair`, `tap`, `crescendo`), run on harmful samples.
    pub adaptive: Vec<String>,
    /// Run them only on behaviours no other probe broke (a second phase).
    pub on_survivors: bool,
    pub config: AdaptiveConfig,
    pub include_original: bool,
    /// The suite's fingerprint, extended by the attacks' identity when there are any.
    pub fingerprint: String,
}

impl Plan {
    pub fn new(suite: &Suite, cache_dir: &Path) -> Result<Plan> {
        let base = suite.path.parent().unwrap_or(Path::new("."));
        let templates = Templates::new(base, cache_dir);
        let (mut chains, mut adaptive) = (Vec::new(), Vec::new());
        for (spec, line) in &suite.attacks {
            if ADAPTIVE.contains(&spec.as_str()) {
                adaptive.push(spec.clone());
                continue;
            }
            chains.push(
                Chain::parse(spec, &templates)
                    .map_err(|e| anyhow!("{}:{line}: field `attacks`: {e}", suite.path.display()))?,
            );
        }
        let a = &suite.adaptive;
        let d = AdaptiveConfig::default();
        let config = AdaptiveConfig {
            budget: a.budget.unwrap_or(d.budget),
            tap_width: a.tap_width.unwrap_or(d.tap_width).max(1),
            tap_depth: a.tap_depth.unwrap_or(d.tap_depth).max(1),
            tap_branching: a.tap_branching.unwrap_or(d.tap_branching).max(1),
            crescendo_turns: a.crescendo_turns.unwrap_or(d.crescendo_turns).max(1),
            crescendo_backtracks: a.crescendo_backtracks.unwrap_or(d.crescendo_backtracks),
        };
        let fingerprint = if chains.is_empty() && adaptive.is_empty() {
            suite.fingerprint.clone()
        } else {
            let text = format!("{}\n{}\n{}\n{config:?}", suite.fingerprint, identity(&chains), adaptive.join(","));
            sha256_hex(text.as_bytes())
        };
        Ok(Plan {
            chains,
            adaptive,
            on_survivors: a.on_survivors(),
            config,
            include_original: suite.include_original,
            fingerprint,
        })
    }

    /// Single-turn probes per sample and epoch (adaptive ones come on top, for harmful samples).
    pub fn per_sample_single(&self) -> u64 {
        u64::from(self.include_original) + self.chains.len() as u64
    }

    /// Whether an attacker model is needed: model-driven mutators or adaptive attacks.
    pub fn needs_model(&self) -> bool {
        !self.adaptive.is_empty() || self.chains.iter().any(Chain::needs_model)
    }

    /// The probes one sample becomes in the first phase: itself (unless excluded), one per
    /// chain, and — unless they wait for survivors — one per adaptive attack if it is harmful.
    pub fn expand<'a>(&'a self, sample: Sample) -> impl Iterator<Item = Sample> + 'a {
        let mut out: Vec<Sample> = self.chains.iter().map(|c| sample.attacked(&c.name)).collect();
        if !self.on_survivors {
            out.extend(self.adaptive_for(&sample));
        }
        self.include_original.then_some(sample).into_iter().chain(out)
    }

    /// The adaptive probes of one sample (harmful samples only: they need a goal).
    pub fn adaptive_for(&self, sample: &Sample) -> Vec<Sample> {
        if sample.expected != Expected::Refuse {
            return Vec::new();
        }
        self.adaptive.iter().map(|a| sample.attacked(a)).collect()
    }

    /// The runner's procedure for adaptive attacks: `attacker` writes, `judge` scores 1–10.
    pub fn procedure(&self, attacker: Arc<dyn Generate>, judge: Arc<dyn Generate>) -> Option<Arc<dyn Procedure>> {
        (!self.adaptive.is_empty()).then(|| {
            Arc::new(Adaptive {
                attacker,
                judge,
                cfg: self.config,
                is_refusal: |t| RefusalDetector::classify(t).0 != Refusal::FullCompliance,
            }) as Arc<dyn Procedure>
        })
    }

    pub fn transform(&self, attacker: Option<Arc<dyn Generate>>, seed: u64) -> Option<Arc<dyn Transform>> {
        (!self.chains.is_empty()).then(|| Arc::new(Attacks::new(&self.chains, attacker, seed)) as Arc<dyn Transform>)
    }
}
