//! Pages about a run's measured conversations: persuasion games, agent attempts (their steps,
//! each tool call with its output) and knowledge questions — the viewer's `show --sample ITEM`.

use crate::{
    app::{App, not_found, run_or_404},
    http::{Req, Resp},
    page::{esc, frame, link},
    probes::PAGE,
    runs::nav,
};

const GAMES: [&str; 6] = ["belief-shift", "make-me-pay", "make-me-say", "pairwise", "agent", "knowledge"];

fn value_text(v: Option<f64>) -> String {
    v.map(|v| format!("{v:+.3}")).unwrap_or_else(|| "no value".into())
}

pub fn list(app: &App, id: &str, r: &Req) -> Result<Resp, Resp> {
    let store = app.open()?;
    run_or_404(&store, id)?;
    let game = r.param("game").filter(|g| GAMES.contains(g));
    let after = r.param("after").and_then(|a| a.parse().ok());
    let lines = store.measure_page(id, game, after, PAGE + 1).map_err(|e| Resp::text(500, e.to_string()))?;
    let mut b = format!("<h1>Conversations of run {}</h1><p class=\"pager\">", esc(id));
    b += &format!("<a href=\"{}\">all</a>", link(&format!("/run/{id}/items"), &[]));
    for g in GAMES {
        b += &format!("<a href=\"{}\">{g}</a>", link(&format!("/run/{id}/items"), &[("game", g)]));
    }
    b += "</p>";
    let more = lines.len() > PAGE;
    let lines = &lines[..lines.len().min(PAGE)];
    if lines.is_empty() {
        b += "<p>No measured conversations here: persuasion games, agent tasks and knowledge questions store theirs.</p>";
    } else {
        b += "<table id=\"items\"><tr><th>conversation</th><th>epoch</th><th>category</th><th>game</th><th>measure</th><th>value</th></tr>";
        for l in lines {
            b += &format!(
                "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                link(&format!("/run/{id}/item"), &[("id", &l.item_id)]),
                esc(&l.item_id),
                l.epoch,
                esc(&l.category),
                esc(&l.game),
                esc(&l.measure),
                value_text(l.value)
            );
        }
        b += "</table>";
    }
    if let (true, Some(last)) = (more, lines.last()) {
        let last = last.rowid.to_string();
        b += &format!(
            "<p class=\"pager\"><a id=\"next\" href=\"{}\">next page</a></p>",
            link(&format!("/run/{id}/items"), &[("game", game.unwrap_or("")), ("after", &last)])
        );
    }
    Ok(Resp::html(frame(&format!("conversations of {id}"), &nav(id), &b, None)))
}

pub fn item(app: &App, id: &str, r: &Req) -> Result<Resp, Resp> {
    let store = app.open()?;
    run_or_404(&store, id)?;
    let item = r.param("id").ok_or_else(|| Resp::text(400, "which conversation? ?id=ITEM"))?;
    let rows = store.measure_item(id, item).map_err(|e| Resp::text(500, e.to_string()))?;
    if rows.is_empty() {
        return Err(not_found(&format!("no conversation {item} in run {id}")));
    }
    let mut b = format!("<h1>{}</h1>", esc(item));
    for (measure, value, mut detail, transcript) in rows {
        b += &format!("<h2>{} = {}</h2>", esc(&measure), value_text(value));
        // An agent attempt: its steps one by one, the rest of its detail before them.
        let steps = detail.as_object_mut().and_then(|d| d.remove("steps"));
        b += &format!(
            "<details><summary>detail</summary><pre>{}</pre></details>",
            esc(&serde_json::to_string_pretty(&detail).unwrap_or_default())
        );
        if let Some(serde_json::Value::Array(steps)) = steps {
            let text = |t: &str| format!("<pre>{}</pre>", esc(t));
            b += &format!("<div id=\"steps\">{}", preflight_report::steps_html(&steps, &text));
            b += "</div>";
            continue;
        }
        b += "<div class=\"transcript\">";
        for m in &transcript {
            b += &format!("<div class=\"role\">{}</div><pre>{}</pre>", esc(m.role.as_str()), esc(&m.content));
        }
        b += "</div>";
    }
    Ok(Resp::html(frame(item, &nav(id), &b, None)))
}
