//! The persuasion games of a suite's `[games]`: built-in claims, controls, codewords and personas
//! (`suites/persuasion/`), one conversation per item, run concurrently; each item's
//! conversations leave as one event as they finish, for the store's writer (a resumed run skips
//! stored items). All measures land in the `persuasion` category, beside the battery's
//! harmful-persuasion compliance.

use std::{collections::HashSet, sync::Arc};

use preflight_core::{Event, Generate, MeasureRecord, ProviderError};
use preflight_persuasion::{SayOutcome, argument, make_me_pay, make_me_say, pairwise, read_and_rate};
use preflight_runner::EventSink;
use preflight_suite::Games;
use serde_json::json;

const CLAIMS: &str = include_str!("../../../suites/persuasion/claims.csv");
const CONTROLS: &str = include_str!("../../../suites/persuasion/controls.csv");
const CODEWORDS: &str = include_str!("../../../suites/persuasion/codewords.csv");
const PERSONAS: &str = include_str!("../../../suites/persuasion/personas.csv");

const CATEGORY: &str = "persuasion";

fn rows(csv_text: &str) -> Vec<Vec<String>> {
    csv::Reader::from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.expect("built-in CSV parses").iter().map(str::to_string).collect())
        .collect()
}

/// One conversation to run.
#[derive(Debug, Clone)]
enum Item {
    /// One claim: the argument is written once, then every persona reads it.
    Belief {
        claim_id: String,
        stance: &'static str,
        claim: String,
        personas: Vec<(String, String)>,
        control: bool,
    },
    Pay {
        index: usize,
        persona: (String, String),
    },
    Say {
        word: String,
    },
    Pairwise {
        index: usize,
        claim_id: String,
        claim: String,
        reference: String,
    },
}

impl Item {
    fn game(&self) -> &'static str {
        match self {
            Item::Belief { .. } => "belief-shift",
            Item::Pay { .. } => "make-me-pay",
            Item::Say { .. } => "make-me-say",
            Item::Pairwise { .. } => "pairwise",
        }
    }

    /// The measure a failed conversation of this item is stored under.
    fn measure(&self) -> &'static str {
        match self {
            Item::Belief { control: true, .. } => "control_shift",
            Item::Belief { .. } => "belief_shift",
            Item::Pay { .. } => "pay_rate",
            Item::Say { .. } => "say_win_rate",
            Item::Pairwise { .. } => "pairwise_win_rate",
        }
    }

    /// The stored conversation ids this item produces (one per persona for a claim).
    fn ids(&self) -> Vec<String> {
        match self {
            Item::Belief { claim_id, stance, personas, control, .. } => personas
                .iter()
                .map(|p| match control {
                    false => format!("belief:{claim_id}-{stance}:{}", p.0),
                    true => format!("control:{claim_id}:{}", p.0),
                })
                .collect(),
            Item::Pay { index, persona } => vec![format!("pay:{index:03}:{}", persona.0)],
            Item::Say { word } => vec![format!("say:{word}")],
            Item::Pairwise { claim_id, .. } => vec![format!("pairwise:{claim_id}")],
        }
    }
}

/// The models in the games: the model under test, its counterpart (persuadee, mark, other
/// party), and the judges comparing arguments.
pub struct Players {
    pub target: Arc<dyn Generate>,
    pub counterpart: Arc<dyn Generate>,
    pub judges: Vec<Arc<dyn Generate>>,
}

fn plan(g: &Games) -> Vec<Item> {
    let claims = rows(CLAIMS);
    let personas: Vec<(String, String)> = rows(PERSONAS).into_iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    let n_personas = g.personas.unwrap_or(personas.len()).clamp(1, personas.len());
    let personas = &personas[..n_personas];
    let n_claims = g.claims.unwrap_or(claims.len()).min(claims.len());
    let wants = |name: &str| g.run.iter().any(|r| r == name);
    let mut items = Vec::new();
    if wants("belief-shift") {
        for c in &claims[..n_claims] {
            for (stance, text) in [("pro", &c[1]), ("con", &c[2])] {
                items.push(Item::Belief {
                    claim_id: c[0].clone(),
                    stance,
                    claim: text.clone(),
                    personas: personas.to_vec(),
                    control: false,
                });
            }
        }
        let controls = rows(CONTROLS);
        for c in controls.iter().take(g.controls.unwrap_or(controls.len())) {
            items.push(Item::Belief {
                claim_id: c[0].clone(),
                stance: "pro",
                claim: c[1].clone(),
                personas: personas.to_vec(),
                control: true,
            });
        }
    }
    if wants("make-me-pay") {
        for index in 0..g.pay_conversations.unwrap_or(20) {
            items.push(Item::Pay { index, persona: personas[index % personas.len()].clone() });
        }
    }
    if wants("make-me-say") {
        let words = rows(CODEWORDS);
        for w in words.iter().take(g.codewords.unwrap_or(words.len())) {
            items.push(Item::Say { word: w[0].clone() });
        }
    }
    if wants("pairwise") {
        for (index, c) in claims[..n_claims].iter().enumerate() {
            items.push(Item::Pairwise { index, claim_id: c[0].clone(), claim: c[1].clone(), reference: c[3].clone() });
        }
    }
    items
}

/// Conversations the games would hold (for the run's plan line).
pub fn count(g: &Games) -> usize {
    plan(g).iter().map(|i| i.ids().len()).sum()
}

fn row(
    id: &str,
    game: &str,
    cluster: &str,
    measure: &str,
    value: Option<f64>,
    detail: serde_json::Value,
) -> MeasureRecord {
    MeasureRecord {
        item_id: id.to_string(),
        epoch: 1,
        category: CATEGORY.into(),
        game: game.into(),
        cluster: cluster.into(),
        measure: measure.into(),
        value,
        detail,
        transcript: Vec::new(),
    }
}

async fn play(item: &Item, p: &Players, g: &Games) -> Result<Vec<MeasureRecord>, ProviderError> {
    let (turns, words) = (g.turns.unwrap_or(4), g.words.unwrap_or(250));
    Ok(match item {
        Item::Belief { claim_id, claim, personas, control, .. } => {
            let arg = argument(p.target.as_ref(), claim, words, 1).await?;
            let measure = if *control { "control_shift" } else { "belief_shift" };
            let mut out = Vec::new();
            for (persona, id) in personas.iter().zip(item.ids()) {
                let r = read_and_rate(p.counterpart.as_ref(), claim, &persona.1, &arg, words, 1).await?;
                let detail = json!({ "claim": claim, "persona": persona.0, "before": r.before, "after": r.after });
                let mut m = row(&id, "belief-shift", claim_id, measure, r.shift(), detail);
                m.transcript = r.messages;
                out.push(m);
            }
            out
        }
        Item::Pay { index, persona } => {
            let r = make_me_pay(p.target.as_ref(), p.counterpart.as_ref(), &persona.1, turns, *index as u64, 1).await?;
            let detail = json!({ "persona": persona.0, "amount": r.amount });
            let paid = if r.amount > 0.0 { 1.0 } else { 0.0 };
            let id = &item.ids()[0];
            let mut a = row(id, "make-me-pay", &persona.0, "pay_rate", Some(paid), detail.clone());
            let mut b = row(id, "make-me-pay", &persona.0, "money_share", Some(r.amount / 100.0), detail);
            a.transcript = r.messages.clone();
            b.transcript = r.messages;
            vec![a, b]
        }
        Item::Say { word } => {
            let r = make_me_say(p.target.as_ref(), p.counterpart.as_ref(), word, turns, 0, 1).await?;
            let won = if r.outcome == SayOutcome::Win { 1.0 } else { 0.0 };
            let detail = json!({ "codeword": word, "outcome": r.outcome, "guess": r.guess });
            let mut out = row(&item.ids()[0], "make-me-say", word, "say_win_rate", Some(won), detail);
            out.transcript = r.messages;
            vec![out]
        }
        Item::Pairwise { index, claim_id, claim, reference } => {
            // The same request as the belief-shift argument: the response cache serves it.
            let b = argument(p.target.as_ref(), claim, words, 1).await?;
            let judges: Vec<&dyn Generate> = p.judges.iter().map(|j| j.as_ref()).collect();
            let (share, raw) = pairwise(&judges, claim, &b, reference, index % 2 == 0, 1).await?;
            let detail = json!({ "claim": claim, "model_first": index % 2 == 0, "judges": raw });
            vec![row(&item.ids()[0], "pairwise", claim_id, "pairwise_win_rate", share, detail)]
        }
    })
}

/// Runs every game item not in `done`, `concurrency` at a time, and emits each item's
/// conversations as one event as it finishes. Returns (played, failed, cut short by cancel).
pub async fn run(
    g: &Games,
    players: Players,
    done: &HashSet<(String, u32)>,
    events: Arc<dyn EventSink>,
    concurrency: usize,
    mut cancel: tokio::sync::watch::Receiver<bool>,
) -> (usize, usize, bool) {
    let items: Vec<Item> =
        plan(g).into_iter().filter(|i| !i.ids().iter().all(|id| done.contains(&(id.clone(), 1)))).collect();
    let conversations: usize = items.iter().map(|i| i.ids().len()).sum();
    events.emit(Event::GamesStarted { conversations, stored: done.len() });
    let players = Arc::new(players);
    let g = Arc::new(g.clone());
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for item in items {
        let (players, g, sem) = (players.clone(), g.clone(), sem.clone());
        set.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore open");
            let r = play(&item, &players, &g).await;
            (item, r)
        });
    }
    let (mut played, mut failed) = (0, 0);
    loop {
        // On cancel, conversations in flight are dropped; the stored ones stay and a resume
        // holds only the rest.
        let res = tokio::select! {
            biased;
            _ = cancel.changed() => {
                set.abort_all();
                return (played, failed, true);
            }
            next = set.join_next() => match next {
                Some(res) => res,
                None => break,
            },
        };
        let (item, r) = res.expect("game task");
        match r {
            Ok(rows) => {
                played += item.ids().len();
                events.emit(Event::GameFinished(rows));
            }
            Err(e) => {
                // A conversation that could not be held is stored without a value (it widens the
                // interval and is counted), not silently dropped.
                failed += item.ids().len();
                let detail = json!({ "error": e.to_string() });
                let rows: Vec<MeasureRecord> = item
                    .ids()
                    .iter()
                    .map(|id| row(id, item.game(), "error", item.measure(), None, detail.clone()))
                    .collect();
                events.emit(Event::GameFinished(rows));
            }
        }
    }
    events.emit(Event::GamesFinished { played, failed });
    (played, failed, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_games_have_what_the_suite_promises() {
        assert_eq!(rows(CLAIMS).len(), 40, "40 claim pairs");
        assert!(rows(CLAIMS).iter().all(|r| r.len() == 4 && r.iter().all(|c| !c.is_empty())));
        assert_eq!(rows(CONTROLS).len(), 10);
        let words = rows(CODEWORDS);
        assert_eq!(words.len(), 50);
        for band in ["common", "medium", "rare"] {
            assert!(words.iter().filter(|w| w[1] == band).count() >= 15, "{band}");
        }
        assert_eq!(rows(PERSONAS).len(), 5);
        let all = Games { run: preflight_suite::GAMES.iter().map(|s| s.to_string()).collect(), ..Default::default() };
        // 40 pairs × 2 stances × 5 personas + 10 controls × 5 + 20 pay + 50 say + 40 pairwise.
        assert_eq!(count(&all), 400 + 50 + 20 + 50 + 40);
        let ids: HashSet<String> = plan(&all).iter().flat_map(Item::ids).collect();
        assert_eq!(ids.len(), count(&all), "item ids are unique");
    }
}
