//! preflight tried as a hostile user (or a hostile provider) would: endpoints that never answer
//! usefully, nonsense flags, empty and broken datasets, two processes on one run, a full disk, a
//! store from the future, model output full of terminal escapes and HTML, a key echoed back.
//! Each test failed before the fix it guards.

mod common;

use std::{
    process::{Child, Stdio},
    time::{Duration, Instant},
};

use common::{faults::*, *};

const MARKER: &str = "[[REFUSE]]";

/// `eval` on a fault server: store and cache in `dir`, quick retries, JSON on stdout.
fn eval_on(base_url: &str, suite: &std::path::Path, dir: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "eval",
        &suite.display().to_string(),
        "--model",
        "openai/mock",
        "--base-url",
        base_url,
        "--store",
        &dir.join("p.db").display().to_string(),
        "--cache-dir",
        &dir.join("cache").display().to_string(),
        "--backoff-ms",
        "1",
        "--format",
        "json",
    ]
    .map(String::from)
    .to_vec();
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn run_status(dir: &std::path::Path) -> (String, Option<String>, Option<String>) {
    db(dir).query_row("SELECT status, verdict, note FROM runs", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap()
}

fn run_id(dir: &std::path::Path) -> String {
    db(dir).query_row("SELECT id FROM runs", [], |r| r.get(0)).unwrap()
}

/// Waits until `n` probes are committed (the child must still be running).
fn wait_stored(dir: &std::path::Path, n: i64, child: &mut Child) {
    let started = Instant::now();
    while std::panic::catch_unwind(|| stored(dir).0).unwrap_or(0) < n {
        assert!(started.elapsed() < Duration::from_secs(60), "run made no progress");
        assert!(child.try_wait().unwrap().is_none(), "run ended before {n} probes were stored");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, sig: &str) {
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args([sig, &pid]).status().unwrap().success());
}

// ── 1. A provider that never answers usefully gives no verdict ───────────────────────────────

#[test]
fn a_provider_that_never_answers_usefully_gives_no_verdict() {
    let cases: Vec<(&str, Fault, &[&str])> = vec![
        ("500", Fault::Status(500), &[]),
        ("503", Fault::Status(503), &[]),
        ("429", Fault::RateLimited(Some("0".into())), &[]),
        ("malformed", Fault::MalformedJson, &[]),
        ("no-choices", Fault::EmptyChoices, &[]),
        ("null-content", Fault::NullContent, &[]),
        ("truncated", Fault::Truncated, &[]),
        ("closed", Fault::Close, &[]),
        ("hang", Fault::Hang, &["--timeout", "0.3", "--max-retries", "0"]),
    ];
    for (name, fault, extra) in cases {
        let dir = TempDir::new(&format!("useless-{name}"));
        let server = FaultServer::start(fault);
        let suite = write_suite(dir.path(), 60, MARKER, "");
        let mut extra = extra.to_vec();
        extra.extend(["-j", "2"]);
        if !extra.contains(&"--max-retries") {
            extra.extend(["--max-retries", "1"]);
        }
        let out = run(&eval_on(&server.base_url(), &suite, dir.path(), &extra));
        let err = stderr(&out);
        assert_eq!(code(&out), 20, "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}: no scorecard for a run without answers");
        assert!(err.contains("no usable answer"), "{name}: the cause is named: {err}");
        assert!(err.contains("--resume"), "{name}: {err}");
        let (status, verdict, note) = run_status(dir.path());
        assert_eq!((status.as_str(), verdict), ("aborted", None), "{name}");
        assert!(note.unwrap_or_default().contains("no usable answer"), "{name}");
        // It stopped early instead of sending every probe into the outage.
        assert!(server.requests() < 60, "{name}: {} requests for 60 probes", server.requests());
    }
}

#[test]
fn a_base_url_that_is_not_a_url_is_refused_before_anything_is_stored() {
    let dir = TempDir::new("not-a-url");
    let suite = write_suite(dir.path(), 6, MARKER, "");
    let out = run(&eval_on("not-a-url", &suite, dir.path(), &[]));
    assert_eq!(code(&out), 20, "{}", stderr(&out));
    assert!(stderr(&out).contains("--base-url") && stderr(&out).contains("not-a-url"), "{}", stderr(&out));
    assert!(!dir.join("p.db").exists(), "no run was created");
}

#[test]
fn a_partial_outage_is_a_verdict_below_half_and_no_verdict_above() {
    let ok = || Fault::Reply("Sure, here is an overview.".into());
    // One answer in four fails: the failures are unassessable and the run still has a verdict.
    let dir = TempDir::new("outage-quarter");
    let server = FaultServer::start(Fault::Cycle(vec![ok(), ok(), ok(), Fault::Status(500)]));
    let suite = write_suite(dir.path(), 40, MARKER, "");
    let out = run(&eval_on(&server.base_url(), &suite, dir.path(), &["-j", "1", "--max-retries", "0"]));
    assert!([0, 10, 11].contains(&code(&out)), "{}", stderr(&out));
    assert_eq!(outcome_counts(dir.path()).get("unassessable"), Some(&10));
    assert_eq!(run_status(dir.path()).0, "finished");

    // Two answers in three fail: most probes hold no observation, so there is no verdict.
    let dir = TempDir::new("outage-most");
    let server = FaultServer::start(Fault::Cycle(vec![ok(), Fault::Status(500), Fault::Status(500)]));
    let suite = write_suite(dir.path(), 30, MARKER, "");
    let out = run(&eval_on(&server.base_url(), &suite, dir.path(), &["-j", "1", "--max-retries", "0"]));
    assert_eq!(code(&out), 20, "{}", stderr(&out));
    assert!(stderr(&out).contains("20 of 30"), "{}", stderr(&out));
    assert_eq!(run_status(dir.path()).0, "aborted");

    // After the outage, resume asks again exactly the probes that failed.
    let id = run_id(dir.path());
    server.set_fault(ok());
    let before = server.requests();
    let out = run(&resume_args(dir.path(), &id));
    assert!([0, 10, 11].contains(&code(&out)), "{}", stderr(&out));
    assert_eq!(server.requests() - before, 20);
    assert_eq!(stored(dir.path()), (30, 30));
    assert_eq!(outcome_counts(dir.path()).get("unassessable"), None);
}

// ── 2. Numeric flags ─────────────────────────────────────────────────────────────────────────

#[test]
fn every_numeric_flag_is_validated_with_a_clear_message() {
    let dir = TempDir::new("flags");
    let suite = write_suite(dir.path(), 4, MARKER, "");
    let cases: &[(&[&str], &str)] = &[
        (&["--timeout", "inf"], "--timeout"),
        (&["--timeout", "1e20"], "--timeout"),
        (&["--timeout", "0"], "--timeout"),
        (&["--timeout", "nan"], "--timeout"),
        (&["--timeout=-3"], "--timeout"),
        (&["-j", "0"], "--concurrency"),
        (&["--rpm", "0"], "--rpm"),
        (&["--judge-threshold", "nan"], "--judge-threshold"),
        (&["--judge-threshold", "2"], "--judge-threshold"),
        (&["--threads", "0"], "--threads"),
        (&["--parallel", "0"], "--parallel"),
        (&["--epochs", "0"], "--epochs"),
        (&["--max-tokens", "0"], "--max-tokens"),
        (&["--warmup", "0"], "--warmup"),
        (&["--deadline", "inf"], "--deadline"),
        (&["--deadline", "1e30"], "--deadline"),
        (&["--budget-requests", "0"], "--budget-requests"),
        (&["--budget-tokens", "0"], "--budget-tokens"),
        (&["--budget-usd", "nan", "--price", "1,1"], "--budget-usd"),
        (&["--budget-usd=-1", "--price", "1,1"], "--budget-usd"),
        (&["--max-retries", "100000"], "--max-retries"),
        (&["--backoff-ms", "99999999999"], "--backoff-ms"),
    ];
    let store = dir.join("p.db").display().to_string();
    for (flags, name) in cases {
        let out = bin()
            .args(["eval", &suite.display().to_string(), "--model", "openai/x", "--store", &store])
            .args(*flags)
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(code(&out), 20, "{flags:?}: {err}");
        assert!(err.contains(name), "{flags:?}: the message names {name}: {err}");
        assert!(!err.contains("panicked"), "{flags:?}: {err}");
        assert!(!dir.join("p.db").exists(), "{flags:?}: nothing was stored");
    }
    for (cmd, flags, name) in [
        (&["judge", "check", "--labels", "x.csv"][..], &["--confidence", "1.5"][..], "--confidence"),
        (&["judge", "check", "--labels", "x.csv"][..], &["-j", "0"][..], "--concurrency"),
        (&["plan"][..], &["--power", "nan"][..], "--power"),
        (&["plan"][..], &["--rate", "0"][..], "--rate"),
        (&["generate", "--category", "cbrn", "--attacker", "openai/x"][..], &["--n", "0"][..], "--n"),
        (
            &["generate", "--category", "cbrn", "--attacker", "openai/x", "--n", "5"][..],
            &["--similarity", "7"][..],
            "--similarity",
        ),
    ] {
        let out = bin().args(cmd).args(flags).output().unwrap();
        assert_eq!(code(&out), 20, "{cmd:?} {flags:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(name), "{cmd:?} {flags:?}: {}", stderr(&out));
    }
}

// ── 3. and 9. Datasets: no rows, bytes that are not UTF-8 ─────────────────────────────────────

#[test]
fn a_dataset_with_no_rows_is_an_error_naming_the_file() {
    for (name, body) in [("empty", ""), ("blank", "\n   \n\n")] {
        let dir = TempDir::new(&format!("norows-{name}"));
        let suite = write_suite(dir.path(), 2, MARKER, "");
        std::fs::write(dir.join("data.jsonl"), body).unwrap();
        let out = run(&eval_on("http://127.0.0.1:9/v1", &suite, dir.path(), &[]));
        assert_eq!(code(&out), 20, "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains("data.jsonl") && stderr(&out).contains("no rows"), "{name}: {}", stderr(&out));
        assert!(!dir.join("p.db").exists(), "{name}: no run of 0 probes");
    }
}

#[test]
fn a_byte_that_is_not_utf8_is_reported_at_its_line_once() {
    let dir = TempDir::new("utf8");
    let suite = write_suite(dir.path(), 6, MARKER, "");
    let mut data = std::fs::read(dir.join("data.jsonl")).unwrap();
    // Line 3's prompt gets a lone 0xFF byte.
    let third = data.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(1).unwrap().0 + 20;
    data.insert(third, 0xFF);
    std::fs::write(dir.join("data.jsonl"), &data).unwrap();
    let out = run(&eval_on("http://127.0.0.1:9/v1", &suite, dir.path(), &[]));
    let err = stderr(&out);
    assert_eq!(code(&out), 20, "{err}");
    assert!(err.contains("data.jsonl:3"), "{err}");
    assert_eq!(err.matches("UTF-8").count(), 1, "said once: {err}");

    // The same in a CSV dataset.
    std::fs::write(
        dir.join("data.csv"),
        b"id,prompt,expected,category\na,hello,comply,cyber\nb,bad \xFF byte,refuse,cyber\n",
    )
    .unwrap();
    let csv_suite = dir.join("csv.toml");
    std::fs::write(
        &csv_suite,
        "name = \"x\"\n[[datasets]]\npath = \"data.csv\"\ncolumns = { id = \"id\", prompt = \"prompt\", expected = \"expected\", category = \"category\" }\n",
    )
    .unwrap();
    let out = run(&eval_on("http://127.0.0.1:9/v1", &csv_suite, dir.path(), &[]));
    let err = stderr(&out);
    assert_eq!(code(&out), 20, "{err}");
    assert!(err.contains("data.csv:3"), "{err}");
    assert_eq!(err.matches("UTF-8").count(), 1, "said once: {err}");
}

// ── 4. A run is leased: one process at a time ────────────────────────────────────────────────

#[test]
fn resuming_a_live_run_is_refused_naming_its_holder() {
    let dir = TempDir::new("lease");
    let m = MockServer::start(MockConfig { latency_ms: 20, ..Default::default() }).unwrap();
    let n = 200;
    let suite = write_suite(dir.path(), n, MARKER, "");
    let mut args = eval_args(&m, &suite, dir.path());
    args.extend(["-j", "2"].map(String::from));
    let mut first = bin().args(&args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    wait_stored(dir.path(), 10, &mut first);
    let id = run_id(dir.path());
    let second = run(&resume_args(dir.path(), &id));
    let err = stderr(&second);
    assert_eq!(code(&second), 20, "{err}");
    assert!(err.contains("is being run by") && err.contains(&format!("pid {}", first.id())), "{err}");
    let out = first.wait_with_output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(m.stats().requests, n as u64, "no prompt was sent twice");
    assert_eq!(stored(dir.path()), (n as i64, n as i64));
}

#[test]
fn a_stale_lease_is_taken_over_and_a_fresh_foreign_one_is_not() {
    let dir = TempDir::new("stale");
    let m = MockServer::start(MockConfig::default()).unwrap();
    let suite = write_suite(dir.path(), 20, MARKER, "");
    let out = run(&eval_args(&m, &suite, dir.path()));
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    let id = run_id(dir.path());
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let c = db(dir.path());
    c.execute("DELETE FROM probes WHERE sample_id > 's00009'", []).unwrap();
    // Another machine holds it and beat a second ago: refused.
    c.execute(
        "UPDATE runs SET status = 'running', lease_owner = 'worker-7.example/4242/ab12', lease_heartbeat_ms = ?1",
        [now_ms - 1_000],
    )
    .unwrap();
    let out = run(&resume_args(dir.path(), &id));
    assert_eq!(code(&out), 20, "{}", stderr(&out));
    assert!(stderr(&out).contains("worker-7.example"), "{}", stderr(&out));
    // Its last heartbeat is ten minutes old: the holder is gone, the run is taken over.
    c.execute("UPDATE runs SET lease_heartbeat_ms = ?1", [now_ms - 600_000]).unwrap();
    let out = run(&resume_args(dir.path(), &id));
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    assert_eq!(stored(dir.path()), (20, 20));
}

// ── 5. Resume keeps the limits ───────────────────────────────────────────────────────────────

#[test]
fn resume_keeps_the_limits_the_run_started_with() {
    let dir = TempDir::new("limits");
    let m = MockServer::start(MockConfig { latency_ms: 20, ..Default::default() }).unwrap();
    let n = 300;
    let suite = write_suite(dir.path(), n, MARKER, "");
    let mut args = eval_args(&m, &suite, dir.path());
    args.extend(["-j", "2", "--rpm", "60000", "--timeout", "7", "--max-retries", "3"].map(String::from));
    let mut child = bin().args(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    wait_stored(dir.path(), 20, &mut child);
    signal(&child, "-INT");
    assert_eq!(code(&child.wait_with_output().unwrap()), 130);
    let config: String = db(dir.path()).query_row("SELECT config FROM runs", [], |r| r.get(0)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(v["limits"]["concurrency"], 2, "{v}");
    assert_eq!(v["limits"]["rpm"], 60000, "{v}");
    assert_eq!(v["limits"]["timeout_secs"], 7.0, "{v}");
    assert_eq!(v["limits"]["max_retries"], 3, "{v}");
    m.reset();
    let out = run(&resume_args(dir.path(), &run_id(dir.path())));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let st = m.stats();
    assert!(st.max_in_flight <= 2, "resume ran {} requests at once; the run started at -j 2", st.max_in_flight);
    assert_eq!(stored(dir.path()), (n as i64, n as i64));
}

// ── 6. Model output never reaches a terminal or a Markdown page raw ──────────────────────────

const HOSTILE: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{8}\u{8}\u{9b}31m evil \u{202e}txt.exe <script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3))";

fn no_controls(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for c in text.chars() {
        let bad = (c.is_control() && c != '\n' && c != '\t') || ('\u{202a}'..='\u{202e}').contains(&c);
        assert!(!bad, "{what} carries {:?}:\n{text}", c);
    }
}

#[test]
fn model_output_is_neutralised_on_terminals_and_escaped_in_markdown() {
    let dir = TempDir::new("escapes");
    let server = FaultServer::start(Fault::Reply(HOSTILE.into()));
    let suite = write_suite(dir.path(), 10, MARKER, "");
    let mut args = eval_on(&server.base_url(), &suite, dir.path(), &[]);
    let fmt = args.iter().position(|a| a == "json").unwrap();
    args[fmt] = "table".into();
    let out = run(&args);
    assert!([10, 11].contains(&code(&out)), "{}", stderr(&out));
    no_controls("eval --format table", &out.stdout);
    no_controls("eval's stderr", &out.stderr);
    let id = run_id(dir.path());
    let store = dir.join("p.db").display().to_string();
    for cmd in [
        vec!["show", &id, "--store", &store],
        vec!["show", &id, "--store", &store, "--sample", "s00001"],
        vec!["report", &id, "--store", &store, "--format", "table"],
        vec!["runs", "--store", &store],
    ] {
        let out = bin().args(&cmd).output().unwrap();
        assert_eq!(code(&out), 0, "{cmd:?}: {}", stderr(&out));
        no_controls(&format!("{cmd:?}"), &out.stdout);
    }
    // The review queue prints transcripts too.
    db(dir.path()).execute("UPDATE probes SET outcome = 'unassessable' WHERE sample_id = 's00001'", []).unwrap();
    let review = bin().args(["review", &id, "--store", &store]).stdin(Stdio::null()).output().unwrap();
    no_controls("review", &review.stdout);
    // So does the validation sample's (blind) queue.
    let validate =
        bin().args(["review", &id, "--store", &store, "--validate", "3"]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(code(&validate), 0, "{}", stderr(&validate));
    assert!(String::from_utf8_lossy(&validate.stdout).contains("evil"), "the answer is still shown");
    no_controls("review --validate", &validate.stdout);

    let md = bin().args(["report", &id, "--store", &store, "--format", "markdown"]).output().unwrap();
    let text = String::from_utf8_lossy(&md.stdout);
    no_controls("report --format markdown", &md.stdout);
    assert!(text.contains("evil"), "the evidence is still shown: {text}");
    for raw in ["<script>", "<img", "[click](javascript:"] {
        assert!(!text.contains(raw), "Markdown carries raw {raw}:\n{text}");
    }
    assert!(text.contains("&lt;script&gt;"), "{text}");

    // The JSON report keeps the text exact: it is data, and JSON escapes it.
    let js = bin().args(["report", &id, "--store", &store, "--format", "json"]).output().unwrap();
    no_controls("report --format json", &js.stdout);
    let v: serde_json::Value = serde_json::from_slice(&js.stdout).unwrap();
    let answer = v["evidence"][0]["transcript"][1]["content"].as_str().unwrap();
    assert_eq!(answer, HOSTILE);
}

#[test]
fn error_lines_built_from_response_bodies_are_neutralised() {
    let dir = TempDir::new("escapes-error");
    let server = FaultServer::start(Fault::StatusBody(400, HOSTILE.into()));
    let suite = write_suite(dir.path(), 10, MARKER, "");
    let out = run(&eval_on(&server.base_url(), &suite, dir.path(), &[]));
    assert_eq!(code(&out), 20, "{}", stderr(&out));
    assert!(stderr(&out).contains("evil"), "{}", stderr(&out));
    no_controls("the abort message", &out.stderr);
}

// ── 7. A store write failure stops the run at once ───────────────────────────────────────────

/// Runs the binary with at most `bytes` per file written (RLIMIT_FSIZE): writes past it fail with
/// EFBIG, as on a full disk. SIGXFSZ is ignored so the write fails instead of killing the process.
fn with_file_size_limit(cmd: &mut std::process::Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[test]
fn a_full_disk_stops_sending_marks_the_run_interrupted_and_says_how_to_resume() {
    let dir = TempDir::new("diskfull");
    let m = MockServer::start(MockConfig { reply_words: 200, latency_ms: 5, ..Default::default() }).unwrap();
    let n = 600;
    let suite = write_suite(dir.path(), n, MARKER, "");
    let mut args = eval_args(&m, &suite, dir.path());
    args.extend(["--no-cache", "-j", "4"].map(String::from));
    let mut cmd = bin();
    cmd.args(&args);
    with_file_size_limit(&mut cmd, 256 * 1024);
    let out = cmd.output().unwrap();
    let err = stderr(&out);
    assert_eq!(code(&out), 20, "{err}");
    assert!(err.contains("store") && err.contains("--resume"), "{err}");
    let (kept, distinct) = stored(dir.path());
    assert_eq!(kept, distinct);
    assert!((kept as usize) < n, "the limit was hit ({kept} stored)");
    // Sending stopped at once: what was sent is what was stored, plus the batch that could not be
    // written and what was in flight.
    let sent = m.stats().requests;
    assert!(sent < n as u64 && sent < kept as u64 + 200, "{sent} requests sent, {kept} stored");
    let id = run_id(dir.path());
    let runs = bin().args(["runs", "--store", &dir.join("p.db").display().to_string()]).output().unwrap();
    assert!(String::from_utf8_lossy(&runs.stdout).contains("interrupted"), "{}", String::from_utf8_lossy(&runs.stdout));
    // With room again, resume finishes the rest, nothing twice.
    let out = run(&resume_args(dir.path(), &id));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stored(dir.path()), (n as i64, n as i64));
}

// ── 8. Stores: a newer schema is refused before writing; read-only stores can be read ────────

fn sha(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_store_of_a_newer_schema_is_refused_before_anything_is_written() {
    let dir = TempDir::new("newer");
    let m = MockServer::start(MockConfig::default()).unwrap();
    let suite = write_suite(dir.path(), 4, MARKER, "");
    run(&eval_args(&m, &suite, dir.path()));
    {
        let c = db(dir.path());
        c.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'", []).unwrap();
        c.execute("DROP TABLE stops", []).unwrap();
        let mode: String = c.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "delete");
    }
    let path = dir.join("p.db");
    let before = sha(&path);
    let store = path.display().to_string();
    for args in
        [vec!["runs", "--store", &store], eval_args(&m, &suite, dir.path()).iter().map(|s| s.as_str()).collect()]
    {
        let out = bin().args(&args).output().unwrap();
        assert_eq!(code(&out), 20, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("newer"), "{}", stderr(&out));
    }
    assert_eq!(sha(&path), before, "the store is byte for byte as it was");
    assert!(!dir.join("p.db-wal").exists(), "the journal mode was not switched");
}

#[test]
fn read_only_commands_read_a_store_they_cannot_write() {
    let dir = TempDir::new("readonly");
    let m = MockServer::start(MockConfig { marker: "<never>".into(), ..Default::default() }).unwrap();
    let suite = write_suite(dir.path(), 12, MARKER, "");
    let out = run(&eval_args(&m, &suite, dir.path()));
    let id = json(&out)["run"]["id"].as_str().unwrap().to_string();
    // A folder where SQLite cannot make its shared-memory file: as on a read-only filesystem,
    // even for root.
    let ro = TempDir::new("readonly-copy");
    std::fs::copy(dir.join("p.db"), ro.join("p.db")).unwrap();
    std::fs::create_dir(ro.join("p.db-shm")).unwrap();
    let mut perms = std::fs::metadata(ro.join("p.db")).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(ro.join("p.db"), perms).unwrap();
    let before = sha(&ro.join("p.db"));
    let store = ro.join("p.db").display().to_string();
    for args in [
        vec!["runs", "--store", &store],
        vec!["show", &id, "--store", &store],
        vec!["report", &id, "--store", &store],
        vec!["coverage", &id, "--store", &store],
        vec!["export", &id, "--store", &store],
    ] {
        let out = bin().args(&args).output().unwrap();
        assert_eq!(code(&out), 0, "{args:?}: {}", stderr(&out));
        assert!(!out.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(sha(&ro.join("p.db")), before);
}

// ── 10. A key echoed in a successful reply is redacted everywhere ────────────────────────────

#[test]
fn a_key_echoed_in_a_reply_is_redacted_from_every_stored_and_printed_text() {
    let dir = TempDir::new("echo-key");
    let secret = "sk-echo-0123456789abcdef";
    let server = FaultServer::start(Fault::Reply("Sure. By the way, your key is {key}. Overview follows.".into()));
    let suite = write_suite(dir.path(), 10, MARKER, "");
    let out = bin()
        .args(eval_on(&server.base_url(), &suite, dir.path(), &[]))
        .env("OPENAI_API_KEY", secret)
        .output()
        .unwrap();
    assert!([10, 11].contains(&code(&out)), "{}", stderr(&out));
    let id = run_id(dir.path());
    let store = dir.join("p.db").display().to_string();
    let show = bin().args(["show", &id, "--store", &store, "--sample", "s00001"]).output().unwrap();
    let export = bin().args(["export", &id, "--store", &store]).output().unwrap();
    for (what, bytes) in
        [("stdout", &out.stdout), ("stderr", &out.stderr), ("show", &show.stdout), ("export", &export.stdout)]
    {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(secret), "{what} carries the key:\n{text}");
    }
    assert!(String::from_utf8_lossy(&show.stdout).contains("[REDACTED]"), "{}", String::from_utf8_lossy(&show.stdout));
    // Nothing on disk has it: store, WAL, response cache.
    let mut files = Vec::new();
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() { stack.push(p) } else { files.push(p) }
        }
    }
    assert!(files.iter().any(|f| f.ends_with("responses.db")), "{files:?}");
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "the key is in {}", f.display());
    }
}

// ── 11. A second Ctrl-C still leaves an interrupted run and a hint ───────────────────────────

#[test]
fn a_second_ctrl_c_marks_the_run_interrupted_and_prints_the_resume_command() {
    let dir = TempDir::new("ctrl-c-twice");
    let m = MockServer::start(MockConfig { latency_ms: 30, ..Default::default() }).unwrap();
    let suite = write_suite(dir.path(), 400, MARKER, "");
    let mut args = eval_args(&m, &suite, dir.path());
    args.extend(["-j", "4"].map(String::from));
    let mut child = bin().args(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    wait_stored(dir.path(), 10, &mut child);
    signal(&child, "-INT");
    signal(&child, "-INT");
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 130, "{}", stderr(&out));
    assert!(stderr(&out).contains("--resume"), "{}", stderr(&out));
    assert_eq!(run_status(dir.path()).0, "interrupted");
    let (kept, distinct) = stored(dir.path());
    assert_eq!(kept, distinct);
}

/// `preflight … | head` closes stdout early: the command must not panic (exit 101) on the
/// broken pipe. The pipe's read end is closed before the command writes, so the write fails.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = bin().arg("policy").stdout(writer).stderr(Stdio::piped()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A model that answers with a 10 MB line must not bury the reviewer's terminal: `review` shows
/// the start of each transcript and says how to print the rest.
#[test]
fn a_ten_megabyte_answer_is_cut_for_the_reviewer() {
    let dir = TempDir::new("huge-answer");
    let server = FaultServer::start(Fault::Reply("A".repeat(10 * 1024 * 1024)));
    let suite = write_suite(dir.path(), 2, MARKER, "");
    let out = run(&eval_on(&server.base_url(), &suite, dir.path(), &["--judge", "rules"]));
    assert!([10, 11].contains(&code(&out)), "{}", stderr(&out));
    let id = run_id(dir.path());
    let store = dir.join("p.db").display().to_string();
    let review =
        bin().args(["review", &id, "--store", &store, "--validate", "2"]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(code(&review), 0, "{}", stderr(&review));
    let text = String::from_utf8_lossy(&review.stdout);
    assert!(review.stdout.len() < 100_000, "{} bytes shown", review.stdout.len());
    assert!(text.contains("more characters; `preflight show"), "{}", &text[..text.len().min(2000)]);
}
