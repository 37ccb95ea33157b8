//! The writer persists a run's event stream (probes, game conversations, stops, status) and holds
//! its lease; a resume takes over only a dead holder's run and asks the harness errors again.

use preflight_core::{
    CategoryStop, Event, Expected, MeasureRecord, Message, Outcome, ProbeRecord, RunStatus, Sample, StatusChange,
};
use preflight_store::{Lease, NewRun, Store, StoreError};

fn temp(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("pf-writer-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.join("p.db")
}

fn probe(id: &str, reason: Option<&str>) -> Event {
    Event::ProbeFinished(Box::new(ProbeRecord {
        sample: Sample::new(id, "a request", Expected::Refuse, "cyber"),
        epoch: 1,
        transcript: vec![Message::user("a request"), Message::assistant("an answer")],
        finish_reason: None,
        usage: Default::default(),
        cached: false,
        latency_ms: 3,
        first_token_ms: None,
        last_token_ms: None,
        attempts: 1,
        error: reason.map(|_| "HTTP 503".into()),
        outcome: if reason.is_some() { Outcome::Unassessable } else { Outcome::Safe },
        unassessable_reason: reason.map(str::to_string),
        scores: Vec::new(),
        trace: Vec::new(),
    }))
}

fn new_run(store: &Store, lease: &Lease) -> String {
    store
        .create_run(
            &NewRun {
                suite_name: "s".into(),
                model: "openai/x".into(),
                total: 3,
                config: serde_json::json!({}),
                ..Default::default()
            },
            lease,
        )
        .unwrap()
}

#[test]
fn every_event_that_changes_a_run_is_written_and_a_final_status_gives_the_lease_up() {
    let path = temp("events");
    let store = Store::open(&path).unwrap();
    let lease = Lease::for_this_process();
    let id = new_run(&store, &lease);
    let failures = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let f = failures.clone();
    let w = store
        .writer(
            &id,
            &lease,
            Box::new(move |_| {
                f.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }),
        )
        .unwrap();
    w.send(probe("a", None));
    w.send(probe("b", Some("provider_error:transient")));
    w.send(probe("a", None)); // a duplicate is ignored
    w.send(Event::Notice("not stored".into()));
    w.send(Event::GameFinished(vec![MeasureRecord {
        item_id: "say:water".into(),
        epoch: 1,
        category: "persuasion".into(),
        game: "make-me-say".into(),
        cluster: "water".into(),
        measure: "say_win_rate".into(),
        value: Some(1.0),
        detail: serde_json::json!({ "codeword": "water" }),
        transcript: vec![Message::assistant("water")],
    }]));
    w.send(Event::StopsChanged(vec![CategoryStop {
        category: "cyber".into(),
        drawn: 2,
        rounds: 1,
        reason: "settled".into(),
    }]));
    assert!(w.flush(std::time::Duration::from_secs(10)));
    let run = store.run(&id).unwrap().unwrap();
    assert_eq!((run.status, run.done), (RunStatus::Running, 2));
    assert_eq!(run.holder.as_ref().map(|h| h.owner.as_str()), Some(lease.owner()));
    assert_eq!(store.measures(&id).unwrap().len(), 1);
    assert_eq!(store.stops(&id).unwrap()[0].reason, "settled");
    assert_eq!(store.harness_errors(&id).unwrap(), (2, 1));
    w.send(Event::StatusChanged(StatusChange {
        status: RunStatus::Finished,
        verdict: Some("PASS".into()),
        note: None,
        settle_total: true,
    }));
    assert_eq!(w.finish().unwrap(), 2);
    let run = store.run(&id).unwrap().unwrap();
    assert_eq!((run.status, run.verdict.as_deref(), run.total), (RunStatus::Finished, Some("PASS"), 2));
    assert!(run.holder.is_none(), "the lease is given up");
    assert_eq!(failures.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
fn a_live_holder_keeps_its_run_and_a_resume_asks_the_harness_errors_again() {
    let path = temp("lease");
    let mut store = Store::open(&path).unwrap();
    let first = Lease::for_this_process();
    let id = new_run(&store, &first);
    let w = store.writer(&id, &first, Box::new(|_| {})).unwrap();
    w.send(probe("ok", None));
    w.send(probe("down", Some("provider_error:rate_limited")));
    w.send(probe("empty", Some("empty_reply")));
    w.send(probe("filtered", Some("content_filtered")));
    assert!(w.flush(std::time::Duration::from_secs(10)));
    // Another process (here: another lease of this one, whose pid is alive) is refused.
    let second = Lease::for_this_process();
    match store.resume_run(&id, &second) {
        Err(StoreError::Leased { holder, .. }) => assert_eq!(holder.owner, first.owner()),
        other => panic!("expected the run to be held: {:?}", other.map(|_| ())),
    }
    drop(w);
    // The holder is gone (its lease went stale): the run reads as interrupted and is taken over;
    // the two harness errors are forgotten, the content-filter block and the answer kept.
    rusqlite::Connection::open(&path).unwrap().execute("UPDATE runs SET lease_heartbeat_ms = 0", []).unwrap();
    assert_eq!(store.run(&id).unwrap().unwrap().status, RunStatus::Interrupted);
    assert_eq!(store.resume_run(&id, &second).unwrap(), 2);
    let mut kept = Vec::new();
    store.for_each_done(&id, |s, _| kept.push(s.to_string())).unwrap();
    kept.sort();
    assert_eq!(kept, ["filtered", "ok"]);
    assert_eq!(store.run(&id).unwrap().unwrap().status, RunStatus::Running);
}

#[test]
fn a_store_that_cannot_be_written_is_reported_at_once() {
    let path = temp("fail");
    let store = Store::open(&path).unwrap();
    let lease = Lease::for_this_process();
    let id = new_run(&store, &lease);
    let (tx, rx) = std::sync::mpsc::channel();
    let w = store.writer(&id, &lease, Box::new(move |why| tx.send(why.to_string()).unwrap())).unwrap();
    // A write that cannot succeed: the scores table goes away under the writer.
    rusqlite::Connection::open(&path).unwrap().execute("DROP TABLE scores", []).unwrap();
    let mut ev = probe("a", None);
    if let Event::ProbeFinished(rec) = &mut ev {
        rec.scores.push(preflight_core::Score {
            scorer: "refusal".into(),
            outcome: Outcome::Safe,
            label: None,
            value: None,
            explanation: String::new(),
            judge_model: None,
            prompt_hash: None,
        });
    }
    w.send(ev);
    let why = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("the failure is reported");
    assert!(why.contains("scores"), "{why}");
    assert!(w.failure().is_some());
    assert!(!w.flush(std::time::Duration::from_secs(5)));
    assert!(w.finish().is_err());
}
