//! The agent task format (`docs/tasks.md`): one directory per task holding `task.toml`,
//! `files/` (the agent's `/work`), `private/` and `check/` (trusted sandboxes only) and a
//! reference `solution.sh`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// A task that cannot be used, named by file, line and field.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("{path}:{line}: {field}: {message}")]
    Invalid { path: PathBuf, line: u64, field: String, message: String },
    #[error("{path}: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },
}

/// How a task is judged solved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// The submitted answer's sha256 (hex); only solving reveals the flag.
    FlagSha256(String),
    /// A command run in a trusted sandbox after the agent; exit 0 = solved.
    Command(String),
}

/// A service a task starts before the agent acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub command: String,
    pub port: u16,
}

/// One loaded, validated task.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub dir: PathBuf,
    pub id: String,
    pub title: String,
    /// `cyber` or `autonomy`.
    pub suite: String,
    pub kind: String,
    pub difficulty: u8,
    pub requires: Vec<String>,
    pub max_steps: u32,
    pub wall_seconds: u64,
    pub prompt: String,
    pub setup: Option<String>,
    pub services: Vec<Service>,
    pub check: Check,
}

/// The kinds each suite may hold.
pub const KINDS: &[(&str, &[&str])] = &[
    ("cyber", &["crypto", "web", "reverse", "forensics", "pwn"]),
    ("autonomy", &["swe", "ml", "resource", "exfiltration"]),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    id: Spanned<String>,
    title: String,
    suite: Spanned<String>,
    kind: Spanned<String>,
    difficulty: Spanned<i64>,
    #[serde(default)]
    requires: Vec<String>,
    max_steps: Option<Spanned<i64>>,
    wall_seconds: Option<Spanned<i64>>,
    prompt: Spanned<String>,
    setup: Option<RawCommand>,
    #[serde(default)]
    services: Vec<RawService>,
    check: Spanned<RawCheck>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommand {
    command: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    command: String,
    port: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    flag_sha256: Option<Spanned<String>>,
    command: Option<String>,
}

fn line_of(src: &str, offset: usize) -> u64 {
    src.as_bytes()[..offset.min(src.len())].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

impl Task {
    /// Reads and checks `dir/task.toml`.
    pub fn load(dir: &Path) -> Result<Task, TaskError> {
        let path = dir.join("task.toml");
        let src = std::fs::read_to_string(&path).map_err(|cause| TaskError::Io { path: path.clone(), cause })?;
        Task::parse(&src, &path, dir)
    }

    fn parse(src: &str, path: &Path, dir: &Path) -> Result<Task, TaskError> {
        let bad = |offset: usize, field: &str, message: String| TaskError::Invalid {
            path: path.to_path_buf(),
            line: line_of(src, offset),
            field: field.to_string(),
            message,
        };
        let raw: Raw = toml::from_str(src).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            bad(offset, "task.toml", e.message().to_string())
        })?;
        let id = raw.id.get_ref().clone();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(bad(raw.id.span().start, "id", format!("`{id}` is not [a-z0-9-]+")));
        }
        if dir.file_name().and_then(|n| n.to_str()) != Some(id.as_str()) {
            return Err(bad(raw.id.span().start, "id", format!("`{id}` differs from the directory name")));
        }
        let suite = raw.suite.get_ref().clone();
        let Some((_, kinds)) = KINDS.iter().find(|(s, _)| *s == suite) else {
            return Err(bad(raw.suite.span().start, "suite", format!("`{suite}` is neither cyber nor autonomy")));
        };
        let kind = raw.kind.get_ref().clone();
        if !kinds.contains(&kind.as_str()) {
            return Err(bad(
                raw.kind.span().start,
                "kind",
                format!("`{kind}` (a {suite} task is one of {})", kinds.join(", ")),
            ));
        }
        let difficulty = *raw.difficulty.get_ref();
        if !(1..=5).contains(&difficulty) {
            return Err(bad(raw.difficulty.span().start, "difficulty", format!("{difficulty} is not 1…5")));
        }
        let positive = |v: &Option<Spanned<i64>>, field: &str, default: i64| -> Result<i64, TaskError> {
            match v {
                None => Ok(default),
                Some(s) if *s.get_ref() >= 1 => Ok(*s.get_ref()),
                Some(s) => Err(bad(s.span().start, field, format!("{} must be at least 1", s.get_ref()))),
            }
        };
        let max_steps = positive(&raw.max_steps, "max_steps", 30)? as u32;
        let wall_seconds = positive(&raw.wall_seconds, "wall_seconds", 600)? as u64;
        if raw.prompt.get_ref().trim().is_empty() {
            return Err(bad(raw.prompt.span().start, "prompt", "is empty".into()));
        }
        let mut services = Vec::new();
        for s in raw.services {
            let port = *s.port.get_ref();
            if !(1..=65535).contains(&port) {
                return Err(bad(s.port.span().start, "services.port", format!("{port} is not a TCP port")));
            }
            services.push(Service { command: s.command, port: port as u16 });
        }
        let at = raw.check.span().start;
        let c = raw.check.into_inner();
        let check = match (c.flag_sha256, c.command) {
            (Some(h), None) => {
                let hex = h.get_ref().to_ascii_lowercase();
                if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(bad(h.span().start, "check.flag_sha256", "is not 64 hex digits".into()));
                }
                Check::FlagSha256(hex)
            }
            (None, Some(cmd)) => Check::Command(cmd),
            _ => return Err(bad(at, "check", "needs exactly one of flag_sha256 and command".into())),
        };
        Ok(Task {
            dir: dir.to_path_buf(),
            id,
            title: raw.title,
            suite,
            kind,
            difficulty: difficulty as u8,
            requires: raw.requires,
            max_steps,
            wall_seconds,
            prompt: raw.prompt.into_inner(),
            setup: raw.setup.map(|s| s.command),
            services,
            check,
        })
    }

    /// `files/`, `private/` or `check/` of the task, if it has one.
    pub fn part(&self, name: &str) -> Option<PathBuf> {
        let p = self.dir.join(name);
        p.is_dir().then_some(p)
    }
}

/// Every task of `dir` (one directory each), sorted by id.
pub fn load_suite(dir: &Path) -> Result<Vec<Task>, TaskError> {
    let io = |cause| TaskError::Io { path: dir.to_path_buf(), cause };
    let mut tasks = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let p = entry.map_err(io)?.path();
        if p.join("task.toml").is_file() {
            tasks.push(Task::load(&p)?);
        }
    }
    tasks.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(tasks)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"id = "t-1"
title = "T"
suite = "cyber"
kind = "crypto"
difficulty = 2
prompt = "Find the flag."
[check]
flag_sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
"#;

    fn parse(src: &str) -> Result<Task, TaskError> {
        Task::parse(src, Path::new("tasks/cyber/t-1/task.toml"), Path::new("tasks/cyber/t-1"))
    }

    #[test]
    fn a_good_task_parses_with_defaults() {
        let t = parse(GOOD).unwrap();
        assert_eq!((t.max_steps, t.wall_seconds, t.difficulty), (30, 600, 2));
        assert!(matches!(t.check, Check::FlagSha256(_)));
    }

    #[test]
    fn bad_fields_are_named_with_their_line() {
        for (from, to, want) in [
            ("difficulty = 2", "difficulty = 9", "task.toml:5: difficulty: 9 is not 1…5"),
            ("kind = \"crypto\"", "kind = \"swe\"", "task.toml:4: kind: `swe` (a cyber task"),
            ("id = \"t-1\"", "id = \"T 1\"", "task.toml:1: id: `T 1` is not"),
            ("id = \"t-1\"", "id = \"t-2\"", "task.toml:1: id: `t-2` differs"),
            ("\"0000", "\"00", "task.toml:8: check.flag_sha256: is not 64 hex digits"),
            ("prompt = ", "promt = ", "task.toml:6: task.toml: unknown field `promt`"),
        ] {
            let err = parse(&GOOD.replace(from, to)).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
        let both = GOOD.replace("[check]\n", "[check]\ncommand = \"true\"\n");
        assert!(parse(&both).unwrap_err().to_string().contains("check: needs exactly one"));
    }
}
