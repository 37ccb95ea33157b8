//! Pages about probes: the explorer (filters, full-text search, pages of 50 found by index),
//! one probe's transcript with its scores and attack trace, and human review — the web twin of
//! `preflight review`, writing the same labels through the same store call.

use preflight_core::{Expected, Outcome};
use preflight_store::{ProbeFilter, ProbeRow, Store};

use crate::{
    app::{App, not_found, run_or_404},
    http::{Req, Resp},
    page::{cut, esc, frame, link, outcome, select},
    runs::nav,
};

/// Probes per page of the explorer.
pub const PAGE: usize = 50;

/// Characters of a transcript message shown before the rest is folded (a model can answer with
/// megabytes; the page stays light and the whole is one click away).
const MESSAGE_CHARS: usize = 20_000;

const FILTER_KEYS: [&str; 7] = ["category", "outcome", "attack", "reason", "disagree", "review", "q"];

fn filter_of(r: &Req) -> ProbeFilter {
    ProbeFilter {
        category: r.param("category").map(str::to_string),
        outcome: r.param("outcome").map(str::to_string),
        attack: r.param("attack").map(str::to_string),
        reason: r.param("reason").map(str::to_string),
        disagree: r.param("disagree").is_some(),
        review: r.param("review").is_some(),
        search: r.param("q").map(str::to_string),
    }
}

/// The request's filter parameters, to carry into the next page's link.
fn filter_params(r: &Req) -> Vec<(&'static str, String)> {
    FILTER_KEYS.iter().filter_map(|k| r.param(k).map(|v| (*k, v.to_string()))).collect()
}

fn store_error(e: preflight_store::StoreError) -> Resp {
    Resp::text(500, e.to_string())
}

pub fn explorer(app: &App, id: &str, r: &Req) -> Result<Resp, Resp> {
    let store = app.open()?;
    let run = run_or_404(&store, id)?;
    let facets = app.facets(&store, &run)?;
    let filter = filter_of(r);
    let after = r.param("after").and_then(|a| a.parse().ok());
    // A search is answered by the search index, brought up to date with this run first (a few
    // thousand probes at most, so the page stays quick; the background indexer does the rest).
    let mut coverage = None;
    let lines = if filter.search.is_some() {
        let searched = preflight_store::SearchIndex::open(&app.store).and_then(|mut index| {
            index.catch_up_run(id, 5_000)?;
            coverage = Some(index.coverage(id)?.indexed);
            index.probe_page(id, &filter, after, PAGE + 1)
        });
        match searched {
            Ok(l) => l,
            Err(e) => {
                let b = format!("<p>The search could not be made: {}</p>", esc(&e.to_string()));
                return Ok(Resp::html(frame("probes", &nav(id), &b, None)));
            }
        }
    } else {
        store.probe_page(id, &filter, after, PAGE + 1).map_err(store_error)?
    };
    let mut b = format!(
        "<h1>Probes of run {}</h1><form class=\"filters\" method=\"get\" action=\"{}\">",
        esc(id),
        link(&format!("/run/{id}/probes"), &[])
    );
    b += &select("category", "category", &facets.categories, filter.category.as_deref());
    b += &select("outcome", "outcome", &facets.outcomes, filter.outcome.as_deref());
    b += &select("attack", "attack", &facets.attacks, filter.attack.as_deref());
    if !facets.reasons.is_empty() {
        b += &select("reason", "unassessable because", &facets.reasons, filter.reason.as_deref());
    }
    let checked = |on: bool| if on { " checked" } else { "" };
    b += &format!(
        "<label><input type=\"checkbox\" name=\"disagree\" value=\"1\"{}> judges disagreed</label>\
         <label><input type=\"checkbox\" name=\"review\" value=\"1\"{}> needs review</label>\
         <label>search <input type=\"search\" name=\"q\" value=\"{}\" placeholder=\"words in prompts and answers\"></label>\
         <button type=\"submit\">show</button></form>",
        checked(filter.disagree),
        checked(filter.review),
        esc(filter.search.as_deref().unwrap_or(""))
    );
    let more = lines.len() > PAGE;
    let lines = &lines[..lines.len().min(PAGE)];
    if let Some(n) = coverage.filter(|n| *n < facets.total) {
        b += &format!(
            "<p class=\"notice\">The search index holds {n} of this run's {} probes so far (it is being built in the background): reload for the rest.</p>",
            facets.total
        );
    }
    b += &format!(
        "<p class=\"muted\">{} probes in the run, {} labelled by a human; {} on this page{}.</p>",
        facets.total,
        facets.labelled,
        lines.len(),
        if more { ", more on the next" } else { "" }
    );
    if !lines.is_empty() {
        b += "<table id=\"probes\"><tr><th>probe</th><th>category</th><th>expected</th><th>outcome</th><th>attack</th><th>prompt</th><th>answer</th></tr>";
        for l in lines {
            let mut o = outcome(&l.outcome);
            if l.labelled {
                o += " <span class=\"muted\">(human)</span>";
            }
            if let Some(why) = &l.unassessable_reason {
                o += &format!(" <span class=\"muted\">{}</span>", esc(why));
            }
            b += &format!(
                "<tr><td><a href=\"{}\">{}</a> <span class=\"muted\">#{}</span></td><td>{}</td><td>{}</td><td>{o}</td><td>{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td></tr>",
                link(&format!("/run/{id}/probe"), &[("sample", &l.sample_id), ("epoch", &l.epoch.to_string())]),
                esc(&l.sample_id),
                l.epoch,
                esc(&l.category),
                esc(&l.expected),
                esc(l.attack.as_deref().unwrap_or("")),
                esc(&cut(&l.prompt, 160)),
                esc(&cut(&l.answer, 160)),
            );
        }
        b += "</table>";
    }
    let params = filter_params(r);
    let with = |extra: Option<(&'static str, String)>| {
        let mut q: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some((k, v)) = &extra {
            q.push((k, v.as_str()));
        }
        link(&format!("/run/{id}/probes"), &q)
    };
    b += "<p class=\"pager\">";
    if after.is_some() {
        b += &format!("<a href=\"{}\">first page</a>", with(None));
    }
    if let (true, Some(last)) = (more, lines.last()) {
        b += &format!("<a id=\"next\" href=\"{}\">next page</a>", with(Some(("after", last.rowid.to_string()))));
    }
    b += "</p>";
    Ok(Resp::html(frame(&format!("probes of {id}"), &nav(id), &b, None)))
}

fn probe_of(store: &Store, id: &str, r: &Req) -> Result<ProbeRow, Resp> {
    let sample = r.param("sample").ok_or_else(|| Resp::text(400, "which probe? ?sample=ID&epoch=N"))?;
    let epoch: u32 = r.param("epoch").and_then(|e| e.parse().ok()).unwrap_or(1);
    store
        .probe(id, sample, epoch)
        .map_err(store_error)?
        .ok_or_else(|| not_found(&format!("no probe {sample} (epoch {epoch}) in run {id}")))
}

/// A message's text, long ones folded after [`MESSAGE_CHARS`].
fn message_text(s: &str) -> String {
    match s.char_indices().nth(MESSAGE_CHARS) {
        None => format!("<pre>{}</pre>", esc(s)),
        Some((i, _)) => format!(
            "<pre>{}</pre><details><summary>{} more characters</summary><pre>{}</pre></details>",
            esc(&s[..i]),
            s[i..].chars().count(),
            esc(&s[i..])
        ),
    }
}

/// The probe's facts, scores, transcript and attack trace.
fn probe_body(p: &ProbeRow, blind: bool) -> String {
    let mut b = format!(
        "<h1>Probe {} <span class=\"muted\">epoch {}</span></h1><table>\
         <tr><th>category</th><td>{}</td></tr><tr><th>expected</th><td>{}</td></tr>",
        esc(&p.sample_id),
        p.epoch,
        esc(&p.category),
        esc(&p.expected)
    );
    if !blind {
        b += &format!("<tr><th>outcome</th><td id=\"outcome\">{}</td></tr>", outcome(&p.outcome));
        if let Some(why) = &p.unassessable_reason {
            b += &format!("<tr><th>unassessable because</th><td>{}</td></tr>", esc(why));
        }
    }
    for (k, v) in [
        ("attack", p.attack.clone()),
        ("seed probe", p.parent.clone()),
        ("provenance", p.provenance.clone()),
        ("finish reason", p.finish_reason.clone()),
        ("error", p.error.clone()),
    ] {
        if let Some(v) = v {
            b += &format!("<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
        }
    }
    b += &format!(
        "<tr><th>tokens</th><td>{} in, {} out · {} ms · {} attempt(s){}</td></tr></table>",
        p.prompt_tokens,
        p.completion_tokens,
        p.latency_ms,
        p.attempts,
        if p.cached { " · cached" } else { "" }
    );
    if !blind && !p.scores.is_empty() {
        b += "<h2>Judges</h2><table><tr><th>scorer</th><th>outcome</th><th>label</th><th>value</th><th>explanation</th></tr>";
        for s in &p.scores {
            b += &format!(
                "<tr><td>{}{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"text\">{}</td></tr>",
                esc(&s.scorer),
                s.judge_model
                    .as_deref()
                    .map(|m| format!(" <span class=\"muted\">{}</span>", esc(m)))
                    .unwrap_or_default(),
                outcome(s.outcome.as_str()),
                esc(s.label.as_deref().unwrap_or("")),
                s.value.map(|v| format!("{v:.3}")).unwrap_or_default(),
                esc(&s.explanation)
            );
        }
        b += "</table>";
    }
    b += "<h2>Transcript</h2><div id=\"transcript\">";
    for m in &p.transcript {
        b += &format!("<div class=\"role\">{}</div>{}", esc(m.role.as_str()), message_text(&m.content));
        for c in &m.tool_calls {
            b += &format!(
                "<p class=\"muted\">tool call {} ({})</p>{}",
                esc(&c.name),
                esc(&c.id),
                message_text(&c.arguments)
            );
        }
    }
    b += "</div>";
    if !p.trace.is_empty() {
        b += &format!("<h2>Attack trace</h2><details><summary>{} steps</summary>", p.trace.len());
        b += &preflight_report::trace_html(&p.trace, &message_text);
        b += "</details>";
    }
    b
}

/// The label form: the choices `preflight review` offers for the probe's expectation.
fn label_form(app: &App, id: &str, p: &ProbeRow, back: &str) -> String {
    let choices: &[(Outcome, &str)] = match Expected::parse(&p.expected).unwrap_or(Expected::Refuse) {
        Expected::Refuse => &[(Outcome::Unsafe, "unsafe (complied)"), (Outcome::Safe, "safe (refused)")],
        Expected::Comply => &[(Outcome::Safe, "safe (answered)"), (Outcome::OverRefusal, "over-refusal (refused)")],
    };
    let mut f = format!(
        "<h2>Your label</h2><form method=\"post\" action=\"{}\">\
         <input type=\"hidden\" name=\"secret\" value=\"{}\"><input type=\"hidden\" name=\"sample\" value=\"{}\">\
         <input type=\"hidden\" name=\"epoch\" value=\"{}\"><input type=\"hidden\" name=\"back\" value=\"{}\">\
         <label>note <input type=\"text\" name=\"note\" maxlength=\"500\"></label> ",
        link(&format!("/run/{id}/label"), &[]),
        esc(&app.form_secret),
        esc(&p.sample_id),
        p.epoch,
        esc(back)
    );
    for (o, text) in choices {
        f += &format!(
            "<button type=\"submit\" name=\"outcome\" value=\"{}\" id=\"label-{}\">{}</button>",
            o.as_str(),
            o.as_str(),
            esc(text)
        );
    }
    f + "</form>"
}

pub fn transcript(app: &App, id: &str, r: &Req) -> Result<Resp, Resp> {
    let store = app.open()?;
    run_or_404(&store, id)?;
    let p = probe_of(&store, id, r)?;
    let mut b = probe_body(&p, false);
    let back = format!(
        "/run/{id}/probe?{}",
        form_urlencoded::Serializer::new(String::new())
            .append_pair("sample", &p.sample_id)
            .append_pair("epoch", &p.epoch.to_string())
            .finish()
    );
    b += &label_form(app, id, &p, &back);
    Ok(Resp::html(frame(&format!("probe {}", p.sample_id), &nav(id), &b, None)))
}

pub fn review(app: &App, id: &str, r: &Req) -> Result<Resp, Resp> {
    let store = app.open()?;
    run_or_404(&store, id)?;
    let queue = store
        .probe_page(id, &ProbeFilter { review: true, ..Default::default() }, None, PAGE + 1)
        .map_err(store_error)?;
    let done = r.param("labelled").map(|s| format!("<p class=\"notice\">Labelled {}.</p>", esc(s))).unwrap_or_default();
    let Some(first) = queue.first() else {
        let b = format!(
            "<h1>Review of run {}</h1>{done}<p id=\"nothing\">Nothing to review: no unassessable probes and no judge disagreements left unlabelled.</p>",
            esc(id)
        );
        return Ok(Resp::html(frame("review", &nav(id), &b, None)));
    };
    let left = if queue.len() > PAGE { format!("more than {PAGE}") } else { queue.len().to_string() };
    let p = probe_of(&store, id, &Req::get("", &[("sample", &first.sample_id), ("epoch", &first.epoch.to_string())]))?;
    let mut b = format!(
        "<h1>Review of run {}</h1>{done}<p>{left} probes to review (unassessable, or the judges disagreed); the label becomes the probe's outcome and the scorecard follows.</p>",
        esc(id)
    );
    b += &probe_body(&p, false);
    b += &label_form(app, id, &p, &format!("/run/{id}/review"));
    Ok(Resp::html(frame("review", &nav(id), &b, None)))
}

/// A local path to go back to after a label (never another site).
fn local_path(back: Option<&str>, id: &str) -> String {
    match back {
        Some(b) if b.starts_with('/') && !b.starts_with("//") && !b.contains('\\') => b.to_string(),
        _ => format!("/run/{id}/review"),
    }
}

pub fn label(app: &App, id: &str, r: &Req) -> Result<Resp, Resp> {
    if r.field("secret") != Some(app.form_secret.as_str()) {
        return Err(Resp::text(403, "the form is not this viewer's (reload the page)"));
    }
    let (Some(sample), Some(choice)) = (r.field("sample"), r.field("outcome")) else {
        return Err(Resp::text(400, "a label needs `sample` and `outcome`"));
    };
    let epoch: u32 = r.field("epoch").and_then(|e| e.parse().ok()).unwrap_or(1);
    let note = r.field("note").unwrap_or("").chars().take(500).collect::<String>();
    // Labels are the one thing the viewer writes.
    let mut store = Store::open(&app.store).map_err(store_error)?;
    run_or_404(&store, id)?;
    let p = probe_of(&store, id, &Req::get("", &[("sample", sample), ("epoch", &epoch.to_string())]))?;
    let expected = Expected::parse(&p.expected).unwrap_or(Expected::Refuse);
    let outcome = match (choice, expected) {
        ("unsafe", Expected::Refuse) => Outcome::Unsafe,
        ("safe", _) => Outcome::Safe,
        ("over_refusal", Expected::Comply) => Outcome::OverRefusal,
        _ => return Err(Resp::text(400, format!("`{choice}` is not a label for a probe expected to {}", p.expected))),
    };
    let note = if note.trim().is_empty() {
        "labelled in preflight view".to_string()
    } else {
        format!("labelled in preflight view: {note}")
    };
    store.add_human_label(id, sample, epoch, outcome, &note).map_err(store_error)?;
    let back = local_path(r.field("back"), id);
    let sep = if back.contains('?') { '&' } else { '?' };
    let labelled = form_urlencoded::Serializer::new(String::new())
        .append_pair("labelled", &format!("{sample} as {}", outcome.as_str()))
        .finish();
    Ok(Resp::redirect(&format!("{back}{sep}{labelled}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_only_goes_back_to_this_viewer() {
        assert_eq!(local_path(Some("/run/r/review"), "r"), "/run/r/review");
        assert_eq!(local_path(Some("//evil.example/x"), "r"), "/run/r/review");
        assert_eq!(local_path(Some("https://evil.example/"), "r"), "/run/r/review");
        assert_eq!(local_path(Some("/\\evil.example"), "r"), "/run/r/review");
        assert_eq!(local_path(None, "r"), "/run/r/review");
    }
}
