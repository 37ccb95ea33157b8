//! The self-contained HTML report in a real browser (Debian's `chromium`, headless, which
//! `scripts/deps.sh` installs): model answers full of markup meant to run — `<script>`,
//! `<img onerror>`, `javascript:` links, SVG with scripts, terminal escapes — are shown as text
//! and nothing of them runs. A control page with the same markup unescaped shows that the
//! browser would have run it, so the check can fail.

mod common;

use std::path::Path;

use common::*;
use preflight_mock::{Recorded, Reply, Scripted};
use serde_json::json;

fn chromium() -> &'static str {
    for c in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(c).exists() {
            return c;
        }
    }
    panic!("the browser tests need Debian's chromium (scripts/deps.sh installs it)");
}

/// The page's DOM after loading it, as the browser serialises it.
fn dump_dom(page: &Path) -> String {
    let profile = page.with_extension("profile");
    let out = std::process::Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--virtual-time-budget=3000"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn nothing_a_model_wrote_runs_in_the_html_report() {
    let dir = TempDir::new("html");
    let server = Scripted::start(|_: &Recorded| {
        Reply::json(
            200,
            json!({"id": "c", "object": "chat.completion", "created": 0, "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": HOSTILE_ANSWER}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 50, "total_tokens": 55}}),
        )
    })
    .unwrap();
    let suite = write_suite(dir.path(), 6, "[[never]]", "scorers = [\"refusal\"]\nattacks = [\"base64\"]");
    let store = dir.join("p.db").display().to_string();
    let out = bin()
        .args([
            "eval",
            &suite.display().to_string(),
            "--model",
            "openai/m",
            "--base-url",
            &format!("{}/v1", server.url()),
        ])
        .args(["--store", &store, "--cache-dir", &dir.join("cache").display().to_string(), "--format", "json", "-q"])
        .output()
        .unwrap();
    let run_id = json(&out)["run"]["id"].as_str().unwrap().to_string();
    let page = dir.join("report.html");
    let r = bin()
        .args(["report", &run_id, "--format", "html", "-o", &page.display().to_string(), "--store", &store])
        .output()
        .unwrap();
    assert_eq!(code(&r), 0, "{}", stderr(&r));
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained and script-free: no script element, no external reference, a strict CSP.
    assert!(!html.to_lowercase().contains("<script"), "a script element in the page");
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "an external asset");
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    // The evidence is there, as text.
    assert!(html.contains("&lt;script&gt;document.title="), "the payload is not shown");
    assert!(!html.contains('\u{1b}'), "a terminal escape reached the page raw");
    assert!(html.contains("Coverage: category × attack") && html.contains("Attack success"), "the attack views");

    let dom = dump_dom(&page);
    assert!(
        dom.contains(&format!("<title>preflight · {run_id}</title>")),
        "the title changed: {}",
        &dom[..400.min(dom.len())]
    );
    // A payload that ran would have set the attribute (the text shows only `setAttribute('data-pwned', …)`).
    assert!(!dom.contains("data-pwned=\""), "a payload ran in the report");
    assert!(!dom.contains("<iframe") && !dom.contains("<img"), "markup from the model became elements");
    assert!(dom.contains("document.title='PWNED'"), "the payload is shown as text");

    // Control: the same markup unescaped does run in this browser.
    let control = dir.join("control.html");
    std::fs::write(
        &control,
        format!("<!DOCTYPE html><html><head><title>control</title></head><body>{HOSTILE_ANSWER}</body></html>"),
    )
    .unwrap();
    let dom = dump_dom(&control);
    assert!(
        dom.contains("data-pwned") || dom.contains("<title>PWNED</title>"),
        "the control page did not run its scripts: {dom}"
    );
}
