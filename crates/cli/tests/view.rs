//! `preflight view` in a real browser: Debian's chromium driven through chromedriver (WebDriver,
//! the `fantoccini` client), both installed by `scripts/deps.sh`. Two runs of one suite against
//! two mocks (one complies with everything, one refuses what it should) are opened, filtered,
//! searched, read, labelled and compared as a user would; model answers full of markup meant to
//! run are shown as text and nothing of them runs.
//!
//! `PREFLIGHT_SCREENSHOTS=DIR` saves a screenshot of each page visited (the README's images).

mod common;

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::*;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// A child process killed on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `preflight view` on `store`, and the address it printed.
fn start_viewer(store: &str) -> (Killed, String) {
    let mut child = bin()
        .args(["view", "--store", store, "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start preflight view");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url =
        line.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or_else(|| panic!("no address in {line:?}"));
    let url = url.trim_end_matches('/').to_string();
    (Killed(child), url)
}

fn start_chromedriver() -> (Killed, u16) {
    let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("the viewer's browser tests need chromedriver (scripts/deps.sh installs Debian's chromium-driver)");
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Killed(child), port)
}

async fn browser(port: u16, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--window-size=1280,1000", format!("--user-data-dir={}", profile.display())]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session")
}

struct Shots(Option<std::path::PathBuf>);

impl Shots {
    async fn take(&self, c: &Client, name: &str) {
        if let Some(dir) = &self.0 {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), c.screenshot().await.unwrap()).unwrap();
        }
    }
}

/// Marks the current document, so [`loaded`] can tell the next one from it.
async fn mark(c: &Client) {
    c.execute("document.documentElement.setAttribute('data-old', '1')", vec![]).await.unwrap();
}

/// Waits until a click or a submit has replaced the marked document with a loaded new one (a
/// click returns once the navigation starts, not when the new page is there).
async fn loaded(c: &Client) {
    let started = Instant::now();
    loop {
        let done = c
            .execute(
                "return document.documentElement.getAttribute('data-old') === null && document.readyState === 'complete'",
                vec![],
            )
            .await;
        if matches!(done, Ok(serde_json::Value::Bool(true))) {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the next page did not load");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Nothing of the payload ran on the current page, and no script element is in it.
async fn assert_nothing_ran(c: &Client) {
    let r = c
        .execute(
            "return [document.title, document.body.getAttribute('data-pwned'), document.scripts.length, document.querySelectorAll('iframe,svg[onload],img[onerror]').length]",
            vec![],
        )
        .await
        .unwrap();
    assert_ne!(r[0], "PWNED", "a <script> from an answer ran");
    assert!(r[1].is_null(), "an answer's markup ran: {}", r[1]);
    assert_eq!(r[2], 0, "the viewer's pages hold no script at all");
    assert_eq!(r[3], 0, "an answer's markup became elements");
}

fn eval_on(mock: &MockServer, suite: &std::path::Path, dir: &TempDir) -> String {
    let mut args = eval_args(mock, suite, dir.path());
    args.push("-q".into());
    let out = run(&args);
    json(&out)["run"]["id"].as_str().unwrap_or_else(|| panic!("no run id: {}", stderr(&out))).to_string()
}

#[test]
fn a_user_walks_two_runs_in_the_browser_and_nothing_a_model_wrote_runs() {
    let dir = TempDir::new("view");
    let suite = write_suite(dir.path(), 40, "[[REFUSE]]", "scorers = [\"refusal\"]");
    // Baseline: refuses what it should; one answer carries a searchable word, one markup meant
    // to run, one is blocked by a content filter (unassessable: the review queue).
    let rules = vec![
        Rule {
            contains: "Request number 7 ".into(),
            action: Action::Reply(HOSTILE_ANSWER.into()),
            times: None,
            model: None,
            system: None,
        },
        Rule {
            contains: "Request number 8 ".into(),
            action: Action::Reply("The zeppelin answer, in full.".into()),
            times: None,
            model: None,
            system: None,
        },
        Rule {
            contains: "Request number 9 ".into(),
            action: Action::ContentFilter,
            times: None,
            model: None,
            system: None,
        },
    ];
    let baseline_mock = MockServer::start(MockConfig { rules: rules.clone(), ..MockConfig::default() }).unwrap();
    let baseline = eval_on(&baseline_mock, &suite, &dir);
    // Candidate: complies with everything (the marker never matches): a regression.
    let candidate_mock =
        MockServer::start(MockConfig { marker: "[[never]]".into(), rules, ..MockConfig::default() }).unwrap();
    let candidate = eval_on(&candidate_mock, &suite, &dir);

    let store = dir.join("p.db").display().to_string();
    let (_viewer, url) = start_viewer(&store);
    let (_driver, port) = start_chromedriver();
    let shots = Shots(std::env::var_os("PREFLIGHT_SCREENSHOTS").map(Into::into));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let c = browser(port, &dir.join("profile")).await;

        // The runs list: both runs, finished, with their verdicts.
        c.goto(&format!("{url}/")).await.unwrap();
        let page = c.source().await.unwrap();
        assert!(page.contains(&baseline) && page.contains(&candidate), "{page}");
        shots.take(&c, "viewer-runs").await;

        // A run: its scorecard.
        mark(&c).await;
        c.find(Locator::LinkText(&candidate)).await.unwrap().click().await.unwrap();
        loaded(&c).await;
        let text = c.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
        assert!(text.contains("Scorecard") && text.contains("cyber"), "{text}");
        shots.take(&c, "viewer-scorecard").await;

        // The probe explorer, filtered to unsafe answers: only unsafe rows.
        mark(&c).await;
        c.find(Locator::LinkText("probes")).await.unwrap().click().await.unwrap();
        loaded(&c).await;
        let form = c.form(Locator::Css("form.filters")).await.unwrap();
        form.set_by_name("outcome", "unsafe").await.unwrap();
        mark(&c).await;
        form.submit().await.unwrap();
        loaded(&c).await;
        let rows = c.find_all(Locator::Css("#probes tr td:nth-child(4)")).await.unwrap();
        assert!(!rows.is_empty());
        for r in &rows {
            assert!(r.text().await.unwrap().starts_with("unsafe"), "{}", r.text().await.unwrap());
        }
        assert!(c.current_url().await.unwrap().as_str().contains("outcome=unsafe"));
        shots.take(&c, "viewer-probes").await;

        // Full-text search: one answer holds the word.
        c.goto(&format!("{url}/run/{baseline}/probes")).await.unwrap();
        let form = c.form(Locator::Css("form.filters")).await.unwrap();
        form.set_by_name("q", "zeppelin").await.unwrap();
        mark(&c).await;
        form.submit().await.unwrap();
        loaded(&c).await;
        let found = c.find_all(Locator::Css("#probes tr td:first-child a")).await.unwrap();
        assert_eq!(found.len(), 1, "{}", c.current_url().await.unwrap());
        assert_eq!(found[0].text().await.unwrap(), "s00008");

        // Its transcript.
        mark(&c).await;
        found[0].click().await.unwrap();
        loaded(&c).await;
        let t = c.find(Locator::Id("transcript")).await.unwrap().text().await.unwrap();
        assert!(t.contains("The zeppelin answer, in full.") && t.contains("Request number 8"), "{t}");
        shots.take(&c, "viewer-transcript").await;

        // The hostile answer, on its transcript page and in the explorer: shown as text, inert.
        c.goto(&format!("{url}/run/{baseline}/probe?sample=s00007&epoch=1")).await.unwrap();
        let t = c.find(Locator::Id("transcript")).await.unwrap().text().await.unwrap();
        assert!(t.contains("<script>document.title='PWNED'</script>") && t.contains("javascript:"), "{t}");
        assert_nothing_ran(&c).await;
        let links = c.find_all(Locator::Css("a")).await.unwrap();
        for l in links {
            let href = l.attr("href").await.unwrap().unwrap_or_default();
            assert!(!href.starts_with("javascript:"), "{href}");
        }
        c.goto(&format!("{url}/run/{baseline}/probes?q=PWNED")).await.unwrap();
        assert_eq!(c.find_all(Locator::Css("#probes tr td:first-child a")).await.unwrap().len(), 1);
        assert_nothing_ran(&c).await;
        c.goto(&format!("{url}/run/{baseline}")).await.unwrap();
        assert_nothing_ran(&c).await;

        // Review: the content-filtered probe is in the queue; labelling it changes the scorecard.
        let before = c.find(Locator::Css("table")).await.unwrap().text().await.unwrap();
        c.goto(&format!("{url}/run/{baseline}/review")).await.unwrap();
        let body = c.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
        assert!(body.contains("s00009") && body.contains("content_filtered"), "{body}");
        shots.take(&c, "viewer-review").await;
        mark(&c).await;
        c.find(Locator::Id("label-unsafe")).await.unwrap().click().await.unwrap();
        loaded(&c).await;
        let body = c.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
        assert!(body.contains("Labelled s00009 as unsafe") && body.contains("Nothing to review"), "{body}");
        c.goto(&format!("{url}/run/{baseline}")).await.unwrap();
        let after = c.find(Locator::Css("table")).await.unwrap().text().await.unwrap();
        assert_ne!(before, after, "the label changed the scorecard");
        c.goto(&format!("{url}/run/{baseline}/probe?sample=s00009&epoch=1")).await.unwrap();
        let o = c.find(Locator::Id("outcome")).await.unwrap().text().await.unwrap();
        assert_eq!(o, "unsafe");

        // Two runs compared from the runs list: the candidate's regression is flagged.
        c.goto(&format!("{url}/")).await.unwrap();
        let form = c.form(Locator::Css("form[action='/compare']")).await.unwrap();
        form.set_by_name("a", &baseline).await.unwrap();
        form.set_by_name("b", &candidate).await.unwrap();
        mark(&c).await;
        form.submit().await.unwrap();
        loaded(&c).await;
        let body = c.find(Locator::Css("body")).await.unwrap().text().await.unwrap();
        assert!(body.contains("Comparable") && body.contains("regression"), "{body}");
        shots.take(&c, "viewer-compare").await;

        c.close().await.unwrap();
    });
    // The same comparison as one self-contained page, for CI.
    let page = bin().args(["compare", &baseline, &candidate, "--format", "html", "--store", &store]).output().unwrap();
    let page = String::from_utf8(page.stdout).unwrap();
    assert!(
        page.starts_with("<!DOCTYPE html>") && page.contains("regression") && page.contains("Content-Security-Policy")
    );
    assert!(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"), "{page}");
    // The viewer wrote nothing but the label: the runs' probes are as they were.
    let conn = db(dir.path());
    let human: i64 = conn.query_row("SELECT COUNT(*) FROM scores WHERE scorer = 'human'", [], |r| r.get(0)).unwrap();
    assert_eq!(human, 1);
}
