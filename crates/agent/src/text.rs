//! The text protocol, for models without native tool calls: one action per reply, written as a
//! tag. Local models decode under a grammar of exactly these forms, so every reply is an action.

use crate::tools::Action;

/// How the protocol is explained to the model (after the task's own prompt).
pub const INSTRUCTIONS: &str = "\
You act in steps. Each reply is exactly one action, in one of these forms:
<bash>
a bash command, run in /work
</bash>
<python>
a Python 3 program (standard library)
</python>
<read_file>a path</read_file>
<submit>your final answer</submit>
After each action you are shown its output. When you have the answer, submit it.";

/// A llama.cpp grammar of the actions (bodies may not hold `<`, which keeps the grammar small;
/// providers that cannot decode under a grammar ignore it).
pub const GRAMMAR: &str = r#"root ::= bash | python | read | submit
bash ::= "<bash>\n" body "\n</bash>"
python ::= "<python>\n" body "\n</python>"
read ::= "<read_file>" line "</read_file>"
submit ::= "<submit>" line "</submit>"
body ::= [^<]+
line ::= [^<\n]+"#;

/// The first action in `reply`, if it holds one.
pub fn parse(reply: &str) -> Option<Action> {
    let mut best: Option<(usize, Action)> = None;
    for tag in ["bash", "python", "read_file", "submit"] {
        let open = format!("<{tag}>");
        let Some(start) = reply.find(&open) else { continue };
        let rest = &reply[start + open.len()..];
        // An unclosed tag at the end of a reply cut by max_tokens still counts up to the end.
        let body = rest.find(&format!("</{tag}>")).map(|e| &rest[..e]).unwrap_or(rest);
        let body = body.trim_matches('\n').to_string();
        let action = match tag {
            "bash" => Action::Bash(body),
            "python" => Action::Python(body),
            "read_file" => Action::ReadFile(body.trim().to_string()),
            _ => Action::Submit(body.trim().to_string()),
        };
        if best.as_ref().is_none_or(|(s, _)| start < *s) {
            best = Some((start, action));
        }
    }
    best.map(|(_, a)| a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_tag_is_the_action() {
        assert_eq!(parse("Let me look.\n<bash>\nls -la\n</bash>"), Some(Action::Bash("ls -la".into())));
        assert_eq!(parse("<submit> flag{x} </submit><bash>ls</bash>"), Some(Action::Submit("flag{x}".into())));
        assert_eq!(parse("<python>\nprint(1)\n"), Some(Action::Python("print(1)".into())));
        assert_eq!(parse("<read_file>notes.txt</read_file>"), Some(Action::ReadFile("notes.txt".into())));
        assert_eq!(parse("I think the answer is 42."), None);
    }
}
