//! The spend meter: every provider request a run makes, per model, with its tokens and dollars.

use std::{
    collections::BTreeMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
};

use preflight_core::{ModelSpend, Prices, Usage};

/// What a run has spent on providers: every request sent (retries included, cache hits not) and
/// the tokens the answers report, per model and priced at the run's table. Shared by every
/// [`crate::Generator`] of a run, so a budget covers the target, the judges and the attacker
/// together.
#[derive(Debug, Default)]
pub struct Spend {
    requests: AtomicU64,
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
    prices: Prices,
    by_model: Mutex<BTreeMap<String, ModelSpend>>,
}

impl Spend {
    /// A meter pricing each model at `prices`.
    pub fn new(prices: Prices) -> Spend {
        Spend { prices, ..Spend::default() }
    }

    /// Counts what an earlier attempt of the run spent (resume), so budgets cover the whole run.
    pub fn seed(&self, earlier: &[ModelSpend]) {
        for m in earlier {
            self.add(m);
        }
    }

    fn add(&self, m: &ModelSpend) {
        self.requests.fetch_add(m.requests, Relaxed);
        self.prompt_tokens.fetch_add(m.prompt_tokens, Relaxed);
        self.completion_tokens.fetch_add(m.completion_tokens, Relaxed);
        let mut by_model = self.by_model.lock().unwrap();
        by_model
            .entry(m.model.clone())
            .or_insert_with(|| ModelSpend { model: m.model.clone(), ..Default::default() })
            .add(m);
    }

    /// Counts one request to `model` (its usage when it was answered) and returns what it cost.
    pub fn record(&self, model: &str, usage: Option<&Usage>) -> ModelSpend {
        self.record_at(model, usage, 1.0)
    }

    /// As [`Spend::record`], at `scale` times the table's price (a batch API's discount).
    pub fn record_at(&self, model: &str, usage: Option<&Usage>, scale: f64) -> ModelSpend {
        let (p, c) = usage.map_or((0, 0), |u| (u.prompt_tokens as u64, u.completion_tokens as u64));
        let usd = self.prices.cost(model, p, c).map(|d| d * scale);
        let one = ModelSpend {
            model: model.to_string(),
            requests: 1,
            prompt_tokens: p,
            completion_tokens: c,
            usd: usd.unwrap_or(0.0),
            unpriced: u64::from(usd.is_none()),
        };
        self.add(&one);
        one
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Relaxed)
    }
    pub fn prompt_tokens(&self) -> u64 {
        self.prompt_tokens.load(Relaxed)
    }
    pub fn completion_tokens(&self) -> u64 {
        self.completion_tokens.load(Relaxed)
    }
    /// Prompt plus completion tokens.
    pub fn tokens(&self) -> u64 {
        self.prompt_tokens() + self.completion_tokens()
    }

    /// Dollars spent on the models the table prices.
    pub fn usd(&self) -> f64 {
        self.by_model.lock().unwrap().values().map(|m| m.usd).sum()
    }

    /// The table the meter prices at.
    pub fn prices(&self) -> &Prices {
        &self.prices
    }

    /// Spend per model, by model id.
    pub fn by_model(&self) -> Vec<ModelSpend> {
        self.by_model.lock().unwrap().values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use preflight_core::Price;

    use super::*;

    #[test]
    fn each_model_is_priced_at_its_own_rate() {
        let prices = Prices::table(
            "t",
            vec![
                ("a/x".into(), Price { input: 1.0, output: 2.0 }),
                ("b/*".into(), Price { input: 10.0, output: 20.0 }),
            ],
        );
        let spend = Spend::new(prices);
        let u = Usage { prompt_tokens: 1000, completion_tokens: 500 };
        spend.record("a/x", Some(&u));
        spend.record("b/y", Some(&u));
        spend.record("b/y", None);
        spend.record("c/z", Some(&u));
        let rows = spend.by_model();
        assert_eq!(rows.iter().map(|m| m.model.as_str()).collect::<Vec<_>>(), ["a/x", "b/y", "c/z"]);
        assert!((rows[0].usd - 0.002).abs() < 1e-12);
        assert!((rows[1].usd - 0.02).abs() < 1e-12 && rows[1].requests == 2);
        assert_eq!((rows[2].usd, rows[2].unpriced), (0.0, 1));
        assert!((spend.usd() - 0.022).abs() < 1e-12);
        assert_eq!((spend.requests(), spend.tokens()), (4, 4500));
        let again = Spend::new(Prices::default());
        again.seed(&rows);
        assert_eq!((again.requests(), again.tokens()), (4, 4500));
        assert!((again.usd() - 0.022).abs() < 1e-12);
    }
}
