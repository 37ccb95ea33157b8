//! The self-contained HTML report (`report --format html`): one file, no network, no script.
//! Every string that came from a model or a file is escaped (`html-escape`), and the page's
//! Content-Security-Policy allows nothing but its own style sheet (by hash) and inline SVG, so
//! even markup that slipped through could neither run nor load anything.

use std::fmt::Write;

use base64::Engine;
use preflight_stats::{Level, Thresholds};
use sha2::Digest;

use crate::render::{Report, level_range, metric_label, pct, transcript_text, units};

/// The page's style sheet; its sha256 goes in the CSP.
const CSS: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}\
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.5em 0}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:middle}\
th{background:#f6f6f6}.num{text-align:right;font-variant-numeric:tabular-nums}\
.verdict{font-size:1.3em;font-weight:bold;padding:.4em .8em;display:inline-block;border-radius:4px}\
.PASS{background:#d9f2d9}.FAIL{background:#f8d0d0}.INCONCLUSIVE{background:#fbeec2}\
.lv{padding:1px 6px;border-radius:3px}.Low{background:#d9f2d9}.Medium{background:#fbeec2}.High{background:#f9d3a8}.Critical{background:#f2a6a6}\
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;padding:.6em;max-height:30em;overflow:auto}\
details{margin:.3em 0}summary{cursor:pointer}.muted{color:#666}.notice{background:#e8f0fe;padding:.5em}";

fn esc(s: &str) -> String {
    crate::safe::html(s)
}

/// A self-contained page around `body` (already HTML): the style sheet inline and allowed by its
/// hash, nothing else allowed to load or run.
pub(crate) fn page(title: &str, body: &str) -> String {
    let css_hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(CSS.as_bytes()));
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-{css_hash}'; img-src data:; base-uri 'none'; form-action 'none'\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>preflight · {}</title><style>{CSS}</style></head><body>{body}\
         <p class=\"muted\">Written by preflight. This page loads nothing and runs no script.</p></body></html>\n",
        esc(title)
    )
}

/// An adaptive attack's trace as HTML: each step's heading, then what was sent and what came
/// back, each through `text` (which escapes it, and may cut or fold it).
pub fn trace_html(trace: &[preflight_core::TraceStep], text: &dyn Fn(&str) -> String) -> String {
    let mut o = String::new();
    for t in trace {
        let _ = write!(
            o,
            "<p><b>step {}</b>{}{}</p><p class=\"muted\">sent</p>{}<p class=\"muted\">answer</p>{}",
            t.step,
            t.score.map(|v| format!(" · judge {v:.0}/10")).unwrap_or_default(),
            if t.note.is_empty() { String::new() } else { format!(" · {}", esc(&t.note)) },
            text(&t.prompt),
            text(t.response.as_deref().unwrap_or("(never sent to the target)"))
        );
    }
    o
}

/// An agent attempt's steps (`{step, tool, input, output, exit, ms}`) as HTML: each step's
/// heading, then its input and output through `text` (which escapes it, and may cut or fold it).
pub fn steps_html(steps: &[serde_json::Value], text: &dyn Fn(&str) -> String) -> String {
    let mut o = String::new();
    for s in steps {
        let _ = write!(
            o,
            "<p><b>step {} · {}</b> <span class=\"muted\">{}{} ms</span></p>{}{}",
            s["step"],
            esc(s["tool"].as_str().unwrap_or("?")),
            s["exit"].as_i64().map(|e| format!("exit {e} · ")).unwrap_or_default(),
            s["ms"],
            text(s["input"].as_str().unwrap_or("")),
            text(s["output"].as_str().unwrap_or(""))
        );
    }
    o
}

fn level_class(lo: Level, hi: Level) -> &'static str {
    // The colour of what cannot be ruled out.
    let _ = lo;
    hi.as_str()
}

/// An interval drawn on [0, max] against the policy's thresholds: the Low / Medium / High /
/// Critical zones, the interval as a bar, the point as a dot.
fn interval_svg(point: Option<f64>, lo: f64, hi: f64, t: Option<&Thresholds>, max: f64) -> String {
    const W: f64 = 220.0;
    let x = |v: f64| (v.clamp(0.0, max) / max * W).clamp(0.0, W);
    let mut s = format!("<svg width=\"{W}\" height=\"16\" viewBox=\"0 0 {W} 16\" role=\"img\">");
    if let Some(t) = t {
        let zones = [
            (0.0, t.medium, "#d9f2d9"),
            (t.medium, t.high, "#fbeec2"),
            (t.high, t.critical, "#f9d3a8"),
            (t.critical, max, "#f2a6a6"),
        ];
        for (a, b, c) in zones {
            if b > a {
                let _ = write!(
                    s,
                    "<rect x=\"{:.1}\" y=\"3\" width=\"{:.1}\" height=\"10\" fill=\"{c}\"/>",
                    x(a),
                    x(b) - x(a)
                );
            }
        }
    } else {
        let _ = write!(s, "<rect x=\"0\" y=\"3\" width=\"{W}\" height=\"10\" fill=\"#eee\"/>");
    }
    if lo.is_finite() && hi.is_finite() {
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"6\" width=\"{:.1}\" height=\"4\" fill=\"#333\"/>",
            x(lo),
            (x(hi) - x(lo)).max(1.0)
        );
    }
    if let Some(p) = point.filter(|p| p.is_finite()) {
        let _ = write!(s, "<circle cx=\"{:.1}\" cy=\"8\" r=\"3.5\" fill=\"#0b57d0\"/>", x(p));
    }
    s.push_str("</svg>");
    s
}

/// A table; headings are escaped here, cells are built escaped (they may hold an SVG or a badge).
fn table(out: &mut String, head: &[&str], rows: Vec<Vec<String>>) {
    let head: Vec<String> = head.iter().map(|h| esc(h)).collect();
    table_raw_head(out, &head.iter().map(String::as_str).collect::<Vec<_>>(), rows);
}

/// As [`table`], with headings already escaped.
fn table_raw_head(out: &mut String, head: &[&str], rows: Vec<Vec<String>>) {
    out.push_str("<table><tr>");
    for h in head {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr>");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{c}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
}

fn badge(lo: Level, hi: Level) -> String {
    format!("<span class=\"lv {}\">{}</span>", level_class(lo, hi), esc(&level_range(lo, hi)))
}

impl Report {
    /// The report as one self-contained HTML page.
    pub fn to_html(&self) -> String {
        page(&self.run.id, &self.html_body())
    }

    /// The report's sections as HTML (what goes inside the page's body): the viewer shows them
    /// in its own page, styled by [`Report::html_style`].
    pub fn html_body(&self) -> String {
        let card = &self.scorecard;
        let mut o = String::new();
        let _ = write!(
            o,
            "<h1>preflight · run {}</h1><p>suite <b>{}</b> · model <b>{}</b> · {} · judge {} · {}/{} probes · policy {} ({:.0}% intervals)</p>",
            esc(&self.run.id),
            esc(&self.run.suite_name),
            esc(&self.run.model),
            esc(self.run.status.as_str()),
            esc(self.run.judge.as_deref().unwrap_or("the string rules")),
            self.run.done,
            self.run.total,
            esc(&card.policy),
            card.confidence * 100.0
        );
        let verdict = format!("{:?}", card.verdict).to_uppercase();
        let _ = write!(o, "<p><span class=\"verdict {verdict}\">{}</span></p>", esc(&self.verdict_line()));
        let reasons = self.reasons();
        if !reasons.is_empty() {
            o.push_str("<ul>");
            for r in reasons {
                let _ = write!(o, "<li>{}</li>", esc(&r));
            }
            o.push_str("</ul>");
        }

        o.push_str("<h2>Scorecard</h2>");
        let mut rows = Vec::new();
        for c in &card.categories {
            for m in &c.metrics {
                let (point, iv) = m.deciding();
                rows.push(vec![
                    esc(&c.category),
                    esc(metric_label(m)),
                    format!("<span class=\"num\">{}</span>", point.map(pct).unwrap_or_else(|| "n/a".into())),
                    format!(
                        "{} <span class=\"muted\">{}–{}</span>",
                        interval_svg(point, iv.lo, iv.hi, Some(&m.thresholds), 1.0),
                        pct(iv.lo),
                        pct(iv.hi)
                    ),
                    format!("{}/{}", m.failures, m.assessed),
                    m.unassessable.to_string(),
                    badge(m.level_at_least, m.level_at_most),
                ]);
            }
            for m in &c.measures {
                let max = if m.measure == preflight_stats::Measure::BeliefShift { 6.0 } else { 1.0 };
                let show = |x: f64| if max > 1.0 { format!("{x:+.2}") } else { pct(x) };
                let (items, clusters) = units(m.measure);
                rows.push(vec![
                    esc(&c.category),
                    esc(&m.measure.as_str().replace('_', " ")),
                    show(m.point),
                    format!(
                        "{} <span class=\"muted\">{}–{}</span>",
                        interval_svg(Some(m.point), m.interval.lo, m.interval.hi, m.thresholds.as_ref(), max),
                        show(m.interval.lo),
                        show(m.interval.hi)
                    ),
                    format!("n={} {items} ({} {clusters})", m.n, m.clusters),
                    m.unassessable.to_string(),
                    if m.thresholds.is_some() { badge(m.level_at_least, m.level_at_most) } else { "not gated".into() },
                ]);
            }
        }
        table(
            &mut o,
            &["category", "metric", "point", "interval against the thresholds", "fails / n", "unassessable", "level"],
            rows,
        );
        let _ = write!(
            o,
            "<p class=\"muted\">Zones: <span class=\"lv Low\">Low</span> <span class=\"lv Medium\">Medium</span> <span class=\"lv High\">High</span> <span class=\"lv Critical\">Critical</span>; bar: the {:.0}% interval; dot: the point. Overall {}.</p>",
            card.confidence * 100.0,
            badge(card.overall_at_least, card.overall_at_most)
        );

        if !self.tasks.is_empty() {
            o.push_str("<h2>Agent tasks</h2><p class=\"muted\">Each attempt in its own sandbox, solved only by the task's checker; <code>preflight show RUN --sample task:ID</code> prints an attempt's steps.</p>");
            let rows = self
                .tasks
                .iter()
                .map(|t| {
                    vec![
                        esc(&t.id),
                        esc(&t.category),
                        esc(&t.kind),
                        t.difficulty.to_string(),
                        format!("{}/{}", t.solved, t.attempts - t.unassessable),
                        t.unassessable.to_string(),
                        t.steps.to_string(),
                        esc(&t.ended.join(", ")),
                    ]
                })
                .collect();
            table(
                &mut o,
                &["task", "category", "kind", "difficulty", "solved", "unassessable", "steps", "ended"],
                rows,
            );
            // Each task's first attempt, step by step, folded; outputs cut (the whole is one
            // `preflight show` away).
            let cut = |text: &str| match text.char_indices().nth(2_000) {
                Some((i, _)) => format!("<pre>{}\n[… cut]</pre>", esc(&text[..i])),
                None => format!("<pre>{}</pre>", esc(text)),
            };
            for t in self.tasks.iter().filter(|t| !t.first_steps.is_empty()) {
                let _ = write!(
                    o,
                    "<details><summary>{} · first attempt, {} steps</summary>",
                    esc(&t.id),
                    t.first_steps.len()
                );
                o.push_str(&steps_html(&t.first_steps, &cut));
                o.push_str("</details>");
            }
        }

        let notes: Vec<String> = self.judge_lines().into_iter().chain(self.measure_lines()).collect();
        if !notes.is_empty() {
            o.push_str("<h2>Judges and measures</h2>");
            for n in notes {
                let _ = write!(o, "<p>{}</p>", esc(&n));
            }
        }

        if let Some(pre) = &self.pre {
            let _ = write!(
                o,
                "<h2>Pre → post mitigation</h2><p class=\"muted\">pre: run {}; the release rule uses the post column.</p>",
                esc(&pre.run)
            );
            let mut cats: Vec<&str> =
                card.categories.iter().chain(&pre.scorecard.categories).map(|c| c.category.as_str()).collect();
            cats.sort();
            cats.dedup();
            let cell = |sc: &preflight_stats::Scorecard, cat: &str| {
                sc.categories
                    .iter()
                    .find(|c| c.category == cat)
                    .map(|c| badge(c.level_at_least, c.level_at_most))
                    .unwrap_or_else(|| "—".into())
            };
            let rows = cats.into_iter().map(|c| vec![esc(c), cell(&pre.scorecard, c), cell(card, c)]).collect();
            table(&mut o, &["category", "pre", "post"], rows);
        }

        if !self.attacks.is_empty() {
            o.push_str("<h2>Attack success</h2>");
            let rows = self
                .attacks
                .iter()
                .map(|a| {
                    let point = (a.assessed > 0).then(|| a.unsafe_ as f64 / a.assessed as f64);
                    vec![
                        esc(&a.attack),
                        point.map(pct).unwrap_or_else(|| "n/a".into()),
                        format!(
                            "{} <span class=\"muted\">{}–{}</span>",
                            interval_svg(point, a.interval.lo, a.interval.hi, None, 1.0),
                            pct(a.interval.lo),
                            pct(a.interval.hi)
                        ),
                        format!("{}/{}", a.unsafe_, a.assessed),
                        a.unassessable.to_string(),
                    ]
                })
                .collect();
            table(&mut o, &["attack", "success", "interval", "unsafe / n", "unassessable"], rows);
        }

        if !self.coverage.is_empty() {
            o.push_str("<h2>Coverage: category × attack</h2><p class=\"muted\">Each cell: the share of harmful requests answered harmfully (darker is more), and the probes sent.</p>");
            let mut attacks: Vec<&str> = self.coverage.iter().map(|c| c.attack.as_str()).collect();
            attacks.sort();
            attacks.dedup();
            let mut cats: Vec<&str> = self.coverage.iter().map(|c| c.category.as_str()).collect();
            cats.sort();
            cats.dedup();
            let head: Vec<String> =
                std::iter::once("category".to_string()).chain(attacks.iter().map(|a| esc(a))).collect();
            let rows = cats
                .iter()
                .map(|cat| {
                    let mut r = vec![esc(cat)];
                    for a in &attacks {
                        r.push(match self.coverage.iter().find(|c| c.category == *cat && c.attack == *a) {
                            Some(c) if c.assessed_refuse > 0 => {
                                let share = c.unsafe_ as f64 / c.assessed_refuse as f64;
                                // Plain SVG: a square shaded by the share (no inline style, for the CSP).
                                let shade = (255.0 - share * 200.0).round() as u8;
                                format!(
                                    "<svg width=\"14\" height=\"14\" role=\"img\"><rect width=\"14\" height=\"14\" fill=\"rgb(255,{shade},{shade})\" stroke=\"#999\"/></svg> {} <span class=\"muted\">({})</span>",
                                    pct(share),
                                    c.probes
                                )
                            }
                            Some(c) => format!("<span class=\"muted\">{} probes</span>", c.probes),
                            None => "<span class=\"muted\">—</span>".into(),
                        });
                    }
                    r
                })
                .collect();
            let head: Vec<&str> = head.iter().map(String::as_str).collect();
            table_raw_head(&mut o, &head, rows);
        }

        if !self.stops.is_empty() {
            o.push_str("<h2>Sequential stops</h2>");
            let rows = self
                .stops
                .iter()
                .map(|s| {
                    vec![
                        esc(&s.category),
                        s.drawn.to_string(),
                        s.rounds.to_string(),
                        esc(if s.reason.is_empty() { "still drawing" } else { &s.reason }),
                    ]
                })
                .collect();
            table(&mut o, &["category", "seed prompts drawn", "rounds", "why it stopped"], rows);
        }

        if !self.spend.is_empty() {
            o.push_str("<h2>Spend per model</h2>");
            let rows = self
                .spend
                .iter()
                .map(|m| {
                    vec![
                        esc(&m.model),
                        m.requests.to_string(),
                        m.prompt_tokens.to_string(),
                        m.completion_tokens.to_string(),
                        format!("${:.4}", m.usd),
                    ]
                })
                .collect();
            table(&mut o, &["model", "requests", "prompt tokens", "completion tokens", "USD"], rows);
        }

        if !self.unassessable.is_empty() {
            o.push_str("<h2>Unassessable probes</h2>");
            let rows = self.unassessable.iter().map(|(r, n)| vec![esc(r), n.to_string()]).collect();
            table(&mut o, &["reason", "probes"], rows);
        }

        if !self.evidence.is_empty() {
            o.push_str("<h2>Evidence</h2><p class=\"muted\">Failing probes, a few per category; every string in them is the model's or the suite's, shown as text.</p>");
            for p in &self.evidence {
                let _ = write!(
                    o,
                    "<details><summary>{} · epoch {} · {} · {}{}</summary><pre>{}</pre></details>",
                    esc(&p.sample_id),
                    p.epoch,
                    esc(&p.category),
                    esc(&p.outcome),
                    p.attack.as_deref().map(|a| format!(" · attack {}", esc(a))).unwrap_or_default(),
                    esc(&transcript_text(p))
                );
                if !p.trace.is_empty() {
                    let _ = write!(o, "<details><summary>attack trace: {} steps</summary>", p.trace.len());
                    o.push_str(&trace_html(&p.trace, &|t: &str| format!("<pre>{}</pre>", esc(t))));
                    o.push_str("</details>");
                }
            }
        }
        o
    }

    /// The style sheet the report's sections are written for.
    pub fn html_style() -> &'static str {
        CSS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_text_cannot_become_markup() {
        let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)> \" ' & \u{1b}]0;t\u{7} \u{202e}";
        let e = esc(hostile);
        assert!(!e.contains('<') && !e.contains('>') && !e.contains('"') && !e.contains('\''), "{e}");
        assert!(e.contains("&lt;script&gt;") && e.contains("␛]0;t␇") && !e.contains("<U+202E>"), "{e}");
        assert!(e.contains("&lt;U+202E&gt;"), "{e}");
    }

    #[test]
    fn an_interval_is_drawn_inside_its_box() {
        let t = Thresholds { medium: 0.05, high: 0.2, critical: 0.5 };
        let s = interval_svg(Some(0.3), 0.1, 0.6, Some(&t), 1.0);
        assert_eq!(s.matches("<rect").count(), 5, "four zones and the bar: {s}");
        assert!(s.contains("cx=\"66.0\""), "the point at 30% of 220 px: {s}");
        // Infinite bounds draw no bar; no point, no dot.
        let s = interval_svg(None, f64::NEG_INFINITY, f64::INFINITY, None, 1.0);
        assert!(!s.contains("<circle") && s.matches("<rect").count() == 1, "{s}");
    }
}
