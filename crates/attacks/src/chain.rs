use std::{path::Path, sync::Arc};

use preflight_core::{Generate, ProviderError};

use crate::{Rng, Template, Templates, mutate, rewrite::Rewrite, rewrite_request};

/// One mutator in a chain.
#[derive(Debug, Clone)]
pub enum Step {
    Base64,
    Rot13,
    Hex,
    Leetspeak,
    Homoglyphs,
    Split,
    RefusalSuppression,
    PrefixInjection,
    Roleplay,
    PayloadSplit,
    Template(Template),
    ManyShot { shots: Arc<Vec<(String, String)>>, n: usize },
    Rewrite(Rewrite),
}

/// Mutators written `a+b+c`, applied left to right.
#[derive(Debug, Clone)]
pub struct Chain {
    /// As written in the suite; part of every probe's id (`SAMPLE~CHAIN`).
    pub name: String,
    pub steps: Vec<Step>,
}

/// A chain that does not parse, with what would fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainError(pub String);

impl std::fmt::Display for ChainError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The mutator names a chain may use, for error messages and `--help`.
pub const NAMES: &str = "base64, rot13, hex, leetspeak, homoglyphs, split, refusal-suppression, prefix-injection, \
roleplay, payload-split, template:FILE, jailbreak:SET[/NAME], many-shot:FILE[:N], past-tense, future-tense, \
translate:LANGUAGE";

impl Chain {
    pub fn parse(spec: &str, templates: &Templates) -> Result<Chain, ChainError> {
        let spec = spec.trim();
        if spec.is_empty() {
            return Err(ChainError("empty attack".into()));
        }
        if spec.contains('~') {
            return Err(ChainError(format!("`{spec}`: `~` is reserved (it joins sample and attack in probe ids)")));
        }
        let steps = spec.split('+').map(|s| parse_step(s.trim(), templates)).collect::<Result<_, _>>()?;
        Ok(Chain { name: spec.to_string(), steps })
    }

    /// Whether a step asks an attacker model.
    pub fn needs_model(&self) -> bool {
        self.steps.iter().any(|s| matches!(s, Step::Rewrite(_)))
    }

    /// Applies a chain of pure steps; `None` if a step needs a model.
    pub fn apply_pure(&self, text: &str, seed: u64) -> Option<String> {
        let mut rng = Rng::new(seed);
        let mut out = text.to_string();
        for s in &self.steps {
            out = pure_step(s, &out, &mut rng)?;
        }
        Some(out)
    }

    /// Applies the chain; model steps ask `attacker` (required when [`Chain::needs_model`]).
    pub async fn apply(
        &self,
        text: &str,
        seed: u64,
        attacker: Option<&dyn Generate>,
        epoch: u32,
    ) -> Result<String, ProviderError> {
        let mut rng = Rng::new(seed);
        let mut out = text.to_string();
        for s in &self.steps {
            out = match (s, attacker) {
                (Step::Rewrite(r), Some(a)) => rewrite_request(r, &out, a, epoch).await?,
                (Step::Rewrite(_), None) => {
                    return Err(ProviderError::new(
                        preflight_core::ErrorKind::Permanent,
                        "attack",
                        None,
                        format!("`{}` needs an attacker model (--attacker)", self.name),
                    ));
                }
                (s, _) => pure_step(s, &out, &mut rng).expect("pure step"),
            };
        }
        Ok(out)
    }
}

fn pure_step(s: &Step, text: &str, rng: &mut Rng) -> Option<String> {
    Some(match s {
        Step::Base64 => mutate::base64(text),
        Step::Rot13 => mutate::rot13(text),
        Step::Hex => mutate::hex(text),
        Step::Leetspeak => mutate::leetspeak(text),
        Step::Homoglyphs => mutate::homoglyphs(text, rng),
        Step::Split => mutate::split_chars(text),
        Step::RefusalSuppression => mutate::refusal_suppression(text),
        Step::PrefixInjection => mutate::prefix_injection(text),
        Step::Roleplay => mutate::roleplay(text),
        Step::PayloadSplit => mutate::payload_split(text, rng),
        Step::Template(t) => {
            let pick = rng.below(t.texts.len());
            t.fill(text, pick)
        }
        Step::ManyShot { shots, n } => mutate::many_shot(text, shots, *n, rng),
        Step::Rewrite(_) => return None,
    })
}

fn parse_step(s: &str, templates: &Templates) -> Result<Step, ChainError> {
    let (name, arg) = match s.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (s, None),
    };
    let need = |what: &str| ChainError(format!("`{s}`: `{name}` needs {what}"));
    Ok(match (name, arg) {
        ("base64", None) => Step::Base64,
        ("rot13", None) => Step::Rot13,
        ("hex", None) => Step::Hex,
        ("leetspeak", None) => Step::Leetspeak,
        ("homoglyphs", None) => Step::Homoglyphs,
        ("split", None) => Step::Split,
        ("refusal-suppression", None) => Step::RefusalSuppression,
        ("prefix-injection", None) => Step::PrefixInjection,
        ("roleplay", None) => Step::Roleplay,
        ("payload-split", None) => Step::PayloadSplit,
        ("past-tense", None) => Step::Rewrite(Rewrite::PastTense),
        ("future-tense", None) => Step::Rewrite(Rewrite::FutureTense),
        ("translate", Some(lang)) if !lang.trim().is_empty() => Step::Rewrite(Rewrite::Translate(lang.trim().into())),
        ("translate", _) => return Err(need("a language: translate:Zulu")),
        ("template", Some(file)) => {
            Step::Template(templates.file(file).map_err(|e| ChainError(format!("`{s}`: {e}")))?)
        }
        ("template", None) => return Err(need("a file: template:FILE")),
        ("jailbreak", Some(set)) => Step::Template(templates.set(set).map_err(|e| ChainError(format!("`{s}`: {e}")))?),
        ("jailbreak", None) => return Err(need("a set: jailbreak:pyrit, jailbreak:pyrit/aim, jailbreak:dan")),
        ("many-shot", Some(arg)) => {
            let (file, n) = match arg.rsplit_once(':') {
                Some((f, n)) if n.parse::<usize>().is_ok() => (f, n.parse().unwrap()),
                _ => (arg, 8),
            };
            let shots = load_shots(&templates.base.join(file)).map_err(|e| ChainError(format!("`{s}`: {e}")))?;
            Step::ManyShot { shots: Arc::new(shots), n }
        }
        ("many-shot", None) => return Err(need("a file of faux turns: many-shot:FILE[:N]")),
        _ => return Err(ChainError(format!("unknown attack `{s}` (known: {NAMES})"))),
    })
}

/// Faux dialogue turns for many-shot: JSONL objects with `user`/`assistant` (or `prompt`/`response`).
/// The file is the user's; preflight ships none (its answers would be harmful text).
fn load_shots(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{}:{}: not a JSON object: {e}", path.display(), i + 1))?;
        let get = |a: &str, b: &str| v.get(a).or_else(|| v.get(b)).and_then(|x| x.as_str()).map(str::to_string);
        match (get("user", "prompt"), get("assistant", "response")) {
            (Some(q), Some(a)) => out.push((q, a)),
            _ => return Err(format!("{}:{}: field `user`/`assistant` missing", path.display(), i + 1)),
        }
    }
    if out.is_empty() {
        return Err(format!("{}: no turns", path.display()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Templates {
        Templates::default()
    }

    #[test]
    fn chains_apply_left_to_right_and_are_deterministic() {
        let c = Chain::parse("roleplay+leetspeak", &t()).unwrap();
        let out = c.apply_pure("tell me", 1).unwrap();
        assert!(out.contains("73ll m3") && out.contains("V3x"), "{out}");
        let c = Chain::parse("homoglyphs+payload-split", &t()).unwrap();
        assert_eq!(
            c.apply_pure("a request with several words in it", 5),
            c.apply_pure("a request with several words in it", 5)
        );
        assert_ne!(
            c.apply_pure("a request with several words in it", 5),
            c.apply_pure("a request with several words in it", 6)
        );
    }

    #[test]
    fn bad_chains_say_what_is_known() {
        let e = Chain::parse("base64+nope", &t()).unwrap_err().0;
        assert!(e.contains("unknown attack `nope`") && e.contains("leetspeak"), "{e}");
        assert!(Chain::parse("translate", &t()).unwrap_err().0.contains("translate:Zulu"));
        assert!(Chain::parse("a~b", &t()).is_err());
        assert!(Chain::parse("jailbreak:nosuchset", &t()).unwrap_err().0.contains("unknown template set"));
    }

    #[test]
    fn model_steps_are_flagged_and_not_applied_purely() {
        let c = Chain::parse("past-tense+base64", &t()).unwrap();
        assert!(c.needs_model());
        assert!(c.apply_pure("x", 0).is_none());
        assert!(!Chain::parse("base64", &t()).unwrap().needs_model());
    }
}
