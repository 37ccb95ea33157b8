//! The viewer on a big store (`bench/viewer.sh` runs it):
//!
//! - `bench make DB N`: one run of N probes written through the run writer, as `eval` writes
//!   them (search index and all): 8 categories, 5 attacks, outcomes mixed, 1% judge panel
//!   disagreements, answers of ~60 words from a 2,000-word vocabulary, one answer in 1,000
//!   holding the word `zeppelin`. `BENCH_STORE_SQL` runs SQL on the new store first (a variant
//!   to compare the writer with, e.g. `DROP INDEX probes_outcome; …` for schema 7's indexes).
//! - `bench time DB`: builds the search index (timed), serves the store and times pages over
//!   HTTP on loopback: the first probe page, a
//!   filtered page, a rare filter, a deep page, searches for a rare and a common word, the
//!   runs list, the scorecard (cold, then cached); then the process's peak memory.
//! - `bench report DB`: the run's self-contained HTML report, built and rendered in-process (what
//!   `preflight report RUN --format html` does): times, size, peak memory.

use std::{
    io::{Read, Write},
    time::Instant,
};

use preflight_core::{Event, Expected, Message, Outcome, ProbeRecord, Sample, Score};
use preflight_store::{Lease, NewRun, Store};

const CATEGORIES: [&str; 8] =
    ["cbrn", "cyber", "illegal", "harassment", "misinformation", "self-harm", "persuasion", "over-refusal"];
const ATTACKS: [&str; 5] = ["base64", "leetspeak", "roleplay", "past-tense", "prefix-injection"];

/// A small deterministic generator (the store is the same on every machine).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn word(i: u64) -> String {
    // Pronounceable, distinct words: consonant-vowel syllables from the index.
    const C: &[u8] = b"bcdfghklmnprstvz";
    const V: &[u8] = b"aeiou";
    let mut w = String::new();
    let mut x = i + 1;
    while x > 0 {
        w.push(C[(x % 16) as usize] as char);
        x /= 16;
        w.push(V[(x % 5) as usize] as char);
        x /= 5;
    }
    w
}

fn make(path: &str, n: u64) {
    let store = Store::open(std::path::Path::new(path)).unwrap();
    if let Ok(sql) = std::env::var("BENCH_STORE_SQL") {
        // A variant of the store to compare the writer with (e.g. without the viewer's indexes).
        rusqlite::Connection::open(path).unwrap().execute_batch(&sql).unwrap();
    }
    let lease = Lease::for_this_process();
    let id = store
        .create_run(
            &NewRun {
                suite_name: "bench-viewer".into(),
                model: "openai/bench".into(),
                total: n,
                config: serde_json::json!({}),
                ..Default::default()
            },
            &lease,
        )
        .unwrap();
    let vocab: Vec<String> = (0..2000).map(word).collect();
    let mut rng = Lcg(7);
    let started = Instant::now();
    let w = store.writer(&id, &lease, Box::new(|e| panic!("write failed: {e}"))).unwrap();
    for i in 0..n {
        let cat = CATEGORIES[rng.below(8) as usize];
        let expected = if cat == "over-refusal" { Expected::Comply } else { Expected::Refuse };
        let mut answer: Vec<&str> = (0..60).map(|_| vocab[rng.below(2000) as usize].as_str()).collect();
        if i % 1000 == 500 {
            answer[10] = "zeppelin";
        }
        let prompt: Vec<&str> = (0..15).map(|_| vocab[rng.below(2000) as usize].as_str()).collect();
        let roll = rng.below(100);
        let outcome = match (roll, expected) {
            (0..=4, _) => Outcome::Unassessable,
            (5..=34, Expected::Refuse) => Outcome::Unsafe,
            (5..=14, Expected::Comply) => Outcome::OverRefusal,
            _ => Outcome::Safe,
        };
        let mut sample = Sample::new(&format!("s{i:07}"), &prompt.join(" "), expected, cat);
        if rng.below(2) == 0 {
            sample.attack = Some(ATTACKS[rng.below(5) as usize].into());
        }
        let judge = |scorer: &str, label: &str| Score {
            scorer: scorer.into(),
            outcome,
            label: Some(label.into()),
            value: None,
            explanation: "bench".into(),
            judge_model: None,
            prompt_hash: None,
        };
        let mut scores = vec![judge("refusal", outcome.as_str())];
        if i % 100 == 37 {
            scores.push(judge("panel", "disagree"));
        }
        w.send(Event::ProbeFinished(Box::new(ProbeRecord {
            sample,
            epoch: 1,
            transcript: vec![Message::user(prompt.join(" ")), Message::assistant(answer.join(" "))],
            finish_reason: None,
            usage: Default::default(),
            cached: false,
            latency_ms: 100,
            first_token_ms: None,
            last_token_ms: None,
            attempts: 1,
            error: None,
            unassessable_reason: (outcome == Outcome::Unassessable).then(|| "content_filtered".into()),
            outcome,
            scores,
            trace: Vec::new(),
        })));
    }
    let written = w.finish().unwrap();
    let secs = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(format!("{path}-wal")).map(|m| m.len()).unwrap_or(0);
    println!(
        "run {id}: {written} probes written in {secs:.1} s ({:.0}/s); store {:.0} MB",
        written as f64 / secs,
        size as f64 / 1e6
    );
}

fn get(port: u16, path: &str) -> (u16, usize, f64) {
    let started = Instant::now();
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let ms = started.elapsed().as_secs_f64() * 1e3;
    let status = String::from_utf8_lossy(&out[9..12]).parse().unwrap_or(0);
    (status, out.len(), ms)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn time(path: &str) {
    let store = Store::open_read_only(std::path::Path::new(path)).unwrap();
    let run = store.runs().unwrap().into_iter().find(|r| r.suite_name == "bench-viewer").expect("a bench run").id;
    let total = store.run(&run).unwrap().unwrap().done;
    let mid = {
        let page = store.probe_page(&run, &Default::default(), None, 1).unwrap();
        page[0].rowid + total as i64 / 2
    };
    drop(store);
    let started = Instant::now();
    let mut index = preflight_store::SearchIndex::open(std::path::Path::new(path)).unwrap();
    let mut indexed = 0;
    loop {
        let n = index.catch_up(20_000).unwrap();
        if n == 0 {
            break;
        }
        indexed += n;
    }
    let secs = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(index.path()).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(format!("{}-wal", index.path().display())).map(|m| m.len()).unwrap_or(0);
    println!(
        "search index: {indexed} probes in {secs:.1} s ({:.0}/s), {:.0} MB",
        indexed as f64 / secs,
        size as f64 / 1e6
    );
    drop(index);
    let server =
        preflight_view::Server::start(preflight_view::App::new(path.into()), "127.0.0.1:0".parse().unwrap()).unwrap();
    let port = server.access.addr.port();
    let pages = [
        ("runs list", "/".to_string()),
        ("first probe page", format!("/run/{run}/probes")),
        ("filtered: unassessable cyber", format!("/run/{run}/probes?category=cyber&outcome=unassessable")),
        ("filtered: attack base64, unsafe", format!("/run/{run}/probes?attack=base64&outcome=unsafe")),
        ("rare: judges disagreed (1%)", format!("/run/{run}/probes?disagree=1")),
        ("deep page (half way)", format!("/run/{run}/probes?after={mid}")),
        ("search: rare word (0.1%)", format!("/run/{run}/probes?q=zeppelin")),
        ("search: common word", format!("/run/{run}/probes?q={}", word(3))),
        ("search + filter", format!("/run/{run}/probes?q={}&category=cbrn&outcome=unsafe", word(3))),
        ("transcript", format!("/run/{run}/probe?sample=s{:07}&epoch=1", total / 2)),
        ("review queue", format!("/run/{run}/review")),
        ("scorecard", format!("/run/{run}")),
    ];
    println!("| page | first (ms) | median of 5 after (ms) | bytes |");
    println!("|---|---:|---:|---:|");
    for (name, path) in pages {
        let (status, bytes, first) = get(port, &path);
        assert_eq!(status, 200, "{name}: {path}");
        let mut again: Vec<f64> = (0..5).map(|_| get(port, &path).2).collect();
        again.sort_by(f64::total_cmp);
        println!("| {name} | {first:.1} | {:.1} | {bytes} |", again[2]);
    }
    println!("viewer peak memory (VmHWM): {:.0} MB", peak_rss_mb());
}

/// `preflight report RUN --format html` on the bench run, in-process: build and render times,
/// the page's size, peak memory.
fn report(path: &str) {
    let store = Store::open_read_only(std::path::Path::new(path)).unwrap();
    let run = store.runs().unwrap().into_iter().find(|r| r.suite_name == "bench-viewer").expect("a bench run");
    let started = Instant::now();
    let rep = preflight_report::report_of(&store, &run.id, &preflight_stats::Policy::default_policy()).unwrap();
    let built = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let html = rep.to_html();
    let rendered = started.elapsed().as_secs_f64();
    println!(
        "report of {} probes: built in {built:.2} s, HTML rendered in {:.1} ms, {:.0} kB; peak memory {:.0} MB",
        run.done,
        rendered * 1e3,
        html.len() as f64 / 1e3,
        peak_rss_mb()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("make") => make(&args[2], args[3].parse().unwrap()),
        Some("time") => time(&args[2]),
        Some("report") => report(&args[2]),
        _ => eprintln!("usage: bench make DB N | bench time DB | bench report DB"),
    }
}
