use preflight_core::{Constraint, GenSettings, Generate, GenerateRequest, Message, Outcome, Sample, Score, sha256_hex};

/// What every model judge shares: the handle it asks, the name its scores carry, its prompt
/// template and the form its verdict must take (their hash is stored with every score), asked at
/// temperature 0 with a fixed seed.
pub(crate) struct ModelJudge<G> {
    pub judge: G,
    pub name: String,
    template: &'static str,
    settings: GenSettings,
    constraint: Constraint,
    prompt_hash: String,
}

/// A judge's identity beyond its model: the prompt and the verdict's form (a local judge decodes
/// under the form, so a calibration measured without it would not be of the same judge).
pub fn judge_hash(template: &str, constraint: &Constraint) -> String {
    sha256_hex(format!("{template}\n--- answer form ---\n{}", constraint.to_grammar()).as_bytes())
}

impl<G: Generate> ModelJudge<G> {
    pub fn new(
        judge: G,
        name: impl Into<String>,
        template: &'static str,
        max_tokens: u32,
        constraint: Constraint,
    ) -> Self {
        ModelJudge {
            judge,
            name: name.into(),
            template,
            settings: GenSettings {
                system_prompt: None,
                temperature: Some(0.0),
                max_tokens: Some(max_tokens),
                seed: Some(0),
            },
            prompt_hash: judge_hash(template, &constraint),
            constraint,
        }
    }

    /// An unassessable score carrying the judge's identity; callers fill in the verdict.
    pub fn blank(&self, explanation: String) -> Score {
        Score {
            scorer: self.name.clone(),
            outcome: Outcome::Unassessable,
            label: None,
            value: None,
            explanation,
            judge_model: Some(self.judge.model_id().to_string()),
            prompt_hash: Some(self.prompt_hash.clone()),
        }
    }

    /// Asks the judge about the transcript's last message. `Err` is the unassessable score to
    /// return as is (empty reply, judge error).
    pub async fn ask(&self, sample: &Sample, transcript: &[Message], epoch: u32) -> Result<String, Score> {
        let reply = transcript.last().map(|m| m.content.as_str()).unwrap_or("");
        if reply.trim().is_empty() {
            return Err(self.blank("empty reply".into()));
        }
        let prompt = self.template.replace("{prompt}", &sample.prompt).replace("{response}", reply);
        let req = GenerateRequest::single_turn(&prompt, &self.settings).constrained(self.constraint.clone());
        match self.judge.generate(&req, epoch).await {
            Ok(a) => Ok(a.text),
            Err(e) => {
                let mut score = self.blank(format!("judge error: {e}"));
                score.label = Some(preflight_core::JUDGE_ERROR.into());
                Err(score)
            }
        }
    }
}
