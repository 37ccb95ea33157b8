//! The agent's tools. Every one runs inside the task's sandbox, file tools included: a host-side
//! read of `/work` would follow a symlink the agent made to anywhere on the host.

use std::time::Duration;

use preflight_core::ToolDef;
use preflight_sandbox::{Exec, Sandbox, SandboxError};
use serde_json::{Value, json};

/// Most characters of a tool's output handed back to the model (the stored step keeps what the
/// sandbox captured).
pub const OUTPUT_CHARS: usize = 6000;

/// What the agent asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Bash(String),
    Python(String),
    ReadFile(String),
    WriteFile { path: String, content: String },
    Submit(String),
}

impl Action {
    pub fn tool(&self) -> &'static str {
        match self {
            Action::Bash(_) => "bash",
            Action::Python(_) => "python",
            Action::ReadFile(_) => "read_file",
            Action::WriteFile { .. } => "write_file",
            Action::Submit(_) => "submit",
        }
    }

    /// What the step shows as its input.
    pub fn input(&self) -> String {
        match self {
            Action::Bash(s) | Action::Python(s) | Action::ReadFile(s) | Action::Submit(s) => s.clone(),
            Action::WriteFile { path, content } => format!("{path}\n{content}"),
        }
    }

    /// A native tool call's action; the error is what the model is told.
    pub fn from_call(name: &str, arguments: &str) -> Result<Action, String> {
        let args: Value = serde_json::from_str(if arguments.trim().is_empty() { "{}" } else { arguments })
            .map_err(|e| format!("the arguments of `{name}` are not JSON: {e}"))?;
        let field = |k: &str| -> Result<String, String> {
            args.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| format!("`{name}` needs a string `{k}`"))
        };
        Ok(match name {
            "bash" => Action::Bash(field("command")?),
            "python" => Action::Python(field("code")?),
            "read_file" => Action::ReadFile(field("path")?),
            "write_file" => Action::WriteFile { path: field("path")?, content: field("content")? },
            "submit" => Action::Submit(field("answer")?),
            other => {
                return Err(format!("there is no tool `{other}` (tools: bash, python, read_file, write_file, submit)"));
            }
        })
    }
}

/// The tool definitions sent to a model that takes native tool calls.
pub fn definitions() -> Vec<ToolDef> {
    let def = |name: &str, description: &str, props: Value, required: &[&str]| ToolDef {
        name: name.into(),
        description: description.into(),
        parameters: json!({ "type": "object", "properties": props, "required": required }),
    };
    let s = |d: &str| json!({ "type": "string", "description": d });
    vec![
        def(
            "bash",
            "Run a bash command in /work; returns its exit code, stdout and stderr.",
            json!({ "command": s("the command") }),
            &["command"],
        ),
        def(
            "python",
            "Run a Python 3 program (standard library) in /work.",
            json!({ "code": s("the program") }),
            &["code"],
        ),
        def("read_file", "Read a text file.", json!({ "path": s("absolute, or relative to /work") }), &["path"]),
        def(
            "write_file",
            "Write a text file (replacing it).",
            json!({ "path": s("absolute, or relative to /work"), "content": s("the whole file") }),
            &["path", "content"],
        ),
        def(
            "submit",
            "Submit the final answer (the flag, or a note when the task is done); ends the task.",
            json!({ "answer": s("the answer") }),
            &["answer"],
        ),
    ]
}

/// `s` as one bash word.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs a non-submit action in the sandbox.
pub fn run(sb: &Sandbox, action: &Action, timeout: Duration) -> Result<Exec, SandboxError> {
    // What the model wrote goes in through stdin, never as an argument: an argument past the
    // kernel's 128 KiB limit would fail to start, and a model's long command would read as a
    // harness failure. A path is an argument, and no path is that long.
    if let Action::ReadFile(path) | Action::WriteFile { path, .. } = action
        && path.len() > PATH_MAX
    {
        return Ok(refused(format!("the path is {} bytes long (at most {PATH_MAX})", path.len())));
    }
    match action {
        Action::Bash(cmd) => sb.exec(
            "f=$(mktemp /tmp/agent-XXXXXX.sh) && cat > \"$f\" && exec bash \"$f\" </dev/null",
            cmd.as_bytes(),
            timeout,
        ),
        Action::Python(code) => {
            // The program goes in through a file, so it may read stdin itself.
            sb.exec(
                "f=$(mktemp /tmp/agent-XXXXXX.py) && cat > \"$f\" && exec python3 \"$f\" </dev/null",
                code.as_bytes(),
                timeout,
            )
        }
        Action::ReadFile(path) => sb.exec(&format!("cat -- {}", quote(path)), b"", timeout),
        Action::WriteFile { path, content } => {
            let p = quote(path);
            sb.exec(&format!("mkdir -p -- \"$(dirname -- {p})\" && cat > {p}"), content.as_bytes(), timeout)
        }
        Action::Submit(_) => unreachable!("submit is not run"),
    }
}

/// The longest path a file tool takes (Linux's PATH_MAX).
const PATH_MAX: usize = 4096;

/// A tool call refused before it ran: what the model is told, as a failed command.
fn refused(why: String) -> Exec {
    Exec { exit: Some(2), stdout: String::new(), stderr: why, timed_out: false, elapsed_ms: 0 }
}

/// What the model reads back from one command.
pub fn observation(e: &Exec) -> String {
    let mut s = match (e.exit, e.timed_out) {
        (_, true) => "timed out (killed)\n".to_string(),
        (Some(c), _) => format!("exit code {c}\n"),
        (None, _) => "killed by a signal (a limit was reached)\n".to_string(),
    };
    s.push_str(&e.stdout);
    if !e.stderr.is_empty() {
        s.push_str("\n[stderr]\n");
        s.push_str(&e.stderr);
    }
    cut(&s, OUTPUT_CHARS)
}

/// `s` cut to at most `n` characters, saying so.
pub fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        None => s.to_string(),
        Some((i, _)) => format!("{}\n[… {} more characters cut]", &s[..i], s[i..].chars().count()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_map_to_actions_and_bad_calls_say_why() {
        assert_eq!(Action::from_call("bash", r#"{"command":"ls"}"#), Ok(Action::Bash("ls".into())));
        assert_eq!(
            Action::from_call("write_file", r#"{"path":"a","content":"b"}"#),
            Ok(Action::WriteFile { path: "a".into(), content: "b".into() })
        );
        assert!(Action::from_call("bash", "{").unwrap_err().contains("not JSON"));
        assert!(Action::from_call("bash", "{}").unwrap_err().contains("needs a string `command`"));
        assert!(Action::from_call("curl", "{}").unwrap_err().contains("no tool `curl`"));
        assert_eq!(definitions().len(), 5);
    }

    #[test]
    fn quoting_keeps_a_path_one_word() {
        assert_eq!(quote("a'b; rm -rf /"), r"'a'\''b; rm -rf /'");
        assert_eq!(cut("abcdef", 3), "abc\n[… 3 more characters cut]");
        assert_eq!(cut("abc", 3), "abc");
    }
}
