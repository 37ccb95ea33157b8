//! Capability evaluations end to end through the real binary: agent tasks in sandboxes and
//! knowledge probes, the target an OpenAI-compatible mock answering with tool calls from a
//! script. The scripted agent (each task's reference solution) has its flags and states accepted,
//! a guessing agent has nothing accepted, and a run killed with SIGKILL in the middle of a task
//! resumes to the same rows, none twice.

mod common;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use common::*;
use preflight_mock::Scripted;
use serde_json::Value;

/// Tasks of both suites, every kind of check: flags from a web service, a binary built in setup,
/// and a command check reading the sandbox's state.
const TASKS: [&str; 3] = ["web-sqli-login", "web-cookie-role", "swe-statkit-median"];

fn tasks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tasks")
}

/// The scripted agent (`preflight_mock::agent`): replays each task's solution and answers
/// questions right; `guess`: looks around, submits a made-up flag, answers `B`.
fn agent(guess: bool, slow: Duration) -> Scripted {
    Scripted::start(preflight_mock::agent::replay(&tasks_dir(), guess, slow)).unwrap()
}

fn suite(dir: &TempDir, attempts: u32) -> PathBuf {
    let only: Vec<String> = TASKS.iter().map(|t| format!("\"{t}\"")).collect();
    let p = dir.join("agent.toml");
    std::fs::write(
        &p,
        format!(
            "name = \"agent-e2e\"\n[capabilities]\ntasks = [\"cyber\", \"autonomy\"]\nonly = [{}]\nknowledge = [\"cyber\"]\nattempts = {attempts}\nparallel = 2\n",
            only.join(", ")
        ),
    )
    .unwrap();
    p
}

fn args(server: &Scripted, suite: &Path, dir: &TempDir) -> Vec<String> {
    [
        "eval",
        &suite.display().to_string(),
        "--model",
        "openai/agent",
        "--base-url",
        &format!("{}/v1", server.url()),
        "--store",
        &dir.join("p.db").display().to_string(),
        "--cache-dir",
        &dir.join("cache").display().to_string(),
        "--format",
        "json",
    ]
    .map(String::from)
    .to_vec()
}

/// (category, measure) → (point, n) from the scorecard.
fn measures(v: &Value) -> HashMap<(String, String), (f64, u64)> {
    let mut out = HashMap::new();
    for c in v["scorecard"]["categories"].as_array().unwrap() {
        for m in c["measures"].as_array().unwrap() {
            out.insert(
                (c["category"].as_str().unwrap().to_string(), m["measure"].as_str().unwrap().to_string()),
                (m["point"].as_f64().unwrap_or(f64::NAN), m["n"].as_u64().unwrap()),
            );
        }
    }
    out
}

/// Live processes whose environment names a sandbox directory starting with `tag`.
fn holders_of(tag: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
        .filter(|e| {
            std::fs::read(e.path().join("environ"))
                .map(|env| {
                    String::from_utf8_lossy(&env)
                        .split('\0')
                        .any(|kv| kv.starts_with("PREFLIGHT_SANDBOX=") && kv.contains(tag))
                })
                .unwrap_or(false)
        })
        .count()
}

fn rows(dir: &TempDir) -> Vec<(String, i64, Option<f64>)> {
    let c = db(dir.path());
    let mut st = c.prepare("SELECT item_id, epoch, value FROM measures ORDER BY item_id, epoch").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
}

#[test]
fn the_scripted_agent_solves_its_tasks_and_a_guessing_agent_solves_none() {
    let dir = TempDir::new("agent-solve");
    let server = agent(false, Duration::ZERO);
    let out = run(&args(&server, &suite(&dir, 2), &dir));
    // Every task solved twice over, every question right: far above every capability threshold.
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let v = json(&out);
    let m = measures(&v);
    assert_eq!(m[&("cyber".into(), "pass_rate".into())], (1.0, 4), "{m:?}");
    assert_eq!(m[&("autonomy".into(), "pass_rate".into())], (1.0, 2));
    assert_eq!(m[&("cyber".into(), "pass_at_k".into())].0, 1.0);
    assert_eq!(m[&("cyber".into(), "accuracy".into())], (1.0, 72));
    let stored = rows(&dir);
    assert_eq!(stored.len(), 3 * 2 + 72);
    // `show` prints an attempt's steps (the model's calls and what came back).
    let run_id = v["run"]["id"].as_str().unwrap().to_string();
    let shown = run(&[
        "show".into(),
        run_id,
        "--sample".into(),
        "task:web-sqli-login".into(),
        "--store".into(),
        dir.join("p.db").display().to_string(),
    ]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("step 2 · bash") && text.contains("step 3 · submit"), "{text}");
    // The HTML report folds each task's first attempt, step by step.
    let page = run(&[
        "report".into(),
        v["run"]["id"].as_str().unwrap().into(),
        "--format".into(),
        "html".into(),
        "--store".into(),
        dir.join("p.db").display().to_string(),
    ]);
    let page = String::from_utf8_lossy(&page.stdout);
    assert!(page.contains("web-sqli-login · first attempt") && page.contains("step 3 · submit"), "{page}");

    let dir = TempDir::new("agent-guess");
    let server = agent(true, Duration::ZERO);
    let out = run(&args(&server, &suite(&dir, 1), &dir));
    let v = json(&out);
    let m = measures(&v);
    assert_eq!(m[&("cyber".into(), "pass_rate".into())], (0.0, 2), "{m:?}");
    assert_eq!(m[&("autonomy".into(), "pass_rate".into())], (0.0, 1));
    let acc = m[&("cyber".into(), "accuracy".into())].0;
    assert!((0.1..0.45).contains(&acc), "always-B accuracy {acc} is near chance");
    assert_ne!(code(&out), 10, "a guessing agent is not dangerous: {}", stderr(&out));
}

#[test]
fn a_run_killed_in_the_middle_of_a_task_resumes_and_stores_each_attempt_once() {
    let dir = TempDir::new("agent-kill9");
    // Slow steps: the kill lands while attempts are in flight.
    let server = agent(false, Duration::from_millis(700));
    let mut child = bin()
        .args(args(&server, &suite(&dir, 1), &dir))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // Killed once the first rows are in (the questions and the first task), the rest in flight.
    loop {
        let tasks_in = dir.join("p.db").exists() && rows(&dir).iter().any(|r| r.0.starts_with("task:"));
        if tasks_in {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no task finished");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(holders_of(&format!("sbx-{}-", child.id())), 0, "a killed run's sandbox holder outlived it");
    let before = rows(&dir);
    let tasks_before = before.iter().filter(|r| r.0.starts_with("task:")).count();
    assert!(tasks_before < 3, "killed before every task was in ({tasks_before})");
    let run_id: String = db(dir.path()).query_row("SELECT id FROM runs", [], |r| r.get(0)).unwrap();
    let out = run(&resume_args(dir.path(), &run_id));
    assert_eq!(code(&out), 10, "{}", stderr(&out));
    let after = rows(&dir);
    assert_eq!(after.len(), 3 + 72, "each attempt and question stored exactly once");
    assert!(after.iter().filter(|r| r.0.starts_with("task:")).all(|r| r.2 == Some(1.0)), "{after:?}");
    // What was stored before the kill is kept as it was.
    for r in &before {
        assert!(after.contains(r), "{r:?} changed on resume");
    }
    // Nothing of the killed run's sandboxes runs on (they die with it), and the resumed run
    // removed their directories.
    let tag = format!("sbx-{}-", child.id());
    assert_eq!(holders_of(&tag), 0, "a killed run's sandbox holder outlived it");
    let parent = std::env::temp_dir().join("preflight-sandboxes");
    let left = std::fs::read_dir(&parent)
        .map(|d| d.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(&tag)).count());
    assert_eq!(left.unwrap_or(0), 0, "the killed run's sandbox directories are still in {}", parent.display());
}

#[test]
fn a_bad_task_or_capabilities_table_is_named_by_file_line_and_field() {
    let dir = TempDir::new("agent-bad");
    let task = dir.join("mine/t-1");
    std::fs::create_dir_all(&task).unwrap();
    std::fs::write(
        task.join("task.toml"),
        "id = \"t-1\"\ntitle = \"T\"\nsuite = \"cyber\"\nkind = \"crypto\"\ndifficulty = 9\nprompt = \"p\"\n[check]\ncommand = \"true\"\n",
    )
    .unwrap();
    let suite = dir.join("s.toml");
    std::fs::write(&suite, "name = \"bad\"\n[capabilities]\ntasks = [\"mine\"]\n").unwrap();
    let server = agent(false, Duration::ZERO);
    let out = run(&args(&server, &suite, &dir));
    assert_eq!(code(&out), 20, "{}", stderr(&out));
    assert!(stderr(&out).contains("mine/t-1/task.toml:5: difficulty: 9 is not 1…5"), "{}", stderr(&out));
    std::fs::write(&suite, "name = \"bad\"\n\n[capabilities]\ntasks = [\"cyber\"]\nattempts = 0\n").unwrap();
    let out = run(&args(&server, &suite, &dir));
    assert_eq!(code(&out), 20);
    assert!(stderr(&out).contains("s.toml:3: field `capabilities.attempts`: must be at least 1"), "{}", stderr(&out));
    assert!(server.requests().is_empty(), "nothing was asked of the model");
}

#[test]
fn an_attempt_the_provider_spoiled_is_unassessable_and_run_again_on_resume() {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };
    let dir = TempDir::new("agent-spoiled");
    let broken = Arc::new(AtomicBool::new(true));
    let replay = preflight_mock::agent::replay(&tasks_dir(), false, Duration::ZERO);
    let flag = broken.clone();
    let server = Scripted::start(move |r: &preflight_mock::Recorded| {
        if flag.load(Ordering::SeqCst) && r.json().get("tools").is_some() {
            // A permanent error: not retried, the attempt cannot go on.
            return preflight_mock::Reply::json(
                400,
                serde_json::json!({"error": {"message": "bad request", "type": "invalid_request_error"}}),
            );
        }
        replay(r)
    })
    .unwrap();
    let suite = dir.join("s.toml");
    std::fs::write(&suite, "name = \"spoiled\"\n[capabilities]\ntasks = [\"cyber\"]\nonly = [\"web-robots-admin\"]\n")
        .unwrap();
    let out = run(&args(&server, &suite, &dir));
    // Unassessable, never "not capable": the run has no verdict (the harness exit) and resumes.
    assert_eq!(code(&out), 20, "{}", stderr(&out));
    assert!(stderr(&out).contains("1 of 1 were spoiled by the harness or the provider"), "{}", stderr(&out));
    let stored = rows(&dir);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].2, None);
    let reason: String = db(dir.path())
        .query_row("SELECT json_extract(detail, '$.unassessable_reason') FROM measures", [], |r| r.get(0))
        .unwrap();
    assert_eq!(reason, "provider_error:permanent");
    broken.store(false, Ordering::SeqCst);
    let run_id: String = db(dir.path()).query_row("SELECT id FROM runs", [], |r| r.get(0)).unwrap();
    let out = run(&resume_args(dir.path(), &run_id));
    let m = measures(&json(&out));
    assert_eq!(m[&("cyber".into(), "pass_rate".into())], (1.0, 1), "{}", stderr(&out));
}

#[test]
fn the_deadline_holds_for_agent_tasks_too() {
    let dir = TempDir::new("agent-deadline");
    // Each step takes 400 ms, a task three steps, one task at a time: a 1.5 s deadline leaves
    // later tasks unbegun.
    let server = agent(false, Duration::from_millis(400));
    let suite = dir.join("s.toml");
    std::fs::write(
        &suite,
        "name = \"deadline\"\n[capabilities]\ntasks = [\"cyber\"]\nonly = [\"web-robots-admin\", \"web-cookie-role\", \"web-sqli-login\", \"web-path-traversal\"]\nparallel = 1\n",
    )
    .unwrap();
    let mut a = args(&server, &suite, &dir);
    a.extend(["--deadline", "1.5s"].map(String::from));
    let out = run(&a);
    assert!(stderr(&out).contains("deadline reached —"), "{}", stderr(&out));
    let stored = rows(&dir);
    assert!(!stored.is_empty() && stored.len() < 4, "{stored:?}");
    assert!(stored.iter().all(|r| r.2 == Some(1.0)), "what ran was solved: {stored:?}");
}

/// The capability rows in the pre → post scorecard: a pre-mitigation model that solves every task,
/// a post-mitigation one that solves none.
#[test]
fn capability_rows_have_pre_and_post_columns() {
    let dir = TempDir::new("agent-stages");
    let suite = dir.join("s.toml");
    std::fs::write(
        &suite,
        "name = \"stages\"\n[capabilities]\ntasks = [\"cyber\", \"autonomy\"]\nonly = [\"web-robots-admin\", \"web-cookie-role\", \"web-sqli-login\", \"web-path-traversal\", \"web-jwt-weak\", \"swe-statkit-median\"]\n",
    )
    .unwrap();
    let (solver, guesser) = (agent(false, Duration::ZERO), agent(true, Duration::ZERO));
    let with_stage = |server: &Scripted, stage: &str| {
        let mut a = args(server, &suite, &dir);
        a.extend(["--stage", stage].map(String::from));
        run(&a)
    };
    let id = |o: &std::process::Output| json(o)["run"]["id"].as_str().unwrap().to_string();
    let (pre, post) = (with_stage(&solver, "pre"), with_stage(&guesser, "post"));
    let (pre, post) = (id(&pre), id(&post));
    let r = run(&[
        "report".into(),
        post,
        "--pre".into(),
        pre,
        "--store".into(),
        dir.join("p.db").display().to_string(),
        "--format".into(),
        "table".into(),
    ]);
    let text = String::from_utf8_lossy(&r.stdout);
    assert!(text.contains("pre → post mitigation"), "{text}");
    let section = &text[text.find("pre → post mitigation").unwrap()..];
    let cyber = section.lines().find(|l| l.trim_start().starts_with("cyber ")).unwrap();
    assert!(cyber.contains("Critical") && cyber.contains("Low"), "pre Critical, post Low or more: {cyber}");
    assert!(text.contains("cyber     pass rate"), "{text}");
}
