//! Importers for public safety datasets: which columns hold the prompt, the id, the expected
//! behaviour, and how each set's own labels map onto preflight's categories.
//!
//! preflight's categories: `cbrn`, `cyber`, `illegal` (violent and illegal acts), `harassment`
//! (harassment and hate), `misinformation` (incl. election manipulation), `self-harm`,
//! `persuasion`, `over-refusal`, and `other` for labels that fit none (copyright, sexual content,
//! privacy, …). A `category` set on the dataset in the suite overrides the mapping.

use preflight_core::Expected;

use crate::dataset::Columns;

/// A dataset's file format: generic (`csv`, `jsonl`, `lines`) or a public set's own layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
    /// One prompt per line; blank lines skipped.
    Lines,
    /// HarmBench behaviours CSV: `Behavior, FunctionalCategory, SemanticCategory, Tags, ContextString, BehaviorID`.
    HarmBench,
    /// StrongREJECT CSV: `category, source, forbidden_prompt`.
    StrongReject,
    /// AdvBench CSV: `goal, target`.
    AdvBench,
    /// AdvBench in PyRIT's seed-dataset YAML: `seeds: [{value, harm_categories}]`.
    AdvBenchYaml,
    /// Do-Not-Answer JSONL: `{prompt, intents}` (risk area = file).
    DoNotAnswer,
    /// XSTest CSV: `id, prompt, type, label (safe|unsafe), …`.
    XsTest,
    /// JailbreakBench behaviours CSV: `Goal, Target, Behavior, Category, Source`.
    JailbreakBench,
}

impl Format {
    pub const NAMES: &'static [&'static str] = &[
        "csv",
        "jsonl",
        "lines",
        "harmbench",
        "strongreject",
        "advbench",
        "advbench-yaml",
        "donotanswer",
        "xstest",
        "jailbreakbench",
    ];

    pub fn parse(s: &str) -> Option<Format> {
        Some(match s {
            "csv" => Format::Csv,
            "jsonl" | "json" => Format::Jsonl,
            "lines" | "txt" => Format::Lines,
            "harmbench" => Format::HarmBench,
            "strongreject" => Format::StrongReject,
            "advbench" => Format::AdvBench,
            "advbench-yaml" => Format::AdvBenchYaml,
            "donotanswer" => Format::DoNotAnswer,
            "xstest" => Format::XsTest,
            "jailbreakbench" => Format::JailbreakBench,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Lines => "lines",
            Format::HarmBench => "harmbench",
            Format::StrongReject => "strongreject",
            Format::AdvBench => "advbench",
            Format::AdvBenchYaml => "advbench-yaml",
            Format::DoNotAnswer => "donotanswer",
            Format::XsTest => "xstest",
            Format::JailbreakBench => "jailbreakbench",
        }
    }

    pub(crate) fn from_extension(path: &str) -> Option<Format> {
        match std::path::Path::new(path).extension()?.to_str()? {
            "csv" => Some(Format::Csv),
            "jsonl" | "json" => Some(Format::Jsonl),
            "txt" => Some(Format::Lines),
            "yaml" | "yml" | "prompt" => Some(Format::AdvBenchYaml),
            _ => None,
        }
    }

    /// Importers whose category comes from the set's own labels (overridable in the suite).
    pub(crate) fn maps_category(self) -> bool {
        !matches!(self, Format::Csv | Format::Jsonl | Format::Lines)
    }
}

/// What one row says, before the suite's defaults fill the gaps.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub id: Option<String>,
    pub prompt: Option<String>,
    pub expected: Option<Result<Expected, String>>,
    pub category: Option<String>,
}

/// The (prompt, expected) column names of a format, for error messages.
pub(crate) fn field_names(format: Format, cols: &Columns) -> (String, String) {
    let prompt = match format {
        Format::HarmBench => "Behavior",
        Format::StrongReject => "forbidden_prompt",
        Format::AdvBench => "goal",
        Format::AdvBenchYaml => "value",
        Format::JailbreakBench => "Goal",
        Format::DoNotAnswer | Format::XsTest | Format::Lines => "prompt",
        Format::Csv | Format::Jsonl => cols.prompt.as_str(),
    };
    let expected = match format {
        Format::XsTest => "label",
        Format::Csv | Format::Jsonl => cols.expected.as_deref().unwrap_or("expected"),
        _ => "expected",
    };
    (prompt.to_string(), expected.to_string())
}

/// A row's fields, or (field, message) saying what is wrong with it.
pub(crate) type RowResult = Result<Fields, (String, String)>;

/// The expected behaviour when neither row nor suite gives one: the harmful sets are all `refuse`.
pub(crate) fn default_expected(format: Format) -> Option<Expected> {
    match format {
        Format::HarmBench
        | Format::StrongReject
        | Format::AdvBench
        | Format::AdvBenchYaml
        | Format::DoNotAnswer
        | Format::JailbreakBench => Some(Expected::Refuse),
        Format::XsTest => None,
        Format::Csv | Format::Jsonl | Format::Lines => None,
    }
}

/// Columns the header must have.
pub(crate) fn required_columns(format: Format, cols: &Columns, has_expected: bool) -> Vec<String> {
    let fixed: &[&str] = match format {
        Format::HarmBench => &["Behavior", "SemanticCategory"],
        Format::StrongReject => &["category", "forbidden_prompt"],
        Format::AdvBench => &["goal"],
        Format::XsTest => &["prompt", "label"],
        Format::JailbreakBench => &["Goal", "Category"],
        _ => &[],
    };
    if !fixed.is_empty() {
        return fixed.iter().map(|s| s.to_string()).collect();
    }
    let mut out = vec![cols.prompt.clone()];
    if let Some(e) = cols.expected.as_ref().filter(|_| !has_expected) {
        out.push(e.clone());
    }
    out
}

/// A CSV row through its format's importer; `get(column)` reads a cell.
pub(crate) fn from_record<'r>(format: Format, cols: &Columns, get: &dyn Fn(&str) -> Option<&'r str>) -> RowResult {
    let s = |c: &str| get(c).map(str::to_string);
    let mut f = Fields::default();
    match format {
        Format::HarmBench => {
            f.id = s("BehaviorID").filter(|i| !i.is_empty());
            // Contextual behaviours are asked with their context first, as HarmBench does.
            f.prompt = match (get("Behavior"), get("ContextString").filter(|c| !c.trim().is_empty())) {
                (Some(b), Some(ctx)) => Some(format!("{ctx}\n\n---\n\n{b}")),
                (b, _) => b.map(str::to_string),
            };
            f.category = get("SemanticCategory").map(harmbench_category);
        }
        Format::StrongReject => {
            f.prompt = s("forbidden_prompt");
            f.category = get("category").map(strongreject_category);
        }
        Format::AdvBench => {
            f.prompt = s("goal");
        }
        Format::XsTest => {
            f.id = s("id").filter(|i| !i.is_empty()).map(|i| format!("xstest-{i}"));
            f.prompt = s("prompt");
            f.expected = get("label").map(|l| Expected::parse(l).ok_or_else(|| l.to_string()));
            f.category = Some("over-refusal".into());
        }
        Format::JailbreakBench => {
            f.prompt = s("Goal");
            f.category = get("Category").map(jailbreakbench_category);
        }
        _ => {
            f.prompt = s(&cols.prompt);
            f.id = cols.id.as_deref().and_then(s);
            f.expected =
                cols.expected.as_deref().and_then(get).map(|v| Expected::parse(v).ok_or_else(|| v.to_string()));
            f.category = cols.category.as_deref().and_then(get).filter(|c| !c.is_empty()).map(str::to_string);
        }
    }
    Ok(f)
}

/// A JSON object through its format's importer.
pub(crate) fn from_json(format: Format, cols: &Columns, obj: &serde_json::Map<String, serde_json::Value>) -> RowResult {
    use serde_json::Value;
    let prompt_key = if format == Format::DoNotAnswer { "prompt" } else { cols.prompt.as_str() };
    let prompt = match obj.get(prompt_key) {
        None => None,
        Some(Value::String(p)) => Some(p.clone()),
        Some(_) => return Err((prompt_key.to_string(), "must be a string".into())),
    };
    let mut f = Fields { prompt, ..Default::default() };
    if format == Format::DoNotAnswer {
        return Ok(f);
    }
    let get = |name: &Option<String>| name.as_deref().and_then(|k| obj.get(k));
    f.id = get(&cols.id).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    f.expected = get(&cols.expected).map(|v| match v {
        Value::Bool(true) => Ok(Expected::Refuse),
        Value::Bool(false) => Ok(Expected::Comply),
        Value::String(s) => Expected::parse(s).ok_or_else(|| s.clone()),
        other => Err(other.to_string()),
    });
    f.category = get(&cols.category).and_then(|v| v.as_str()).map(str::to_string);
    Ok(f)
}

/// PyRIT's seed-dataset YAML (`seeds:` → `value`, `harm_categories`). Each row comes with the line
/// its `value` is on; a seed without a string `value` is an error naming that line.
pub(crate) fn advbench_yaml(text: &str) -> Result<Vec<(u64, RowResult)>, (u64, String)> {
    use yaml_rust2::{Yaml, YamlLoader};
    let docs = YamlLoader::load_from_str(text).map_err(|e| (e.marker().line() as u64, format!("not YAML: {e}")))?;
    let doc = docs.first().ok_or((1, "empty YAML document".to_string()))?;
    let seeds = match &doc["seeds"] {
        Yaml::Array(a) => a,
        _ => match &doc["prompts"] {
            Yaml::Array(a) => a,
            _ => return Err((1, "no `seeds:` (or `prompts:`) list".into())),
        },
    };
    // yaml-rust2 keeps no positions in its documents; the n-th `value:` key at list-item
    // indentation is the n-th seed's line (PyRIT writes one `- value:` per seed).
    let value_lines: Vec<u64> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("- value:"))
        .map(|(i, _)| i as u64 + 1)
        .collect();
    Ok(seeds
        .iter()
        .enumerate()
        .map(|(i, seed)| {
            let line = value_lines.get(i).copied().unwrap_or(1);
            let fields = match seed["value"].as_str() {
                Some(v) => {
                    let labels: Vec<&str> = seed["harm_categories"]
                        .as_vec()
                        .map(|v| v.iter().filter_map(Yaml::as_str).collect())
                        .unwrap_or_default();
                    Ok(Fields {
                        prompt: Some(v.to_string()),
                        category: Some(advbench_category(&labels).to_string()),
                        ..Default::default()
                    })
                }
                None => Err(("value".to_string(), "missing or not a string".to_string())),
            };
            (line, fields)
        })
        .collect())
}

fn harmbench_category(label: &str) -> String {
    match label.trim() {
        "chemical_biological" => "cbrn",
        "cybercrime_intrusion" => "cyber",
        "illegal" | "harmful" => "illegal",
        "misinformation_disinformation" => "misinformation",
        "harassment_bullying" => "harassment",
        _ => "other",
    }
    .into()
}

fn strongreject_category(label: &str) -> String {
    match label.trim() {
        "Disinformation and deception" => "misinformation",
        "Hate, harassment and discrimination" => "harassment",
        "Illegal goods and services" | "Non-violent crimes" | "Violence" => "illegal",
        _ => "other",
    }
    .into()
}

fn jailbreakbench_category(label: &str) -> String {
    match label.trim() {
        "Harassment/Discrimination" => "harassment",
        "Malware/Hacking" => "cyber",
        "Physical harm" | "Economic harm" | "Fraud/Deception" => "illegal",
        "Disinformation" => "misinformation",
        _ => "other",
    }
    .into()
}

/// AdvBench's labels are a harm taxonomy, not topics; the first rule that matches any label wins.
fn advbench_category(labels: &[&str]) -> &'static str {
    const RULES: &[(&str, &[&str])] = &[
        ("self-harm", &["Self-harm"]),
        ("misinformation", &["Electoral interference", "Political manipulation", "Information degradation"]),
        (
            "harassment",
            &["Harassment/abuse/intimidation", "Discrimination", "Dehumanisation/objectification", "Stereotyping"],
        ),
        (
            "cyber",
            &["Confidentiality loss", "Critical infrastructure damage", "Business operations/infrastructure damage"],
        ),
    ];
    RULES.iter().find(|(_, keys)| labels.iter().any(|l| keys.contains(&l.trim()))).map(|(c, _)| *c).unwrap_or("illegal")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_maps() {
        assert_eq!(harmbench_category("chemical_biological"), "cbrn");
        assert_eq!(harmbench_category("copyright"), "other");
        assert_eq!(strongreject_category("Violence"), "illegal");
        assert_eq!(jailbreakbench_category("Malware/Hacking"), "cyber");
        assert_eq!(advbench_category(&["Physical", "Self-harm"]), "self-harm");
        assert_eq!(advbench_category(&["Financial and Business"]), "illegal");
    }
}
