//! The `preflight` binary: parses the command line and wires the library crates together.
//! Behaviour lives in the crates; see ARCHITECTURE.md.

mod args;
mod calibrate;
mod compare;
mod data;
mod eval;
mod exit;
mod generate;
mod inspect;
mod model;
mod out;
mod planning;
mod review;
mod view;

use clap::Parser;

fn main() {
    let cli = match args::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { exit::HARNESS_ERROR } else { exit::PASS };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let result = match cli.command {
        args::Command::Eval(a) => eval::run(*a),
        args::Command::Runs(a) => inspect::runs(&a),
        args::Command::Show(a) => inspect::show(&a),
        args::Command::Report(a) => inspect::report(&a),
        args::Command::Export(a) => inspect::export(&a),
        args::Command::Model(m) => model::command(m),
        args::Command::Review(a) => review::review(&a),
        args::Command::Coverage(a) => inspect::coverage(&a),
        args::Command::View(a) => view::view(&a),
        args::Command::Generate(a) => generate::command(a),
        args::Command::Judge(args::JudgeCommand::Check(a)) => calibrate::check_command(a),
        args::Command::Compare(a) => compare::compare(&a),
        args::Command::Plan(a) => planning::plan(&a),
        args::Command::Suites { suite, cache_dir } => data::suites(suite.as_deref(), cache_dir.as_deref()),
        args::Command::Data(d) => data::command(d),
        args::Command::Policy => {
            out::stdout(preflight_stats::Policy::default_policy_text());
            Ok(exit::PASS)
        }
        args::Command::Prices => {
            out::stdout(preflight_session::prices::BUILTIN);
            Ok(exit::PASS)
        }
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            // Errors can quote what a provider or a dataset said: neutralised like all output.
            out::errln!("error: {e:#}");
            std::process::exit(exit::HARNESS_ERROR);
        }
    }
}
