//! End-to-end: the real binary against the in-repo mock server.

mod common;

use std::time::{Duration, Instant};

use common::*;

const MARKER: &str = "[[REFUSE]]";

fn mock(cfg: MockConfig) -> MockServer {
    MockServer::start(MockConfig { marker: MARKER.into(), ..cfg }).unwrap()
}

#[test]
fn refusing_model_passes_and_everything_is_stored() {
    // Every prompt refused → harmful ones safe, benign ones over-refused? No: only marked prompts
    // are refused, so this model is perfect; 400 samples give tight enough bounds to pass.
    let dir = TempDir::new("pass");
    let m = mock(MockConfig::default());
    let suite = write_suite(dir.path(), 400, MARKER, "");
    let out = run(&eval_args(&m, &suite, dir.path()));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["verdict"], "PASS");
    assert_eq!(v["run"]["status"], "finished");
    assert_eq!(stored(dir.path()), (400, 400));
    assert_eq!(outcome_counts(dir.path()).get("safe"), Some(&400));
    assert_eq!(m.stats().requests, 400);
    // Every probe carries its refusal score.
    let scores: i64 =
        db(dir.path()).query_row("SELECT COUNT(*) FROM scores WHERE scorer = 'refusal'", [], |r| r.get(0)).unwrap();
    assert_eq!(scores, 400);
}

#[test]
fn complying_model_fails_the_gate_with_evidence() {
    let dir = TempDir::new("fail");
    // The marker never matches, so the mock complies with everything.
    let m = MockServer::start(MockConfig { marker: "<never>".into(), ..Default::default() }).unwrap();
    let suite = write_suite(dir.path(), 60, MARKER, "");
    let out = run(&eval_args(&m, &suite, dir.path()));
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["verdict"], "FAIL");
    let cyber = v["scorecard"]["categories"].as_array().unwrap().iter().find(|c| c["category"] == "cyber").unwrap();
    assert_eq!(cyber["metrics"][0]["failures"], 30);
    assert!(!v["evidence"].as_array().unwrap().is_empty());
    assert!(v["reasons"][0].as_str().unwrap().contains("cyber"));
}

#[test]
fn few_samples_are_inconclusive() {
    let dir = TempDir::new("inconclusive");
    let m = mock(MockConfig::default());
    let suite = write_suite(dir.path(), 6, MARKER, "");
    let out = run(&eval_args(&m, &suite, dir.path()));
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    assert_eq!(json(&out)["verdict"], "INCONCLUSIVE");
}

#[test]
fn kill_9_then_resume_loses_and_duplicates_nothing() {
    let dir = TempDir::new("kill9");
    let m = mock(MockConfig { latency_ms: 20, ..Default::default() });
    let n = 600;
    let suite = write_suite(dir.path(), n, MARKER, "");
    let mut args = eval_args(&m, &suite, dir.path());
    args.extend(["-j".into(), "8".into()]);
    let mut child =
        bin().args(&args).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    // Wait until some probes are committed, then kill -9 mid-run.
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let stored = std::panic::catch_unwind(|| stored(dir.path()).0).unwrap_or(0);
        if stored >= 100 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "run made no progress");
        assert!(child.try_wait().unwrap().is_none(), "run finished before it could be killed");
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let (before, distinct_before) = stored(dir.path());
    assert_eq!(before, distinct_before);
    assert!((before as usize) < n, "the run finished before the kill ({before} stored)");

    let run_id: String = db(dir.path()).query_row("SELECT id FROM runs", [], |r| r.get(0)).unwrap();
    m.reset();
    let out = run(&resume_args(dir.path(), &run_id));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let (after, distinct_after) = stored(dir.path());
    assert_eq!((after, distinct_after), (n as i64, n as i64), "every sample stored exactly once");
    // Finished probes were not asked again: at most the missing ones reached the server (fewer
    // when answers made before the kill were still in the response cache).
    let asked = m.stats().requests;
    assert!(asked <= (n as i64 - before) as u64, "resume asked {asked} but only {} were missing", n as i64 - before);
    let v = json(&out);
    assert_eq!(v["run"]["id"], run_id);
    assert_eq!(v["run"]["done"], n);
}

#[test]
fn rate_limit_storm_finishes_every_sample_without_counting_errors_as_safe() {
    let dir = TempDir::new("storm");
    // Every prompt is answered 429 (Retry-After: 0) three times before it gets through.
    let rule = Rule {
        contains: String::new(),
        action: Action::Status { code: 429, retry_after: Some("0".into()) },
        times: Some(3),
        model: None,
        system: None,
    };
    let m = mock(MockConfig { rules: vec![rule], ..Default::default() });
    let suite = write_suite(dir.path(), 200, MARKER, "");
    let mut args = eval_args(&m, &suite, dir.path());
    args.extend(["-j".into(), "32".into()]);
    let out = run(&args);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let st = m.stats();
    assert_eq!(st.by_status.get(&429), Some(&600));
    assert_eq!(st.by_status.get(&200), Some(&200));
    assert_eq!(outcome_counts(dir.path()).get("safe"), Some(&200));
    let max_attempts: i64 = db(dir.path()).query_row("SELECT MIN(attempts) FROM probes", [], |r| r.get(0)).unwrap();
    assert_eq!(max_attempts, 4);
}

#[test]
fn exhausted_retries_are_unassessable_never_safe_and_an_outage_is_no_verdict() {
    let dir = TempDir::new("exhausted");
    let rule = Rule {
        contains: String::new(),
        action: Action::Status { code: 429, retry_after: Some("0".into()) },
        times: None,
        model: None,
        system: None,
    };
    let m = mock(MockConfig { rules: vec![rule], ..Default::default() });
    let suite = write_suite(dir.path(), 40, MARKER, "");
    let mut args = eval_args(&m, &suite, dir.path());
    args.extend(["--max-retries".into(), "2".into(), "-j".into(), "2".into()]);
    let out = run(&args);
    // No answer ever came: no verdict (exit 20), not "inconclusive".
    assert_eq!(code(&out), 20, "{}", stderr(&out));
    assert!(stderr(&out).contains("no usable answer") && stderr(&out).contains("provider_error:rate_limited"));
    let counts = outcome_counts(dir.path());
    let unassessable = counts.get("unassessable").copied().unwrap_or(0);
    assert!((10..40).contains(&unassessable), "stopped early: {unassessable} stored");
    assert_eq!(counts.get("safe"), None, "an error is never safe");
    // The stored run's scorecard counts them as unknown, never as safe.
    let id: String = db(dir.path()).query_row("SELECT id FROM runs", [], |r| r.get(0)).unwrap();
    let store = dir.join("p.db").display().to_string();
    let v = json(&bin().args(["report", &id, "--store", &store, "--format", "json"]).output().unwrap());
    assert_eq!(v["unassessable"][0][0], "provider_error:rate_limited");
    for c in v["scorecard"]["categories"].as_array().unwrap() {
        for m in c["metrics"].as_array().unwrap() {
            assert_eq!(m["interval"]["lo"], 0.0);
            assert_eq!(m["interval"]["hi"], 1.0, "all-unassessable means nothing is known");
        }
    }
}

#[test]
fn hangs_time_out_500s_and_malformed_bodies_are_retried() {
    let dir = TempDir::new("faults");
    let rules = vec![
        Rule { contains: "number 1 ".into(), action: Action::Hang, times: Some(1), model: None, system: None },
        Rule {
            contains: "number 2 ".into(),
            action: Action::Status { code: 500, retry_after: None },
            times: Some(2),
            model: None,
            system: None,
        },
        Rule { contains: "number 3 ".into(), action: Action::Malformed, times: Some(1), model: None, system: None },
        Rule { contains: "number 4 ".into(), action: Action::Hang, times: None, model: None, system: None },
        Rule { contains: "number 5 ".into(), action: Action::ContentFilter, times: None, model: None, system: None },
        Rule {
            contains: "number 6 ".into(),
            action: Action::Reply("   ".into()),
            times: None,
            model: None,
            system: None,
        },
    ];
    let m = mock(MockConfig { rules, ..Default::default() });
    let suite = write_suite(dir.path(), 8, MARKER, "");
    let mut args = eval_args(&m, &suite, dir.path());
    args.extend(["--timeout".into(), "0.5".into(), "--max-retries".into(), "2".into()]);
    let out = run(&args);
    assert!([0, 11].contains(&code(&out)), "{}", stderr(&out));
    let c = db(dir.path());
    let row = |id: &str| -> (String, Option<String>, i64) {
        c.query_row("SELECT outcome, unassessable_reason, attempts FROM probes WHERE sample_id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap()
    };
    assert_eq!(row("s00001"), ("safe".into(), None, 2), "one hang, then an answer");
    assert_eq!(row("s00002"), ("safe".into(), None, 3), "two 500s, then an answer");
    assert_eq!(row("s00003"), ("safe".into(), None, 2), "one malformed body, then an answer");
    assert_eq!(row("s00004"), ("unassessable".into(), Some("provider_error:transient".into()), 3), "always hangs");
    assert_eq!(row("s00005").1.as_deref(), Some("content_filtered"));
    assert_eq!(row("s00006").1.as_deref(), Some("empty_reply"));
    assert_eq!(outcome_counts(dir.path()).get("unassessable"), Some(&3));
}

#[test]
fn malformed_suite_names_the_line_and_touches_nothing() {
    let dir = TempDir::new("badsuite");
    let m = mock(MockConfig::default());
    let suite = write_suite(dir.path(), 10, MARKER, "");
    let out = run(&eval_args(&m, &suite, dir.path()));
    assert_eq!(code(&out), 11);
    let before = std::fs::read(dir.join("p.db")).unwrap();

    // A bad row in the dataset: line 7 has no prompt.
    let data = std::fs::read_to_string(dir.join("data.jsonl")).unwrap();
    let mut lines: Vec<String> = data.lines().map(str::to_string).collect();
    lines[6] = r#"{"id": "broken", "expected": "refuse", "category": "cyber"}"#.into();
    std::fs::write(dir.join("data.jsonl"), lines.join("\n")).unwrap();
    let out = run(&eval_args(&m, &suite, dir.path()));
    assert_eq!(code(&out), 20);
    let err = stderr(&out);
    assert!(err.contains("data.jsonl:7") && err.contains("field `prompt`"), "{err}");

    // A bad field in the suite file itself.
    std::fs::write(
        &suite,
        "name = \"x\"\ncategory = \"cyber\"\n\n[[samples]]\nid = \"a\"\nprompt = \"hello\"\nexpected = \"maybe\"\n",
    )
    .unwrap();
    let out = run(&eval_args(&m, &suite, dir.path()));
    assert_eq!(code(&out), 20);
    let err = stderr(&out);
    assert!(err.contains("suite.toml:7") && err.contains("field `expected`"), "{err}");

    // An unknown key is named with its line.
    std::fs::write(&suite, "name = \"x\"\ncategory = \"cyber\"\nscorer = [\"refusal\"]\n").unwrap();
    let out = run(&eval_args(&m, &suite, dir.path()));
    assert_eq!(code(&out), 20);
    let err = stderr(&out);
    assert!(err.contains("suite.toml:3") && err.contains("scorer"), "{err}");

    assert_eq!(std::fs::read(dir.join("p.db")).unwrap(), before, "the store is untouched");
}

#[test]
fn unreachable_provider_is_a_harness_error_and_resumable() {
    let dir = TempDir::new("unreachable");
    // Bind and drop a listener to get a port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let suite = write_suite(dir.path(), 10, MARKER, "");
    let out = run(&[
        "eval".into(),
        suite.display().to_string(),
        "--model".into(),
        "openai/mock".into(),
        "--base-url".into(),
        format!("http://127.0.0.1:{port}/v1"),
        "--store".into(),
        dir.join("p.db").display().to_string(),
        "--no-cache".into(),
        "--max-retries".into(),
        "1".into(),
        "--backoff-ms".into(),
        "1".into(),
    ]);
    assert_eq!(code(&out), 20, "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot connect"), "{}", stderr(&out));
    let status: String = db(dir.path()).query_row("SELECT status FROM runs", [], |r| r.get(0)).unwrap();
    assert_eq!(status, "aborted");
    assert_eq!(stored(dir.path()).0, 0, "failed probes are not stored as results");
}

#[test]
fn rejected_credentials_abort_and_the_key_is_never_written() {
    let dir = TempDir::new("auth");
    let secret = "sk-test-DO-NOT-LEAK-1234567890";
    let rule = Rule {
        contains: String::new(),
        action: Action::Status { code: 401, retry_after: None },
        times: None,
        model: None,
        system: None,
    };
    let m = mock(MockConfig { rules: vec![rule], ..Default::default() });
    let suite = write_suite(dir.path(), 10, MARKER, "");
    let out = bin().args(eval_args(&m, &suite, dir.path())).env("OPENAI_API_KEY", secret).output().unwrap();
    assert_eq!(code(&out), 20);
    assert!(stderr(&out).contains("auth"), "{}", stderr(&out));

    // A working run with the key set: the key reaches neither outputs nor files.
    let dir2 = TempDir::new("auth-ok");
    let m2 = mock(MockConfig::default());
    let suite2 = write_suite(dir2.path(), 10, MARKER, "");
    let out2 = bin().args(eval_args(&m2, &suite2, dir2.path())).env("OPENAI_API_KEY", secret).output().unwrap();
    assert_eq!(code(&out2), 11);
    for o in [&out, &out2] {
        assert!(!String::from_utf8_lossy(&o.stdout).contains(secret));
        assert!(!stderr(o).contains(secret));
    }
    for d in [dir.path(), dir2.path()] {
        for entry in walk(d) {
            let bytes = std::fs::read(&entry).unwrap();
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "key found in {}", entry.display());
        }
    }
}

fn walk(d: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[test]
fn cache_serves_repeat_runs_and_epochs_are_separate() {
    let dir = TempDir::new("cache");
    let m = mock(MockConfig::default());
    let suite = write_suite(dir.path(), 20, MARKER, "");
    let mut args = eval_args(&m, &suite, dir.path());
    args.extend(["--epochs".into(), "2".into()]);
    run(&args);
    assert_eq!(m.stats().requests, 40, "two epochs are two requests per sample");
    m.reset();
    let out = run(&args);
    assert_eq!(m.stats().requests, 0, "{}", stderr(&out));
    let cached: i64 = db(dir.path()).query_row("SELECT SUM(cached) FROM probes", [], |r| r.get(0)).unwrap();
    assert_eq!(cached, 40);
    m.reset();
    args.push("--no-cache".into());
    run(&args);
    assert_eq!(m.stats().requests, 40);
}

#[test]
fn each_model_is_priced_at_its_own_rate_and_the_report_shows_spend_per_model() {
    let dir = TempDir::new("prices");
    let rules = vec![judge_rule(STRONGREJECT_UNSAFE)];
    let m = MockServer::start(MockConfig { marker: "<never>".into(), rules, ..Default::default() }).unwrap();
    let suite = write_suite(dir.path(), 10, MARKER, "scorers = [\"refusal\", \"strongreject\"]");
    let prices = dir.join("prices.toml");
    std::fs::write(
        &prices,
        "date = \"2026-12-01\"\n[models]\n\"openai/mock\" = { input = 1.0, output = 2.0 }\n\"openai/jud*\" = { input = 10.0, output = 20.0 }\n",
    )
    .unwrap();
    let mut args = eval_args(&m, &suite, dir.path());
    args.extend(["--judge", "openai/judge", "--no-cache", "--budget-usd", "5", "--prices"].map(String::from));
    args.push(prices.display().to_string());
    let out = run(&args);
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let v = json(&out);
    let spend = v["spend"].as_array().unwrap();
    let row = |model: &str| spend.iter().find(|r| r["model"] == model).unwrap_or_else(|| panic!("{model}: {spend:?}"));
    for (model, input, output) in [("openai/mock", 1.0, 2.0), ("openai/judge", 10.0, 20.0)] {
        let r = row(model);
        assert_eq!(r["requests"], 10, "{r}");
        assert_eq!(r["unpriced"], 0, "{r}");
        let want =
            (r["prompt_tokens"].as_f64().unwrap() * input + r["completion_tokens"].as_f64().unwrap() * output) / 1e6;
        assert!(want > 0.0 && (r["usd"].as_f64().unwrap() - want).abs() < 1e-12, "{model}: {r} != {want}");
    }
    // The store keeps the same figures, per run and model.
    let stored: i64 = db(dir.path()).query_row("SELECT SUM(requests) FROM spend", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, 20);
    // Without a price for the judge a dollar budget cannot be counted: the error names the model.
    std::fs::write(&prices, "[models]\n\"openai/mock\" = { input = 1.0, output = 2.0 }\n").unwrap();
    let out = run(&args);
    assert_eq!(code(&out), 20);
    assert!(stderr(&out).contains("no price for openai/judge"), "{}", stderr(&out));
    // A bad price file is named with its line and field.
    std::fs::write(&prices, "[models]\n\"openai/mock\" = { input = 1.0, output = -2.0 }\n").unwrap();
    let out = run(&args);
    assert_eq!(code(&out), 20);
    assert!(stderr(&out).contains("prices.toml:2: models.\"openai/mock\".output"), "{}", stderr(&out));
    // Without a budget the spend is still reported; an unpriced model says so, not $0.
    let mut args = eval_args(&m, &suite, dir.path());
    let json_at = args.iter().position(|a| a == "--format").unwrap();
    args[json_at + 1] = "table".into();
    args.extend(["--judge", "openai/judge", "--no-cache"].map(String::from));
    let out = run(&args);
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let table = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(table.contains("Spend per model"), "{table}");
    assert!(table.lines().any(|l| l.contains("openai/judge") && l.trim_end().ends_with("unpriced")), "{table}");
}

#[test]
fn strongreject_judge_decides_and_is_recorded() {
    let dir = TempDir::new("judge");
    let rules = vec![
        // The judge's prompt quotes the response; a response to sample 3 gets an unparseable verdict.
        Rule {
            contains: "Request number 3 ".into(),
            action: Action::Reply("I'd rather not say.".into()),
            times: None,
            model: None,
            system: None,
        },
        judge_rule(STRONGREJECT_UNSAFE),
    ];
    let m = MockServer::start(MockConfig { marker: "<never>".into(), rules, ..Default::default() }).unwrap();
    let suite = write_suite(dir.path(), 10, MARKER, "scorers = [\"refusal\", \"strongreject\"]");
    let mut args = eval_args(&m, &suite, dir.path());
    // Without a judge the suite cannot run.
    let out = run(&args);
    assert_eq!(code(&out), 20);
    assert!(stderr(&out).contains("--judge"), "{}", stderr(&out));
    args.extend(["--judge".into(), "openai/judge".into()]);
    let out = run(&args);
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let c = db(dir.path());
    let (n, judge, hash): (i64, String, String) = c
        .query_row(
            "SELECT COUNT(*), MIN(judge_model), MIN(prompt_hash) FROM scores WHERE scorer = 'strongreject' AND outcome = 'unsafe'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(n, 4, "four of the five refuse samples judged unsafe (score 5/8); the fifth is unparseable");
    assert_eq!(judge, "openai/judge");
    assert_eq!(hash.len(), 64);
    // Sample 3 is a `refuse` sample whose judge verdict did not parse: unassessable, not safe.
    let (outcome, reason): (String, String) = c
        .query_row("SELECT outcome, unassessable_reason FROM probes WHERE sample_id = 's00003'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!((outcome.as_str(), reason.as_str()), ("unassessable", "scorer:strongreject"));
}

#[test]
fn sigint_stops_cleanly_and_resume_finishes() {
    let dir = TempDir::new("sigint");
    let m = mock(MockConfig { latency_ms: 30, ..Default::default() });
    let n = 300;
    let suite = write_suite(dir.path(), n, MARKER, "");
    let mut args = eval_args(&m, &suite, dir.path());
    args.extend(["-j".into(), "4".into()]);
    let child =
        bin().args(&args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    // Interrupt once some probes are committed, however slow the machine is today.
    let started = Instant::now();
    while std::panic::catch_unwind(|| stored(dir.path()).0).unwrap_or(0) < 20 {
        assert!(started.elapsed() < Duration::from_secs(60), "run made no progress");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 130, "{}", stderr(&out));
    assert!(stderr(&out).contains("--resume"), "{}", stderr(&out));
    let (stored_n, distinct) = stored(dir.path());
    assert_eq!(stored_n, distinct);
    assert!(stored_n > 0 && (stored_n as usize) < n);
    let (id, status): (String, String) =
        db(dir.path()).query_row("SELECT id, status FROM runs", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!(status, "interrupted");
    let out = run(&resume_args(dir.path(), &id));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stored(dir.path()), (n as i64, n as i64));
}

#[test]
fn runs_show_and_report_read_the_store() {
    let dir = TempDir::new("inspect");
    let m = MockServer::start(MockConfig { marker: "<never>".into(), ..Default::default() }).unwrap();
    let suite = write_suite(dir.path(), 12, MARKER, "");
    let out = run(&eval_args(&m, &suite, dir.path()));
    let id = json(&out)["run"]["id"].as_str().unwrap().to_string();
    let store = dir.join("p.db").display().to_string();
    let runs = bin().args(["runs", "--store", &store]).output().unwrap();
    let text = String::from_utf8_lossy(&runs.stdout);
    assert!(text.contains(&id) && text.contains("FAIL") && text.contains("12/12"), "{text}");
    let show = bin().args(["show", &id, "--store", &store, "--sample", "s00001"]).output().unwrap();
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(
        text.contains("[user]") && text.contains("Request number 1") && text.contains("score [refusal] unsafe"),
        "{text}"
    );
    let missing = bin().args(["show", &id, "--store", &store, "--sample", "nope"]).output().unwrap();
    assert_eq!(code(&missing), 20);
    let md = bin().args(["report", &id, "--store", &store]).output().unwrap();
    let text = String::from_utf8_lossy(&md.stdout);
    assert!(text.starts_with("# preflight report — FAIL") && text.contains("| cyber | unsafe |"), "{text}");
    let table = bin().args(["report", &id, "--store", &store, "--format", "table"]).output().unwrap();
    assert!(String::from_utf8_lossy(&table.stdout).contains("VERDICT: FAIL"));
}

#[test]
fn retry_after_is_honoured() {
    let dir = TempDir::new("retry-after");
    let rule = Rule {
        contains: "number 1 ".into(),
        action: Action::Status { code: 429, retry_after: Some("1".into()) },
        times: Some(1),
        model: None,
        system: None,
    };
    let m = mock(MockConfig { rules: vec![rule], ..Default::default() });
    let suite = write_suite(dir.path(), 4, MARKER, "");
    let out = run(&eval_args(&m, &suite, dir.path()));
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    let (latency, attempts): (i64, i64) = db(dir.path())
        .query_row("SELECT latency_ms, attempts FROM probes WHERE sample_id = 's00001'", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(attempts, 2);
    assert!(latency >= 1000, "waited only {latency} ms despite Retry-After: 1");
}

#[test]
fn resume_refuses_a_changed_suite() {
    let dir = TempDir::new("changed");
    let m = mock(MockConfig::default());
    let suite = write_suite(dir.path(), 4, MARKER, "");
    let out = run(&eval_args(&m, &suite, dir.path()));
    let id = json(&out)["run"]["id"].as_str().unwrap().to_string();
    // Pretend the run was interrupted, then change the data under it.
    db(dir.path()).execute("UPDATE runs SET status = 'interrupted'", []).unwrap();
    write_suite(dir.path(), 5, MARKER, "");
    let out = run(&resume_args(dir.path(), &id));
    assert_eq!(code(&out), 20);
    assert!(stderr(&out).contains("changed since run"), "{}", stderr(&out));
}

#[test]
fn the_whole_battery_runs_against_the_mock_and_only_narrows_it() {
    let dir = TempDir::new("battery");
    let m = mock(MockConfig::default());
    // The string rules decide: this test is about the battery's size and categories, and the
    // embedded classifier would spend minutes embedding 1,085 mock answers in a debug build.
    let mut args = eval_args(&m, std::path::Path::new("battery"), dir.path());
    args.extend(["-j", "64", "-q", "--judge", "rules"].map(String::from));
    let out = run(&args);
    // The mock complies with everything: the gate fails.
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["run"]["suite_name"], "battery");
    assert!(v["run"]["total"].as_u64().unwrap() >= 1000, "{}", v["run"]["total"]);
    assert_eq!(v["run"]["done"], v["run"]["total"]);
    let cats: Vec<&str> =
        v["scorecard"]["categories"].as_array().unwrap().iter().map(|c| c["category"].as_str().unwrap()).collect();
    for want in ["cbrn", "cyber", "illegal", "harassment", "misinformation", "self-harm", "persuasion", "over-refusal"]
    {
        assert!(cats.contains(&want), "{cats:?}");
    }
    // Every prompt is distinct: the probes, and the battery's 2 × 72 knowledge questions.
    assert_eq!(m.stats().distinct_prompts, v["run"]["total"].as_u64().unwrap() + 144, "every prompt is distinct");

    let mut args = eval_args(&m, std::path::Path::new("battery"), dir.path());
    args.extend(["--only", "cbrn,persuasion", "-q", "--judge", "rules"].map(String::from));
    let v = json(&run(&args));
    assert_eq!(v["run"]["total"], 100 + 120);

    let mut args = eval_args(&m, std::path::Path::new("battery"), dir.path());
    args.extend(["--only", "cbrn,nonsense"].map(String::from));
    let out = run(&args);
    assert_eq!(code(&out), 20);
    assert!(
        stderr(&out).contains("no category `nonsense`") && stderr(&out).contains("over-refusal"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn suites_lists_the_builtins_with_counts() {
    let out = bin().arg("suites").output().unwrap();
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("battery") && text.contains("1085 probes"), "{text}");
    assert!(text.contains("over-refusal") && text.contains("(205 refuse, 260 comply)"), "{text}");
    let out = bin().args(["data", "list", "--cache-dir", "/nonexistent-preflight"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("harmbench") && text.contains("not fetched") && text.contains("pyrit@1.1.0"), "{text}");
    let out = bin().args(["data", "fetch", "no-such-set"]).output().unwrap();
    assert_eq!(code(&out), 20);
    assert!(stderr(&out).contains("unknown dataset `no-such-set`"));
}
