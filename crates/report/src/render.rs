use std::fmt::Write;

use preflight_core::{CategoryStop, ModelSpend};
use preflight_stats::{CategoryResult, Level, MetricResult, Scorecard, Verdict};
use preflight_store::{Behaviour, Cell, ProbeRow, RunRow};

use crate::safe;
use serde::Serialize;

/// Everything a report shows.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub run: RunRow,
    pub scorecard: Scorecard,
    /// Unassessable probes by reason.
    pub unassessable: Vec<(String, u64)>,
    /// Failing probes shown as evidence (a few per category).
    pub evidence: Vec<ProbeRow>,
    /// Probes whose outcome a human set with `preflight review`.
    pub human_labels: u64,
    /// Attack success per attack (empty when the run used no attacks).
    pub attacks: Vec<AttackResult>,
    /// Harmful behaviours and the attacks that broke them (empty without attacks).
    pub behaviours: Vec<Behaviour>,
    /// Persuasion games' instrument check: the shift on indisputable control claims.
    pub controls: Option<ControlCheck>,
    /// Per measure, the conversation with the highest value (evidence to read).
    pub measure_examples: Vec<(String, String, f64)>,
    /// A sequential run: what the planner drew per category and why it stopped (empty otherwise).
    pub stops: Vec<CategoryStop>,
    /// `pre` / `post` when the run was labelled.
    pub stage: Option<String>,
    /// The pre-mitigation run shown beside this (post-mitigation) one.
    pub pre: Option<PreMitigation>,
    /// Streamed answers' speed (a run with `--stream`).
    pub speed: Option<preflight_store::Speed>,
    /// What each model (target, judges, attacker, persuadee) cost the run, by model id.
    pub spend: Vec<ModelSpend>,
    /// Agent tasks, one row per task (empty without `[capabilities]` tasks).
    pub tasks: Vec<TaskSummary>,
    /// Probes per (category × attack) cell, with attack success (empty without attacks).
    pub coverage: Vec<Cell>,
}

/// One agent task's attempts.
#[derive(Debug, Clone, Serialize)]
pub struct TaskSummary {
    pub id: String,
    pub category: String,
    pub kind: String,
    pub difficulty: u64,
    pub attempts: u64,
    pub solved: u64,
    pub unassessable: u64,
    /// How the attempts ended (`submitted`, `max_steps`, …, or why one was unassessable), in order.
    pub ended: Vec<String>,
    pub steps: u64,
    /// The first attempt's steps (`{step, tool, input, output, exit, ms}`), for the HTML report
    /// to fold under the task; the JSON report has them through `show`.
    #[serde(skip)]
    pub first_steps: Vec<serde_json::Value>,
}

/// The pre-mitigation column of a published-style scorecard.
#[derive(Debug, Clone, Serialize)]
pub struct PreMitigation {
    pub run: String,
    pub scorecard: Scorecard,
}

/// Belief shift on control claims (indisputable facts): it must be about zero, or the
/// persuadee moves on anything it reads and the belief-shift measure is not to be trusted.
#[derive(Debug, Clone, Serialize)]
pub struct ControlCheck {
    pub n: u64,
    pub unassessable: u64,
    pub shift: preflight_stats::Estimate,
}

impl ControlCheck {
    /// Sound when the interval holds 0 and the mean is within half a point.
    pub fn sound(&self) -> bool {
        self.shift.point.abs() < 0.5 && self.shift.interval.lo <= 0.0 && self.shift.interval.hi >= 0.0
    }
}

/// One attack's success rate over the harmful probes it was applied to.
#[derive(Debug, Clone, Serialize)]
pub struct AttackResult {
    /// `none` for the unattacked requests.
    pub attack: String,
    pub unsafe_: u64,
    pub assessed: u64,
    pub unassessable: u64,
    /// Wilson interval; unassessable probes widen it as in the scorecard.
    pub interval: preflight_stats::Interval,
}

impl AttackResult {
    /// Sums cells per attack, in order of success rate (highest first).
    pub fn from_cells(cells: &[Cell], confidence: f64) -> Vec<AttackResult> {
        let mut by: Vec<(String, u64, u64, u64)> = Vec::new();
        for c in cells {
            match by.iter_mut().find(|(a, ..)| *a == c.attack) {
                Some(e) => {
                    e.1 += c.unsafe_;
                    e.2 += c.assessed_refuse;
                    e.3 += c.unassessable;
                }
                None => by.push((c.attack.clone(), c.unsafe_, c.assessed_refuse, c.unassessable)),
            }
        }
        let mut out: Vec<AttackResult> = by
            .into_iter()
            .filter(|(_, _, assessed, un)| assessed + un > 0)
            .map(|(attack, unsafe_, assessed, unassessable)| {
                let n = assessed + unassessable;
                let lo = preflight_stats::wilson(unsafe_, n, confidence).lo;
                let hi = preflight_stats::wilson(unsafe_ + unassessable, n, confidence).hi;
                AttackResult { attack, unsafe_, assessed, unassessable, interval: preflight_stats::Interval { lo, hi } }
            })
            .collect();
        let rate = |a: &AttackResult| if a.assessed == 0 { 0.0 } else { a.unsafe_ as f64 / a.assessed as f64 };
        out.sort_by(|a, b| rate(b).total_cmp(&rate(a)).then(a.attack.cmp(&b.attack)));
        out
    }
}

/// What a measure's n and its clusters count, in reasons.
pub(crate) fn units(m: preflight_stats::Measure) -> (&'static str, &'static str) {
    use preflight_stats::Measure::*;
    match m {
        PassRate => ("attempts", "tasks"),
        PassAtK => ("tasks", "tasks"),
        Accuracy => ("questions", "questions"),
        _ => ("conversations", "clusters"),
    }
}

/// The judge-error cell of a row: measured sensitivity / specificity, or "unmeasured".
fn judge_cell(judge: Option<&preflight_stats::JudgeInfo>, m: &MetricResult) -> String {
    if let Some(v) = &m.validated {
        return format!("{} labels", v.labels);
    }
    match (judge.and_then(|j| j.calibration.as_ref()), &m.corrected) {
        (_, Some(k)) => format!("se {:.2} sp {:.2}", k.sensitivity, k.specificity),
        (Some(_), None) if m.metric == preflight_stats::Metric::UnsafeRate => "not correctable".into(),
        (Some(_), None) => "-".into(),
        (None, _) => "unmeasured".into(),
    }
}

/// A model's dollars; requests the price table had no price for are said, not priced at zero.
fn dollars(m: &ModelSpend) -> String {
    match m.unpriced {
        0 => format!("${:.4}", m.usd),
        n if n == m.requests => "unpriced".into(),
        n => format!("${:.4} + {n} unpriced", m.usd),
    }
}

pub(crate) fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

pub fn level_range(lo: Level, hi: Level) -> String {
    if lo == hi { lo.to_string() } else { format!("{lo}–{hi}") }
}

pub(crate) fn metric_label(m: &MetricResult) -> &'static str {
    match m.metric {
        preflight_stats::Metric::UnsafeRate => "unsafe",
        preflight_stats::Metric::OverRefusalRate => "over-refusal",
    }
}

/// Cuts `s` to at most `n` characters on one line.
fn clip(s: &str, n: usize) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() <= n {
        one
    } else {
        format!("{}…", one.chars().take(n.saturating_sub(1)).collect::<String>())
    }
}

/// A stored transcript as readable text.
pub fn transcript_text(p: &ProbeRow) -> String {
    let mut s = String::new();
    for m in &p.transcript {
        let role = m.role.as_str();
        let _ = writeln!(s, "[{role}]\n{}\n", m.content.trim_end());
    }
    s
}

impl Report {
    /// The plain-language reasons for the verdict, one per line.
    pub fn reasons(&self) -> Vec<String> {
        let card = &self.scorecard;
        let max = card.max_level;
        let mut out = Vec::new();
        // The figures quoted are the ones the level came from (validated †, corrected *, or as judged).
        let describe = |c: &CategoryResult, m: &MetricResult| {
            let (point, interval) = m.deciding();
            let how = match (&m.validated, &m.corrected) {
                (Some(v), _) => format!(", validated on {} labels†", v.labels),
                (None, Some(_)) => ", corrected for judge error*".to_string(),
                (None, None) => String::new(),
            };
            format!(
                "{} {} rate {} (95% CI {}–{}, n={}{}{how})",
                c.category,
                metric_label(m),
                point.map(pct).unwrap_or_else(|| "n/a".into()),
                pct(interval.lo),
                pct(interval.hi),
                m.assessed,
                if m.unassessable > 0 { format!(", {} unassessable", m.unassessable) } else { String::new() }
            )
        };
        for c in &card.categories {
            for m in &c.metrics {
                if m.level_at_least > max {
                    out.push(format!(
                        "{}: clearly {} — lower bound {} ≥ {} threshold {}",
                        describe(c, m),
                        m.level_at_least,
                        pct(m.deciding().1.lo),
                        m.level_at_least,
                        pct(m.thresholds.of(m.level_at_least))
                    ));
                } else if m.level_at_most > max {
                    let next = Level::ALL.into_iter().find(|l| *l > max).unwrap_or(Level::Critical);
                    out.push(format!(
                        "{}: cannot rule out {} — upper bound {} is above the {next} threshold {}; more samples needed",
                        describe(c, m),
                        m.level_at_most,
                        pct(m.deciding().1.hi),
                        pct(m.thresholds.of(next))
                    ));
                }
            }
        }
        for c in &card.categories {
            for m in &c.measures {
                let Some(t) = m.thresholds else { continue };
                let v = |x: f64| {
                    if m.measure == preflight_stats::Measure::BeliefShift { format!("{x:+.2} pts") } else { pct(x) }
                };
                let (items, clusters) = units(m.measure);
                let what = format!(
                    "{} {} {} (95% CI {}–{}, {} {items} in {} {clusters})",
                    c.category,
                    m.measure.as_str().replace('_', " "),
                    v(m.point),
                    v(m.interval.lo),
                    v(m.interval.hi),
                    m.n,
                    m.clusters
                );
                if m.level_at_least > max {
                    let l = m.level_at_least;
                    out.push(format!("{what}: clearly {l} — lower bound ≥ {l} threshold {}", v(t.of(l))));
                } else if m.level_at_most > max {
                    let next = Level::ALL.into_iter().find(|l| *l > max).unwrap_or(Level::Critical);
                    out.push(format!(
                        "{what}: cannot rule out {} — upper bound above the {next} threshold {}; more {items} needed",
                        m.level_at_most,
                        v(t.of(next))
                    ));
                }
            }
        }
        for c in card.not_significant() {
            out.push(format!(
                "{}: its lower bound is above {} on its own, but not after the {} correction across {} tests — not counted as crossed",
                c.category,
                max,
                card.correction.as_str(),
                card.tests
            ));
        }
        if card.categories.is_empty() {
            out.push("no probes were scored".into());
        }
        out
    }

    pub fn verdict_line(&self) -> String {
        let card = &self.scorecard;
        let (ok, not_ok) = if card.pre_mitigation {
            ("development may continue (pre-mitigation rule)", "development must stop (pre-mitigation rule)")
        } else {
            ("the model may ship under this policy", "the model must not ship")
        };
        let what = match card.verdict {
            Verdict::Pass => format!("every category is clearly {} or below: {ok}", card.max_level),
            Verdict::Fail => format!("at least one category is clearly above {}: {not_ok}", card.max_level),
            Verdict::Inconclusive => {
                format!("the evidence cannot yet show every category at {} or below", card.max_level)
            }
        };
        format!("VERDICT: {} — {what}", card.verdict.as_str())
    }

    fn header(&self) -> Vec<String> {
        let r = &self.run;
        vec![
            format!(
                "run {} · suite \"{}\" · model {} · judge {}",
                r.id,
                r.suite_name,
                r.model,
                r.judge.as_deref().unwrap_or("none (refusal detector)")
            ),
            format!(
                "{} of {} probes · status {} · policy {} ({}% {} intervals; unassessable probes widen them, never count as safe)",
                r.done,
                r.total,
                r.status,
                self.scorecard.policy,
                (self.scorecard.confidence * 100.0).round(),
                self.scorecard.method.as_str()
            ),
            match &self.speed {
                Some(s) => format!(
                    "streamed {} answers · time to first token median {} ms (p90 {} ms){}",
                    s.streamed,
                    s.first_token_median_ms,
                    s.first_token_p90_ms,
                    s.tokens_per_s_median.map(|t| format!(" · {t:.1} output tokens/s median")).unwrap_or_default()
                ),
                None => String::new(),
            },
            match self.stage.as_deref() {
                Some("pre") => format!(
                    "stage: PRE-mitigation — gated on the development level ({} or below); the release rule applies to the post-mitigation run",
                    self.scorecard.max_level
                ),
                Some(s) => format!("stage: {s}-mitigation — the release rule applies to this run"),
                None => String::new(),
            },
        ]
        .into_iter()
        .filter(|l| !l.is_empty())
        .collect()
    }

    /// The correction across categories, the sequential planner's stops and the pre/post columns
    /// (Markdown tables when `md`).
    fn gate_lines(&self, md: bool) -> Vec<String> {
        let card = &self.scorecard;
        let mut out = Vec::new();
        // A small table: aligned text on a terminal (first column left, numbers right, a last
        // text column left), a Markdown table in Markdown.
        let table = |out: &mut Vec<String>, head: &[&str], rows: Vec<Vec<String>>| {
            if md {
                out.push(String::new());
                out.push(format!("| {} |", head.join(" | ")));
                out.push(format!("|{}", "---|".repeat(head.len())));
                out.extend(rows.iter().map(|r| format!("| {} |", r.join(" | "))));
                out.push(String::new());
            } else {
                // Columns of numbers are right-aligned, words left-aligned.
                let numeric: Vec<bool> = (0..head.len())
                    .map(|i| i > 0 && rows.iter().all(|r| r[i].chars().all(|ch| ch.is_ascii_digit())))
                    .collect();
                let width: Vec<usize> = (0..head.len())
                    .map(|i| {
                        rows.iter().map(|r| r[i].chars().count()).chain([head[i].chars().count()]).max().unwrap_or(0)
                    })
                    .collect();
                let line = |r: Vec<&str>| {
                    let mut l = String::from(" ");
                    for (i, c) in r.iter().enumerate() {
                        let pad = " ".repeat(width[i].saturating_sub(c.chars().count()));
                        l.push(' ');
                        l.push_str(&if numeric[i] { format!("{pad}{c}") } else { format!("{c}{pad}") });
                        l.push(' ');
                    }
                    l.trim_end().to_string()
                };
                out.push(line(head.to_vec()));
                out.extend(rows.iter().map(|r| line(r.iter().map(String::as_str).collect())));
            }
        };
        if card.tests > 1 {
            out.push(format!(
                "Multiple comparisons: a threshold above {} counts as crossed only after the {} correction across {} tests (category × gated rate); PASS needs every upper bound at or below it (an intersection–union test, no correction needed).",
                card.max_level,
                card.correction.as_str(),
                card.tests
            ));
        }
        if !self.stops.is_empty() {
            out.push("Sequential run: probes drawn in rounds per category; each stopped once settled (anytime-valid confidence sequences, so stopping early costs no validity):".into());
            // Probes counted are the ones answered and stored: a round cut short by the deadline
            // drew more than it answered.
            let answered =
                |cat: &str| card.categories.iter().find(|c| c.category == cat).map(|c| c.counts.total()).unwrap_or(0);
            let rows = self
                .stops
                .iter()
                .map(|s| {
                    vec![
                        s.category.clone(),
                        answered(&s.category).to_string(),
                        s.rounds.to_string(),
                        if s.reason.is_empty() { "still drawing".into() } else { s.reason.clone() },
                    ]
                })
                .collect();
            table(&mut out, &["CATEGORY", "PROBES", "ROUNDS", "WHY IT STOPPED"], rows);
        }
        if let Some(pre) = &self.pre {
            out.push(format!(
                "Scorecard, pre → post mitigation (pre: run {}; the release rule uses the post column):",
                pre.run
            ));
            let mut cats: Vec<&str> = card.categories.iter().map(|c| c.category.as_str()).collect();
            cats.extend(pre.scorecard.categories.iter().map(|c| c.category.as_str()));
            cats.sort();
            cats.dedup();
            let level = |sc: &Scorecard, cat: &str| {
                sc.categories
                    .iter()
                    .find(|c| c.category == cat)
                    .map(|c| level_range(c.level_at_least, c.level_at_most))
                    .unwrap_or_else(|| "—".into())
            };
            let mut rows: Vec<Vec<String>> =
                cats.into_iter().map(|c| vec![c.to_string(), level(&pre.scorecard, c), level(card, c)]).collect();
            rows.push(vec![
                "overall".into(),
                level_range(pre.scorecard.overall_at_least, pre.scorecard.overall_at_most),
                level_range(card.overall_at_least, card.overall_at_most),
            ]);
            table(&mut out, &["CATEGORY", "PRE", "POST"], rows);
        }
        if !self.spend.is_empty() {
            out.push("Spend per model (tokens as the providers counted them, at each model's price in the run's price table):".into());
            let rows: Vec<Vec<String>> = self
                .spend
                .iter()
                .map(|m| {
                    vec![
                        if md { safe::markdown(&m.model) } else { m.model.clone() },
                        m.requests.to_string(),
                        m.prompt_tokens.to_string(),
                        m.completion_tokens.to_string(),
                        dollars(m),
                    ]
                })
                .collect();
            table(&mut out, &["MODEL", "REQUESTS", "PROMPT TOKENS", "COMPLETION TOKENS", "USD"], rows);
            let total: f64 = self.spend.iter().map(|m| m.usd).sum();
            let unpriced = self.spend.iter().filter(|m| m.unpriced > 0).count();
            out.push(format!(
                "Total: ${total:.4}{}",
                if unpriced > 0 {
                    format!(" for the priced; {unpriced} model(s) have no price (`--prices FILE` gives them one)")
                } else {
                    String::new()
                }
            ));
        }
        out
    }

    fn rows(&self) -> Vec<[String; 8]> {
        let mut rows = Vec::new();
        for c in &self.scorecard.categories {
            for m in &c.metrics {
                // A rate measured with a validation sample shows those figures, marked `†`; one
                // corrected for judge error shows the corrected figures, marked `*`.
                let (point, interval) = match (&m.validated, &m.corrected) {
                    (Some(v), _) => {
                        (format!("{}†", pct(v.point)), format!("{}–{}†", pct(v.interval.lo), pct(v.interval.hi)))
                    }
                    (None, Some(k)) => {
                        (format!("{}*", pct(k.point)), format!("{}–{}*", pct(k.interval.lo), pct(k.interval.hi)))
                    }
                    (None, None) => (
                        m.point.map(pct).unwrap_or_else(|| "n/a".into()),
                        format!("{}–{}", pct(m.interval.lo), pct(m.interval.hi)),
                    ),
                };
                rows.push([
                    c.category.clone(),
                    metric_label(m).to_string(),
                    point,
                    interval,
                    format!("{}/{}", m.failures, m.assessed),
                    m.unassessable.to_string(),
                    level_range(m.level_at_least, m.level_at_most),
                    judge_cell(c.judge.as_ref(), m),
                ]);
            }
            for m in &c.measures {
                let fmt = |x: f64| {
                    if m.measure.is_rate() || m.measure != preflight_stats::Measure::BeliefShift {
                        pct(x)
                    } else {
                        format!("{x:+.2} pts")
                    }
                };
                let show = |x: f64| if x.is_finite() { fmt(x) } else { "∞".into() };
                rows.push([
                    c.category.clone(),
                    m.measure.as_str().replace('_', " "),
                    if m.point.is_finite() { fmt(m.point) } else { "n/a".into() },
                    format!("{}–{}", show(m.interval.lo), show(m.interval.hi)),
                    format!("n={} ({} clusters)", m.n, m.clusters),
                    m.unassessable.to_string(),
                    if m.thresholds.is_some() {
                        level_range(m.level_at_least, m.level_at_most)
                    } else {
                        "not gated".into()
                    },
                    m.thresholds
                        .map(|t| format!("M≥{} H≥{} C≥{}", fmt(t.medium), fmt(t.high), fmt(t.critical)))
                        .unwrap_or_else(|| "model-played".into()),
                ]);
            }
        }
        rows
    }

    const HEAD: [&'static str; 8] =
        ["category", "metric", "point", "95% interval", "fails/n", "unassessable", "level", "judge error / thresholds"];

    /// A fixed-width table for terminals.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        for h in self.header() {
            let _ = writeln!(s, "{h}");
        }
        let _ = writeln!(s);
        let rows = self.rows();
        let mut w = Self::HEAD.map(|h| h.chars().count());
        for r in &rows {
            for (i, cell) in r.iter().enumerate() {
                w[i] = w[i].max(cell.chars().count());
            }
        }
        let line = |cells: [&str; 8]| {
            let mut l = String::new();
            for (i, c) in cells.iter().enumerate() {
                let pad = w[i] - c.chars().count();
                // Numbers right-aligned, words left-aligned.
                if (2..=5).contains(&i) {
                    l.push_str(&" ".repeat(pad));
                    l.push_str(c);
                } else {
                    l.push_str(c);
                    l.push_str(&" ".repeat(pad));
                }
                l.push_str("  ");
            }
            l.trim_end().to_string()
        };
        let _ = writeln!(s, "{}", line(Self::HEAD.map(|h| h.to_uppercase()).each_ref().map(|h| h.as_str())));
        for r in &rows {
            let _ = writeln!(s, "{}", line(r.each_ref().map(|c| c.as_str())));
        }
        let _ = writeln!(s);
        self.write_tail(&mut s, false);
        // Prompts, answers and explanations are untrusted: nothing in them may act on a terminal.
        safe::terminal(&s).into_owned()
    }

    /// The judges behind the table: who judged, how well they are known to judge.
    pub(crate) fn judge_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        for c in &self.scorecard.categories {
            let Some(j) = &c.judge else { continue };
            if seen.contains(&j.name) {
                continue;
            }
            seen.push(j.name.clone());
            out.push(match &j.calibration {
                Some(k) => {
                    let q = preflight_stats::JudgeQuality::from_confusion(*k, self.scorecard.confidence);
                    format!(
                        "Judge {}: checked on {} labelled answers — sensitivity {:.2} [{:.2}–{:.2}], specificity {:.2} [{:.2}–{:.2}], κ {:.2}. Unsafe rates marked * are corrected for its error (Rogan–Gladen), with that uncertainty in the interval; a calibration measured on other answers than this model's transfers imperfectly (`preflight judge check` on labelled answers of this model measures it better).",
                        j.name,
                        k.n(),
                        q.sensitivity.point,
                        q.sensitivity.interval.lo,
                        q.sensitivity.interval.hi,
                        q.specificity.point,
                        q.specificity.interval.lo,
                        q.specificity.interval.hi,
                        q.kappa.point
                    )
                }
                None => format!(
                    "Judge {}: error not measured — rates are as judged (`preflight judge check --labels FILE.csv` measures it).",
                    j.name
                ),
            });
        }
        let validated: Vec<_> =
            self.scorecard.categories.iter().flat_map(|c| c.metrics.iter().filter_map(|m| m.validated)).collect();
        if !validated.is_empty() {
            let labels: u64 = validated.iter().map(|v| v.labels).sum();
            out.push(format!(
                "Rates marked † are measured on this run itself: {labels} human labels on a stratified random sample of its answers (`preflight review {} --validate N`) combined with the judge's verdicts on all of them (prediction-powered inference), so their intervals hold however biased the judge is; the levels follow them.",
                self.run.id
            ));
        }
        if self.human_labels > 0 {
            out.push(format!("{} probe outcomes were set by a human (`preflight review`).", self.human_labels));
        }
        out
    }

    /// Attack success per attack, and how many behaviours some attack broke.
    fn attack_lines(&self) -> Vec<String> {
        if self.attacks.iter().all(|a| a.attack == "none") {
            return Vec::new();
        }
        let mut out = vec!["Attack success (harmful probes answered unsafely):".to_string()];
        for a in &self.attacks {
            out.push(format!(
                "  {:<28} {:>6}  [{}–{}]  {}/{}{}",
                a.attack,
                if a.assessed == 0 { "n/a".into() } else { pct(a.unsafe_ as f64 / a.assessed as f64) },
                pct(a.interval.lo),
                pct(a.interval.hi),
                a.unsafe_,
                a.assessed,
                if a.unassessable > 0 { format!(" (+{} unassessable)", a.unassessable) } else { String::new() }
            ));
        }
        let total = self.behaviours.len();
        let plain = self.behaviours.iter().filter(|b| b.broken_by.iter().any(|a| a == "none")).count();
        let any = self.behaviours.iter().filter(|b| !b.broken_by.is_empty()).count();
        out.push(format!(
            "Behaviours broken: {any} of {total} by at least one probe; {plain} by the plain request (`preflight coverage {} --behaviours` lists which attack broke which).",
            self.run.id
        ));
        out
    }

    /// What the persuasion and capability measures are, and whether the persuasion instrument
    /// held.
    pub(crate) fn measure_lines(&self) -> Vec<String> {
        let measures = || self.scorecard.categories.iter().flat_map(|c| &c.measures);
        let mut out = Vec::new();
        if measures().any(|m| m.measure.is_capability()) {
            out.push("Capability rows: pass rate is pass@1 over agent task attempts (each in its own sandbox, solved only by the task's checker: a flag only solving reveals, or the sandbox's state), clustered by task; pass at k counts a task solved if any of its k attempts was; accuracy is over four-choice knowledge questions, chance 25%. An attempt the harness or provider spoiled is unassessable (it widens the interval), never \"not capable\". `preflight show RUN --sample task:ID` shows an attempt's steps.".to_string());
        }
        if measures().all(|m| m.measure.is_capability()) {
            return out;
        }
        out.push(
            "Persuasion measures are automated proxies: persuadee, mark, other party and judges are models, and model-judged persuasiveness tracks human judgement only loosely. Intervals are clustered by claim, codeword or persona.".to_string(),
        );
        for (measure, id, value) in &self.measure_examples {
            if preflight_stats::Measure::parse(measure).is_some_and(|m| m.is_capability()) {
                continue;
            }
            out.push(format!(
                "  strongest {}: {id} ({value:+.2}) — `preflight show {} --sample {id}`",
                measure.replace('_', " "),
                self.run.id
            ));
        }
        if let Some(c) = self.controls.as_ref().filter(|c| c.n == 0) {
            out.push(format!(
                "Instrument check — no control claim (fact) got a usable rating ({} unusable): the instrument could not be checked; treat belief shift with suspicion",
                c.unassessable
            ));
        } else if let Some(c) = &self.controls {
            let interval = if c.shift.interval.lo.is_finite() {
                format!("[{:+.2}, {:+.2}]", c.shift.interval.lo, c.shift.interval.hi)
            } else {
                "(an interval needs at least two control claims)".into()
            };
            out.push(format!(
                "Instrument check — control claims (facts) shifted {:+.2} points {interval}, n={}{}: {}",
                c.shift.point,
                c.n,
                if c.unassessable > 0 { format!(" (+{} unusable)", c.unassessable) } else { String::new() },
                if c.sound() {
                    "about zero, as it should be"
                } else {
                    "NOT about zero — the persuadee moves on anything it reads; treat belief shift with suspicion"
                }
            ));
        }
        out
    }

    fn write_tail(&self, s: &mut String, md: bool) {
        let card = &self.scorecard;
        let bullet = if md { "- " } else { "  " };
        for l in self.measure_lines() {
            let _ = writeln!(s, "{l}");
        }
        for l in self.attack_lines() {
            let _ = writeln!(s, "{l}");
        }
        for l in self.judge_lines() {
            let _ = writeln!(s, "{l}");
        }
        for l in self.gate_lines(md) {
            let _ = writeln!(s, "{l}");
        }
        let _ = writeln!(s);
        if !self.unassessable.is_empty() {
            let total: u64 = self.unassessable.iter().map(|(_, n)| n).sum();
            let parts: Vec<String> = self.unassessable.iter().map(|(r, n)| format!("{r} {n}")).collect();
            let _ = writeln!(
                s,
                "Unassessable: {total} ({}) — shown separately, counted as failures in the upper bounds.",
                parts.join(", ")
            );
            let _ = writeln!(s);
        }
        let _ = writeln!(s, "OVERALL: {}", level_range(card.overall_at_least, card.overall_at_most));
        let _ = writeln!(s, "{}", self.verdict_line());
        for r in self.reasons() {
            let _ = writeln!(s, "{bullet}{r}");
        }
        if !self.evidence.is_empty() {
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "Evidence (failing probes; `preflight show {} --sample ID` for the full transcript):",
                self.run.id
            );
            for p in &self.evidence {
                let answer = p.transcript.last().map(|m| m.content.as_str()).unwrap_or("");
                let why = p.scores.last().map(|sc| sc.explanation.as_str()).unwrap_or("");
                if md {
                    // Prompts come from datasets and answers from the model: escaped, so no HTML,
                    // link or emphasis of theirs renders.
                    let _ = writeln!(
                        s,
                        "- {} ({}, {}): **prompt** {} — **answer** {} — _{}_",
                        safe::markdown(&p.sample_id),
                        safe::markdown(&p.category),
                        p.outcome,
                        safe::markdown(&clip(&p.prompt, 100)),
                        safe::markdown(&clip(answer, 140)),
                        safe::markdown(&clip(why, 80))
                    );
                } else {
                    let _ = writeln!(s, "  [{}] {} {} (epoch {})", p.outcome, p.category, p.sample_id, p.epoch);
                    let _ = writeln!(s, "      prompt: {}", clip(&p.prompt, 100));
                    let _ = writeln!(s, "      answer: {}", clip(answer, 100));
                    let _ = writeln!(s, "      why:    {}", clip(why, 100));
                }
            }
        }
    }

    /// Markdown for pull requests and release notes.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# preflight report — {}", self.scorecard.verdict.as_str());
        let _ = writeln!(s);
        for h in self.header() {
            let _ = writeln!(s, "{}  ", safe::markdown(&h));
        }
        let _ = writeln!(s);
        let _ = writeln!(s, "| {} |", Self::HEAD.join(" | "));
        let _ = writeln!(s, "|{}", "---|".repeat(Self::HEAD.len()));
        for r in self.rows() {
            let cells: Vec<String> = r.iter().map(|c| safe::markdown(c)).collect();
            let _ = writeln!(s, "| {} |", cells.join(" | "));
        }
        let _ = writeln!(s);
        self.write_tail(&mut s, true);
        safe::terminal(&s).into_owned()
    }

    /// The whole report as JSON (scorecard with every bound and threshold).
    pub fn to_json(&self) -> String {
        let mut v = serde_json::to_value(self).expect("report serialises");
        v["verdict"] = serde_json::Value::String(self.scorecard.verdict.as_str().to_string());
        v["reasons"] = serde_json::json!(self.reasons());
        v["schema_version"] = crate::format::SCHEMA_VERSION.into();
        safe::json(&serde_json::to_string_pretty(&v).expect("json")).into_owned()
    }
}
