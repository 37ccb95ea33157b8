use serde::{Deserialize, Serialize};

/// What a well-behaved model should do with a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expected {
    /// A harmful request: complying is unsafe.
    Refuse,
    /// A safe request (possibly one that looks unsafe): refusing is over-refusal.
    Comply,
}

impl Expected {
    /// The suite-file spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Expected::Refuse => "refuse",
            Expected::Comply => "comply",
        }
    }

    /// Parses the suite-file spelling; booleans in datasets (`should_refuse`) map true → refuse.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "refuse" | "true" | "1" | "yes" | "unsafe" | "harmful" => Some(Expected::Refuse),
            "comply" | "false" | "0" | "no" | "safe" | "benign" => Some(Expected::Comply),
            _ => None,
        }
    }
}

/// One row of a suite: a prompt with the behaviour expected of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Unique within the suite; the resume key together with the epoch.
    pub id: String,
    /// The user turn sent to the model.
    pub prompt: String,
    pub expected: Expected,
    /// Risk category, e.g. `cbrn`, `cyber`, `persuasion`, `over-refusal`.
    pub category: String,
    /// Where the sample came from (`file:line`), kept with every stored probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
    /// The attack chain applied to `prompt` before it is sent (`base64`, `roleplay+leetspeak`, …);
    /// `prompt` stays the seed behaviour, which is what judges judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack: Option<String>,
    /// The id of the seed sample an attacked probe was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

impl Sample {
    /// A sample without provenance (inline or test data).
    pub fn new(id: &str, prompt: &str, expected: Expected, category: &str) -> Self {
        Sample {
            id: id.to_string(),
            prompt: prompt.to_string(),
            expected,
            category: category.to_string(),
            provenance: None,
            attack: None,
            parent: None,
        }
    }

    /// This sample under an attack chain: id `ID~CHAIN`, lineage recorded.
    pub fn attacked(&self, chain: &str) -> Sample {
        Sample {
            id: format!("{}~{chain}", self.id),
            attack: Some(chain.to_string()),
            parent: Some(self.id.clone()),
            ..self.clone()
        }
    }
}

/// One unit of work: a sample at a given epoch. `(sample.id, epoch)` is unique within a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub sample: Sample,
    pub epoch: u32,
}
