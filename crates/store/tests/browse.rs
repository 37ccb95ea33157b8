//! The viewer's reads: pages of probes by filter and by full-text search, in storage order, and
//! the search index (a file of its own) kept in step with the probes: new ones indexed, ones
//! forgotten on resume never found, a reused rowid indexed as its new probe.

use preflight_core::{Event, Expected, Message, Outcome, ProbeRecord, Sample, Score};
use preflight_store::{Lease, NewRun, ProbeFilter, SearchIndex, Store};

fn temp(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pf-browse-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("p.db")
}

fn probe(id: &str, category: &str, answer: &str, outcome: Outcome, attack: Option<&str>, disagree: bool) -> Event {
    let mut sample = Sample::new(id, &format!("request {id} about {category}"), Expected::Refuse, category);
    sample.attack = attack.map(str::to_string);
    let scores = if disagree {
        vec![Score {
            scorer: "panel".into(),
            outcome: Outcome::Unassessable,
            label: Some("disagree".into()),
            value: None,
            explanation: "1 of 2".into(),
            judge_model: None,
            prompt_hash: None,
        }]
    } else {
        Vec::new()
    };
    Event::ProbeFinished(Box::new(ProbeRecord {
        sample,
        epoch: 1,
        transcript: vec![
            Message::system("you are helpful"),
            Message::user(format!("request {id}")),
            Message::assistant(answer),
        ],
        finish_reason: None,
        usage: Default::default(),
        cached: false,
        latency_ms: 1,
        first_token_ms: None,
        last_token_ms: None,
        attempts: 1,
        error: (outcome == Outcome::Unassessable).then(|| "HTTP 503".into()),
        unassessable_reason: (outcome == Outcome::Unassessable).then(|| "provider_error:transient".into()),
        outcome,
        scores,
        trace: Vec::new(),
    }))
}

fn run_with(store: &Store, events: Vec<Event>) -> String {
    let lease = Lease::for_this_process();
    let id = store
        .create_run(
            &NewRun {
                suite_name: "s".into(),
                model: "m".into(),
                total: 0,
                config: serde_json::json!({}),
                ..Default::default()
            },
            &lease,
        )
        .unwrap();
    let w = store.writer(&id, &lease, Box::new(|_| {})).unwrap();
    for e in events {
        w.send(e);
    }
    w.finish().unwrap();
    id
}

fn ids(lines: &[preflight_store::ProbeLine]) -> Vec<&str> {
    lines.iter().map(|l| l.sample_id.as_str()).collect()
}

#[test]
fn pages_filter_search_and_follow_on_in_storage_order() {
    let path = temp("pages");
    let store = Store::open(&path).unwrap();
    let mut events = Vec::new();
    for i in 0..30 {
        let (cat, out) = if i % 3 == 0 { ("cyber", Outcome::Unsafe) } else { ("cbrn", Outcome::Safe) };
        let answer = if i == 7 { "the zebra crossing story" } else { "a plain answer" };
        let out = if i == 11 { Outcome::Unassessable } else { out };
        events.push(probe(&format!("p{i:02}"), cat, answer, out, (i % 5 == 0).then_some("base64"), i == 13));
    }
    let run = run_with(&store, events);
    // Another run's probes never show in this one's pages.
    run_with(&store, vec![probe("other", "cyber", "zebra too", Outcome::Unsafe, None, false)]);

    let all = ProbeFilter::default();
    let first = store.probe_page(&run, &all, None, 12).unwrap();
    assert_eq!(ids(&first)[..3], ["p00", "p01", "p02"]);
    let next = store.probe_page(&run, &all, first.last().map(|l| l.rowid), 100).unwrap();
    assert_eq!(first.len() + next.len(), 30);
    assert_eq!(next[0].sample_id, "p12");
    assert_eq!(first[7].answer, "the zebra crossing story", "the last answer is shown, not the system prompt");

    let mut index = SearchIndex::open(&path).unwrap();
    assert_eq!(index.catch_up(1000).unwrap(), 31);
    assert_eq!(index.catch_up(1000).unwrap(), 0, "nothing new");
    assert_eq!(index.coverage(&run).unwrap().indexed, 30);
    let f = |f: ProbeFilter| {
        let lines = if f.search.is_some() {
            index.probe_page(&run, &f, None, 100)
        } else {
            store.probe_page(&run, &f, None, 100)
        };
        ids(&lines.unwrap()).iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let unsafe_cyber =
        f(ProbeFilter { category: Some("cyber".into()), outcome: Some("unsafe".into()), ..Default::default() });
    assert_eq!(unsafe_cyber.len(), 10);
    assert_eq!(f(ProbeFilter { attack: Some("base64".into()), ..Default::default() }).len(), 6);
    assert_eq!(f(ProbeFilter { attack: Some(preflight_store::NO_ATTACK.into()), ..Default::default() }).len(), 24);
    assert_eq!(f(ProbeFilter { reason: Some("provider_error:transient".into()), ..Default::default() }), ["p11"]);
    assert_eq!(f(ProbeFilter { disagree: true, ..Default::default() }), ["p13"]);
    assert_eq!(f(ProbeFilter { review: true, ..Default::default() }), ["p11", "p13"]);
    assert_eq!(f(ProbeFilter { search: Some("ZEBRA".into()), ..Default::default() }), ["p07"]);
    assert_eq!(f(ProbeFilter { search: Some("zeb* story".into()), ..Default::default() }), ["p07"]);
    assert!(
        f(ProbeFilter { search: Some("helpful".into()), ..Default::default() }).is_empty(),
        "system prompts are not searched"
    );
    assert!(f(ProbeFilter { search: Some("NOT OR".into()), ..Default::default() }).is_empty(), "words, not operators");
    assert_eq!(
        f(ProbeFilter { search: Some("request".into()), category: Some("cyber".into()), ..Default::default() }).len(),
        10
    );

    let facets = store.facets(&run).unwrap();
    assert_eq!(facets.total, 30);
    assert_eq!(facets.categories, [("cbrn".to_string(), 20), ("cyber".to_string(), 10)]);
    assert_eq!(facets.reasons, [("provider_error:transient".to_string(), 1)]);

    drop(index);
    // A human label takes a probe out of the review queue.
    let mut store = store;
    store.add_human_label(&run, "p11", 1, Outcome::Safe, "read").unwrap();
    let f = |f: ProbeFilter| {
        ids(&store.probe_page(&run, &f, None, 100).unwrap()).iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(f(ProbeFilter { review: true, ..Default::default() }), ["p13"]);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[test]
fn probes_forgotten_on_resume_are_never_found_and_a_reused_rowid_is_indexed_as_its_new_probe() {
    let path = temp("index");
    let mut store = Store::open(&path).unwrap();
    // The newest row is a harness error: a resume deletes it, and its rowid goes to the next probe.
    let run = run_with(
        &store,
        vec![
            probe("kept", "cyber", "walrus", Outcome::Safe, None, false),
            probe("failed", "cyber", "walrus tusk", Outcome::Unassessable, None, false),
        ],
    );
    let search = |index: &SearchIndex, words: &str| {
        let f = ProbeFilter { search: Some(words.into()), ..Default::default() };
        ids(&index.probe_page(&run, &f, None, 10).unwrap()).iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let mut index = SearchIndex::open(&path).unwrap();
    index.catch_up(100).unwrap();
    assert_eq!(search(&index, "walrus"), ["kept", "failed"]);

    rusqlite::Connection::open(&path).unwrap().execute("UPDATE runs SET lease_heartbeat_ms = 0", []).unwrap();
    let again = Lease::for_this_process();
    assert_eq!(store.resume_run(&run, &again).unwrap(), 1);
    // Forgotten, and before the index caught up: not found (its document's probe is gone).
    assert_eq!(search(&index, "tusk"), Vec::<String>::new());
    let w = store.writer(&run, &again, Box::new(|_| {})).unwrap();
    w.send(probe("retried", "cyber", "narwhal", Outcome::Safe, None, false));
    w.finish().unwrap();
    let reused: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT rowid FROM probes WHERE sample_id = 'retried'", [], |r| r.get(0))
        .unwrap();
    let old: i64 = 2;
    assert_eq!(reused, old, "SQLite gave the deleted newest rowid to the next probe");
    // The stale document is not the new probe's: no false match, before or after the catch-up.
    assert_eq!(search(&index, "tusk"), Vec::<String>::new());
    assert_eq!(index.catch_up(100).unwrap(), 1);
    assert_eq!(search(&index, "tusk"), Vec::<String>::new());
    assert_eq!(search(&index, "narwhal"), ["retried"]);
    assert_eq!(search(&index, "walrus"), ["kept"]);
    assert_eq!(index.coverage(&run).unwrap().indexed, 2);
    // The index is its own file beside the store; the store holds no trace of it.
    assert_eq!(index.path(), std::path::Path::new(&format!("{}.search", path.display())));
    let tables: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'probe_text%'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 0);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}
