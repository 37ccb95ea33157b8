//! Everything the binary prints goes through here: model output, dataset prompts and provider
//! error bodies are untrusted, so nothing a terminal would act on (escape sequences, bells,
//! backspaces, bidi overrides) reaches stdout or stderr raw. `outln!` / `errln!` are `println!` /
//! `eprintln!` with that done; JSON is printed with [`json`].

/// `println!`, neutralised for a terminal.
macro_rules! outln {
    () => { println!() };
    ($($t:tt)*) => { println!("{}", preflight_report::safe::terminal(&format!($($t)*))) };
}

/// `print!`, neutralised for a terminal.
macro_rules! out {
    ($($t:tt)*) => { print!("{}", preflight_report::safe::terminal(&format!($($t)*))) };
}

/// `eprintln!`, neutralised for a terminal.
macro_rules! errln {
    ($($t:tt)*) => { eprintln!("{}", preflight_report::safe::terminal(&format!($($t)*))) };
}

pub(crate) use {errln, out, outln};

/// Prints a value as pretty JSON; the characters JSON leaves raw but a terminal acts on are
/// `\u`-escaped (the data reads back unchanged).
pub fn json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(v)?;
    println!("{}", preflight_report::safe::json(&text));
    Ok(())
}
