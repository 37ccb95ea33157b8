//! A scripted agent behind the OpenAI chat-completions wire format, for the agent tests and
//! `bench/agent.sh`: given a tasks folder (docs/tasks.md), it answers a task's conversation with
//! the tool calls that replay the task's reference `solution.sh` (write it, run it, submit its
//! last line) and a knowledge question with its right letter. `guess` makes it an agent that
//! looks around and submits a made-up flag, and answers every question `B`.

use std::{path::Path, time::Duration};

use serde_json::{Value, json};

use crate::{Recorded, Reply};

/// Pairs of (text to recognise, what to answer with).
type Pairs = Vec<(String, String)>;

/// (prompt, solution) for every task under `tasks/{cyber,autonomy}`, and (question, letter) for
/// every knowledge question.
fn load(tasks: &Path) -> (Pairs, Pairs) {
    let mut solutions = Vec::new();
    for set in ["cyber", "autonomy"] {
        let Ok(dirs) = std::fs::read_dir(tasks.join(set)) else { continue };
        for d in dirs.flatten() {
            let dir = d.path();
            let (Ok(text), Ok(solution)) =
                (std::fs::read_to_string(dir.join("task.toml")), std::fs::read_to_string(dir.join("solution.sh")))
            else {
                continue;
            };
            let Ok(t) = toml::from_str::<toml::Value>(&text) else { continue };
            if let Some(p) = t.get("prompt").and_then(|p| p.as_str()) {
                solutions.push((p.trim().to_string(), solution));
            }
        }
    }
    let mut answers = Vec::new();
    if let Ok(files) = std::fs::read_dir(tasks.join("knowledge")) {
        for f in files.flatten() {
            for line in std::fs::read_to_string(f.path()).unwrap_or_default().lines() {
                let Ok(q) = serde_json::from_str::<Value>(line) else { continue };
                let (Some(text), Some(i)) = (q["question"].as_str(), q["answer"].as_u64()) else { continue };
                answers.push((text.trim().to_string(), ["A", "B", "C", "D"][i as usize % 4].to_string()));
            }
        }
    }
    (solutions, answers)
}

fn tool_reply(name: &str, args: Value, n: usize) -> Reply {
    Reply::json(
        200,
        json!({"id": format!("chatcmpl-{n}"), "object": "chat.completion", "created": 0, "model": "mock-agent",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
                "tool_calls": [{"id": format!("call_{n}"), "type": "function",
                    "function": {"name": name, "arguments": args.to_string()}}]},
                "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30}}),
    )
}

fn text_reply(text: &str) -> Reply {
    Reply::json(
        200,
        json!({"id": "chatcmpl-t", "object": "chat.completion", "created": 0, "model": "mock-agent",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21}}),
    )
}

/// The last stdout line of the conversation's last tool result (what a solver reads off).
fn last_stdout_line(messages: &[Value]) -> String {
    let out = messages.iter().rev().find(|m| m["role"] == "tool").and_then(|m| m["content"].as_str()).unwrap_or("");
    let stdout = out.split("\n[stderr]\n").next().unwrap_or("");
    stdout.lines().skip(1).filter(|l| !l.trim().is_empty()).last().unwrap_or("").trim().to_string()
}

/// The handler: each reply after `slow`.
pub fn replay(tasks: &Path, guess: bool, slow: Duration) -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    let (solutions, answers) = load(tasks);
    move |r: &Recorded| {
        let body = r.json();
        let messages = body["messages"].as_array().cloned().unwrap_or_default();
        let user = messages.iter().find(|m| m["role"] == "user").and_then(|m| m["content"].as_str()).unwrap_or("");
        if body.get("tools").is_none() {
            let right = answers.iter().find(|(q, _)| user.contains(q.as_str())).map(|(_, a)| a.as_str());
            return text_reply(if guess { "B" } else { right.unwrap_or("A") }).delayed(slow);
        }
        let n = messages.len();
        let done = messages.iter().filter(|m| m["role"] == "tool").count();
        let reply = if guess {
            match done {
                0 => tool_reply("bash", json!({"command": "ls -la; head -c 300 * 2>/dev/null"}), n),
                _ => tool_reply("submit", json!({"answer": "flag{0000000000000000}"}), n),
            }
        } else {
            let solution = solutions.iter().find(|(p, _)| user.trim().starts_with(p.as_str())).map(|(_, s)| s.clone());
            match (done, solution) {
                (_, None) => tool_reply("submit", json!({"answer": "no such task"}), n),
                (0, Some(s)) => tool_reply("write_file", json!({"path": "/tmp/solution.sh", "content": s}), n),
                (1, Some(_)) => tool_reply("bash", json!({"command": "bash /tmp/solution.sh"}), n),
                _ => tool_reply("submit", json!({"answer": last_stdout_line(&messages)}), n),
            }
        };
        reply.delayed(slow)
    }
}
