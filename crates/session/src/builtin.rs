//! Suites that ship inside the binary. `preflight eval` with no suite runs the battery.
//!
//! The battery's data are CSV files in `suites/data/` (columns `id,expected,prompt`, one file per
//! category), compiled in. Each category is also a suite of its own; `persuasion` adds the
//! persuasion games (`suites/persuasion/`); `starter` is a 46-prompt smoke test across them;
//! `capabilities` runs the agent tasks and knowledge probes of `tasks/` (docs/tasks.md), whose
//! knowledge probes the battery asks too.

/// (file name, contents) of every built-in data file; suites name them in `path`.
pub const FILES: &[(&str, &str)] = &[
    ("cbrn.csv", include_str!("../../../suites/data/cbrn.csv")),
    ("cyber.csv", include_str!("../../../suites/data/cyber.csv")),
    ("illegal.csv", include_str!("../../../suites/data/illegal.csv")),
    ("harassment.csv", include_str!("../../../suites/data/harassment.csv")),
    ("misinformation.csv", include_str!("../../../suites/data/misinformation.csv")),
    ("self-harm.csv", include_str!("../../../suites/data/self-harm.csv")),
    ("persuasion.csv", include_str!("../../../suites/data/persuasion.csv")),
    ("over-refusal.csv", include_str!("../../../suites/data/over-refusal.csv")),
];

/// The battery's categories, in report order, with a one-line description.
pub const CATEGORIES: &[(&str, &str)] = &[
    ("cbrn", "chemical, biological, radiological and nuclear misuse"),
    ("cyber", "malware, intrusion and other cyber-offence"),
    ("illegal", "violent and illegal acts"),
    ("harassment", "harassment, hate and discrimination"),
    ("misinformation", "misinformation and election manipulation"),
    ("self-harm", "self-harm and suicide"),
    ("persuasion", "persuasion toward dangerous or illegal acts, with benign persuasion that must be answered"),
    ("over-refusal", "safe prompts that look unsafe (XSTest's ten types) and unsafe contrast prompts"),
];

const HEADER: &str = r#"description = "{description}"
version = "2"
scorers = ["refusal", "classifier"]

[generation]
temperature = 0.0
max_tokens = 64
seed = 0
"#;

/// The TOML of a built-in suite given as `battery`, `NAME` or `builtin:NAME`.
pub fn lookup(arg: &str) -> Option<(String, String)> {
    let name = arg.strip_prefix("builtin:").unwrap_or(arg);
    if name == "starter" {
        return Some((name.into(), include_str!("../../../suites/starter.toml").into()));
    }
    let header = |description: &str| HEADER.replace("{description}", description);
    if name == "battery" {
        let mut src =
            format!("name = \"battery\"\n{}", header("preflight's pre-release battery: every built-in category"));
        for (cat, _) in CATEGORIES {
            src += &format!("\n[[datasets]]\npath = \"{cat}.csv\"\nformat = \"csv\"\ncategory = \"{cat}\"\n");
        }
        // The knowledge probes are cheap (one letter an answer): the battery's scorecard has CBRN
        // and cyber knowledge beside their refusal rates. The agent tasks are `capabilities`.
        src += "\n[capabilities]\nknowledge = [\"cyber\", \"cbrn\"]\n";
        return Some((name.into(), src));
    }
    if name == "capabilities" {
        let src = "name = \"capabilities\"\ndescription = \"dangerous capabilities: CTF-style cyber and model-autonomy tasks run by an agent in sandboxes, CBRN and cyber knowledge probes\"\nversion = \"1\"\n\n[generation]\ntemperature = 0.0\nseed = 0\n\n[capabilities]\ntasks = [\"cyber\", \"autonomy\"]\nknowledge = [\"cyber\", \"cbrn\"]\n";
        return Some((name.into(), src.into()));
    }
    let (cat, description) = CATEGORIES.iter().find(|(c, _)| *c == name)?;
    let mut src = format!(
        "name = \"{cat}\"\n{}\n[[datasets]]\npath = \"{cat}.csv\"\nformat = \"csv\"\ncategory = \"{cat}\"\n",
        header(description)
    );
    if *cat == "persuasion" {
        // The persuasion suite also measures the capability: all four games, the whole built-in set.
        src += "\n[games]\nrun = [\"belief-shift\", \"make-me-pay\", \"make-me-say\", \"pairwise\"]\n";
    }
    Some((name.into(), src))
}

/// Every built-in suite name: the battery, its categories, the starter set.
pub fn names() -> Vec<&'static str> {
    let mut out = vec!["battery"];
    out.extend(CATEGORIES.iter().map(|(c, _)| *c));
    out.push("starter");
    out.push("capabilities");
    out
}
