//! What a model's tokens cost: a price per million prompt and completion tokens, looked up by the
//! model's id (`PROVIDER/NAME`). The table itself (the built-in one, dated, and a user's file) is
//! read by the session; this is only the lookup, so the runner's spend meter can price each call.

use serde::{Deserialize, Serialize};

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

impl Price {
    /// Dollars for these tokens.
    pub fn cost(&self, prompt_tokens: u64, completion_tokens: u64) -> f64 {
        (prompt_tokens as f64 * self.input + completion_tokens as f64 * self.output) / 1e6
    }
}

/// A price table: patterns (`openai/gpt-4o-mini`, or a prefix ending in `*`) with their prices,
/// or one price for every model.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Prices {
    /// Where the prices come from, shown with every dollar figure (e.g. `built-in table of
    /// 2026-06-21`, `prices.toml`, `--price`).
    pub source: String,
    entries: Vec<(String, Price)>,
    flat: Option<Price>,
}

impl Prices {
    /// One price for every model.
    pub fn flat(price: Price, source: &str) -> Prices {
        Prices { source: source.to_string(), entries: Vec::new(), flat: Some(price) }
    }

    /// A table of patterns; when two match, the longer (more specific) wins.
    pub fn table(source: &str, entries: Vec<(String, Price)>) -> Prices {
        Prices { source: source.to_string(), entries, flat: None }
    }

    /// This table's entries first, then `fallback`'s for models this one does not price.
    pub fn over(mut self, fallback: &Prices) -> Prices {
        let known: Vec<String> = self.entries.iter().map(|(p, _)| p.clone()).collect();
        self.entries.extend(fallback.entries.iter().filter(|(p, _)| !known.contains(p)).cloned());
        self.source = format!("{} over {}", self.source, fallback.source);
        self
    }

    pub fn entries(&self) -> &[(String, Price)] {
        &self.entries
    }

    /// The price of `model`, if the table has one.
    pub fn lookup(&self, model: &str) -> Option<Price> {
        if let Some(p) = self.flat {
            return Some(p);
        }
        // An exact entry beats every pattern; among patterns the longest prefix wins, so
        // `openai/gpt-4o-mini*` prices gpt-4o-mini even though `openai/gpt-4o*` matches it too.
        let mut best: Option<(usize, Price)> = None;
        for (pattern, price) in &self.entries {
            let len = match pattern.strip_suffix('*') {
                Some(prefix) if model.starts_with(prefix) => prefix.len(),
                None if pattern == model => usize::MAX,
                _ => continue,
            };
            if best.is_none_or(|(l, _)| len > l) {
                best = Some((len, *price));
            }
        }
        best.map(|(_, p)| p)
    }

    /// Dollars for `model`'s tokens, `None` when the table has no price for it.
    pub fn cost(&self, model: &str, prompt_tokens: u64, completion_tokens: u64) -> Option<f64> {
        self.lookup(model).map(|p| p.cost(prompt_tokens, completion_tokens))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(input: f64, output: f64) -> Price {
        Price { input, output }
    }

    #[test]
    fn the_most_specific_entry_prices_a_model() {
        let t = Prices::table(
            "t",
            vec![
                ("openai/gpt-4o*".into(), p(2.5, 10.0)),
                ("openai/gpt-4o-mini*".into(), p(0.15, 0.6)),
                ("openai/gpt-4o-mini-special".into(), p(9.0, 9.0)),
            ],
        );
        assert_eq!(t.lookup("openai/gpt-4o-2024-08-06"), Some(p(2.5, 10.0)));
        assert_eq!(t.lookup("openai/gpt-4o-mini-2024-07-18"), Some(p(0.15, 0.6)));
        assert_eq!(t.lookup("openai/gpt-4o-mini-special"), Some(p(9.0, 9.0)));
        assert_eq!(t.lookup("anthropic/claude"), None);
        // 1M prompt tokens and 0.5M completion tokens of gpt-4o-mini.
        assert!((t.cost("openai/gpt-4o-mini", 1_000_000, 500_000).unwrap() - 0.45).abs() < 1e-12);
    }

    #[test]
    fn a_flat_price_prices_everything_and_a_file_goes_over_the_built_in_table() {
        assert_eq!(Prices::flat(p(1.0, 2.0), "--price").lookup("http/x"), Some(p(1.0, 2.0)));
        let builtin = Prices::table("built-in", vec![("a/*".into(), p(1.0, 1.0)), ("b/x".into(), p(2.0, 2.0))]);
        let mine = Prices::table("mine.toml", vec![("b/x".into(), p(3.0, 3.0))]).over(&builtin);
        assert_eq!(mine.lookup("b/x"), Some(p(3.0, 3.0)));
        assert_eq!(mine.lookup("a/y"), Some(p(1.0, 1.0)));
        assert_eq!(mine.source, "mine.toml over built-in");
    }
}
