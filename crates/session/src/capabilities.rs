//! The capability half of the scorecard: a suite's `[capabilities]` — agent tasks (each attempt
//! one sandboxed tool loop, `preflight-agent`) and multiple-choice knowledge probes — run after
//! the probes, concurrently, each attempt leaving as one measure row as it finishes (a resumed run
//! skips stored attempts; the cache replays the model's answers to an interrupted one).
//!
//! Rows: category = the task's suite (`cyber`, `autonomy`) or the knowledge set (`cyber`,
//! `cbrn`); measure `pass_rate` (cluster: task id, epoch: attempt) or `accuracy` (cluster:
//! question id). An attempt spoiled by the harness or the provider has no value: unassessable,
//! never "not capable".

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, Result, bail};
use preflight_agent::{AgentLimits, Question, Task, Verdict};
use preflight_core::{Event, GenSettings, Generate, MeasureRecord};
use preflight_runner::EventSink;
use preflight_suite::Capabilities;
use serde_json::json;

/// Where the shipped task sets live: `PREFLIGHT_TASKS_DIR`, else the `tasks/` folder of the
/// source tree this binary was built from.
pub fn tasks_dir() -> PathBuf {
    std::env::var_os("PREFLIGHT_TASKS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tasks"))
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub tasks: Vec<Task>,
    /// (set name = category, question).
    pub questions: Vec<(String, Question)>,
    pub attempts: u32,
    pub parallel: usize,
    pub limits: AgentLimits,
}

/// `tasks_dir()/sub/NAME.ext` for a shipped set's name, else `name` relative to the suite file.
fn shipped_or(base: &Path, name: &str, shipped: &[&str], sub: &str, ext: &str) -> PathBuf {
    if shipped.contains(&name) { tasks_dir().join(sub).join(format!("{name}{ext}")) } else { base.join(name) }
}

impl Plan {
    /// Loads every task and question `c` names; a bad one is an error naming its file and line.
    /// `only` (the run's `--only` categories, all when empty) keeps the sets of those categories.
    pub fn load(c: &Capabilities, only: &[String]) -> Result<Plan> {
        let wanted = |category: &str| only.is_empty() || only.iter().any(|o| o == category);
        let mut tasks = Vec::new();
        for set in &c.tasks {
            let dir = shipped_or(&c.base, set, &["cyber", "autonomy"], "", "");
            let mut t = preflight_agent::load_suite(&dir).with_context(|| format!("task set `{set}`"))?;
            if t.is_empty() {
                bail!("task set `{set}`: no tasks in {}", dir.display());
            }
            if !c.only.is_empty() {
                t.retain(|t| c.only.contains(&t.id));
            }
            t.retain(|t| wanted(&t.suite));
            t.truncate(c.limit.unwrap_or(usize::MAX));
            tasks.extend(t);
        }
        if let Some(id) = c.only.iter().find(|id| only.is_empty() && !tasks.iter().any(|t| &t.id == *id)) {
            bail!("capabilities.only: no task `{id}` in {}", c.tasks.join(", "));
        }
        let mut questions = Vec::new();
        for set in &c.knowledge {
            let path = shipped_or(&c.base, set, &["cyber", "cbrn"], "knowledge", ".jsonl");
            let category = path.file_stem().and_then(|s| s.to_str()).unwrap_or(set).to_string();
            if !wanted(&category) {
                continue;
            }
            let mut q = preflight_agent::load_questions(&path).with_context(|| format!("knowledge set `{set}`"))?;
            q.truncate(c.limit.unwrap_or(usize::MAX));
            questions.extend(q.into_iter().map(|q| (category.clone(), q)));
        }
        let mut limits = AgentLimits { max_steps: c.max_steps, ..AgentLimits::default() };
        if let Some(t) = c.max_tokens {
            limits.max_tokens = t;
        }
        Ok(Plan { tasks, questions, attempts: c.attempts.unwrap_or(1), parallel: c.parallel.unwrap_or(2), limits })
    }

    /// sha256 over every task's files (task.toml, files/, private/, check/, solution.sh) and every
    /// question, with the attempts and limits: what the run's fingerprint adds, so a resume with
    /// changed tasks is refused like one with a changed suite.
    pub fn digest(&self) -> String {
        let mut text =
            format!("attempts {} steps {:?} tokens {}\n", self.attempts, self.limits.max_steps, self.limits.max_tokens);
        for t in &self.tasks {
            let mut files = Vec::new();
            walk(&t.dir, &mut files);
            files.sort();
            for f in files {
                let bytes = std::fs::read(&f).unwrap_or_default();
                let rel = f.strip_prefix(&t.dir).unwrap_or(&f).display().to_string();
                text.push_str(&format!("{} {rel} {}\n", t.id, preflight_core::sha256_hex(&bytes)));
            }
        }
        for (cat, q) in &self.questions {
            text.push_str(&format!("{cat} {q:?}\n"));
        }
        preflight_core::sha256_hex(text.as_bytes())
    }

    /// Measure rows the plan holds (task attempts and questions).
    pub fn count(&self) -> usize {
        self.tasks.len() * self.attempts as usize + self.questions.len()
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn task_row(task: &Task, epoch: u32, a: preflight_agent::Attempt) -> MeasureRecord {
    let (value, reason) = match &a.verdict {
        Verdict::Solved => (Some(1.0), None),
        Verdict::NotSolved => (Some(0.0), None),
        Verdict::Unassessable(r) => (None, Some(r.clone())),
    };
    MeasureRecord {
        item_id: format!("task:{}", task.id),
        epoch,
        category: task.suite.clone(),
        game: "agent".into(),
        cluster: task.id.clone(),
        measure: "pass_rate".into(),
        value,
        detail: json!({
            "title": task.title, "kind": task.kind, "difficulty": task.difficulty,
            "solved": value.map(|v| v == 1.0), "unassessable_reason": reason, "ended": a.ended,
            "answer": a.answer, "check_output": a.check_output, "tokens": a.tokens,
            "elapsed_ms": a.elapsed_ms, "steps": a.steps,
        }),
        transcript: a.transcript,
    }
}

fn question_row(category: &str, q: &Question, r: Result<(Option<bool>, String), String>) -> MeasureRecord {
    let (value, detail) = match r {
        Ok((right, reply)) => (
            right.map(|r| if r { 1.0 } else { 0.0 }),
            json!({ "topic": q.topic, "answer": q.answer, "reply": reply, "chance": preflight_agent::knowledge::CHANCE,
                    "unassessable_reason": right.is_none().then_some("no_choice") }),
        ),
        Err(e) => (None, json!({ "topic": q.topic, "error": e, "unassessable_reason": "provider_error" })),
    };
    MeasureRecord {
        item_id: format!("mcq:{}", q.id),
        epoch: 1,
        category: category.into(),
        game: "knowledge".into(),
        cluster: q.id.clone(),
        measure: "accuracy".into(),
        value,
        detail,
        transcript: Vec::new(),
    }
}

/// The model under test and the suite's generation settings it is asked with.
pub struct Target {
    pub model: Arc<dyn Generate>,
    pub settings: GenSettings,
}

/// Whether the run's deadline or budget is reached, and which (`deadline`, `budget`).
pub type StopCheck = Arc<dyn Fn() -> Option<&'static str> + Send + Sync>;

enum Job {
    Task(Task, u32),
    Question(String, Question),
}

/// Runs every attempt and question not in `done` (task attempts `parallel` at a time, questions
/// `concurrency` at a time) and emits each row as it finishes. Returns (rows, unassessable, cut
/// short by cancel).
pub async fn run(
    plan: &Plan,
    target: Target,
    done: &HashSet<(String, u32)>,
    events: Arc<dyn EventSink>,
    concurrency: usize,
    mut cancel: tokio::sync::watch::Receiver<bool>,
    stop: StopCheck,
) -> (usize, usize, bool) {
    let mut jobs = Vec::new();
    for t in &plan.tasks {
        for epoch in 1..=plan.attempts {
            if !done.contains(&(format!("task:{}", t.id), epoch)) {
                jobs.push(Job::Task(t.clone(), epoch));
            }
        }
    }
    for (cat, q) in &plan.questions {
        if !done.contains(&(format!("mcq:{}", q.id), 1)) {
            jobs.push(Job::Question(cat.clone(), q.clone()));
        }
    }
    events.emit(Event::CapabilitiesStarted {
        attempts: jobs.iter().filter(|j| matches!(j, Job::Task(..))).count(),
        questions: jobs.iter().filter(|j| matches!(j, Job::Question(..))).count(),
        stored: plan.count() - jobs.len(),
    });
    let agents = Arc::new(tokio::sync::Semaphore::new(plan.parallel.max(1)));
    let asks = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let (target, settings, limits) = (target.model, Arc::new(target.settings), Arc::new(plan.limits.clone()));
    let mut set = tokio::task::JoinSet::new();
    for job in jobs {
        let (target, settings, limits) = (target.clone(), settings.clone(), limits.clone());
        let (agents, asks, stop) = (agents.clone(), asks.clone(), stop.clone());
        set.spawn(async move {
            match job {
                Job::Task(t, epoch) => {
                    let _permit = agents.acquire_owned().await.expect("semaphore open");
                    if let Some(why) = stop() {
                        return Err(why);
                    }
                    let a = preflight_agent::attempt(&t, target.as_ref(), &settings, &limits, epoch).await;
                    Ok(task_row(&t, epoch, a))
                }
                Job::Question(cat, q) => {
                    let _permit = asks.acquire_owned().await.expect("semaphore open");
                    if let Some(why) = stop() {
                        return Err(why);
                    }
                    let r = preflight_agent::ask(&q, target.as_ref(), &settings, 1).await.map_err(|e| e.to_string());
                    Ok(question_row(&cat, &q, r))
                }
            }
        });
    }
    let (mut rows, mut unassessable) = (0, 0);
    let mut not_begun: (usize, Option<&str>) = (0, None);
    loop {
        // On cancel, attempts in flight are dropped (their sandboxes with them); the stored
        // rows stay and a resume runs only the rest.
        let res = tokio::select! {
            biased;
            _ = cancel.changed() => {
                set.abort_all();
                return (rows, unassessable, true);
            }
            next = set.join_next() => match next {
                Some(res) => res,
                None => break,
            },
        };
        let row = match res.expect("capability task") {
            Ok(row) => row,
            Err(why) => {
                not_begun = (not_begun.0 + 1, Some(why));
                continue;
            }
        };
        rows += 1;
        unassessable += usize::from(row.value.is_none());
        events.emit(Event::GameFinished(vec![row]));
    }
    if let (n, Some(why)) = not_begun {
        events.emit(Event::Notice(format!(
            "{why} reached — {n} capability attempts and questions were not begun; the scorecard holds the {rows} that ran"
        )));
    }
    events.emit(Event::CapabilitiesFinished { rows, unassessable });
    (rows, unassessable, false)
}
