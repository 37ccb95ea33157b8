use std::{collections::HashMap, sync::Arc};

use preflight_core::{BoxFuture, ErrorKind, Generate, ProviderError, Sample, Transform};

use crate::{Chain, Step, probe_seed};

/// A suite's attack chains as the runner's [`Transform`]: an attacked sample's prompt goes through
/// its chain, seeded by (suite seed, seed sample, chain), asking `attacker` for model steps.
pub struct Attacks {
    chains: HashMap<String, Chain>,
    attacker: Option<Arc<dyn Generate>>,
    seed: u64,
}

impl Attacks {
    pub fn new(chains: &[Chain], attacker: Option<Arc<dyn Generate>>, seed: u64) -> Attacks {
        Attacks { chains: chains.iter().map(|c| (c.name.clone(), c.clone())).collect(), attacker, seed }
    }
}

impl Transform for Attacks {
    fn prompt<'a>(&'a self, sample: &'a Sample, epoch: u32) -> BoxFuture<'a, Result<String, ProviderError>> {
        Box::pin(async move {
            let name = sample.attack.as_deref().unwrap_or_default();
            let chain = self.chains.get(name).ok_or_else(|| {
                ProviderError::new(ErrorKind::Permanent, "attack", None, format!("unknown attack `{name}`"))
            })?;
            let seed = probe_seed(self.seed, sample.parent.as_deref().unwrap_or(&sample.id), name);
            chain.apply(&sample.prompt, seed, self.attacker.as_deref(), epoch).await
        })
    }
}

/// Text that changes whenever what the chains would produce changes: names, template texts,
/// many-shot turns. Hashed into a run's fingerprint so a resumed run uses the same attacks.
pub fn identity(chains: &[Chain]) -> String {
    let mut out = String::new();
    for c in chains {
        out.push_str(&c.name);
        out.push('\n');
        for s in &c.steps {
            match s {
                Step::Template(t) => t.texts.iter().for_each(|x| {
                    out.push_str(x);
                    out.push('\u{1f}');
                }),
                Step::ManyShot { shots, n } => {
                    out.push_str(&n.to_string());
                    shots.iter().for_each(|(q, a)| {
                        out.push_str(q);
                        out.push('\u{1f}');
                        out.push_str(a);
                    });
                }
                _ => {}
            }
        }
    }
    out
}
