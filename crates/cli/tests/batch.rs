//! `--batch` end to end against the mock's OpenAI Batch API: chunks submitted, polled and
//! collected; kill -9 between submit and collect, then resume, submits nothing twice; judges go
//! through the batch API too, at half the price.

mod common;

use std::time::{Duration, Instant};

use common::*;

const MARKER: &str = "[[REFUSE]]";

fn batch_args(m: &MockServer, suite: &std::path::Path, dir: &TempDir, size: &str) -> Vec<String> {
    let mut args = eval_args(m, suite, dir.path());
    args.extend(["--batch", "--batch-size", size, "--batch-poll", "0.1s", "--no-cache"].map(String::from));
    args
}

/// Chunks the store's journal holds: (with a batch id, total requests).
fn journalled(dir: &TempDir) -> (i64, i64) {
    std::panic::catch_unwind(|| {
        db(dir.path())
            .query_row("SELECT COUNT(batch_id), COALESCE(SUM(json_array_length(keys)), 0) FROM batches", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap_or((0, 0))
    })
    .unwrap_or((0, 0))
}

#[test]
fn kill_9_between_submit_and_collect_resumes_by_polling_and_submits_nothing_twice() {
    let dir = TempDir::new("batch-kill9");
    // Batches take four seconds: long enough to kill the run while all of them are running.
    let m = MockServer::start(MockConfig { marker: MARKER.into(), batch_ms: 4000, ..Default::default() }).unwrap();
    let n = 40;
    let suite = write_suite(dir.path(), n, MARKER, "");
    let args = batch_args(&m, &suite, &dir, "16");
    let mut child =
        bin().args(&args).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    // 40 requests in chunks of 16: three batches, each journalled with its id.
    while journalled(&dir) != (3, n as i64) {
        std::thread::sleep(Duration::from_millis(20));
        assert!(started.elapsed() < Duration::from_secs(30), "the batches were not submitted: {:?}", journalled(&dir));
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(stored(dir.path()).0, 0, "killed before any batch ended");
    assert_eq!(m.stats().batches_created, 3);

    let run_id: String = db(dir.path()).query_row("SELECT id FROM runs", [], |r| r.get(0)).unwrap();
    let out = run(&resume_args(dir.path(), &run_id));
    assert_eq!(code(&out), 11, "{}", stderr(&out));
    assert_eq!(stored(dir.path()), (n as i64, n as i64), "every sample stored once");
    let stats = m.stats();
    assert_eq!(stats.batches_created, 3, "the resumed run polled the three batches and created none");
    assert_eq!(stats.batch_submissions.len(), n, "{:?}", stats.batch_submissions);
    assert!(
        stats.batch_submissions.values().all(|&c| c == 1),
        "a request submitted twice: {:?}",
        stats.batch_submissions
    );
    // Every answer came from a batch: no synchronous request reached the server.
    assert_eq!(stats.requests, n as u64);
    let open: i64 =
        db(dir.path()).query_row("SELECT COUNT(*) FROM batches WHERE closed_ms IS NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(open, 0, "every chunk collected");
    let v = json(&out);
    assert_eq!(v["run"]["done"], n);
}

#[test]
fn judges_are_batched_too_and_batches_cost_half() {
    let dir = TempDir::new("batch-judge");
    let rules = vec![judge_rule(STRONGREJECT_UNSAFE)];
    let m = MockServer::start(MockConfig { marker: "<never>".into(), rules, ..Default::default() }).unwrap();
    let n = 10;
    let suite = write_suite(dir.path(), n, MARKER, "scorers = [\"refusal\", \"strongreject\"]");
    let prices = dir.join("prices.toml");
    std::fs::write(&prices, "[models]\n\"openai/*\" = { input = 1.0, output = 1.0 }\n").unwrap();
    let mut args = batch_args(&m, &suite, &dir, "100");
    args.extend(["--judge", "openai/judge", "--prices"].map(String::from));
    args.push(prices.display().to_string());
    let out = run(&args);
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let stats = m.stats();
    // One batch of answers, then one of verdicts.
    assert_eq!((stats.batches_created, stats.batch_submissions.len()), (2, 2 * n), "{stats:?}");
    assert_eq!(stats.requests, 2 * n as u64, "nothing asked synchronously");
    let judged: i64 = db(dir.path())
        .query_row(
            "SELECT COUNT(*) FROM scores WHERE scorer = 'strongreject' AND judge_model = 'openai/judge'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(judged, n as i64);
    for r in json(&out)["spend"].as_array().unwrap() {
        let tokens = r["prompt_tokens"].as_f64().unwrap() + r["completion_tokens"].as_f64().unwrap();
        assert!(tokens > 0.0 && (r["usd"].as_f64().unwrap() - tokens / 1e6 * 0.5).abs() < 1e-12, "{r}");
    }
}

#[test]
fn a_target_without_a_batch_api_is_refused_before_any_request() {
    let dir = TempDir::new("batch-unsupported");
    let m = MockServer::start(MockConfig::default()).unwrap();
    let suite = write_suite(dir.path(), 4, MARKER, "");
    let mut args = batch_args(&m, &suite, &dir, "10");
    let model = args.iter().position(|a| a == "--model").unwrap() + 1;
    args[model] = "google/gemini-test".into();
    let out = run(&args);
    assert_eq!(code(&out), 20, "{}", stderr(&out));
    assert!(stderr(&out).contains("--batch: google/gemini-test has no batch API"), "{}", stderr(&out));
    assert_eq!(m.stats().requests, 0);
}
