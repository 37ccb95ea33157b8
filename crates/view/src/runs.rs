//! Pages about whole runs: the list (with live progress), a run's scorecard, its self-contained
//! report as a download, and two runs compared probe for probe.

use preflight_store::RunRow;

use crate::{
    app::{App, run_or_404},
    http::{Req, Resp},
    page::{esc, frame, link},
};

/// Runs per page of the list.
const RUNS_PER_PAGE: usize = 100;

/// Seconds between reloads of a page showing a running run.
const REFRESH: u32 = 5;

fn progress(r: &RunRow) -> String {
    let total = r.total.max(r.done);
    format!(
        "<progress value=\"{}\" max=\"{}\"></progress> <span class=\"num\">{}/{}</span>",
        r.done,
        total.max(1),
        r.done,
        total
    )
}

pub fn list(app: &App, r: &Req) -> Result<Resp, Resp> {
    let store = app.open()?;
    let runs = store.runs().map_err(|e| Resp::text(500, e.to_string()))?;
    let offset: usize = r.param("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let shown = &runs[offset.min(runs.len())..(offset + RUNS_PER_PAGE).min(runs.len())];
    let running = shown.iter().any(|r| r.status == preflight_core::RunStatus::Running);
    let mut b = format!("<h1>Runs</h1><p class=\"muted\">store {}</p>", esc(&app.store.display().to_string()));
    if runs.is_empty() {
        b += "<p>No runs in this store yet: <code>preflight eval</code> makes one.</p>";
    } else {
        b += "<table><tr><th>run</th><th>created</th><th>status</th><th>probes</th><th>verdict</th><th>suite</th><th>model</th></tr>";
        for run in shown {
            b += &format!(
                "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                link(&format!("/run/{}", run.id), &[]),
                esc(&run.id),
                esc(&run.created_at),
                esc(run.status.as_str()),
                progress(run),
                run.verdict
                    .as_deref()
                    .map(|v| format!("<span class=\"lv {0}\">{0}</span>", esc(v)))
                    .unwrap_or_default(),
                esc(&run.suite_name),
                esc(&run.model)
            );
        }
        b += "</table><p class=\"pager\">";
        if offset > 0 {
            b += &format!(
                "<a href=\"{}\">newer</a>",
                link("/", &[("offset", &offset.saturating_sub(RUNS_PER_PAGE).to_string())])
            );
        }
        if offset + RUNS_PER_PAGE < runs.len() {
            b += &format!("<a href=\"{}\">older</a>", link("/", &[("offset", &(offset + RUNS_PER_PAGE).to_string())]));
        }
        b += "</p>";
        // Two runs side by side: a plain GET form.
        let options: String = runs
            .iter()
            .take(500)
            .map(|r| format!("<option value=\"{0}\">{0} · {1}</option>", esc(&r.id), esc(&r.model)))
            .collect();
        b += &format!(
            "<h2>Compare two runs</h2><form method=\"get\" action=\"/compare\">\
             <label>baseline <select name=\"a\">{options}</select></label> \
             <label>candidate <select name=\"b\">{options}</select></label> <button type=\"submit\">compare</button></form>"
        );
    }
    Ok(Resp::html(frame("runs", &[], &b, running.then_some(REFRESH))))
}

/// A run's pages, for the navigation bar.
pub(crate) fn nav(id: &str) -> Vec<(String, String)> {
    vec![
        (link(&format!("/run/{id}"), &[]), format!("run {id}")),
        (link(&format!("/run/{id}/probes"), &[]), "probes".into()),
        (link(&format!("/run/{id}/items"), &[]), "conversations".into()),
        (link(&format!("/run/{id}/review"), &[]), "review".into()),
        (link(&format!("/run/{id}/report.html"), &[]), "report.html".into()),
    ]
}

pub fn scorecard(app: &App, id: &str) -> Result<Resp, Resp> {
    let store = app.open()?;
    let run = run_or_404(&store, id)?;
    // The progress of a running run needs its count.
    let run = match run.status {
        preflight_core::RunStatus::Running => store.run(id).ok().flatten().unwrap_or(run),
        _ => run,
    };
    let report = app.report(&store, &run);
    let running = run.status == preflight_core::RunStatus::Running;
    let mut b = String::new();
    if running {
        b += &format!("<p class=\"notice\">Running: {} — this page reloads every {REFRESH} s.</p>", progress(&run));
    }
    match &*report {
        Ok(rep) => b += &rep.html_body(),
        Err(e) => b += &format!("<h1>Run {}</h1><p>No scorecard: {}</p>", esc(id), esc(e)),
    }
    Ok(Resp::html(frame(&format!("run {id}"), &nav(id), &b, running.then_some(REFRESH))))
}

pub fn download(app: &App, id: &str) -> Result<Resp, Resp> {
    let store = app.open()?;
    let run = run_or_404(&store, id)?;
    match &*app.report(&store, &run) {
        Ok(rep) => Ok(Resp {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: rep.to_html().into_bytes(),
            headers: vec![(
                "content-disposition",
                format!("attachment; filename=\"preflight-{}.html\"", safe_name(id)),
            )],
        }),
        Err(e) => Err(Resp::text(500, e.clone())),
    }
}

/// A run id as a file name (ids are `YYYYMMDD-HHMMSS-xxxx`; anything else is dropped).
fn safe_name(id: &str) -> String {
    id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect()
}

pub fn compare(app: &App, r: &Req) -> Result<Resp, Resp> {
    let (Some(a), Some(b)) = (r.param("a"), r.param("b")) else {
        return Err(Resp::text(400, "compare needs two runs: ?a=BASELINE&b=CANDIDATE"));
    };
    let store = app.open()?;
    let (ra, rb) = (run_or_404(&store, a)?, run_or_404(&store, b)?);
    let policy_of = |r: &RunRow| {
        preflight_stats::Policy::load_or_default(preflight_report::policy_path_of(r).as_deref())
            .map_err(|e| preflight_report::BuildError::Mismatch(e.to_string()))
    };
    let policy = policy_of(&rb).map_err(|e| Resp::text(500, e.to_string()))?;
    let c = preflight_report::compare::compare(&store, a, b, &policy, policy_of)
        .map_err(|e| Resp::text(500, e.to_string()))?;
    let mut body = format!("<h1>Run {} against {}</h1>", esc(b), esc(a));
    body += &c.html_table();
    // The two scorecards side by side.
    body += "<div class=\"side\">";
    for run in [&ra, &rb] {
        body += &format!(
            "<div><h2><a href=\"{}\">{}</a> · {}</h2>",
            link(&format!("/run/{}", run.id), &[]),
            esc(&run.id),
            esc(&run.model)
        );
        match &*app.report(&store, run) {
            Ok(rep) => {
                body += &format!("<p>{}</p><table><tr><th>category</th><th>level</th></tr>", esc(&rep.verdict_line()));
                for cat in &rep.scorecard.categories {
                    body += &format!(
                        "<tr><td>{}</td><td><span class=\"lv {}\">{}</span></td></tr>",
                        esc(&cat.category),
                        cat.level_at_most.as_str(),
                        esc(&preflight_report::level_range(cat.level_at_least, cat.level_at_most))
                    );
                }
                body += "</table>";
            }
            Err(e) => body += &format!("<p>No scorecard: {}</p>", esc(e)),
        }
        body += "</div>";
    }
    body += "</div>";
    Ok(Resp::html(frame("compare", &[], &body, None)))
}
