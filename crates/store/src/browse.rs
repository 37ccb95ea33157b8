//! What the viewer reads: a run's probes a page at a time, filtered, and the counts its filters
//! offer (searches: `search.rs`). Every query is bounded by its page: nothing here reads a whole
//! run into memory, and a page is found through an index (schema 8), never by sorting the run.

use rusqlite::{ToSql, params_from_iter};
use serde::Serialize;

use crate::{Store, StoreError};

/// Which probes a page shows. `None` / `false`: no condition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbeFilter {
    pub category: Option<String>,
    pub outcome: Option<String>,
    /// An attack chain; [`NO_ATTACK`] for the probes sent as written.
    pub attack: Option<String>,
    /// Why a probe is unassessable.
    pub reason: Option<String>,
    /// Only probes a judge panel disagreed on.
    pub disagree: bool,
    /// Only what `preflight review` would ask about: unassessable or disagreed on, and not yet
    /// labelled by a human.
    pub review: bool,
    /// Full-text search over prompts and transcripts: words, all of which must occur (a word
    /// ending in `*` matches as a prefix). Answered by a [`crate::SearchIndex`].
    pub search: Option<String>,
}

/// The attack filter's value for probes no attack changed.
pub const NO_ATTACK: &str = "(none)";

/// Characters of a prompt and an answer a page line shows.
const LINE_CHARS: i64 = 240;

/// One probe as a page lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeLine {
    /// The page position: the next page starts after the last line's `rowid`.
    pub rowid: i64,
    pub sample_id: String,
    pub epoch: u32,
    pub category: String,
    pub expected: String,
    pub outcome: String,
    pub attack: Option<String>,
    pub unassessable_reason: Option<String>,
    /// The prompt's and the last answer's first characters.
    pub prompt: String,
    pub answer: String,
    /// A human labelled it.
    pub labelled: bool,
}

/// One measured conversation (a persuasion game's, an agent attempt, a knowledge question) as
/// a page lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasureLine {
    pub rowid: i64,
    pub item_id: String,
    pub epoch: u32,
    pub category: String,
    pub game: String,
    pub measure: String,
    pub value: Option<f64>,
}

/// How a run's probes spread over the values the filters offer.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facets {
    pub total: u64,
    pub categories: Vec<(String, u64)>,
    pub outcomes: Vec<(String, u64)>,
    pub attacks: Vec<(String, u64)>,
    pub reasons: Vec<(String, u64)>,
    pub labelled: u64,
}

/// `search` as an FTS5 query: each word a quoted string (so no word is read as an operator),
/// all of them required; `None` when it holds no word.
pub fn fts_query(search: &str) -> Option<String> {
    let words: Vec<String> = search
        .split_whitespace()
        .map(|w| {
            let (w, prefix) = match w.strip_suffix('*') {
                Some(stem) if !stem.is_empty() => (stem, true),
                _ => (w, false),
            };
            format!("\"{}\"{}", w.replace('"', "\"\""), if prefix { "*" } else { "" })
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" AND "))
}

/// Whether a human labelled the probe `p` (its scores in `{db}scores`), as SQL.
fn labelled_sql(db: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM {db}scores h WHERE h.run_id = p.run_id AND h.sample_id = p.sample_id
         AND h.epoch = p.epoch AND h.scorer = 'human')"
    )
}

/// The columns of a page line, as SQL over the probe `p`: its key and labels, the first
/// characters of its prompt and of its last answer, and whether a human labelled it.
fn line_columns(db: &str) -> String {
    format!(
        "p.rowid, p.sample_id, p.epoch, p.category, p.expected, p.outcome, p.attack, p.unassessable_reason,
         substr(p.prompt, 1, {LINE_CHARS}),
         substr((SELECT json_extract(m.value, '$.content') FROM json_each(p.transcript) AS m
                 WHERE json_extract(m.value, '$.role') = 'assistant' ORDER BY m.key DESC LIMIT 1), 1, {LINE_CHARS}),
         {}",
        labelled_sql(db)
    )
}

/// The SQL arguments of a page query, numbered as they are added (`?1`: the run, `?2`: after).
pub(crate) struct Args(pub(crate) Vec<Box<dyn ToSql>>);

impl Args {
    pub(crate) fn new(run_id: &str, after: Option<i64>) -> Args {
        Args(vec![Box::new(run_id.to_string()), Box::new(after.unwrap_or(0))])
    }
    pub(crate) fn add(&mut self, v: impl ToSql + 'static) -> String {
        self.0.push(Box::new(v));
        format!("?{}", self.0.len())
    }
}

/// The filter's conditions on the probe `p` (and its scores in `{db}scores`), each starting with
/// ` AND`; the search is the caller's.
pub(crate) fn conditions(filter: &ProbeFilter, db: &str, args: &mut Args) -> String {
    let mut cond = String::new();
    if let Some(c) = &filter.category {
        cond += &format!(" AND p.category = {}", args.add(c.clone()));
    }
    if let Some(o) = &filter.outcome {
        cond += &format!(" AND p.outcome = {}", args.add(o.clone()));
    }
    match filter.attack.as_deref() {
        Some(NO_ATTACK) => cond += " AND p.attack IS NULL",
        Some(a) => cond += &format!(" AND p.attack = {}", args.add(a.to_string())),
        None => {}
    }
    if let Some(r) = &filter.reason {
        cond += &format!(
            " AND p.outcome = 'unassessable' AND COALESCE(p.unassessable_reason, 'unknown') = {}",
            args.add(r.clone())
        );
    }
    let disagreed = format!(
        "EXISTS (SELECT 1 FROM {db}scores s WHERE s.run_id = p.run_id AND s.sample_id = p.sample_id
         AND s.epoch = p.epoch AND s.scorer = 'panel' AND s.label = 'disagree')"
    );
    let labelled = labelled_sql(db);
    if filter.disagree {
        cond += &format!(" AND {disagreed}");
    }
    if filter.review {
        cond += &format!(" AND NOT {labelled} AND (p.outcome = 'unassessable' OR {disagreed})");
    }
    cond
}

/// Runs a page query: `from` selects the probes `p` (with `?1` the run and `?2` the position),
/// `cond` narrows them.
pub(crate) fn page(
    conn: &rusqlite::Connection,
    db: &str,
    from: &str,
    cond: &str,
    mut args: Args,
    limit: usize,
) -> rusqlite::Result<Vec<ProbeLine>> {
    let limit = args.add(limit as i64);
    let sql = format!("SELECT {} FROM {from}{cond} ORDER BY p.rowid LIMIT {limit}", line_columns(db));
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(params_from_iter(args.0.iter()), |r| {
        Ok(ProbeLine {
            rowid: r.get(0)?,
            sample_id: r.get(1)?,
            epoch: r.get::<_, i64>(2)? as u32,
            category: r.get(3)?,
            expected: r.get(4)?,
            outcome: r.get(5)?,
            attack: r.get(6)?,
            unassessable_reason: r.get(7)?,
            prompt: r.get(8)?,
            answer: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
            labelled: r.get(10)?,
        })
    })?;
    rows.collect()
}

impl Store {
    /// Up to `limit` probes of `run_id` that `filter` selects (its search aside: that is
    /// [`crate::SearchIndex::probe_page`]'s), in the order they were stored, after `after` (a
    /// previous line's `rowid`). The run's index on (run_id[, outcome | category]) drives it.
    pub fn probe_page(
        &self,
        run_id: &str,
        filter: &ProbeFilter,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<ProbeLine>, StoreError> {
        let mut args = Args::new(run_id, after);
        let cond = conditions(filter, "", &mut args);
        page(&self.conn, "", "probes p WHERE p.run_id = ?1 AND p.rowid > ?2", &cond, args, limit)
            .map_err(|e| self.err(e))
    }

    /// Up to `limit` of a run's measured conversations, optionally of one game, in the order
    /// they were stored, after `after` (a previous line's `rowid`).
    pub fn measure_page(
        &self,
        run_id: &str,
        game: Option<&str>,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<MeasureLine>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT rowid, item_id, epoch, category, game, measure, value FROM measures
                 WHERE run_id = ?1 AND rowid > ?2 AND (?3 IS NULL OR game = ?3) ORDER BY rowid LIMIT ?4",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(rusqlite::params![run_id, after.unwrap_or(0), game, limit as i64], |r| {
                Ok(MeasureLine {
                    rowid: r.get(0)?,
                    item_id: r.get(1)?,
                    epoch: r.get::<_, i64>(2)? as u32,
                    category: r.get(3)?,
                    game: r.get(4)?,
                    measure: r.get(5)?,
                    value: r.get(6)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The newest probe's and score's rowids in the whole store: a new probe, score or label
    /// changes them (a label replaces its score row), so they mark a state of the store cheaply.
    pub fn high_water(&self) -> Result<(i64, i64), StoreError> {
        self.conn
            .query_row(
                "SELECT (SELECT COALESCE(MAX(rowid), 0) FROM probes), (SELECT COALESCE(MAX(rowid), 0) FROM scores)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))
    }

    /// The counts behind the filters: each a walk of one of schema 8's indexes (the reasons: of
    /// the unassessable probes only), never of the probes themselves.
    pub fn facets(&self, run_id: &str) -> Result<Facets, StoreError> {
        let counts = |sql: &str, params: &[&dyn ToSql]| -> Result<Vec<(String, u64)>, StoreError> {
            let mut st = self.conn.prepare(sql).map_err(|e| self.err(e))?;
            let rows =
                st.query_map(params, |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))).map_err(|e| self.err(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
        };
        let mut f = Facets {
            categories: counts(
                "SELECT category, COUNT(*) FROM probes WHERE run_id = ?1 GROUP BY 1 ORDER BY 1",
                &[&run_id],
            )?,
            outcomes: counts(
                "SELECT outcome, COUNT(*) FROM probes WHERE run_id = ?1 GROUP BY 1 ORDER BY 1",
                &[&run_id],
            )?,
            attacks: counts(
                "SELECT COALESCE(attack, ?2), COUNT(*) FROM probes WHERE run_id = ?1 GROUP BY attack ORDER BY 1",
                &[&run_id, &NO_ATTACK],
            )?,
            reasons: counts(
                "SELECT COALESCE(unassessable_reason, 'unknown'), COUNT(*) FROM probes
                 WHERE run_id = ?1 AND outcome = 'unassessable' GROUP BY 1 ORDER BY 1",
                &[&run_id],
            )?,
            ..Facets::default()
        };
        f.total = f.outcomes.iter().map(|(_, n)| n).sum();
        f.labelled = self.human_labels(run_id)?;
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_never_become_operators() {
        assert_eq!(fts_query("bomb  recipe").as_deref(), Some("\"bomb\" AND \"recipe\""));
        assert_eq!(fts_query("NOT OR \"x").as_deref(), Some("\"NOT\" AND \"OR\" AND \"\"\"x\""));
        assert_eq!(fts_query("synth*").as_deref(), Some("\"synth\"*"));
        assert_eq!(fts_query("*").as_deref(), Some("\"*\""));
        assert_eq!(fts_query("   "), None);
    }
}
