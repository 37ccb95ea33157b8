use std::{
    collections::HashSet,
    hash::{DefaultHasher, Hash, Hasher},
    path::{Path, PathBuf},
};

use preflight_core::{Expected, GenSettings, Sample};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::{
    SuiteError,
    dataset::{DatasetSpec, RawDataset, Resolver, Rows},
};

/// A scorer named by a suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScorerSpec {
    /// The XSTest-style refusal detector (no model needed).
    Refusal,
    /// The StrongREJECT rubric judge; needs `--judge`.
    StrongReject,
    /// The HarmBench-style binary judge; needs `--judge`.
    HarmBench,
    /// The embedded refusal / compliance classifier over sentence embeddings (no model call; the
    /// encoder comes with `preflight model fetch`).
    Classifier,
}

impl ScorerSpec {
    pub fn name(&self) -> &'static str {
        match self {
            ScorerSpec::Refusal => "refusal",
            ScorerSpec::StrongReject => "strongreject",
            ScorerSpec::HarmBench => "harmbench",
            ScorerSpec::Classifier => "classifier",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "refusal" => Some(ScorerSpec::Refusal),
            "strongreject" => Some(ScorerSpec::StrongReject),
            "harmbench" => Some(ScorerSpec::HarmBench),
            "classifier" => Some(ScorerSpec::Classifier),
            _ => None,
        }
    }
    /// Whether this scorer asks a judge model.
    pub fn needs_judge(&self) -> bool {
        matches!(self, ScorerSpec::StrongReject | ScorerSpec::HarmBench)
    }
}

/// `[adaptive]`: how adaptive attacks run. Unset fields keep their defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adaptive {
    /// `all` (default): every harmful sample; `survivors`: only those no other probe broke.
    pub on: Option<String>,
    /// Target queries per goal.
    pub budget: Option<u32>,
    pub tap_width: Option<usize>,
    pub tap_depth: Option<usize>,
    pub tap_branching: Option<usize>,
    pub crescendo_turns: Option<u32>,
    pub crescendo_backtracks: Option<u32>,
}

impl Adaptive {
    /// Whether adaptive attacks wait for the other probes and run on unbroken behaviours only.
    pub fn on_survivors(&self) -> bool {
        self.on.as_deref() == Some("survivors")
    }
}

/// `[games]`: persuasion games (built-in claims, controls, codewords and personas).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Games {
    /// Which games: `belief-shift`, `make-me-pay`, `make-me-say`, `pairwise`.
    pub run: Vec<String>,
    /// Claim pairs used (each: a pro and a con claim), at most 40.
    pub claims: Option<usize>,
    /// Personas reading each claim (and playing the MakeMePay mark), at most 5.
    pub personas: Option<usize>,
    /// Control claims (indisputable facts), at most 10.
    pub controls: Option<usize>,
    pub pay_conversations: Option<usize>,
    /// Codewords for MakeMeSay, at most 50.
    pub codewords: Option<usize>,
    /// Exchanges per MakeMePay / MakeMeSay conversation.
    pub turns: Option<u32>,
    /// Length of the persuasive argument asked for.
    pub words: Option<u32>,
}

/// `[capabilities]`: agent tasks and knowledge probes (docs/tasks.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// Agent task sets: `cyber`, `autonomy` (shipped), or directories of tasks (relative to the
    /// suite file).
    #[serde(default)]
    pub tasks: Vec<String>,
    /// Knowledge probe sets: `cyber`, `cbrn` (shipped), or `.jsonl` files.
    #[serde(default)]
    pub knowledge: Vec<String>,
    /// Only these task ids (all when empty).
    #[serde(default)]
    pub only: Vec<String>,
    /// Attempts per task: the k of pass@k (default 1).
    pub attempts: Option<u32>,
    /// A cap over each task's own `max_steps`.
    pub max_steps: Option<u32>,
    /// Prompt + completion tokens per attempt (default 400 000).
    pub max_tokens: Option<u64>,
    /// Tasks run at once (default 2: each one is a sandbox with its own processes).
    pub parallel: Option<usize>,
    /// The first N tasks of each set and N questions of each knowledge set (quick runs).
    pub limit: Option<usize>,
    /// The suite file's directory, which relative paths start from (set by the loader).
    #[serde(skip)]
    pub base: PathBuf,
}

/// The game names a suite may list.
pub const GAMES: &[&str] = &["belief-shift", "make-me-pay", "make-me-say", "pairwise"];

/// A loaded, validated suite. Samples are streamed from disk by [`Suite::samples`].
#[derive(Debug, Clone)]
pub struct Suite {
    pub path: PathBuf,
    pub name: String,
    pub description: String,
    /// Suite version as written by its author; part of comparability checks.
    pub version: Option<String>,
    pub generation: GenSettings,
    pub scorers: Vec<ScorerSpec>,
    /// Number of samples (inline + datasets).
    pub count: u64,
    /// sha256 over the suite file and every dataset file, in order.
    pub fingerprint: String,
    /// Attack chains as written, with the line of each (parsed by `preflight-attacks`).
    pub attacks: Vec<(String, u64)>,
    /// Whether unattacked samples run beside the attacked ones.
    pub include_original: bool,
    pub adaptive: Adaptive,
    /// Persuasion games (`None`: none).
    pub games: Option<Games>,
    /// Agent tasks and knowledge probes (`None`: none).
    pub capabilities: Option<Capabilities>,
    default_category: Option<String>,
    inline: Vec<Sample>,
    datasets: Vec<DatasetSpec>,
    /// When set, only samples of these categories (`--only`).
    only: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    category: Option<Spanned<String>>,
    version: Option<String>,
    #[serde(default)]
    generation: GenSettings,
    scorers: Option<Vec<Spanned<String>>>,
    /// Attack chains applied to every sample (`["base64", "roleplay+leetspeak"]`).
    #[serde(default)]
    attacks: Vec<Spanned<String>>,
    /// Whether the unattacked samples run too (default true).
    include_original: Option<bool>,
    /// Settings of adaptive attacks (`pair`, `tap`, `crescendo` in `attacks`).
    adaptive: Option<Adaptive>,
    /// Persuasion games to run beside the samples.
    games: Option<Games>,
    /// Agent tasks and knowledge probes to run beside the samples.
    capabilities: Option<Capabilities>,
    #[serde(default)]
    samples: Vec<RawSample>,
    #[serde(default)]
    datasets: Vec<RawDataset>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSample {
    id: Spanned<String>,
    prompt: Spanned<String>,
    expected: Spanned<String>,
    category: Option<Spanned<String>>,
}

/// Categories are slugs so they can key policies and column names: `[a-z0-9-]+`.
pub fn is_valid_category(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

pub(crate) fn line_of(src: &str, offset: usize) -> u64 {
    src.as_bytes()[..offset.min(src.len())].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

impl Suite {
    /// Reads, parses and validates a suite and all its samples.
    pub fn load(path: &Path) -> Result<Suite, SuiteError> {
        let src = std::fs::read_to_string(path).map_err(|cause| SuiteError::Io { path: path.to_path_buf(), cause })?;
        Suite::parse(&src, path, &Resolver::default())
    }

    /// Parses and validates suite text; `path` names it in errors and anchors relative dataset
    /// paths; `resolver` says where fetched datasets and built-in files are.
    pub fn parse(src: &str, path: &Path, resolver: &Resolver) -> Result<Suite, SuiteError> {
        let raw: RawSuite = toml::from_str(src).map_err(|e| {
            let line = e.span().map(|s| line_of(src, s.start)).unwrap_or(1);
            SuiteError::invalid(path, line, None, e.message().trim().to_string())
        })?;
        let at = |sp: std::ops::Range<usize>| line_of(src, sp.start);

        let name = raw.name.get_ref().trim().to_string();
        if name.is_empty() {
            return Err(SuiteError::invalid(path, at(raw.name.span()), Some("name"), "must not be empty"));
        }
        let default_category = match &raw.category {
            Some(c) => Some(check_category(path, at(c.span()), c.get_ref())?),
            None => None,
        };
        if let Some(t) = raw.generation.temperature
            && !(0.0..=2.0).contains(&t)
        {
            let line = src.find("temperature").map(|o| line_of(src, o)).unwrap_or(1);
            return Err(SuiteError::invalid(
                path,
                line,
                Some("generation.temperature"),
                format!("{t} is outside 0..=2"),
            ));
        }
        let scorers = match &raw.scorers {
            None => vec![ScorerSpec::Refusal],
            Some(list) if list.is_empty() => {
                let line = src.find("scorers").map(|o| line_of(src, o)).unwrap_or(1);
                return Err(SuiteError::invalid(path, line, Some("scorers"), "needs at least one scorer"));
            }
            Some(list) => list
                .iter()
                .map(|s| {
                    ScorerSpec::parse(s.get_ref()).ok_or_else(|| {
                        SuiteError::invalid(
                            path,
                            at(s.span()),
                            Some("scorers"),
                            format!(
                                "unknown scorer `{}` (known: refusal, classifier, strongreject, harmbench)",
                                s.get_ref()
                            ),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        };

        let file = path.display().to_string();
        let mut inline = Vec::with_capacity(raw.samples.len());
        for s in raw.samples {
            let line = at(s.id.span());
            let expected = Expected::parse(s.expected.get_ref()).ok_or_else(|| {
                SuiteError::invalid(
                    path,
                    at(s.expected.span()),
                    Some("expected"),
                    format!("`{}` is neither `refuse` nor `comply`", s.expected.get_ref()),
                )
            })?;
            let category = match &s.category {
                Some(c) => check_category(path, at(c.span()), c.get_ref())?,
                None => default_category.clone().ok_or_else(|| {
                    SuiteError::invalid(path, line, Some("category"), "sample has no category and the suite sets none")
                })?,
            };
            if s.prompt.get_ref().trim().is_empty() {
                return Err(SuiteError::invalid(path, at(s.prompt.span()), Some("prompt"), "must not be empty"));
            }
            inline.push(Sample {
                id: s.id.into_inner(),
                prompt: s.prompt.into_inner(),
                expected,
                category,
                provenance: Some(format!("{file}:{line}")),
                attack: None,
                parent: None,
            });
        }

        let base = path.parent().unwrap_or(Path::new("."));
        let mut datasets = Vec::new();
        for d in raw.datasets {
            datasets.extend(DatasetSpec::from_raw(d, base, path, src, default_category.as_deref(), resolver)?);
        }
        if inline.is_empty() && datasets.is_empty() && raw.games.is_none() && raw.capabilities.is_none() {
            return Err(SuiteError::invalid(
                path,
                1,
                Some("samples"),
                "the suite has no [[samples]] and no [[datasets]]",
            ));
        }

        let attacks: Vec<(String, u64)> =
            raw.attacks.iter().map(|a| (a.get_ref().trim().to_string(), at(a.span()))).collect();
        if let Some((a, line)) = attacks.iter().find(|(a, _)| a.is_empty()) {
            return Err(SuiteError::invalid(path, *line, Some("attacks"), format!("empty attack `{a}`")));
        }
        let include_original = raw.include_original.unwrap_or(true);
        let adaptive = raw.adaptive.unwrap_or_default();
        let adaptive_line = || src.find("[adaptive]").map(|o| line_of(src, o)).unwrap_or(1);
        if let Some(on) = adaptive.on.as_deref().filter(|o| !["all", "survivors"].contains(o)) {
            return Err(SuiteError::invalid(
                path,
                adaptive_line(),
                Some("adaptive.on"),
                format!("`{on}` is neither `all` nor `survivors`"),
            ));
        }
        if let Some(g) = &raw.games
            && let Some(bad) = g.run.iter().find(|r| !GAMES.contains(&r.as_str()))
        {
            let line = src.find("[games]").map(|o| line_of(src, o)).unwrap_or(1);
            return Err(SuiteError::invalid(
                path,
                line,
                Some("games.run"),
                format!("unknown game `{bad}` (known: {})", GAMES.join(", ")),
            ));
        }
        if let Some(c) = &raw.capabilities {
            let line = src.find("[capabilities]").map(|o| line_of(src, o)).unwrap_or(1);
            let zero = [
                ("attempts", c.attempts.map(u64::from)),
                ("max_steps", c.max_steps.map(u64::from)),
                ("max_tokens", c.max_tokens),
                ("parallel", c.parallel.map(|p| p as u64)),
                ("limit", c.limit.map(|p| p as u64)),
            ];
            if let Some((field, _)) = zero.iter().find(|(_, v)| *v == Some(0)) {
                return Err(SuiteError::invalid(
                    path,
                    line,
                    Some(&format!("capabilities.{field}")),
                    "must be at least 1",
                ));
            }
            if c.tasks.is_empty() && c.knowledge.is_empty() {
                return Err(SuiteError::invalid(
                    path,
                    line,
                    Some("capabilities"),
                    "names no `tasks` and no `knowledge`",
                ));
            }
        }
        if adaptive.budget == Some(0) {
            return Err(SuiteError::invalid(path, adaptive_line(), Some("adaptive.budget"), "must be at least 1"));
        }
        if !include_original && attacks.is_empty() {
            let line = src.find("include_original").map(|o| line_of(src, o)).unwrap_or(1);
            return Err(SuiteError::invalid(
                path,
                line,
                Some("include_original"),
                "false with no `attacks` leaves nothing to run",
            ));
        }
        let mut suite = Suite {
            path: path.to_path_buf(),
            attacks,
            include_original,
            adaptive,
            games: raw.games,
            capabilities: raw.capabilities.map(|c| Capabilities { base: base.to_path_buf(), ..c }),
            name,
            description: raw.description,
            version: raw.version,
            generation: raw.generation,
            scorers,
            count: 0,
            fingerprint: String::new(),
            default_category,
            inline,
            datasets,
            only: None,
        };
        suite.count = suite.validate()?;
        suite.fingerprint = suite.compute_fingerprint(src.as_bytes())?;
        Ok(suite)
    }

    /// Streams every sample: inline ones first, then each dataset in order.
    pub fn samples(&self) -> impl Iterator<Item = Result<Sample, SuiteError>> + '_ {
        let inline = self.inline.iter().cloned().map(Ok);
        let data = self.datasets.iter().flat_map(move |d| match Rows::open(d, self.default_category.as_deref()) {
            Ok(rows) => Box::new(rows) as Box<dyn Iterator<Item = Result<Sample, SuiteError>>>,
            Err(e) => Box::new(std::iter::once(Err(e))),
        });
        inline.chain(data).filter(move |s| match (&self.only, s) {
            (Some(only), Ok(s)) => only.contains(&s.category),
            _ => true,
        })
    }

    /// Keeps only samples of `categories` (`--only cbrn,persuasion`). A category the suite does
    /// not have is an error that lists the ones it has. The fingerprint covers the selection.
    pub fn keep_categories(&mut self, categories: &[String]) -> Result<(), SuiteError> {
        let have = self.categories()?;
        if let Some(c) = categories.iter().find(|c| !have.contains(c)) {
            return Err(SuiteError::invalid(
                &self.path,
                1,
                Some("only"),
                format!("the suite has no category `{c}` (it has: {})", have.join(", ")),
            ));
        }
        self.only = Some(categories.to_vec());
        self.count = self.samples().count() as u64;
        let mut h = Sha256::new();
        h.update(self.fingerprint.as_bytes());
        h.update(format!("only:{}", categories.join(",")).as_bytes());
        self.fingerprint = preflight_core::hex_lower(&h.finalize());
        Ok(())
    }

    /// Distinct categories, in first-seen order (streams the data once).
    pub fn categories(&self) -> Result<Vec<String>, SuiteError> {
        let mut seen = Vec::<String>::new();
        for s in self.samples() {
            let s = s?;
            if !seen.contains(&s.category) {
                seen.push(s.category);
            }
        }
        Ok(seen)
    }

    /// One streaming pass: every row parses and ids are unique. Keeps only a 64-bit id hash per
    /// row (memory stays flat-ish for 10⁶ rows); a hash hit is confirmed by a second pass, which
    /// also finds where the first copy is.
    fn validate(&self) -> Result<u64, SuiteError> {
        let hash = |id: &str| {
            let mut h = DefaultHasher::new();
            id.hash(&mut h);
            h.finish()
        };
        let mut seen: HashSet<u64> = HashSet::new();
        let mut n = 0u64;
        let mut check = |s: Sample| -> Result<(), SuiteError> {
            if !seen.insert(hash(&s.id)) {
                let first = self.samples().filter_map(Result::ok).find(|o| o.id == s.id);
                if let Some(first) = first.filter(|f| f.provenance != s.provenance) {
                    let (p, line) = split_provenance(s.provenance.as_deref(), &self.path);
                    let at = first.provenance.unwrap_or_default();
                    return Err(SuiteError::invalid(
                        &p,
                        line,
                        Some("id"),
                        format!("duplicate id `{}` (first at {at})", s.id),
                    ));
                }
            }
            n += 1;
            Ok(())
        };
        for s in &self.inline {
            check(s.clone())?;
        }
        for d in &self.datasets {
            let mut rows = 0u64;
            for s in Rows::open(d, self.default_category.as_deref())? {
                check(s?)?;
                rows += 1;
            }
            // An empty file is almost always a mistake (a failed export, a wrong path), and a
            // run of it would say nothing while looking like a result.
            if rows == 0 {
                return Err(SuiteError::invalid(
                    Path::new(&d.source.label()),
                    1,
                    None,
                    "no rows: the dataset is empty or holds only blank lines",
                ));
            }
        }
        Ok(n)
    }

    fn compute_fingerprint(&self, suite_bytes: &[u8]) -> Result<String, SuiteError> {
        let mut h = Sha256::new();
        h.update(suite_bytes);
        for d in &self.datasets {
            d.source.fingerprint(&mut h)?;
        }
        Ok(preflight_core::hex_lower(&h.finalize()))
    }
}

/// Splits `file:line` provenance back into its parts for error messages.
fn split_provenance(p: Option<&str>, fallback: &Path) -> (PathBuf, u64) {
    if let Some((file, line)) = p.and_then(|p| p.rsplit_once(':'))
        && let Ok(line) = line.parse()
    {
        return (PathBuf::from(file), line);
    }
    (fallback.to_path_buf(), 1)
}

pub(crate) fn check_category(path: &Path, line: u64, c: &str) -> Result<String, SuiteError> {
    if is_valid_category(c) {
        Ok(c.to_string())
    } else {
        Err(SuiteError::invalid(
            path,
            line,
            Some("category"),
            format!("`{c}` is not a category name (lower-case letters, digits, `-`)"),
        ))
    }
}
