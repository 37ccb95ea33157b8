//! Price tables: the built-in one (`prices.toml`, dated) and a user's file over it. The spend
//! meter prices every request at its own model's rate, so a dollar budget and the spend per
//! model in reports cover the target, the judges and the attacker each at its price.

use std::{collections::BTreeMap, path::Path};

use anyhow::{Result, bail};
use preflight_core::{Price, Prices};
use serde::Deserialize;
use toml::Spanned;

/// The built-in table's text (documented in docs/prices.md).
pub const BUILTIN: &str = include_str!("prices.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    date: Option<String>,
    #[serde(default)]
    models: BTreeMap<Spanned<String>, Spanned<Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    input: f64,
    output: f64,
}

fn line_of(src: &str, offset: usize) -> usize {
    src.as_bytes()[..offset.min(src.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Parses a price table; `name` names it in errors (`FILE:LINE: field: problem`) and in reports.
pub fn parse(src: &str, name: &str) -> Result<Prices> {
    let file: File = toml::from_str(src).map_err(|e| {
        let line = e.span().map(|s| line_of(src, s.start)).unwrap_or(1);
        anyhow::anyhow!("{name}:{line}: {}", e.message().trim())
    })?;
    let mut entries = Vec::new();
    for (key, entry) in file.models {
        let line = line_of(src, key.span().start);
        let pattern = key.into_inner();
        if pattern.is_empty() || (!pattern.contains('/') && pattern != "*") {
            bail!("{name}:{line}: models.\"{pattern}\": expected a model id PROVIDER/NAME (or a prefix ending in `*`)");
        }
        if pattern[..pattern.len().saturating_sub(1)].contains('*') {
            bail!("{name}:{line}: models.\"{pattern}\": `*` may only end a pattern");
        }
        let e = entry.into_inner();
        for (field, v) in [("input", e.input), ("output", e.output)] {
            if !v.is_finite() || v < 0.0 {
                bail!("{name}:{line}: models.\"{pattern}\".{field}: expected dollars per million tokens ≥ 0, got {v}");
            }
        }
        entries.push((pattern, Price { input: e.input, output: e.output }));
    }
    let source = match file.date {
        Some(d) => format!("{name} of {d}"),
        None => name.to_string(),
    };
    Ok(Prices::table(&source, entries))
}

/// The built-in table.
pub fn builtin() -> Prices {
    parse(BUILTIN, "the built-in price table").expect("the built-in price table parses")
}

/// The table a run prices at: one flat price (`--price`), else a file over the built-in table,
/// else the built-in table.
pub fn for_run(flat: Option<[f64; 2]>, file: Option<&Path>) -> Result<Prices> {
    if let Some([input, output]) = flat {
        return Ok(Prices::flat(Price { input, output }, "--price"));
    }
    match file {
        Some(path) => {
            let src = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("--prices {}: cannot read: {e}", path.display()))?;
            Ok(parse(&src, &path.display().to_string())?.over(&builtin()))
        }
        None => Ok(builtin()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_table_is_dated_and_prices_the_common_models() {
        let t = builtin();
        assert!(t.source.contains("of 20"), "{}", t.source);
        let p = |m: &str| t.lookup(m).map(|p| (p.input, p.output));
        assert_eq!(p("openai/gpt-4o-mini-2024-07-18"), Some((0.15, 0.60)));
        assert_eq!(p("openai/gpt-4o"), Some((2.50, 10.00)));
        assert_eq!(p("anthropic/claude-sonnet-4-5-20250929"), Some((3.00, 15.00)));
        assert_eq!(p("google/gemini-2.5-flash-lite"), Some((0.10, 0.40)));
        assert_eq!(p("local/smollm2-135m-instruct"), Some((0.0, 0.0)));
        assert_eq!(p("azure/my-deployment"), None);
    }

    #[test]
    fn a_bad_price_file_names_its_line_and_field() {
        let e = parse("date = \"x\"\n[models]\n\"openai/a\" = { input = 1, output = -2 }\n", "p.toml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.toml:3: models.\"openai/a\".output: expected dollars per million tokens ≥ 0, got -2"
        );
        let e = parse("[models]\n\"gpt-4o\" = { input = 1, output = 2 }\n", "p.toml").unwrap_err();
        assert!(e.to_string().starts_with("p.toml:2: models.\"gpt-4o\": expected a model id"), "{e}");
        let e = parse("[models]\n\"a/b\" = { input = 1 }\n", "p.toml").unwrap_err();
        assert!(e.to_string().starts_with("p.toml:2:") && e.to_string().contains("output"), "{e}");
        let e = parse("[modles]\n", "p.toml").unwrap_err();
        assert!(e.to_string().starts_with("p.toml:1:"), "{e}");
    }

    #[test]
    fn a_file_goes_over_the_built_in_table_and_a_flat_price_over_everything() {
        let dir = std::env::temp_dir().join(format!("preflight-prices-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("prices.toml");
        std::fs::write(&f, "[models]\n\"azure/prod\" = { input = 2.5, output = 10 }\n").unwrap();
        let t = for_run(None, Some(&f)).unwrap();
        assert_eq!(t.lookup("azure/prod").map(|p| p.output), Some(10.0));
        assert_eq!(t.lookup("openai/gpt-4o-mini").map(|p| p.input), Some(0.15));
        let flat = for_run(Some([1.0, 2.0]), Some(&f)).unwrap();
        assert_eq!(flat.lookup("azure/prod").map(|p| p.output), Some(2.0));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
