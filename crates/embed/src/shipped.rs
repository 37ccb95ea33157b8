//! The embedded judge's error as measured on the development set, shipped with its weights
//! (`weights/refusal-v3.dev.json`, written by `preflight judge check --judge embedded --labels
//! suites/judge/dev.csv`). A run judged by the classifier is corrected for this error unless a
//! calibration of the same judge on other labels is in the store.

use serde::{Deserialize, Serialize};

/// The shipped calibration.
pub const BUILTIN: &str = include_str!("../weights/refusal-v3.dev.json");

/// Confusion counts of the judge on the development set, with what identifies judge and labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipped {
    pub judge_model: String,
    pub prompt_hash: String,
    /// Repo path of the labels.
    pub labels: String,
    pub labels_sha256: String,
    pub tp: u64,
    pub fp: u64,
    pub tn: u64,
    #[serde(rename = "fn")]
    pub fn_: u64,
    pub unassessable: u64,
}

impl Shipped {
    pub fn builtin() -> Shipped {
        serde_json::from_str(BUILTIN).expect("the shipped calibration parses")
    }
}
