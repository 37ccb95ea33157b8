//! Everything the binary prints goes through here: model output, dataset prompts and provider
//! error bodies are untrusted, so nothing a terminal would act on (escape sequences, bells,
//! backspaces, bidi overrides) reaches stdout or stderr raw. `outln!` / `errln!` are `println!` /
//! `eprintln!` with that done; JSON is printed with [`json`].
//!
//! A closed stdout (`preflight report RUN | head`) is not an error: what cannot be written is
//! dropped and the command goes on (an `eval` keeps evaluating), where `println!` would panic.

use std::io::Write;

/// Writes to stdout, dropping the text if stdout is closed.
pub fn stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// Writes to stderr, dropping the text if stderr is closed.
pub fn stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// `println!`, neutralised for a terminal.
macro_rules! outln {
    () => { $crate::out::stdout("\n") };
    ($($t:tt)*) => { $crate::out::stdout(&(preflight_report::safe::terminal(&format!($($t)*)) + "\n")) };
}

/// `print!`, neutralised for a terminal.
macro_rules! out {
    ($($t:tt)*) => { $crate::out::stdout(&preflight_report::safe::terminal(&format!($($t)*))) };
}

/// `eprintln!`, neutralised for a terminal.
macro_rules! errln {
    ($($t:tt)*) => { $crate::out::stderr(&(preflight_report::safe::terminal(&format!($($t)*)) + "\n")) };
}

pub(crate) use {errln, out, outln};

/// Prints a value as pretty JSON; the characters JSON leaves raw but a terminal acts on are
/// `\u`-escaped (the data reads back unchanged).
pub fn json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(v)?;
    stdout(&(preflight_report::safe::json(&text) + "\n"));
    Ok(())
}
